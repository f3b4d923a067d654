/* Copyright 2026 the wal-db authors. MIT license.
 *
 * wal_crc32c.c: CRC32C (Castagnoli) and the frame scan behind wal_shim.h. Every #if for a CPU
 * lives in this file. The hardware paths are compiled with per-function target attributes and
 * entered only after a run-time check of the CPU, so the library still loads and works, through
 * the table path, on a CPU that lacks the instructions.
 *
 * All CRC arithmetic below works on the raw register: the caller inverts the seed on the way in
 * and the result on the way out, so that the running register of one buffer can be carried into
 * the next (the frame scan does that for the length bytes and the payload).
 */
#include "wal_shim.h"

#include <stddef.h>

/* The hardware paths need GNU C (gcc, clang, zig cc) for target attributes and atomics; any other
 * C99 compiler builds the table path alone, and so does -DWAL_CRC32C_TABLE_ONLY (a build for a
 * CPU without the instructions, as the tests make to check what wal-db does on one). */
#if defined(WAL_CRC32C_TABLE_ONLY)
/* the table path alone */
#elif defined(__GNUC__) && defined(__x86_64__)
#define WAL_X86_64 1
#include <cpuid.h>
#include <immintrin.h>
/* clang 16 (zig 0.11) guards _mm_crc32_* with its own "crc32" feature on some targets. */
#define TARGET_SSE42 __attribute__((target("sse4.2,crc32")))
#define TARGET_SSE42_CLMUL __attribute__((target("sse4.2,crc32,pclmul")))
#elif defined(__GNUC__) && defined(__aarch64__)
#define WAL_AARCH64 1
#include <arm_acle.h>
#if defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_CRC32
#define HWCAP_CRC32 (1 << 7) /* the arm64 Linux bit, for libcs whose headers lack it */
#endif
#endif
#endif

/* A path's update: the raw register after data[0, length). */
typedef uint32_t (*update_fn)(uint32_t crc, const uint8_t *data, size_t length);

/* A path's update of three independent buffers at once, for the frame scan: short frames are too
 * short to split, but three of them side by side keep the CRC unit as busy as one long buffer. */
typedef void (*update3_fn)(uint32_t crc[3], const uint8_t *const data[3], const size_t length[3]);

/* ---- The portable path: one table lookup per byte. ---------------------------------------- */

/* The table is a constant expression, so it lives in read-only data and needs no set-up code
 * (and so no once-only initialisation shared between threads). STEP is one bit of the classic
 * shift-and-reduce loop on the reflected polynomial 0x82F63B78; eight steps give the table entry
 * for one byte. */
#define CRC32C_POLY 0x82F63B78u
#define STEP(c) (((c) >> 1) ^ (CRC32C_POLY & (0u - ((c) & 1u))))
#define ENTRY(n) STEP(STEP(STEP(STEP(STEP(STEP(STEP(STEP((uint32_t)(n)))))))))
#define ROW4(n) ENTRY(n), ENTRY((n) + 1), ENTRY((n) + 2), ENTRY((n) + 3)
#define ROW16(n) ROW4(n), ROW4((n) + 4), ROW4((n) + 8), ROW4((n) + 12)
#define ROW64(n) ROW16(n), ROW16((n) + 16), ROW16((n) + 32), ROW16((n) + 48)

static const uint32_t BYTE_TABLE[256] = {ROW64(0), ROW64(64), ROW64(128), ROW64(192)};

static uint32_t update_table(uint32_t crc, const uint8_t *data, size_t length) {
  for (size_t i = 0; i < length; i++) crc = BYTE_TABLE[(crc ^ data[i]) & 0xffu] ^ (crc >> 8);
  return crc;
}

static void update3_table(uint32_t crc[3], const uint8_t *const data[3], const size_t length[3]) {
  for (int k = 0; k < 3; k++) crc[k] = update_table(crc[k], data[k], length[k]);
}

/* Little-endian loads without alignment or aliasing assumptions; compilers turn these into one
 * load on every shipped (little-endian) target. Always inlined: a compiler may otherwise keep a
 * call to them inside the functions built for other CPU features. */
#if defined(__GNUC__)
#define ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define ALWAYS_INLINE inline
#endif

static ALWAYS_INLINE uint32_t load_le32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

#if defined(WAL_X86_64) || defined(WAL_AARCH64)
static ALWAYS_INLINE uint64_t load_le64(const uint8_t *p) {
  return (uint64_t)load_le32(p) | ((uint64_t)load_le32(p + 4) << 32);
}

/* The shortest of three lengths: how long three buffers can be run side by side. */
static size_t min3(const size_t length[3]) {
  size_t m = length[0] < length[1] ? length[0] : length[1];
  return m < length[2] ? m : length[2];
}
#endif

/* ---- x86_64: SSE4.2 crc32, and three interleaved streams joined with PCLMULQDQ. ------------ */

#if defined(WAL_X86_64)

/* One stream, eight bytes per instruction. The crc32 instruction has a latency of about three
 * cycles and a throughput of one per cycle, so one stream uses a third of what the unit can do. */
TARGET_SSE42 static uint32_t update_sse42(uint32_t crc, const uint8_t *data, size_t length) {
  for (; length >= 8; data += 8, length -= 8) {
    crc = (uint32_t)_mm_crc32_u64(crc, load_le64(data));
  }
  for (; length > 0; data++, length--) crc = _mm_crc32_u8(crc, *data);
  return crc;
}

/* Bytes per stream in one round of the interleaved loop, and for each the constant that moves a
 * register past that many zero bytes: x^(8 * size - 33) mod P, reflected. (A carry-less product
 * of two reflected 32-bit values is the 64-bit reflection of their product times x, and crc32 of
 * a 64-bit value multiplies it by x^32 modulo P: together x^33, which the constant takes back.)
 * The tests check every length from 0 to 4 KiB and MiB-sized buffers against the table path, so
 * a wrong constant cannot go unnoticed. */
#define LONG_STREAM 4096u
#define LONG_SHIFT 0x82f89c77u
#define SHORT_STREAM 256u
#define SHORT_SHIFT 0xb9e02b86u

/* The register `crc` after the number of zero bytes that `shift` stands for. */
TARGET_SSE42_CLMUL static uint32_t shift_register(uint32_t crc, uint32_t shift) {
  __m128i product = _mm_clmulepi64_si128(_mm_cvtsi32_si128((int)crc),
                                         _mm_cvtsi32_si128((int)shift), 0x00);
  return (uint32_t)_mm_crc32_u64(0, (uint64_t)_mm_cvtsi128_si64(product));
}

/* Three streams of `stream` bytes each, run side by side so the three dependency chains overlap,
 * then joined: the first two are moved past the bytes that follow them and xor-ed in. */
TARGET_SSE42_CLMUL static uint32_t round3(uint32_t crc, const uint8_t *data, size_t stream,
                                          uint32_t shift) {
  const uint8_t *a = data;
  const uint8_t *b = data + stream;
  const uint8_t *c = data + 2 * stream;
  uint64_t crc_a = crc, crc_b = 0, crc_c = 0;
  for (size_t i = 0; i < stream; i += 8) {
    crc_a = _mm_crc32_u64(crc_a, load_le64(a + i));
    crc_b = _mm_crc32_u64(crc_b, load_le64(b + i));
    crc_c = _mm_crc32_u64(crc_c, load_le64(c + i));
  }
  uint32_t joined = shift_register((uint32_t)crc_a, shift) ^ (uint32_t)crc_b;
  return shift_register(joined, shift) ^ (uint32_t)crc_c;
}

TARGET_SSE42_CLMUL static uint32_t update_sse42_clmul(uint32_t crc, const uint8_t *data,
                                                      size_t length) {
  for (; length >= 3 * LONG_STREAM; data += 3 * LONG_STREAM, length -= 3 * LONG_STREAM) {
    crc = round3(crc, data, LONG_STREAM, LONG_SHIFT);
  }
  for (; length >= 3 * SHORT_STREAM; data += 3 * SHORT_STREAM, length -= 3 * SHORT_STREAM) {
    crc = round3(crc, data, SHORT_STREAM, SHORT_SHIFT);
  }
  return update_sse42(crc, data, length);
}

/* Three buffers side by side for as long as all three last, then each alone. */
TARGET_SSE42 static void update3_sse42(uint32_t crc[3], const uint8_t *const data[3],
                                       const size_t length[3]) {
  size_t common = min3(length) & ~(size_t)7;
  uint64_t a = crc[0], b = crc[1], c = crc[2];
  for (size_t i = 0; i < common; i += 8) {
    a = _mm_crc32_u64(a, load_le64(data[0] + i));
    b = _mm_crc32_u64(b, load_le64(data[1] + i));
    c = _mm_crc32_u64(c, load_le64(data[2] + i));
  }
  crc[0] = update_sse42((uint32_t)a, data[0] + common, length[0] - common);
  crc[1] = update_sse42((uint32_t)b, data[1] + common, length[1] - common);
  crc[2] = update_sse42((uint32_t)c, data[2] + common, length[2] - common);
}

static int32_t detect_path(void) {
  unsigned int eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return WAL_CRC32C_TABLE;
  if (!(ecx & bit_SSE4_2)) return WAL_CRC32C_TABLE;
  return (ecx & bit_PCLMUL) ? WAL_CRC32C_SSE42_CLMUL : WAL_CRC32C_SSE42;
}

/* ---- aarch64: the ARMv8 CRC32C instructions, one stream. ----------------------------------- */

#elif defined(WAL_AARCH64)

__attribute__((target("crc"))) static uint32_t update_armv8(uint32_t crc, const uint8_t *data,
                                                            size_t length) {
  for (; length >= 8; data += 8, length -= 8) crc = __crc32cd(crc, load_le64(data));
  for (; length > 0; data++, length--) crc = __crc32cb(crc, *data);
  return crc;
}

__attribute__((target("crc"))) static void update3_armv8(uint32_t crc[3],
                                                         const uint8_t *const data[3],
                                                         const size_t length[3]) {
  size_t common = min3(length) & ~(size_t)7;
  uint32_t a = crc[0], b = crc[1], c = crc[2];
  for (size_t i = 0; i < common; i += 8) {
    a = __crc32cd(a, load_le64(data[0] + i));
    b = __crc32cd(b, load_le64(data[1] + i));
    c = __crc32cd(c, load_le64(data[2] + i));
  }
  crc[0] = update_armv8(a, data[0] + common, length[0] - common);
  crc[1] = update_armv8(b, data[1] + common, length[1] - common);
  crc[2] = update_armv8(c, data[2] + common, length[2] - common);
}

static int32_t detect_path(void) {
#if defined(__APPLE__)
  return WAL_CRC32C_ARMV8; /* every arm64 Mac has the CRC instructions */
#elif defined(__linux__)
  return (getauxval(AT_HWCAP) & HWCAP_CRC32) ? WAL_CRC32C_ARMV8 : WAL_CRC32C_TABLE;
#else
  return WAL_CRC32C_TABLE; /* no binary is shipped for other arm64 systems */
#endif
}

#else

static int32_t detect_path(void) { return WAL_CRC32C_TABLE; }

#endif

/* ---- Choosing the path. -------------------------------------------------------------------- */

/* The one piece of state in the library: the detected path plus one, 0 until the first call
 * asks. Threads that race here compute the same value, and the atomic accesses make the race
 * well defined. */
#if defined(WAL_X86_64) || defined(WAL_AARCH64)
static int32_t cached_path;

int32_t wal_crc32c_impl(void) {
  int32_t known = __atomic_load_n(&cached_path, __ATOMIC_RELAXED);
  if (known != 0) return known - 1;
  int32_t path = detect_path();
  __atomic_store_n(&cached_path, path + 1, __ATOMIC_RELAXED);
  return path;
}
#else
int32_t wal_crc32c_impl(void) { return detect_path(); } /* always the table: nothing to cache */
#endif

/* The functions of one path. */
struct crc_path {
  update_fn update;
  update3_fn update3;
};

static struct crc_path chosen_path(void) {
  struct crc_path path = {update_table, update3_table};
  switch (wal_crc32c_impl()) {
#if defined(WAL_X86_64)
    case WAL_CRC32C_SSE42_CLMUL:
      path.update = update_sse42_clmul;
      path.update3 = update3_sse42;
      break;
    case WAL_CRC32C_SSE42:
      path.update = update_sse42;
      path.update3 = update3_sse42;
      break;
#elif defined(WAL_AARCH64)
    case WAL_CRC32C_ARMV8:
      path.update = update_armv8;
      path.update3 = update3_armv8;
      break;
#endif
    default:
      break;
  }
  return path;
}

uint32_t wal_crc32c(const uint8_t *data, uint32_t length, uint32_t seed) {
  return ~chosen_path().update(~seed, data, length);
}

uint32_t wal_crc32c_sw(const uint8_t *data, uint32_t length, uint32_t seed) {
  return ~update_table(~seed, data, length);
}

/* ---- The frame scan. ----------------------------------------------------------------------- */

#define FRAME_HEADER_SIZE 8u
/* Frames whose CRCs are computed together. */
#define BATCH 3u

uint32_t wal_scan_frames(const uint8_t *buf, uint32_t start, uint32_t end,
                         uint32_t max_record_size, uint32_t *ends, uint32_t ends_cap) {
  struct crc_path path = chosen_path(); /* once per chunk, not per frame */
  uint32_t count = 0;
  uint32_t at = start;
  while (count < ends_cap) {
    /* Up to BATCH frames whose headers are plausible, one after the other. A frame's place
     * depends only on the length before it, not on that frame's CRC, so checking the CRCs
     * together and then in order (stopping at the first mismatch) reports exactly what a
     * frame-by-frame scan would. */
    const uint8_t *covered[BATCH];
    size_t covered_length[BATCH];
    uint32_t stored[BATCH];
    uint32_t frame_end[BATCH];
    uint32_t want = ends_cap - count < BATCH ? ends_cap - count : BATCH;
    uint32_t found = 0;
    uint32_t next = at;
    /* next <= end holds after the first test, so end - next never wraps. */
    while (found < want && next <= end && end - next >= FRAME_HEADER_SIZE) {
      uint32_t length = load_le32(buf + next + 4);
      if (length > max_record_size) break;
      if ((uint64_t)length > (uint64_t)(end - next) - FRAME_HEADER_SIZE) break;
      stored[found] = load_le32(buf + next);
      covered[found] = buf + next + 4; /* the CRC covers the length bytes, then the payload */
      covered_length[found] = (size_t)length + 4;
      next += FRAME_HEADER_SIZE + length;
      frame_end[found++] = next;
    }
    uint32_t crc[BATCH] = {0xffffffffu, 0xffffffffu, 0xffffffffu};
    if (found == BATCH) {
      path.update3(crc, covered, covered_length);
    } else {
      for (uint32_t k = 0; k < found; k++) {
        crc[k] = path.update(crc[k], covered[k], covered_length[k]);
      }
    }
    for (uint32_t k = 0; k < found; k++) {
      if (~crc[k] != stored[k]) return count;
      ends[count++] = frame_end[k];
    }
    if (found < want) break; /* the next frame is not intact, or the chunk ends */
    at = next;
  }
  return count;
}
