/*
 * buf.h - growable byte buffer with a hard size cap (curl's dynbuf idea).
 *
 * Invariant: b->ptr is always NUL-terminated when b->ptr != NULL, and
 * b->len <= b->cap_limit.  Buffers fed from untrusted input (commit text,
 * HTTP bodies, JSON) set a limit so a hostile 10 GB message fails cleanly
 * with PG_EINVALID instead of exhausting memory.
 */
#ifndef PG_UTIL_BUF_H
#define PG_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include "patchgap/common.h"

typedef struct pg_buf {
	char *ptr;        /* owned; NUL-terminated; NULL until first append */
	size_t len;       /* bytes used, excluding the NUL */
	size_t alloc;     /* bytes allocated */
	size_t limit;     /* maximum len; 0 means PG_BUF_DEFAULT_LIMIT */
} pg_buf;

#define PG_BUF_DEFAULT_LIMIT ((size_t)1 << 30)
#define PG_BUF_INIT { NULL, 0, 0, 0 }

void pg_buf_init(pg_buf *b, size_t limit);
void pg_buf_release(pg_buf *b);
void pg_buf_clear(pg_buf *b);          /* release + init, keeping the limit */
void pg_buf_reset(pg_buf *b);          /* len = 0, keep memory */
int pg_buf_grow(pg_buf *b, size_t extra);
int pg_buf_put(pg_buf *b, const char *data, size_t len);
int pg_buf_puts(pg_buf *b, const char *s);
int pg_buf_putc(pg_buf *b, char c);
int pg_buf_printf(pg_buf *b, const char *fmt, ...) PG_PRINTF(2, 3);
int pg_buf_vprintf(pg_buf *b, const char *fmt, va_list ap);
/* Append s as a JSON string literal (with quotes), escaping as needed. */
int pg_buf_put_json_str(pg_buf *b, const char *s);
/* Detach the string; caller owns it (free()).  Returns "" copy if empty. */
char *pg_buf_detach(pg_buf *b);
/* Borrowed, never NULL. */
static inline const char *pg_buf_cstr(const pg_buf *b) { return b->ptr ? b->ptr : ""; }

/* Read a whole file (or "-" for stdin) into b, failing if it exceeds the limit. */
int pg_buf_read_file(pg_buf *b, const char *path);
/*
 * The same, for files found by walking a directory: only a regular file
 * (after symlinks) is read; a FIFO, device or socket that would block or
 * never end is PG_EINVALID "not a regular file", checked on the opened
 * descriptor (opened non-blocking), so it cannot be swapped in between.
 */
int pg_buf_read_regular(pg_buf *b, const char *path);

#endif
