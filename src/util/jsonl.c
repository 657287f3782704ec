/*
 * jsonl.c - JSON Lines reader over zlib's gzFile (see jsonl.h).
 *
 * Invariant: buf holds the current line without its newline; lineno counts
 * every physical line read so error messages point at the right one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "util/buf.h"
#include "util/jsonl.h"
#include "util/banned.h"

struct pg_jsonl {
	gzFile gz;
	char *path;
	pg_buf buf;
	size_t lineno;
	int eof;
};

int pg_jsonl_open(pg_jsonl **out, const char *path, size_t max_line)
{
	pg_jsonl *r;
	int error = 0;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r || !(r->path = strdup(path))) {
		error = pg_error_setc(PG_ENOMEM, "out of memory opening '%s'", path);
		goto out;
	}
	pg_buf_init(&r->buf, max_line ? max_line : (size_t)256 << 20);
	r->gz = gzopen(path, "rb");
	if (!r->gz) {
		error = pg_error_setc(errno == ENOENT || errno == ENOTDIR ? PG_ENOTFOUND : PG_EIO, "cannot open '%s': %s", path,
				      errno ? strerror(errno) : "out of memory");
		goto out;
	}
	gzbuffer(r->gz, 256 * 1024);
	*out = r;
	r = NULL;
out:
	pg_jsonl_free(r);
	return error;
}

/* Read one physical line into r->buf: 1, 0 at EOF, < 0. */
static int read_line(pg_jsonl *r)
{
	char chunk[65536];
	int error;

	pg_buf_reset(&r->buf);
	if (r->eof)
		return 0;
	for (;;) {
		size_t n;
		if (!gzgets(r->gz, chunk, sizeof(chunk))) {
			int zerr;
			const char *msg = gzerror(r->gz, &zerr);
			if (zerr != Z_OK && zerr != Z_BUF_ERROR)
				return pg_error_setc(PG_EIO, "%s:%zu: read error: %s", r->path,
						     r->lineno + 1, msg);
			r->eof = 1;
			if (r->buf.len == 0)
				return 0;
			break;
		}
		n = strlen(chunk);
		if ((error = pg_buf_put(&r->buf, chunk, n)) < 0) {
			pg_error_prefix("%s:%zu", r->path, r->lineno + 1);
			return error;
		}
		if (n && chunk[n - 1] == '\n')
			break;
		if (n + 1 < sizeof(chunk)) {
			/* a NUL inside the line: gzgets stops there; JSON text has none */
			if (!gzeof(r->gz))
				return pg_error_setc(PG_EINVALID, "%s:%zu: NUL byte in line",
						     r->path, r->lineno + 1);
		}
	}
	r->lineno++;
	while (r->buf.len && (r->buf.ptr[r->buf.len - 1] == '\n' || r->buf.ptr[r->buf.len - 1] == '\r'))
		r->buf.ptr[--r->buf.len] = '\0';
	return 1;
}

int pg_jsonl_next_line(pg_jsonl *r, const char **line, size_t *len)
{
	int rc;

	for (;;) {
		if ((rc = read_line(r)) <= 0)
			return rc;
		if (r->buf.len == 0 || strspn(r->buf.ptr, " \t") == r->buf.len)
			continue;
		*line = r->buf.ptr;
		if (len)
			*len = r->buf.len;
		return 1;
	}
}

int pg_jsonl_next(pg_jsonl *r, json_t **out)
{
	const char *line;
	size_t len;
	json_error_t jerr;
	json_t *j;
	int rc;

	*out = NULL;
	if ((rc = pg_jsonl_next_line(r, &line, &len)) <= 0)
		return rc;
	j = json_loadb(line, len, 0, &jerr);
	if (!j)
		return pg_error_setc(PG_EINVALID, "%s:%zu: invalid JSON: %s", r->path, r->lineno,
				     jerr.text);
	if (!json_is_object(j)) {
		json_decref(j);
		return pg_error_setc(PG_EINVALID, "%s:%zu: record is not a JSON object", r->path,
				     r->lineno);
	}
	*out = j;
	return 1;
}

size_t pg_jsonl_lineno(const pg_jsonl *r)
{
	return r->lineno;
}

void pg_jsonl_free(pg_jsonl *r)
{
	if (!r)
		return;
	if (r->gz)
		gzclose(r->gz);
	pg_buf_release(&r->buf);
	free(r->path);
	free(r);
}
