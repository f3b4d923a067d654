/* Copyright 2026 the wal-db authors. MIT license.
 *
 * wal_shim: the C ABI that wal-db loads through Deno FFI to make file data durable and to
 * check CRC32C checksums at the speed of the CPU's own instructions.
 * The only global state is the CRC path detected on first use (see wal_crc32c_impl); every
 * other call stands alone.
 *
 * Return convention: 0 on success, or a negative error code. On Unix the code is
 * -errno; on Windows it is -GetLastError(). Two calls can also return 1, which is
 * success with a note: macOS had to use fsync because the filesystem does not
 * support F_FULLFSYNC (see wal_shim.c).
 *
 * Handles are int64_t so one prototype fits a Unix fd and a Windows HANDLE.
 * Paths are NUL-terminated UTF-8.
 */
#ifndef WAL_SHIM_H
#define WAL_SHIM_H

#include <stdint.h>

#if defined(_WIN32)
#define WAL_SHIM_API __declspec(dllexport)
#else
#define WAL_SHIM_API __attribute__((visibility("default")))
#endif

/* Bumped whenever a prototype or a documented behaviour changes. */
#define WAL_SHIM_VERSION 6

#ifdef __cplusplus
extern "C" {
#endif

/* Returns WAL_SHIM_VERSION of the compiled library. */
WAL_SHIM_API int32_t wal_shim_version(void);

/* Opens a new handle on an existing file, for flushing only.
 * Returns the handle (>= 0) or a negative error code. */
WAL_SHIM_API int64_t wal_shim_open(const char *path_utf8);

/* Makes the file's data (and the metadata needed to read it back) durable.
 * Returns 0, 1 (macOS fell back to fsync), or a negative error code. */
WAL_SHIM_API int32_t wal_shim_datasync(int64_t handle);

/* Makes the directory's entries (creations, renames, removals) durable.
 * Returns 0, 1 (macOS fell back to fsync), or a negative error code.
 * On Windows it succeeds without doing anything. */
WAL_SHIM_API int32_t wal_shim_sync_dir(const char *dir_utf8);

/* Reserves disk blocks for [offset, offset + length) and makes the file at least
 * offset + length bytes long; bytes that were past the old end read as zeros, and
 * bytes already in the file are unchanged. Flushing an append into reserved space
 * then has no blocks to allocate and no new size to record.
 * Returns 0, or a negative error code. "Not supported here" is -EOPNOTSUPP or -ENOTSUP
 * (or -ENOSYS) on Unix, and -ERROR_NOT_SUPPORTED (-50) on Windows, which always
 * returns it; callers then simply do not preallocate. On Unix, offset < 0, length < 0
 * or an end past INT64_MAX is -EINVAL, and length 0 does nothing and returns 0.
 * Added in version 2. */
WAL_SHIM_API int32_t wal_shim_preallocate(int64_t handle, int64_t offset, int64_t length);

/* Writes the identity of the file behind a handle: out[0] is the device (st_dev on Unix,
 * the volume serial number on Windows) and out[1] the file's number on it (st_ino on Unix,
 * the 64-bit file index on Windows). A caller compares it with the file it already has open,
 * so that a handle opened by path never flushes a file that replaced the one it meant.
 * Returns 0 or a negative error code. Added in version 3. */
WAL_SHIM_API int32_t wal_shim_identity(int64_t handle, uint64_t *out);

/* Writes all of data[0, length) to the file from byte offset on (pwrite on Unix, WriteFile at an
 * offset on Windows): the bytes are in the operating system's cache when it returns, as after
 * write(2). Short writes are continued and, on Unix, EINTR retried, inside the call. Returns 0,
 * or a negative error code (-ENOSPC, -EIO ...; -EIO too for a write that takes nothing), in
 * which case part of the data may have been written. offset is a double so that JavaScript
 * passes a number without a BigInt: it must be an integer from 0 to 2^53, else -EINVAL
 * (Windows: -ERROR_INVALID_PARAMETER). The handle's file position is not used on Unix.
 * Added in version 5. */
WAL_SHIM_API int32_t wal_shim_pwrite(int64_t handle, const uint8_t *data, uint32_t length,
                                     double offset);

/* Fills the 8-byte header of the record frame in frame[0, 8 + payload_length), whose payload is
 * already at frame + 8 (+0 u32 LE CRC32C of the four length bytes and the payload, +4 u32 LE
 * payload_length), then writes the whole frame at offset as wal_shim_pwrite does, with the same
 * results. The header is written into frame even when the write fails. A payload_length above
 * UINT32_MAX - 8 is -EINVAL (Windows: -ERROR_INVALID_PARAMETER) and touches nothing.
 * Added in version 6. */
WAL_SHIM_API int32_t wal_shim_pwrite_frame(int64_t handle, uint8_t *frame, uint32_t payload_length,
                                           double offset);

/* Releases a handle from wal_shim_open. Returns 0 or a negative error code. */
WAL_SHIM_API int32_t wal_shim_close(int64_t handle);

/* The CRC32C paths wal_crc32c_impl can report. */
#define WAL_CRC32C_TABLE 0       /* portable C, one table lookup per byte */
#define WAL_CRC32C_SSE42 1       /* x86_64 crc32 instruction, one stream */
#define WAL_CRC32C_SSE42_CLMUL 2 /* x86_64 crc32 in three streams, joined with pclmulqdq */
#define WAL_CRC32C_ARMV8 3       /* aarch64 crc32c instructions, one stream */

/* Which path wal_crc32c and wal_scan_frames use on this CPU, detected once, on the first call
 * (cpuid on x86_64; getauxval(AT_HWCAP) on arm64 Linux; always the instructions on arm64
 * macOS). Added in version 4. */
WAL_SHIM_API int32_t wal_crc32c_impl(void);

/* CRC32C (Castagnoli: reflected polynomial 0x82F63B78, initial value and final xor 0xFFFFFFFF)
 * of data[0, length). seed is the CRC of the bytes before data, 0 to start, so a CRC can be
 * continued over data that arrives in pieces. data may be NULL when length is 0.
 * Added in version 4. */
WAL_SHIM_API uint32_t wal_crc32c(const uint8_t *data, uint32_t length, uint32_t seed);

/* The same CRC through the portable table path whatever the CPU, so tests can check that path
 * on a machine that has the instructions. Added in version 4. */
WAL_SHIM_API uint32_t wal_crc32c_sw(const uint8_t *data, uint32_t length, uint32_t seed);

/* Checks the record frames of buf[start, end) in one call. A frame is +0 u32 LE crc (CRC32C of
 * the four length bytes and the payload), +4 u32 LE length, +8 the payload. From start on, while
 * the frame there is intact and wholly inside [start, end) (8 header bytes present,
 * length <= max_record_size, every payload byte present, CRC matches), writes the frame's end
 * offset (from buf[0]) to ends[i] and continues at that end. Stops at the first frame that is
 * not intact, at end, or once ends_cap ends are written, and returns how many were written; it
 * never says why it stopped. buf must hold end bytes; start > end writes nothing.
 * Added in version 4. */
WAL_SHIM_API uint32_t wal_scan_frames(const uint8_t *buf, uint32_t start, uint32_t end,
                                      uint32_t max_record_size, uint32_t *ends,
                                      uint32_t ends_cap);

#ifdef __cplusplus
}
#endif

#endif /* WAL_SHIM_H */
