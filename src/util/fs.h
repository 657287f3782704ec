/*
 * fs.h - files written into a directory the user names (--out DIR).
 *
 * Invariant: a name made by pg_fs_safe_name is one path component that
 * stays inside the directory: no '/', no NUL or other control byte, never
 * "", "." or "..", never hidden (leading '.'), at most PG_FS_NAME_MAX bytes.
 * The mapping is injective for names that fit (distinct ids never share a
 * file); longer ones keep a prefix and a hash of the whole id.
 */
#ifndef PG_UTIL_FS_H
#define PG_UTIL_FS_H

#include <stddef.h>
#include "util/buf.h"

#define PG_FS_NAME_MAX 240 /* below the usual 255-byte limit, leaving room for ".tmp.PID" */

/*
 * Append to out the file name for id (len bytes, may hold NUL) followed by
 * ext (trusted, e.g. ".json", may be NULL).  Bytes other than [A-Za-z0-9_+-]
 * and non-leading '.' are written as %XX.  An empty id is PG_EINVALID.
 */
int pg_fs_safe_name(pg_buf *out, const char *id, size_t len, const char *ext);

/*
 * Write len bytes of data to dir/name atomically: into a new temporary file
 * beside it (O_CREAT | O_EXCL: never through an existing file or symlink),
 * then renamed over name: a reader sees the old file or the new one, never
 * half of one (no fsync: durability is the file system's).  name must be one component (see
 * pg_fs_safe_name); on error nothing is left behind (a killed process leaves a hidden
 * temporary file, see pg_fs_clear_tmp).
 */
int pg_fs_write_atomic(const char *dir, const char *name, const void *data, size_t len);

/*
 * The same for a path given whole (e.g. report --out FILE).  The temporary
 * file is ".NAME.tmp.PID" in the same directory: hidden, so a process killed
 * between create and rename leaves nothing a reader of "*.json" or `ls` sees.
 */
int pg_fs_write_file_atomic(const char *path, const void *data, size_t len);

/*
 * Remove the temporary files a killed pg_fs_write_atomic left in dir
 * (".NAME.tmp.PID" older than min_age seconds); *removed counts them.  Only
 * for a directory whose writer holds a lock, so no live write is hit.
 */
void pg_fs_clear_tmp(const char *dir, long min_age, size_t *removed);

#endif
