/*
 * json.c - jansson helpers (see json.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/json.h"
#include "util/banned.h"

/* Length of a valid UTF-8 sequence at p (n bytes available), or 0. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (p[0] < 0x80)
		return p[0] ? 1 : 0;
	if ((p[0] & 0xe0) == 0xc0)
		len = 2, cp = p[0] & 0x1f;
	else if ((p[0] & 0xf0) == 0xe0)
		len = 3, cp = p[0] & 0x0f;
	else if ((p[0] & 0xf8) == 0xf0)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

json_t *pg_json_stringn(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	pg_buf b = PG_BUF_INIT;
	json_t *v;
	size_t i = 0;

	if (!s)
		return json_null();
	if ((v = json_stringn_nocheck(s, len)) && json_string_length(v) == len) {
		/* fast path: valid already? */
		size_t k = 0;
		while (k < len) {
			size_t l = utf8_seq(p + k, len - k);
			if (!l)
				break;
			k += l;
		}
		if (k == len)
			return v;
	}
	json_decref(v);
	while (i < len) {
		size_t l = utf8_seq(p + i, len - i);
		if (l) {
			pg_buf_put(&b, s + i, l);
			i += l;
		} else {
			pg_buf_puts(&b, "\xef\xbf\xbd");
			i++;
		}
	}
	v = json_stringn(pg_buf_cstr(&b), b.len);
	pg_buf_release(&b);
	return v;
}

json_t *pg_json_string(const char *s)
{
	return s ? pg_json_stringn(s, strlen(s)) : json_null();
}

int pg_json_set(json_t *obj, const char *key, json_t *value)
{
	if (!value || json_object_set_new(obj, key, value) < 0)
		return pg_error_setc(PG_ENOMEM, "cannot build JSON object key '%s'", key);
	return 0;
}

static size_t dump_flags(int indent)
{
	return JSON_SORT_KEYS | (indent ? JSON_INDENT(indent) : JSON_COMPACT) | JSON_REAL_PRECISION(6);
}

int pg_json_dump(pg_buf *b, const json_t *v, int indent)
{
	char *s = json_dumps(v, dump_flags(indent) | JSON_ENCODE_ANY);
	int error;
	if (!s)
		return pg_error_setc(PG_ENOMEM, "cannot serialise JSON");
	error = pg_buf_puts(b, s);
	free(s);
	return error;
}

int pg_json_print(void *file, const json_t *v, int indent)
{
	FILE *f = file;
	if (json_dumpf(v, f, dump_flags(indent) | JSON_ENCODE_ANY) < 0)
		return pg_error_setc(PG_EIO, "cannot write JSON");
	fputc('\n', f);
	return 0;
}

int pg_json_parse(json_t **out, const char *text, size_t len, const char *what)
{
	json_error_t err;
	*out = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
	if (!*out)
		return pg_error_setc(PG_EINVALID, "%s: invalid JSON at line %d column %d: %s", what, err.line,
				     err.column, err.text);
	return 0;
}
