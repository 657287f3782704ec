/*
 * buf.c - growable, capped byte buffer.  See buf.h for the invariants.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "util/buf.h"

void pg_buf_init(pg_buf *b, size_t limit)
{
	b->ptr = NULL;
	b->len = b->alloc = 0;
	b->limit = limit;
}

void pg_buf_release(pg_buf *b)
{
	free(b->ptr);
	b->ptr = NULL;
	b->len = b->alloc = 0;
}

void pg_buf_clear(pg_buf *b)
{
	size_t limit = b->limit;
	pg_buf_release(b);
	pg_buf_init(b, limit);
}

void pg_buf_reset(pg_buf *b)
{
	b->len = 0;
	if (b->ptr)
		b->ptr[0] = '\0';
}

int pg_buf_grow(pg_buf *b, size_t extra)
{
	size_t limit = b->limit ? b->limit : PG_BUF_DEFAULT_LIMIT;
	size_t need, nalloc;
	char *p;

	if (extra > limit || b->len > limit - extra)
		return pg_error_setc(PG_EINVALID, "input too large (over %zu bytes)", limit);
	need = b->len + extra + 1;
	if (need <= b->alloc)
		return 0;
	nalloc = b->alloc ? b->alloc : 64;
	while (nalloc < need)
		nalloc = nalloc + nalloc / 2 + 16;
	if (!(p = realloc(b->ptr, nalloc)))
		return pg_error_setc(PG_ENOMEM, "out of memory growing a buffer to %zu bytes", nalloc);
	p[b->len] = '\0';   /* keep the invariant even when nothing is appended (empty file) */
	b->ptr = p;
	b->alloc = nalloc;
	/* keep the invariant "ptr is NUL-terminated" even for a first, empty grow */
	b->ptr[b->len] = '\0';
	return 0;
}

int pg_buf_put(pg_buf *b, const char *data, size_t len)
{
	int error;
	if ((error = pg_buf_grow(b, len)) < 0)
		return error;
	if (len)
		memcpy(b->ptr + b->len, data, len);
	b->len += len;
	b->ptr[b->len] = '\0';
	return 0;
}

int pg_buf_puts(pg_buf *b, const char *s)
{
	return pg_buf_put(b, s, strlen(s));
}

int pg_buf_putc(pg_buf *b, char c)
{
	return pg_buf_put(b, &c, 1);
}

int pg_buf_vprintf(pg_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n, error;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return pg_error_set("invalid format string");
	if ((error = pg_buf_grow(b, (size_t)n)) < 0)
		return error;
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int pg_buf_printf(pg_buf *b, const char *fmt, ...)
{
	va_list ap;
	int error;
	va_start(ap, fmt);
	error = pg_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return error;
}

int pg_buf_put_json_str(pg_buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	int error;

	if ((error = pg_buf_putc(b, '"')) < 0)
		return error;
	for (; *p; p++) {
		char esc[7];
		const char *out = NULL;
		switch (*p) {
		case '"': out = "\\\""; break;
		case '\\': out = "\\\\"; break;
		case '\n': out = "\\n"; break;
		case '\r': out = "\\r"; break;
		case '\t': out = "\\t"; break;
		default:
			if (*p < 0x20) {
				esc[0] = '\\'; esc[1] = 'u'; esc[2] = '0'; esc[3] = '0';
				esc[4] = hex[*p >> 4]; esc[5] = hex[*p & 15]; esc[6] = 0;
				out = esc;
			}
		}
		if (out)
			error = pg_buf_puts(b, out);
		else
			error = pg_buf_putc(b, (char)*p);
		if (error < 0)
			return error;
	}
	return pg_buf_putc(b, '"');
}

char *pg_buf_detach(pg_buf *b)
{
	char *p = b->ptr;
	if (!p)
		p = calloc(1, 1);
	b->ptr = NULL;
	b->len = b->alloc = 0;
	return p;
}

int pg_buf_read_file(pg_buf *b, const char *path)
{
	FILE *f;
	char chunk[65536];
	size_t n;
	int error = 0;

	if (!strcmp(path, "-"))
		f = stdin;
	else if (!(f = fopen(path, "rb")))
		return pg_error_setc(PG_EIO, "cannot open '%s': %s", path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if ((error = pg_buf_put(b, chunk, n)) < 0) {
			pg_error_prefix("reading '%s'", path);
			break;
		}
	}
	if (!error && ferror(f))
		error = pg_error_setc(PG_EIO, "cannot read '%s': %s", path, strerror(errno));
	if (f != stdin)
		fclose(f);
	if (!error && !b->ptr)
		error = pg_buf_grow(b, 0);
	return error;
}

int pg_buf_read_regular(pg_buf *b, const char *path)
{
	char chunk[65536];
	struct stat st;
	ssize_t n;
	int fd, error = 0;

	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)) < 0)
		return pg_error_setc(PG_EIO, "cannot open '%s': %s", path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		error = pg_error_setc(PG_EIO, "cannot stat '%s': %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		error = pg_error_setc(PG_EINVALID, "cannot read '%s': not a regular file", path);
		goto out;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			error = pg_error_setc(PG_EIO, "cannot read '%s': %s", path, strerror(errno));
			goto out;
		}
		if ((error = pg_buf_put(b, chunk, (size_t)n)) < 0) {
			pg_error_prefix("reading '%s'", path);
			goto out;
		}
	}
	if (!b->ptr)
		error = pg_buf_grow(b, 0);
out:
	close(fd);
	return error;
}
