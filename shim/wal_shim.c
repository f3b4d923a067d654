/* Copyright 2026 the wal-db authors. MIT license.
 *
 * wal_shim.c: the per-OS durability calls behind wal_shim.h. Every #if for an OS
 * lives in this file. No global state, no allocation on Unix, no C runtime calls on
 * Windows (only kernel32), so the binaries stay small and self-contained.
 */
#if defined(__linux__)
#define _GNU_SOURCE /* fallocate() */
#endif
#if !defined(_WIN32)
#define _FILE_OFFSET_BITS 64 /* 64-bit off_t on 32-bit Unix builds too */
#endif

#include "wal_shim.h"

#if defined(_WIN32)
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#else
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

int32_t wal_shim_version(void) { return WAL_SHIM_VERSION; }

/* 2^53: every integer up to it is exact in a double (and in a JavaScript number). */
#define WAL_SHIM_OFFSET_MAX 9007199254740992.0

/* True when offset is a whole number from 0 to 2^53 (false for NaN too). */
static int valid_offset(double offset) {
  return offset >= 0 && offset <= WAL_SHIM_OFFSET_MAX && offset == (double)(int64_t)offset;
}

#if defined(_WIN32)

/* Win32 error codes are small positive numbers; the mask keeps the result negative
 * even for an odd value with the top bit set. */
static int32_t negative_last_error(void) {
  return -(int32_t)(GetLastError() & 0x7fffffff);
}

int64_t wal_shim_open(const char *path_utf8) {
  /* Deno hands us UTF-8; the wide API is the only one that accepts every path. */
  int wide_count = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path_utf8, -1, NULL, 0);
  if (wide_count == 0) return negative_last_error();
  HANDLE heap = GetProcessHeap();
  WCHAR *wide = (WCHAR *)HeapAlloc(heap, 0, (SIZE_T)wide_count * sizeof(WCHAR));
  if (wide == NULL) return -ERROR_NOT_ENOUGH_MEMORY;
  HANDLE file = INVALID_HANDLE_VALUE;
  DWORD error = ERROR_NO_UNICODE_TRANSLATION;
  if (MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path_utf8, -1, wide, wide_count) != 0) {
    /* FlushFileBuffers needs GENERIC_WRITE. Sharing everything lets Deno's own handle
     * keep writing, and lets the file be renamed or deleted while we hold it. */
    file = CreateFileW(wide, GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                       NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
    error = GetLastError();
  }
  HeapFree(heap, 0, wide); /* may overwrite the last error, hence the copy above */
  if (file == INVALID_HANDLE_VALUE) return -(int64_t)(error & 0x7fffffff);
  return (int64_t)(intptr_t)file;
}

int32_t wal_shim_datasync(int64_t handle) {
  /* Windows has no data-only flush; FlushFileBuffers writes data and metadata and
   * asks the device to empty its cache. */
  if (!FlushFileBuffers((HANDLE)(intptr_t)handle)) return negative_last_error();
  return 0;
}

int32_t wal_shim_sync_dir(const char *dir_utf8) {
  /* Deliberately a no-op. FlushFileBuffers is documented for files and volumes; a
   * directory handle would need FILE_FLAG_BACKUP_SEMANTICS, and what flushing it does
   * is undocumented. NTFS journals directory entries (create, rename, delete), so the
   * directory stays consistent; see docs/DURABILITY.md for what that leaves open. */
  (void)dir_utf8;
  return 0;
}

int32_t wal_shim_preallocate(int64_t handle, int64_t offset, int64_t length) {
  /* Not supported, on purpose. Windows can reserve clusters without moving the end of
   * file (FileAllocationInfo), which leaves the size change in every flush; or it can
   * move the end of file (SetEndOfFile), but NTFS then keeps a "valid data length"
   * behind it: every append still has to move that length (a metadata update, like the
   * size change it was meant to avoid), and a write that starts past it makes NTFS write
   * zeros over the gap first, so appends get no faster and can get slower. Moving the
   * valid data length too
   * (SetFileValidData) needs the SE_MANAGE_VOLUME_NAME privilege and would expose
   * whatever the reused clusters held before. The caller falls back to not
   * preallocating. */
  (void)handle;
  (void)offset;
  (void)length;
  return -ERROR_NOT_SUPPORTED;
}

int32_t wal_shim_identity(int64_t handle, uint64_t *out) {
  /* The same numbers Deno's FsFile.stat() reports on Windows: dev is the volume serial
   * number, ino the file index (FILE_INTERNAL_INFORMATION's IndexNumber is that index). */
  BY_HANDLE_FILE_INFORMATION info;
  if (!GetFileInformationByHandle((HANDLE)(intptr_t)handle, &info)) return negative_last_error();
  out[0] = (uint64_t)info.dwVolumeSerialNumber;
  out[1] = ((uint64_t)info.nFileIndexHigh << 32) | (uint64_t)info.nFileIndexLow;
  return 0;
}

int32_t wal_shim_pwrite(int64_t handle, const uint8_t *data, uint32_t length, double offset) {
  if (!valid_offset(offset)) return -ERROR_INVALID_PARAMETER;
  uint64_t at = (uint64_t)offset;
  uint32_t done = 0;
  while (done < length) {
    /* A handle opened without FILE_FLAG_OVERLAPPED writes synchronously at the OVERLAPPED's
     * offset. */
    OVERLAPPED where = {0};
    where.Offset = (DWORD)((at + done) & 0xffffffffu);
    where.OffsetHigh = (DWORD)((at + done) >> 32);
    DWORD written = 0;
    if (!WriteFile((HANDLE)(intptr_t)handle, data + done, length - done, &written, &where)) {
      return negative_last_error();
    }
    if (written == 0) return -ERROR_WRITE_FAULT;
    done += written;
  }
  return 0;
}

int32_t wal_shim_close(int64_t handle) {
  if (!CloseHandle((HANDLE)(intptr_t)handle)) return negative_last_error();
  return 0;
}

#else /* Unix */

/* Opens with EINTR retried; O_CLOEXEC so a child process never inherits the handle. */
static int open_retrying(const char *path, int flags) {
  int fd;
  do {
    fd = open(path, flags | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

static int32_t fsync_retrying(int fd) {
  while (fsync(fd) != 0) {
    if (errno != EINTR) return -errno;
  }
  return 0;
}

#if defined(__APPLE__)
/* On macOS fsync only hands data to the drive, which may keep it in a volatile cache;
 * F_FULLFSYNC also makes the drive flush that cache. Some filesystems (SMB, FUSE,
 * some external media) reject it; only for those errors do we use fsync and return 1
 * so the caller can tell that the guarantee is weaker. Any other error is real. */
static int32_t full_flush(int fd) {
  for (;;) {
    if (fcntl(fd, F_FULLFSYNC) != -1) return 0;
    if (errno == EINTR) continue;
    if (errno == ENOTSUP || errno == EINVAL || errno == ENOTTY) break;
    return -errno;
  }
  int32_t result = fsync_retrying(fd);
  return result < 0 ? result : 1;
}
#endif

/* Handles come back from JS as int64_t; reject anything that cannot be our fd rather
 * than truncating it into some other descriptor. */
static int valid_fd(int64_t handle) { return handle >= 0 && handle <= INT_MAX; }

int64_t wal_shim_open(const char *path_utf8) {
  int fd = open_retrying(path_utf8, O_RDWR);
  return fd < 0 ? -(int64_t)errno : (int64_t)fd;
}

int32_t wal_shim_datasync(int64_t handle) {
  if (!valid_fd(handle)) return -EBADF;
  int fd = (int)handle;
#if defined(__APPLE__)
  return full_flush(fd);
#elif defined(__linux__)
  /* fdatasync skips metadata that is not needed to read the data back (mtime),
   * but does flush a size change, which is what an appended log needs. */
  while (fdatasync(fd) != 0) {
    if (errno != EINTR) return -errno;
  }
  return 0;
#else
  return fsync_retrying(fd);
#endif
}

#if defined(__APPLE__)
/* macOS has no fallocate. F_PREALLOCATE reserves blocks but never moves the end of
 * file, and it can only add blocks at the file's physical end (F_PEOFPOSMODE;
 * F_VOLPOSMODE takes a position on the volume, a placement hint, not a position in the
 * file). So: ask for the bytes between the current size and the new end, contiguous if
 * possible, and always all or nothing (F_ALLOCATEALL), since a partial reservation
 * would still leave allocations for the flushes; then ftruncate to the new end, which
 * turns the reserved blocks into zero-filled file content. A range that ends inside the
 * file needs no new size, and F_PREALLOCATE cannot fill holes, so that is success. */
static int32_t preallocate_file(int fd, int64_t offset, int64_t length) {
  struct stat info;
  if (fstat(fd, &info) != 0) return -errno;
  int64_t end = offset + length;
  if (end <= (int64_t)info.st_size) return 0;
  fstore_t store = {
      .fst_flags = F_ALLOCATECONTIG | F_ALLOCATEALL,
      .fst_posmode = F_PEOFPOSMODE,
      .fst_offset = 0,
      .fst_length = (off_t)(end - (int64_t)info.st_size),
      .fst_bytesalloc = 0,
  };
  while (fcntl(fd, F_PREALLOCATE, &store) == -1) {
    if (errno == EINTR) continue;
    /* No contiguous run that long: any blocks will do. Other errors (ENOTSUP on a
     * filesystem without it, ENOSPC) come back from this second attempt too. */
    if (store.fst_flags != F_ALLOCATEALL) {
      store.fst_flags = F_ALLOCATEALL;
      continue;
    }
    return -errno;
  }
  while (ftruncate(fd, (off_t)end) != 0) {
    if (errno != EINTR) return -errno;
  }
  return 0;
}
#elif defined(__linux__)
/* Mode 0 allocates the range and extends the size over it; the new blocks are marked
 * unwritten, so they read as zeros without the disk being written. Filesystems that
 * cannot do it (some tmpfs, NFS, FUSE) fail with EOPNOTSUPP. */
static int32_t preallocate_file(int fd, int64_t offset, int64_t length) {
  while (fallocate(fd, 0, (off_t)offset, (off_t)length) != 0) {
    if (errno != EINTR) return -errno;
  }
  return 0;
}
#else
/* Not attempted elsewhere: posix_fallocate may fall back to writing zeros, which was
 * measured 10-20% slower with large batches, where fallocate is neutral. No binary is
 * shipped for these systems anyway. */
static int32_t preallocate_file(int fd, int64_t offset, int64_t length) {
  (void)fd;
  (void)offset;
  (void)length;
  return -ENOTSUP;
}
#endif

int32_t wal_shim_preallocate(int64_t handle, int64_t offset, int64_t length) {
  if (!valid_fd(handle)) return -EBADF;
  if (offset < 0 || length < 0 || length > INT64_MAX - offset) return -EINVAL;
  if (length == 0) return 0;
  return preallocate_file((int)handle, offset, length);
}

int32_t wal_shim_sync_dir(const char *dir_utf8) {
  int fd = open_retrying(dir_utf8, O_RDONLY | O_DIRECTORY);
  if (fd < 0) return -errno;
#if defined(__APPLE__)
  int32_t result = full_flush(fd); /* a directory fsync alone also stops at the drive cache */
#else
  int32_t result = fsync_retrying(fd);
#endif
  close(fd); /* the flush result is what matters; nothing was written through this fd */
  return result;
}

int32_t wal_shim_identity(int64_t handle, uint64_t *out) {
  if (!valid_fd(handle)) return -EBADF;
  struct stat info;
  if (fstat((int)handle, &info) != 0) return -errno;
  out[0] = (uint64_t)info.st_dev;
  out[1] = (uint64_t)info.st_ino;
  return 0;
}

int32_t wal_shim_pwrite(int64_t handle, const uint8_t *data, uint32_t length, double offset) {
  if (!valid_fd(handle)) return -EBADF;
  if (!valid_offset(offset)) return -EINVAL;
  off_t at = (off_t)offset;
  uint32_t done = 0;
  while (done < length) {
    ssize_t written = pwrite((int)handle, data + done, (size_t)(length - done), at + done);
    if (written < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    /* No progress and no error: waiting would not help, and looping would spin. */
    if (written == 0) return -EIO;
    done += (uint32_t)written;
  }
  return 0;
}

int32_t wal_shim_close(int64_t handle) {
  if (!valid_fd(handle)) return -EBADF;
  /* Not retried on EINTR: Linux releases the fd even then, and a retry could close
   * a number that another thread has just been given. */
  if (close((int)handle) != 0 && errno != EINTR) return -errno;
  return 0;
}

#endif

/* The frame's layout (docs/ON_DISK_FORMAT.md): +0 u32 LE crc, +4 u32 LE length, +8 payload. */
#define WAL_FRAME_HEADER_SIZE 8u
#define WAL_FRAME_LENGTH_OFFSET 4u

#if defined(_WIN32)
#define WAL_SHIM_EINVAL (-ERROR_INVALID_PARAMETER)
#else
#define WAL_SHIM_EINVAL (-EINVAL)
#endif

static void store_le32(uint8_t *p, uint32_t value) {
  p[0] = (uint8_t)value;
  p[1] = (uint8_t)(value >> 8);
  p[2] = (uint8_t)(value >> 16);
  p[3] = (uint8_t)(value >> 24);
}

/* The header is filled here rather than in JavaScript so that an append to a file is one FFI
 * call. Between system calls, a CRC call then a write call cost ~290 ns more per 256 B record
 * than the write alone, and this call ~90 ns more (2026-12-03, a 2-core VM), though the CRC
 * call costs ~15 ns in a loop of its own. The length bytes sit just before the payload, so one
 * CRC pass covers both, as the format defines. */
int32_t wal_shim_pwrite_frame(int64_t handle, uint8_t *frame, uint32_t payload_length,
                              double offset) {
  if (payload_length > UINT32_MAX - WAL_FRAME_HEADER_SIZE) return WAL_SHIM_EINVAL;
  store_le32(frame + WAL_FRAME_LENGTH_OFFSET, payload_length);
  store_le32(frame, wal_crc32c(frame + WAL_FRAME_LENGTH_OFFSET, payload_length + 4u, 0));
  return wal_shim_pwrite(handle, frame, payload_length + WAL_FRAME_HEADER_SIZE, offset);
}
