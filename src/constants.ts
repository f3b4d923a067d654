// Copyright 2026 the wal-db authors. MIT license.
// Every number of the on-disk format and every limit of the implementation, in one place.
// Pure: no I/O and no `Deno.*`. docs/ON_DISK_FORMAT.md is the prose twin of this file.

/** Size of a record header: CRC32C (u32 LE) then payload length (u32 LE). */
export const HEADER_SIZE = 8;

/** Offset of the CRC field inside a record header. */
export const HEADER_CRC_OFFSET = 0;

/** Offset of the length field inside a record header; the CRC covers from here on. */
export const HEADER_LENGTH_OFFSET = 4;

/** The largest payload the format can describe: the length field is a u32. */
export const RECORD_SIZE_LIMIT = 0xffff_ffff;

/** Default `maxRecordSize`: 64 MiB, as in the original Rust wal-db 1.x. */
export const RECORD_SIZE_MAX_DEFAULT = 64 * 1024 * 1024;

/**
 * Largest byte offset a log may reach. LSNs are JavaScript numbers, exact up to 2^53 - 1; past
 * that two different offsets could compare equal, so the log refuses to grow beyond it.
 */
export const LOG_SIZE_LIMIT = Number.MAX_SAFE_INTEGER;

/**
 * How many bytes the sequential reader fetches from a store at once. Large enough to make one
 * read per many small records, small enough to stay out of the way of the heap.
 */
export const READ_CHUNK_SIZE = 256 * 1024;

/**
 * How many bytes replay reads from a store at once on its fast path, and checks with one call
 * to the frame scanner (`scanFrames`, or the shim's): a read, a scanner call and a chunk array
 * are paid once per about a thousand small records. A replay that hands payloads to its caller
 * reads each chunk into a new array (the payloads are views into it, never reused), so this is
 * also what a caller that keeps one payload keeps alive with it. Not larger: in V8 a new 1 MiB
 * array per chunk measured half the replay speed of 64-256 KiB ones (0.45 against 0.8 GB/s,
 * side by side): the larger arrays are mapped fresh from the operating system each time, and
 * first touch of new memory is what dominates.
 */
export const REPLAY_CHUNK_SIZE = 256 * 1024;

/**
 * How many frame ends one scanner call may report: a chunk of 256-byte records holds about
 * 1,000. A chunk with more (smaller records) is simply scanned again from where the call
 * stopped. The array of ends is kept per reader (4 bytes per entry).
 */
export const SCAN_BATCH_MAX = 4096;

/**
 * The append path keeps one scratch buffer to frame records in, so a small append costs no
 * allocation. A frame larger than this gets a buffer of its own that is not kept, so one huge
 * record does not pin its size in memory for the life of the log.
 */
export const SCRATCH_SIZE_MAX = 1024 * 1024;

/**
 * The gathered write mode writes its gathered frames out at once when they would pass this many
 * bytes, so one busy turn of the event loop cannot pin an unbounded buffer; a larger frame is
 * written straight through. 1 MiB is thousands of small records: far past the point where one
 * write per turn instead of one per record stops paying.
 */
export const GATHER_SIZE_MAX = 1024 * 1024;

/**
 * The flush latency histogram of `wal.stats`: buckets per doubling of the latency, and how many
 * buckets. Four per doubling puts each percentile within 19% of the true value; 128 buckets
 * from 1 µs reach 2^32 µs (about 71 minutes), and anything longer lands in the last bucket.
 */
export const FLUSH_HISTOGRAM_BUCKETS_PER_DOUBLING = 4;
export const FLUSH_HISTOGRAM_BUCKETS = 128;

/**
 * How far ahead of its end a single-file log reserves zeroed space by default: flushing a file
 * whose size does not change avoids a metadata update per flush. Large enough that the zeros
 * are written rarely, small enough not to matter on disk.
 */
export const PREALLOCATE_SIZE_DEFAULT = 1024 * 1024;

/**
 * The search for intact records after damage checksums a candidate frame longer than twice this
 * from the checksums of two prefixes of the damaged region, kept every this many bytes, so a
 * candidate costs at most about this much work whatever its length: the checksums stay one pass
 * over the bytes for any `maxRecordSize`. The checkpoints cost 4 bytes per this many bytes. 4 KiB,
 * not 512 B: with the shim's CRC each checkpoint is a call, and at 512 B the calls cost more than
 * the CRC (an open over 1 MiB of garbage, maxRecordSize 64 MiB: 47 ms at 512 B, 41 ms at 4 KiB;
 * with the TypeScript CRC 95-106 ms either way).
 */
export const CRC_CHECKPOINT_SPACING = 4096;

/**
 * The search after damage reads the headers at the far ends of a batch of candidate frames in
 * the order of their offsets, and reads two ends at most this far apart in one call, the bytes
 * between them included: on this kind of machine a read call (with its seek) costs a few
 * microseconds, about what copying this many bytes from the page cache costs.
 */
export const FAR_READ_GAP_MAX = 16 * 1024;

/**
 * The search after damage takes candidate frames in batches, the first of one candidate (a
 * flipped byte is usually passed after a few), each this many times the last, up to
 * {@linkcode FIND_BATCH_MAX}: a batch's far ends are read together, so a large batch costs at
 * most one pass over the region its ends lie in.
 */
export const FIND_BATCH_GROWTH = 4;

/**
 * The most candidate frames the search after damage takes in one batch: 16,384 of them hold
 * about 464 KiB (and a batch reads through one 256 KiB span), and cover about 1 MiB of random
 * garbage when `maxRecordSize` is 64 MiB (1.6% of its offsets decode to a length that fits).
 */
export const FIND_BATCH_MAX = 16 * 1024;

/**
 * The most bytes a batch of the search after damage spans, from its first candidate to its
 * last: what bounds how far the search can look past the record it returns (the batch's other
 * candidates are collected before any is known to be intact), whatever the records are like.
 */
export const FIND_BATCH_SPAN_MAX = 1024 * 1024;

/**
 * The unit a disk writes atomically, and so the unit a power loss tears a write at: each
 * file-aligned 512-byte sector reaches the disk whole or not at all (4 KiB-sector drives tear at
 * multiples of it). Recovery reads a frame with a sector that is zero from the frame's first byte
 * in it to the sector's end as a write the crash interrupted, not as damage.
 */
export const SECTOR_SIZE = 512;

/**
 * A damaged last frame (nothing intact after it) that holds at least this many zero bytes in a
 * row is read as an append that did not fully land: its unwritten bytes read as the zeros that
 * were there before. A header's worth: cutting such a frame destroys no intact record, and a
 * frame with no such run (a flipped bit in a record without zeros) stays damage.
 */
export const TORN_ZERO_RUN_MIN = HEADER_SIZE;

/** Copy granularity when damaged bytes are set aside during recovery. */
export const SET_ASIDE_CHUNK_SIZE = 1024 * 1024;

/**
 * The open reports its scan's progress (`onRecoveryProgress`) once per this many bytes: often
 * enough for a progress bar, rare enough that the check is one comparison per record.
 */
export const RECOVERY_PROGRESS_STEP = 1024 * 1024;

/** Segment file names are this many decimal digits, zero padded... */
export const SEGMENT_NAME_DIGITS = 20;

/** ...followed by this suffix: `00000000000000000000.wal`. */
export const SEGMENT_NAME_SUFFIX = ".wal";

/** The prefix-truncation marker of a segmented log. */
export const HEAD_FILE_NAME = "head";

/** The head is written here first, then renamed over `head`, so a crash leaves one or the other. */
export const HEAD_TEMP_FILE_NAME = "head.tmp";

/** The advisory lock of a segmented log's directory (not a segment name, so the layout ignores it). */
export const LOCK_FILE_NAME = "wal.lock";

/**
 * Suffix of the file beside a single-file log that holds its lock where locks are mandatory
 * (Windows): `app.wal` is locked through `app.wal.wal-db-lock`, which reads never touch. Not
 * `.lock`: a log named `x.lock` would be another log's lock, and a log named `wal` would make
 * `wal.lock`, the mark of a segmented log's directory.
 */
export const SIDECAR_LOCK_SUFFIX = ".wal-db-lock";

/** A `head` file: the head LSN (u64 LE) and the CRC32C of those 8 bytes (u32 LE). */
export const HEAD_FILE_SIZE = 12;

/**
 * The file in a segmented log's directory that records the segment size the log was written
 * with. Not a segment name, so the Rust 1.x crate, which reads only segments and `head`,
 * ignores it: the layout stays byte-compatible.
 */
export const SEGMENT_SIZE_FILE_NAME = "segment-size";

/** The segment-size file is written here first, then renamed, like the head file. */
export const SEGMENT_SIZE_TEMP_FILE_NAME = "segment-size.tmp";

/** The first 4 bytes of a segment-size file: ASCII `WSEG`, so a stray file is never taken for one. */
export const SEGMENT_SIZE_FILE_MAGIC = "WSEG";

/** The layout version of the segment-size file (u32 LE after the magic); a reader refuses others. */
export const SEGMENT_SIZE_FILE_VERSION = 1;

/**
 * A segment-size file: magic (4 bytes), version (u32 LE), segment size (u64 LE), then the
 * CRC32C of those 16 bytes (u32 LE).
 */
export const SEGMENT_SIZE_FILE_SIZE = 20;

/**
 * The next segment, created ahead of need by a flush (off the main thread) and renamed to its
 * segment name when the log reaches it: creating a file takes many times longer than renaming
 * one. Not a segment name: readers ignore it; a writer's open and close remove it.
 */
export const SPARE_SEGMENT_FILE_NAME = "next-segment.tmp";

/**
 * How many segment files a segmented store keeps open for reading at once. The segment being
 * appended to has its own handle; other segments are opened when read and closed when they
 * fall out of this small cache, so a log of any length uses a bounded number of descriptors.
 */
export const SEGMENT_READERS_OPEN_MAX = 4;

/**
 * How many segments, besides the one being appended to, a segmented store keeps open while they
 * hold unflushed bytes. A segment is flushed through the handle it was written with, never a
 * fresh one: a fresh descriptor is not told of a write-back error another descriptor already
 * reported. Syncs flush them; past this many not yet flushed (a writer that does not sync),
 * rotating flushes the oldest first.
 */
export const SEGMENT_UNFLUSHED_OPEN_MAX = 8;

/**
 * The file in a segmented log's directory that lists segments known to be flushed, each with
 * the fingerprint (device, inode, creation, change and modification times, size) its file had
 * then; a writer's open skips the flush of a segment only while its fingerprint still matches.
 * Not a segment name: the Rust 1.x crate and older wal-db versions ignore it.
 */
export const FLUSH_RECORD_FILE_NAME = "flushed-segments";

/**
 * The resolution at which the runtime reports a file's change time (`Deno.FileInfo.ctime`):
 * whole seconds, so a change may have happened up to this long after the time it reports.
 */
export const CTIME_RESOLUTION_MS = 1000;

/** The flush record is written here first, then renamed, like the head file. */
export const FLUSH_RECORD_TEMP_FILE_NAME = "flushed-segments.tmp";

/** The first 4 bytes of a flush record: ASCII `WFLS`. */
export const FLUSH_RECORD_MAGIC = "WFLS";

/** The layout version of the flush record; a reader ignores a record of another version. */
export const FLUSH_RECORD_VERSION = 1;

/** A flush record's header: magic, version (u32 LE), body length (u32 LE), body CRC32C (u32 LE). */
export const FLUSH_RECORD_HEADER_SIZE = 16;

/**
 * A flush record larger than this is ignored as damage (a writer's open then flushes every
 * segment); one line per segment of about 80 bytes leaves room for hundreds of thousands.
 */
export const FLUSH_RECORD_SIZE_MAX = 64 * 1024 * 1024;

/**
 * A flush record is rewritten once at least this many segments were flushed since it was last
 * written (and `FLUSH_RECORD_INTERVAL_MS` passed): a writer's open flushes about this many
 * segments beyond the record, while the record costs a small write and two flushes this often.
 */
export const FLUSH_RECORD_STALE_MAX = 16;

/** The least time between two writes of the flush record, so a fast writer does not rewrite it on every sync. */
export const FLUSH_RECORD_INTERVAL_MS = 1000;

/**
 * A segment enters the flush record only if it last changed at least this long before a flush
 * of it started, by its file times, and the wall clock did not move against the monotonic one
 * by as much meanwhile: file times are taken from a coarse clock (a few ms), so a write in the
 * same tick as the flush would leave them as they were.
 */
export const FLUSH_RECORD_CLOCK_MARGIN_MS = 100;

/**
 * The most bytes of missing segments a segmented log may have between its head and its last
 * segment. Missing segments read as zeros, which recovery scans and sets aside; beyond this a
 * gap is not a lost segment but a stray file far past the log, and opening refuses it.
 */
export const SEGMENT_GAP_BYTES_MAX = 256 * 1024 * 1024;

/**
 * The boundary index keeps one LSN for every this many records, so checking that an LSN is a
 * record boundary reads at most this many headers instead of scanning the log.
 */
export const BOUNDARY_SAMPLE_INTERVAL = 64;

/**
 * How many fingerprints a follower's list of seen records holds before it first grows (it
 * doubles): small, as most logs a follower opens are small; one sample per
 * {@linkcode BOUNDARY_SAMPLE_INTERVAL} records fills it.
 */
export const MARK_LIST_CAPACITY_MIN = 64;

/**
 * Below this many bytes one CRC32C call reads its input byte by byte: making a 32-bit word view
 * of the input's buffer costs about as much as checksumming 100 bytes, more than the word loads
 * save on a short input. The frame scanner makes one view per chunk and always reads words.
 */
export const CRC_WORD_VIEW_MIN_BYTES = 512;

/**
 * How many 256-entry CRC32C tables the TypeScript checksum builds: slicing-by-8, eight input
 * bytes per step with eight independent lookups, as the design asks of the portable path (8 KiB
 * of tables). Sixteen tables were tried with the pair loop of `frameChecksumPairWords` and gave
 * nothing over eight (a scan of 256 B frames took 0.90x the time of one frame at a time, eight
 * tables 0.72x; 1000 B frames 0.70x and 0.68x; interleaved in one process).
 */
export const CRC_SLICE_TABLES = 8;

/**
 * Below this many payload bytes the frame scanner's checksum takes the byte loop, and it checks
 * two frames at once only when both have at least this many. The word loops' setup, and the
 * larger code around them, cost a scan of small frames more than they save: with 16 for both,
 * 16-32 B payloads scanned 1.2-1.3x slower than before the pair loop (and sixteen tables, since
 * dropped), and 0-5 B ones up to 1.6x; with 64 they are on a par or faster (same run, one
 * process).
 */
export const CRC_WORD_LOOP_MIN_BYTES = 64;

/** CRC32C (Castagnoli) polynomial, reflected form. */
export const CRC32C_POLYNOMIAL_REFLECTED = 0x82f6_3b78;

/** CRC32C of the four zero bytes of an empty record's length: why zeros never read as a record. */
export const CRC32C_OF_ZERO_LENGTH = 0x4867_4bc7;

// The header layout is fixed by the format; these relations must hold for the framing code.
if (HEADER_LENGTH_OFFSET + 4 !== HEADER_SIZE || HEADER_CRC_OFFSET + 4 !== HEADER_LENGTH_OFFSET) {
  throw new Error("wal-db: inconsistent header layout constants");
}
if (RECORD_SIZE_MAX_DEFAULT > RECORD_SIZE_LIMIT || SCRATCH_SIZE_MAX < HEADER_SIZE) {
  throw new Error("wal-db: inconsistent size constants");
}

/**
 * How many suffix cuts a log remembers for its cursors. A cursor that last looked before the
 * oldest one remembered cannot tell where the log was cut since: it reports a cut at the head,
 * so its reader starts over rather than trust records that may be gone.
 */
export const CUT_HISTORY_MAX = 1024;

/** How often a read-only log's `tail` looks for new records, in milliseconds, by default. */
export const TAIL_POLL_MS_DEFAULT = 50;

/**
 * A checkpoint's snapshot file, in the log's directory (or any directory given to
 * `Snapshots`). One name, replaced atomically, so a crash leaves the old snapshot or the new
 * one and never a pile of them to choose from.
 */
export const SNAPSHOT_FILE_NAME = "snapshot";

/** The snapshot is written here first, then renamed over `snapshot`, like the head file. */
export const SNAPSHOT_TEMP_FILE_NAME = "snapshot.tmp";

/** The first 4 bytes of a snapshot file: ASCII `WSNP`, so a stray file is never taken for one. */
export const SNAPSHOT_FILE_MAGIC = "WSNP";

/** The layout version of the snapshot file (u32 LE after the magic); a reader refuses others. */
export const SNAPSHOT_FILE_VERSION = 1;

/**
 * A snapshot file's header: magic (4), version (u32 LE), LSN (u64 LE), payload length (u64 LE),
 * CRC32C of the payload (u32 LE), CRC32C of the 28 bytes before it (u32 LE). The payload follows.
 */
export const SNAPSHOT_HEADER_SIZE = 32;

/**
 * The largest write the shim takes in one call (`appendFrame`, and `FileStore.append` with the
 * shim): its length is a u32. A larger frame (a record within 8 bytes of 4 GiB or more, which a
 * `maxRecordSize` near 4 GiB allows) is framed by the writer and written through `FsFile`, as in
 * the runtime mode.
 */
export const NATIVE_FRAME_SIZE_MAX = 0xffff_ffff;
