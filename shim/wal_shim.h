/* Copyright 2026 the wal-db authors. MIT license.
 *
 * wal_shim: the C ABI that wal-db loads through Deno FFI to make file data durable.
 * The library keeps no global state; every call stands alone.
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
#define WAL_SHIM_VERSION 3

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

/* Releases a handle from wal_shim_open. Returns 0 or a negative error code. */
WAL_SHIM_API int32_t wal_shim_close(int64_t handle);

#ifdef __cplusplus
}
#endif

#endif /* WAL_SHIM_H */
