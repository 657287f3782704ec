/*
 * mail.c - one raw mail of a public-inbox archive into decoded fields.
 *
 * Mails on kernel lists are written by every mail client there is: folded
 * headers, RFC 2047 encoded words in any charset, multipart bodies with the
 * patch inline or attached, quoted-printable and base64, CRLF line ends,
 * bytes that are not valid in the charset they claim.  This parser decodes
 * all of it as far as it goes and never fails on content.
 *
 * Invariants:
 *  - Linear in the input: every pass moves forward over the bytes once;
 *    the only re-scans are bounded by constants (an encoded word is looked
 *    for in at most ENCWORD_MAX bytes, MIME nesting stops at
 *    PG_MAIL_MAX_DEPTH levels, each of which reads its part once).
 *  - Output strings are valid UTF-8; header fields hold no control
 *    characters (a decoded CR/LF in a header is a header-injection attempt:
 *    it becomes a space and sets PG_MAIL_HEADER_INJECTION).
 *  - The first occurrence of a header wins, as in public-inbox.
 */
#include <stdlib.h>
#include <string.h>
#include "patchgap/lists.h"
#include "util/buf.h"
#include "util/map.h"
#include "util/str.h"
#include "util/vec.h"
#include "util/banned.h"

#define ENCWORD_MAX 256          /* longest encoded word looked for (RFC 2047: 75) */
#define MAX_REFERENCES 256       /* ids kept from References: */
#define MAX_ID 998               /* longest message id kept (a header line's limit) */
#define TRAILER_WINDOW ((size_t)256 << 10) /* tail of the message searched for trailers */

enum charset { CS_UTF8, CS_LATIN1, CS_UNKNOWN };

typedef struct span {
	const char *p;
	size_t n;
} span;

/* The headers this parser reads, first occurrence of each. */
typedef struct headers {
	span message_id, in_reply_to, references, from, date, subject;
	span content_type, cte, disposition;
	int any;
} headers;

/* ---- small helpers ---- */

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int span_ieq(span s, const char *lit)
{
	size_t n = strlen(lit);
	if (s.n != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (lower((unsigned char)s.p[i]) != lit[i])
			return 0;
	return 1;
}

static int mem_istarts(const char *p, size_t n, const char *lit)
{
	size_t k = strlen(lit);
	if (n < k)
		return 0;
	for (size_t i = 0; i < k; i++)
		if (lower((unsigned char)p[i]) != lower((unsigned char)lit[i]))
			return 0;
	return 1;
}

/* NUL-terminated p starts with lit, ignoring case (stops at the NUL: no strlen). */
static int cstr_istarts(const char *p, const char *lit)
{
	for (; *lit; p++, lit++)
		if (lower((unsigned char)*p) != lower((unsigned char)*lit))
			return 0;
	return 1;
}

static int is_ws(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static span trim(span s)
{
	while (s.n && is_ws((unsigned char)s.p[0]))
		s.p++, s.n--;
	while (s.n && is_ws((unsigned char)s.p[s.n - 1]))
		s.n--;
	return s;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Append, cutting at the buffer's limit (flagged) instead of failing. */
static int put(pg_buf *b, const char *p, size_t n, unsigned *flags)
{
	size_t limit = b->limit ? b->limit : PG_BUF_DEFAULT_LIMIT;
	if (b->len + n > limit) {
		*flags |= PG_MAIL_TRUNCATED;
		n = limit - b->len;
	}
	if (!n)
		return 0;
	return pg_buf_put(b, p, n) < 0 ? pg_error_setc(PG_ENOMEM, "out of memory") : 0;
}

static char *dup_span(span s)
{
	return pg_strndup(s.p, s.n);
}

/* ---- charsets ---- */

static enum charset charset_of(span name)
{
	name = trim(name);
	if (!name.n || span_ieq(name, "utf-8") || span_ieq(name, "utf8") || span_ieq(name, "us-ascii") ||
	    span_ieq(name, "ascii"))
		return CS_UTF8;
	if (span_ieq(name, "iso-8859-1") || span_ieq(name, "latin1") || span_ieq(name, "iso-8859-15") ||
	    span_ieq(name, "windows-1252") || span_ieq(name, "cp1252") || span_ieq(name, "latin-1"))
		return CS_LATIN1;
	return CS_UNKNOWN;
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if invalid. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	unsigned c = p[0];
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return n >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (n < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0))
			return 0;
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (n < 4 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90))
			return 0;
		return 4;
	}
	return 0;
}

/*
 * Convert bytes in charset cs to UTF-8 into b.  In header mode controls
 * become spaces (CR/LF flag an injection).  Text of an unknown charset is
 * kept where it is valid UTF-8 (mislabelled mails usually are).
 */
static int emit_text(pg_buf *b, const char *s, size_t n, enum charset cs, int header, unsigned *flags)
{
	static const char repl[] = "\xef\xbf\xbd";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0;
	int error;

	while (i < n) {
		unsigned c = p[i];
		size_t k;
		if (c < 0x80 && (!header || (c >= 0x20 && c != 0x7f))) {
			/* plain ASCII: copy in runs */
			i++;
			run++;
			continue;
		}
		if (run && (error = put(b, s + i - run, run, flags)) < 0)
			return error;
		run = 0;
		if (c < 0x80) {
			if (c == '\r' || c == '\n')
				*flags |= PG_MAIL_HEADER_INJECTION;
			if ((error = put(b, " ", 1, flags)) < 0)
				return error;
			i++;
			continue;
		}
		if (cs == CS_LATIN1) {
			char two[2] = { (char)(0xc0 | (c >> 6)), (char)(0x80 | (c & 0x3f)) };
			if ((error = put(b, two, 2, flags)) < 0)
				return error;
			i++;
			continue;
		}
		if ((k = utf8_len(p + i, n - i)) == 0) {
			*flags |= PG_MAIL_BAD_CHARSET;
			if ((error = put(b, repl, 3, flags)) < 0)
				return error;
			i++;
			continue;
		}
		if (cs == CS_UNKNOWN)
			*flags |= PG_MAIL_BAD_CHARSET;
		if ((error = put(b, s + i, k, flags)) < 0)
			return error;
		i += k;
	}
	if (run)
		return put(b, s + n - run, run, flags);
	return 0;
}

/* ---- transfer encodings ---- */

static int b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/* Base64, skipping anything outside the alphabet (line breaks, junk). */
static int decode_base64(pg_buf *out, const char *s, size_t n, unsigned *flags)
{
	char tmp[3 * 256];
	size_t t = 0;
	unsigned acc = 0, bits = 0;
	int error;
	for (size_t i = 0; i < n; i++) {
		int v = b64val((unsigned char)s[i]);
		if (s[i] == '=')
			break;
		if (v < 0) {
			if (!is_ws((unsigned char)s[i]))
				*flags |= PG_MAIL_BAD_MIME;
			continue;
		}
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			tmp[t++] = (char)((acc >> bits) & 0xff);
			if (t == sizeof(tmp)) {
				if ((error = put(out, tmp, t, flags)) < 0)
					return error;
				t = 0;
			}
		}
	}
	return put(out, tmp, t, flags);
}

/* Quoted-printable; q_header: RFC 2047 "Q" ('_' is a space). */
static int decode_qp(pg_buf *out, const char *s, size_t n, int q_header, unsigned *flags)
{
	size_t i = 0, run = 0;
	int error;
	while (i < n) {
		char c = s[i];
		if (c != '=' && !(q_header && c == '_')) {
			i++, run++;
			continue;
		}
		if (run && (error = put(out, s + i - run, run, flags)) < 0)
			return error;
		run = 0;
		if (c == '_') {
			if ((error = put(out, " ", 1, flags)) < 0)
				return error;
			i++;
			continue;
		}
		if (i + 1 < n && s[i + 1] == '\n') {            /* soft line break */
			i += 2;
			continue;
		}
		if (i + 2 < n + 0 && hexval((unsigned char)s[i + 1]) >= 0 && hexval((unsigned char)s[i + 2]) >= 0) {
			char v = (char)(hexval((unsigned char)s[i + 1]) * 16 + hexval((unsigned char)s[i + 2]));
			if ((error = put(out, &v, 1, flags)) < 0)
				return error;
			i += 3;
			continue;
		}
		/* "=" with trailing blanks before the line end is a soft break too */
		{
			size_t j = i + 1;
			while (j < n && (s[j] == ' ' || s[j] == '\t'))
				j++;
			if (j < n && s[j] == '\n') {
				i = j + 1;
				continue;
			}
		}
		*flags |= PG_MAIL_BAD_MIME;   /* a lone '=': keep it */
		i++, run++;
	}
	return run ? put(out, s + n - run, run, flags) : 0;
}

/* ---- RFC 2047 ---- */

/*
 * At p (which starts "=?"), an encoded word "=?cs?E?text?=" within
 * ENCWORD_MAX bytes and without blanks: its parts and total length.
 */
static size_t encoded_word(const char *p, size_t n, span *cs, char *enc, span *text)
{
	size_t lim = n < ENCWORD_MAX ? n : ENCWORD_MAX, i = 2, q1, q2;
	while (i < lim && p[i] != '?' && !is_ws((unsigned char)p[i]))
		i++;
	if (i + 3 >= lim || p[i] != '?')
		return 0;
	q1 = i;
	if (p[q1 + 2] != '?')
		return 0;
	*enc = (char)lower((unsigned char)p[q1 + 1]);
	if (*enc != 'b' && *enc != 'q')
		return 0;
	q2 = q1 + 3;
	for (i = q2; i + 1 < lim; i++) {
		if (is_ws((unsigned char)p[i]) && *enc == 'b')
			return 0;
		if (p[i] == '\n')
			return 0;
		if (p[i] == '?' && p[i + 1] == '=') {
			cs->p = p + 2;
			cs->n = q1 - 2;
			/* RFC 2231 language suffix: utf-8*en */
			for (size_t k = 0; k < cs->n; k++)
				if (cs->p[k] == '*')
					cs->n = k;
			text->p = p + q2;
			text->n = i - q2;
			return i + 2;
		}
	}
	return 0;
}

int pg_mail_decode_header(char **out, const char *value, size_t len, unsigned *flags)
{
	pg_buf b = PG_BUF_INIT, tmp = PG_BUF_INIT;
	size_t i = 0, plain = 0, ws_start = 0;
	int error = 0, after_word = 0;

	*out = NULL;
	pg_buf_init(&b, PG_MAIL_MAX_BYTES);
	pg_buf_init(&tmp, PG_MAIL_MAX_BYTES);
	while (i < len) {
		span cs, text;
		char enc;
		size_t wl;
		if (value[i] == '\n') {       /* unfolding: drop the line break */
			if (i > plain && (error = emit_text(&b, value + plain, i - plain, CS_UTF8, 1, flags)) < 0)
				goto out;
			plain = ++i;
			continue;
		}
		if (value[i] != '=' || i + 1 >= len || value[i + 1] != '?' ||
		    !(wl = encoded_word(value + i, len - i, &cs, &enc, &text))) {
			if (!is_ws((unsigned char)value[i]))
				after_word = 0;
			else if (after_word && ws_start < plain)
				ws_start = i;
			i++;
			continue;
		}
		/* blanks between two encoded words are dropped */
		if (after_word) {
			int only_ws = 1;
			for (size_t k = plain; k < i; k++)
				if (!is_ws((unsigned char)value[k]) && value[k] != '\n')
					only_ws = 0;
			if (only_ws)
				plain = i;
		}
		if (i > plain && (error = emit_text(&b, value + plain, i - plain, CS_UTF8, 1, flags)) < 0)
			goto out;
		pg_buf_reset(&tmp);
		if ((error = enc == 'b' ? decode_base64(&tmp, text.p, text.n, flags)
					: decode_qp(&tmp, text.p, text.n, 1, flags)) < 0)
			goto out;
		if (tmp.len && (error = emit_text(&b, tmp.ptr, tmp.len, charset_of(cs), 1, flags)) < 0)
			goto out;
		if (charset_of(cs) == CS_UNKNOWN)
			*flags |= PG_MAIL_BAD_CHARSET;
		i += wl;
		plain = i;
		after_word = 1;
	}
	if (len > plain && (error = emit_text(&b, value + plain, len - plain, CS_UTF8, 1, flags)) < 0)
		goto out;
	{
		span t = { b.ptr ? b.ptr : "", b.len };
		t = trim(t);
		if (!(*out = dup_span(t)))
			error = pg_error_setc(PG_ENOMEM, "out of memory");
	}
out:
	pg_buf_release(&b);
	pg_buf_release(&tmp);
	return error;
}

/* ---- headers ---- */

static int is_name_char(int c)
{
	return c > 32 && c < 127 && c != ':';
}

/*
 * Parse the header block at [s, s+n): fills h with the first occurrence
 * of each wanted header; returns the offset of the body (after the blank
 * line), or 0 when the text does not start with a header.
 */
static size_t parse_headers(const char *s, size_t n, headers *h)
{
	size_t i = 0;
	memset(h, 0, sizeof(*h));
	/* an mbox "From " separator line */
	if (n >= 5 && !memcmp(s, "From ", 5)) {
		const char *nl = memchr(s, '\n', n);
		i = nl ? (size_t)(nl - s) + 1 : n;
	}
	while (i < n) {
		size_t name_start = i, name_end, val_start, end;
		span *dst = NULL;
		span name;
		if (s[i] == '\n')
			return i + 1;
		while (i < n && is_name_char((unsigned char)s[i]))
			i++;
		name_end = i;
		while (i < n && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i >= n || s[i] != ':' || name_end == name_start) {
			/* not a header line: a header block without a blank line */
			return h->any ? name_start : 0;
		}
		val_start = ++i;
		/* the value runs over continuation lines */
		for (;;) {
			const char *nl = memchr(s + i, '\n', n - i);
			if (!nl) {
				i = n;
				break;
			}
			i = (size_t)(nl - s) + 1;
			if (i < n && (s[i] == ' ' || s[i] == '\t'))
				continue;
			break;
		}
		end = i;
		h->any = 1;
		name.p = s + name_start;
		name.n = name_end - name_start;
		switch (lower((unsigned char)name.p[0])) {
		case 'm': if (span_ieq(name, "message-id")) dst = &h->message_id; break;
		case 'i': if (span_ieq(name, "in-reply-to")) dst = &h->in_reply_to; break;
		case 'r': if (span_ieq(name, "references")) dst = &h->references; break;
		case 'f': if (span_ieq(name, "from")) dst = &h->from; break;
		case 'd': if (span_ieq(name, "date")) dst = &h->date; break;
		case 's': if (span_ieq(name, "subject")) dst = &h->subject; break;
		case 'c':
			if (span_ieq(name, "content-type"))
				dst = &h->content_type;
			else if (span_ieq(name, "content-transfer-encoding"))
				dst = &h->cte;
			else if (span_ieq(name, "content-disposition"))
				dst = &h->disposition;
			break;
		}
		if (dst && !dst->p) {
			dst->p = s + val_start;
			dst->n = end - val_start;
			if (!dst->n)
				dst->p = s + val_start;
		}
	}
	return h->any ? n : 0;
}

/* The value of parameter `name` of a structured header (Content-Type), or an empty span. */
static span header_param(span v, const char *name)
{
	size_t i = 0, k = strlen(name);
	span r = { NULL, 0 };
	while (i < v.n) {
		int in_quote = 0;
		/* to the next ';' outside quotes */
		while (i < v.n && (in_quote || v.p[i] != ';')) {
			if (v.p[i] == '"')
				in_quote = !in_quote;
			i++;
		}
		if (i >= v.n)
			break;
		i++;
		while (i < v.n && is_ws((unsigned char)v.p[i]))
			i++;
		if (v.n - i > k && mem_istarts(v.p + i, v.n - i, name)) {
			size_t j = i + k;
			while (j < v.n && (v.p[j] == ' ' || v.p[j] == '\t'))
				j++;
			if (j < v.n && v.p[j] == '=') {
				j++;
				while (j < v.n && is_ws((unsigned char)v.p[j]))
					j++;
				if (j < v.n && v.p[j] == '"') {
					size_t e = ++j;
					while (e < v.n && v.p[e] != '"')
						e++;
					r.p = v.p + j;
					r.n = e - j;
				} else {
					size_t e = j;
					while (e < v.n && v.p[e] != ';' && !is_ws((unsigned char)v.p[e]))
						e++;
					r.p = v.p + j;
					r.n = e - j;
				}
				return r;
			}
		}
	}
	return r;
}

/* "type/subtype" of a Content-Type value, lowercase comparison helpers take it. */
static span mime_type(span v)
{
	size_t i = 0;
	v = trim(v);
	while (i < v.n && v.p[i] != ';' && !is_ws((unsigned char)v.p[i]))
		i++;
	v.n = i;
	return v;
}

/* ---- the parse context ---- */

typedef struct ctx {
	pg_mail *m;
	pg_buf body;        /* decoded text parts */
	pg_buf tmp;         /* transfer-decoded part */
	const char *text;   /* normalised input */
	size_t text_len;
} ctx;

static int ends_with_ci(span s, const char *suffix)
{
	size_t k = strlen(suffix);
	return s.n >= k && mem_istarts(s.p + s.n - k, k, suffix);
}

/* One body part with its headers; appended to c->body when it is text or a patch. */
static int entity(ctx *c, const headers *h, const char *s, size_t n, int depth)
{
	span ct = mime_type(h->content_type), cte = trim(h->cte), fname;
	enum charset cs;
	int error = 0;

	if (ct.n >= 10 && mem_istarts(ct.p, ct.n, "multipart/")) {
		span boundary = header_param(h->content_type, "boundary");
		size_t i = 0, part_start = 0;
		int in_part = 0, closed = 0;
		if (!boundary.n || boundary.n > 200 || depth >= PG_MAIL_MAX_DEPTH) {
			c->m->flags |= PG_MAIL_BAD_MIME;
			goto as_text;
		}
		while (i < n && !closed) {
			const char *nl = memchr(s + i, '\n', n - i);
			size_t line_end = nl ? (size_t)(nl - s) : n;
			size_t next = nl ? line_end + 1 : n;
			if (line_end - i >= 2 + boundary.n && s[i] == '-' && s[i + 1] == '-' &&
			    !memcmp(s + i + 2, boundary.p, boundary.n)) {
				size_t after = i + 2 + boundary.n;
				int close = line_end - after >= 2 && s[after] == '-' && s[after + 1] == '-';
				if (in_part) {
					headers ph;
					size_t pend = i > part_start ? i - 1 : part_start; /* drop the CRLF before the delimiter */
					size_t off = parse_headers(s + part_start, pend - part_start, &ph);
					if ((error = entity(c, &ph, s + part_start + off, pend - part_start - off,
							    depth + 1)) < 0)
						return error;
				}
				in_part = 1;
				part_start = next;
				closed = close;
			}
			i = next;
		}
		if (!closed) {
			c->m->flags |= PG_MAIL_BAD_MIME;
			if (in_part && part_start < n) {
				headers ph;
				size_t off = parse_headers(s + part_start, n - part_start, &ph);
				return entity(c, &ph, s + part_start + off, n - part_start - off, depth + 1);
			}
		}
		return 0;
	}
	if (ct.n && !(mem_istarts(ct.p, ct.n, "text/") || span_ieq(ct, "application/octet-stream") ||
		      span_ieq(ct, "application/x-patch") || span_ieq(ct, "application/mbox")))
		return 0;   /* images, signatures, message/rfc822 ... */
	if (ct.n && mem_istarts(ct.p, ct.n, "text/html"))
		return 0;
	fname = header_param(h->disposition, "filename");
	if (!fname.n)
		fname = header_param(h->content_type, "name");
	if (ct.n && !mem_istarts(ct.p, ct.n, "text/") &&
	    !(ends_with_ci(fname, ".patch") || ends_with_ci(fname, ".diff") || span_ieq(ct, "application/x-patch")))
		return 0;
as_text:
	cs = charset_of(header_param(h->content_type, "charset"));
	if (header_param(h->content_type, "charset").n && cs == CS_UNKNOWN)
		c->m->flags |= PG_MAIL_BAD_CHARSET;
	if (c->body.len && (error = put(&c->body, "\n", 1, &c->m->flags)) < 0)
		return error;
	if (span_ieq(cte, "base64") || span_ieq(cte, "quoted-printable")) {
		pg_buf_reset(&c->tmp);
		if ((error = span_ieq(cte, "base64") ? decode_base64(&c->tmp, s, n, &c->m->flags)
						     : decode_qp(&c->tmp, s, n, 0, &c->m->flags)) < 0)
			return error;
		/* decoded text may carry CRLF again */
		{
			size_t w = 0;
			for (size_t r = 0; r < c->tmp.len; r++)
				if (!(c->tmp.ptr[r] == '\r' && r + 1 < c->tmp.len && c->tmp.ptr[r + 1] == '\n'))
					c->tmp.ptr[w++] = c->tmp.ptr[r];
			c->tmp.len = w;
		}
		return c->tmp.len ? emit_text(&c->body, c->tmp.ptr, c->tmp.len, cs, 0, &c->m->flags) : 0;
	}
	return emit_text(&c->body, s, n, cs, 0, &c->m->flags);
}

/* ---- header fields ---- */

/* Every <id> of a header value, or the bare token when there are no brackets. */
static int ids_of(char **out, span v, size_t max, int first_only)
{
	pg_buf b = PG_BUF_INIT;
	size_t i = 0, count = 0;
	*out = NULL;
	while (i < v.n && count < max) {
		const char *lt = memchr(v.p + i, '<', v.n - i), *gt;
		size_t s0, e;
		if (!lt)
			break;
		s0 = (size_t)(lt - v.p) + 1;
		gt = memchr(v.p + s0, '>', v.n - s0);
		if (!gt)
			break;
		e = (size_t)(gt - v.p);
		i = e + 1;
		if (e == s0 || e - s0 > MAX_ID)
			continue;
		if (b.len && pg_buf_putc(&b, ' ') < 0)
			goto oom;
		for (size_t k = s0; k < e; k++) {
			unsigned char ch = (unsigned char)v.p[k];
			if (ch > 32 && ch != 127 && pg_buf_putc(&b, (char)ch) < 0)
				goto oom;
		}
		count++;
		if (first_only)
			break;
	}
	if (!count) {
		span t = trim(v);
		for (size_t k = 0; k < t.n && k < MAX_ID; k++) {
			unsigned char ch = (unsigned char)t.p[k];
			if (ch <= 32 || ch == 127)
				break;
			if (pg_buf_putc(&b, (char)ch) < 0)
				goto oom;
		}
	}
	if (!b.len) {
		pg_buf_release(&b);
		return 0;
	}
	*out = pg_buf_detach(&b);
	return *out ? 0 : pg_error_setc(PG_ENOMEM, "out of memory");
oom:
	pg_buf_release(&b);
	return pg_error_setc(PG_ENOMEM, "out of memory");
}

static int parse_from(pg_mail *m)
{
	const char *f = m->from, *lt = strrchr(f, '<'), *gt = lt ? strchr(lt, '>') : NULL;
	span name = { f, 0 }, addr = { f, 0 };
	if (lt && gt) {
		addr.p = lt + 1;
		addr.n = (size_t)(gt - lt - 1);
		name.n = (size_t)(lt - f);
	} else {
		const char *paren = strchr(f, '(');
		addr.n = paren ? (size_t)(paren - f) : strlen(f);
		if (paren) {
			const char *close = strchr(paren, ')');
			name.p = paren + 1;
			name.n = close ? (size_t)(close - paren - 1) : strlen(paren + 1);
		}
	}
	name = trim(name);
	if (name.n >= 2 && name.p[0] == '"' && name.p[name.n - 1] == '"')
		name.p++, name.n -= 2;
	addr = trim(addr);
	if (!(m->from_name = dup_span(name)) || !(m->from_email = dup_span(addr)))
		return pg_error_setc(PG_ENOMEM, "out of memory");
	pg_str_lower(m->from_email);
	return 0;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, unsigned mo, unsigned d)
{
	y -= mo <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* RFC 5322 date ("Tue, 30 Apr 2019 01:55:29 +0900"), tolerant; 0 when unparsable. */
static int64_t parse_date(const char *s)
{
	static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
	long day = -1, year = -1, hh = 0, mm = 0, ss = 0, zone = 0;
	int mon = -1;
	const char *p = s;
	while (*p) {
		while (*p && (is_ws((unsigned char)*p) || *p == ','))
			p++;
		if (!*p)
			break;
		if (*p >= '0' && *p <= '9') {
			char *end;
			long v = strtol(p, &end, 10);
			if (*end == ':') {
				hh = v;
				mm = strtol(end + 1, &end, 10);
				if (*end == ':')
					ss = strtol(end + 1, &end, 10);
			} else if (day < 0 && v >= 1 && v <= 31 && mon < 0) {
				day = v;
			} else if (year < 0) {
				year = v < 50 ? 2000 + v : v < 1000 ? 1900 + v : v;
			} else if (day < 0) {
				day = v;
			}
			p = end;
			continue;
		}
		if ((*p == '+' || *p == '-') && p[1] >= '0' && p[1] <= '9') {
			char *end;
			long v = strtol(p + 1, &end, 10);
			zone = (v / 100) * 3600 + (v % 100) * 60;
			if (*p == '-')
				zone = -zone;
			p = end;
			continue;
		}
		if (mon < 0 && p[1] && p[2]) {
			char m3[4] = { (char)lower((unsigned char)p[0]), (char)lower((unsigned char)p[1]),
				       (char)lower((unsigned char)p[2]), 0 };
			const char *hit = strstr(months, m3);
			if (hit && (hit - months) % 3 == 0)
				mon = (int)((hit - months) / 3) + 1;
		}
		while (*p && !is_ws((unsigned char)*p) && *p != ',')
			p++;
	}
	if (day < 1 || mon < 1 || year < 1970 || year > 9999 || hh > 23 || mm > 59 || ss > 60)
		return 0;
	return days_from_civil(year, (unsigned)mon, (unsigned)day) * 86400 + hh * 3600 + mm * 60 + ss - zone;
}

/* ---- subject tags (b4's rules) ---- */

static int all_digits(const char *p, size_t n)
{
	if (!n || n > 6)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return 0;
	return 1;
}

static void tag_word(pg_mail *m, const char *w, size_t n, span *tree)
{
	const char *slash = memchr(w, '/', n);
	if (mem_istarts(w, n, "patch") && (n == 5 || ((w[5] == 'v' || w[5] == 'V') && all_digits(w + 6, n - 6)))) {
		m->is_patch = 1;
		if (n > 5)
			m->version = atoi(w + 6);
		return;
	}
	if (n == 3 && mem_istarts(w, n, "rfc")) {
		m->rfc = 1;
		return;
	}
	if (n == 6 && mem_istarts(w, n, "resend")) {
		m->resend = 1;
		return;
	}
	if (n >= 2 && (w[0] == 'v' || w[0] == 'V') && all_digits(w + 1, n - 1)) {
		m->version = atoi(w + 1);
		return;
	}
	if (slash && all_digits(w, (size_t)(slash - w)) && all_digits(slash + 1, n - (size_t)(slash - w) - 1)) {
		m->index = atoi(w);
		m->total = atoi(slash + 1);
		return;
	}
	if (!tree->p && n)
		tree->p = w, tree->n = n;
}

int pg_mail__subject_tags(pg_mail *m, const char *subject, int *is_reply)
{
	const char *p = subject;
	span tree = { NULL, 0 };
	pg_buf prefix = PG_BUF_INIT;
	int error = 0;

	*is_reply = 0;
	m->version = 1;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (cstr_istarts(p, "re:") || cstr_istarts(p, "aw:") ||
		    cstr_istarts(p, "fw:")) {
			*is_reply = 1;
			p += 3;
			continue;
		}
		if (cstr_istarts(p, "fwd:")) {
			*is_reply = 1;
			p += 4;
			continue;
		}
		if (*p == '[') {
			const char *close = strchr(p, ']');
			const char *w;
			if (!close)
				break;
			if (prefix.len && pg_buf_putc(&prefix, ' ') < 0)
				goto oom;
			if (pg_buf_put(&prefix, p + 1, (size_t)(close - p - 1)) < 0)
				goto oom;
			for (w = p + 1; w < close;) {
				const char *e = w;
				while (e < close && *e != ' ' && *e != ',' && *e != '\t')
					e++;
				if (e > w)
					tag_word(m, w, (size_t)(e - w), &tree);
				w = e + 1;
			}
			p = close + 1;
			continue;
		}
		break;
	}
	if (!(m->clean_subject = pg_strdup(p)))
		goto oom;
	pg_str_trim(m->clean_subject);
	if (prefix.len && !(m->prefix = pg_buf_detach(&prefix)))
		goto oom;
	if (tree.p && m->is_patch && !(m->tree = pg_strndup(tree.p, tree.n)))
		goto oom;
	if (m->version < 1)
		m->version = 1;
	goto out;
oom:
	error = pg_error_setc(PG_ENOMEM, "out of memory");
out:
	pg_buf_release(&prefix);
	return error;
}

/* ---- body: in-body headers, message, diff, files ---- */

/* Next line of [s, s+n) at *pos: returns its start, sets *len (without '\n'). */
static const char *next_line(const char *s, size_t n, size_t *pos, size_t *len)
{
	const char *start = s + *pos, *nl;
	if (*pos >= n)
		return NULL;
	nl = memchr(start, '\n', n - *pos);
	*len = nl ? (size_t)(nl - start) : n - *pos;
	*pos += *len + (nl ? 1 : 0);
	return start;
}

/* The path of a "diff --git a/X b/Y" line (b side), or of "+++ b/Y". */
static span diff_git_path(const char *l, size_t n)
{
	span r = { NULL, 0 };
	const char *p = l + 11;   /* after "diff --git " */
	size_t k = n - 11;
	if (k >= 1 && p[0] == '"') {  /* quoted names: take them as written */
		r.p = p;
		r.n = k;
		return r;
	}
	/* symmetric "a/X b/X": the common case, also with blanks in X */
	if (k >= 7 && (k - 1) % 2 == 0 && p[0] == 'a' && p[1] == '/') {
		size_t half = (k - 1) / 2;
		if (p[half] == ' ' && p[half + 1] == 'b' && p[half + 2] == '/' &&
		    !memcmp(p + 2, p + half + 3, half - 2)) {
			r.p = p + half + 3;
			r.n = half - 2;
			return r;
		}
	}
	/* renames: the last " b/" */
	for (size_t i = k; i >= 3 && i-- > 3;) {
		if (p[i - 3] == ' ' && p[i - 2] == 'b' && p[i - 1] == '/') {
			r.p = p + i;
			r.n = k - i;
			return r;
		}
	}
	return r;
}

static int add_file(pg_mail *m, pg_strmap *seen, span path, size_t *alloc)
{
	char *s;
	int found = 0;
	while (path.n && (path.p[path.n - 1] == '\t' || path.p[path.n - 1] == ' '))
		path.n--;
	if (!path.n)
		return 0;
	if (!(s = pg_strndup(path.p, path.n)))
		return pg_error_setc(PG_ENOMEM, "out of memory");
	for (char *q = s; *q; q++)
		if ((unsigned char)*q < 32)
			*q = ' ';
	pg_strmap_get(seen, s, &found);
	if (found) {
		free(s);
		return 0;
	}
	m->nfiles_total++;
	if (m->nfiles >= PG_MAIL_MAX_FILES) {
		m->flags |= PG_MAIL_TRUNCATED;
		free(s);
		return 0;
	}
	if (pg_strmap_set(seen, s, NULL) < 0 ||
	    (m->nfiles == *alloc && pg_vec__grow((void **)&m->files, alloc, sizeof(char *), m->nfiles + 1) < 0)) {
		free(s);
		return pg_error_setc(PG_ENOMEM, "out of memory");
	}
	m->files[m->nfiles++] = s;
	return 0;
}

/*
 * Split the decoded body: leading in-body "From:"/"Subject:"/"Date:" lines
 * (git am's rules: they replace the mail's), the commit message up to the
 * "---" line or the diff, the diff up to the signature.
 */
static int split_body(pg_mail *m)
{
	const char *b = m->body, *l;
	size_t n = strlen(m->body), pos = 0, len, msg_start = 0, msg_end = n, diff_start = n, diff_end = n;
	size_t falloc = 0;
	int seen_sep = 0, error = 0;
	pg_strmap seen = PG_STRMAP_INIT;

	/* in-body headers (the subject of the mail is kept: it carries the tags) */
	{
		size_t p2 = 0, ll;
		const char *line;
		int any = 0;
		while (p2 < n && (b[p2] == '\n'))
			p2++;
		while ((line = next_line(b, n, &p2, &ll))) {
			span v;
			char **dst = NULL, *dec = NULL;
			if (!ll) {
				if (any)
					msg_start = p2;
				break;
			}
			if (mem_istarts(line, ll, "from:"))
				dst = &m->from, v.p = line + 5, v.n = ll - 5;
			else if (mem_istarts(line, ll, "subject:") || mem_istarts(line, ll, "date:"))
				v.p = line, v.n = 0;
			else
				break;
			any = 1;
			if (dst) {
				if ((error = pg_mail_decode_header(&dec, v.p, v.n, &m->flags)) < 0)
					goto out;
				free(*dst);
				*dst = dec;
				if (dst == &m->from) {
					free(m->from_name);
					free(m->from_email);
					m->from_name = m->from_email = NULL;
					if ((error = parse_from(m)) < 0)
						goto out;
				}
			}
		}
	}
	pos = msg_start;
	while ((l = next_line(b, n, &pos, &len))) {
		size_t at = (size_t)(l - b);
		if (len >= 11 && !memcmp(l, "diff --git ", 11)) {
			diff_start = at;
			break;
		}
		if (len >= 4 && !memcmp(l, "--- ", 4) && pos + 4 <= n && !memcmp(b + pos, "+++ ", 4) &&
		    !(len == 3)) {
			diff_start = at;
			break;
		}
		if (len >= 6 && !memcmp(l, "Index:", 6) && pos < n && b[pos] == '=') {
			diff_start = at;
			break;
		}
		if (!seen_sep && len == 3 && !memcmp(l, "---", 3)) {
			msg_end = at;
			seen_sep = 1;
		}
		if (!seen_sep && len == 3 && !memcmp(l, "-- ", 3)) {   /* signature, no patch */
			msg_end = at;
			seen_sep = 1;
		}
	}
	if (!seen_sep && diff_start < msg_end)
		msg_end = diff_start;
	if (diff_start < n) {
		pos = diff_start;
		while ((l = next_line(b, n, &pos, &len))) {
			if (len == 3 && !memcmp(l, "-- ", 3)) {
				diff_end = (size_t)(l - b);
				break;
			}
			if ((len > 12 && !memcmp(l, "rename from ", 12)) || (len > 10 && !memcmp(l, "copy from ", 10))) {
				/* the old path of a rename or copy is touched too (git's --name-only lists both) */
				span p = { l + (l[0] == 'r' ? 12 : 10), len - (l[0] == 'r' ? 12 : 10) };
				if ((error = add_file(m, &seen, p, &falloc)) < 0)
					goto out;
			}
			if (len > 11 && !memcmp(l, "diff --git ", 11)) {
				if ((error = add_file(m, &seen, diff_git_path(l, len), &falloc)) < 0)
					goto out;
			}
		}
		if (!m->nfiles_total) {   /* plain diffs: "+++ b/path" */
			pos = diff_start;
			while ((l = next_line(b, n, &pos, &len)) && (size_t)(l - b) < diff_end) {
				if (len > 4 && !memcmp(l, "+++ ", 4)) {
					span p = { l + 4, len - 4 };
					const char *tab = memchr(p.p, '\t', p.n);
					if (tab)
						p.n = (size_t)(tab - p.p);
					if (p.n >= 9 && !memcmp(p.p, "/dev/null", 9))
						continue;
					if (p.n > 2 && p.p[1] == '/')
						p.p += 2, p.n -= 2;
					if ((error = add_file(m, &seen, p, &falloc)) < 0)
						goto out;
				}
			}
		}
		if (!(m->diff = pg_strndup(b + diff_start, diff_end - diff_start)))
			goto oom;
	}
	/* the message without blank lines around it */
	while (msg_start < msg_end && (b[msg_start] == '\n' || b[msg_start] == ' ' || b[msg_start] == '\t')) {
		const char *nl = memchr(b + msg_start, '\n', msg_end - msg_start);
		size_t k = msg_start;
		while (k < msg_end && (b[k] == ' ' || b[k] == '\t'))
			k++;
		if (k < msg_end && b[k] != '\n')
			break;
		msg_start = nl ? (size_t)(nl - b) + 1 : msg_end;
	}
	while (msg_end > msg_start && is_ws((unsigned char)b[msg_end - 1]))
		msg_end--;
	if (!(m->message = pg_strndup(b + msg_start, msg_end - msg_start)))
		goto oom;
	goto out;
oom:
	error = pg_error_setc(PG_ENOMEM, "out of memory");
out:
	pg_strmap_release(&seen);
	return error;
}

/* ---- entry point ---- */

const char *pg_mail_kind_name(pg_mail_kind k)
{
	switch (k) {
	case PG_MAIL_PATCH: return "patch";
	case PG_MAIL_COVER: return "cover";
	case PG_MAIL_REPLY: return "reply";
	default: return "other";
	}
}

void pg_mail_free(pg_mail *m)
{
	if (!m)
		return;
	free(m->message_id);
	free(m->in_reply_to);
	free(m->references);
	free(m->from);
	free(m->from_name);
	free(m->from_email);
	free(m->subject);
	free(m->clean_subject);
	free(m->prefix);
	free(m->tree);
	free(m->body);
	free(m->message);
	free(m->diff);
	for (size_t i = 0; i < m->nfiles; i++)
		free(m->files[i]);
	free(m->files);
	pg_trailers_release(&m->trailers);
	free(m);
}

int pg_mail_parse(pg_mail **out, const char *raw, size_t len)
{
	pg_mail *m = NULL;
	ctx c;
	headers h;
	char *norm = NULL, *date = NULL;
	size_t nlen = 0, body_off;
	int error = 0, is_reply = 0;

	*out = NULL;
	memset(&c, 0, sizeof(c));
	if (!raw && len)
		return pg_error_setc(PG_EINVALID, "mail: NULL input of %zu bytes", len);
	if (!(m = calloc(1, sizeof(*m))))
		return pg_error_setc(PG_ENOMEM, "out of memory");
	c.m = m;
	pg_buf_init(&c.body, PG_MAIL_MAX_BYTES);
	pg_buf_init(&c.tmp, PG_MAIL_MAX_BYTES);
	if (len > PG_MAIL_MAX_BYTES) {
		len = PG_MAIL_MAX_BYTES;
		m->flags |= PG_MAIL_TRUNCATED;
	}
	/* CRLF -> LF (and NUL -> space) once, so every later pass sees one line end */
	if (!(norm = malloc(len + 1)))
		goto oom;
	for (size_t i = 0; i < len; i++) {
		char ch = raw[i];
		if (ch == '\r' && i + 1 < len && raw[i + 1] == '\n')
			continue;
		norm[nlen++] = ch ? ch : ' ';
	}
	norm[nlen] = '\0';
	c.text = norm;
	c.text_len = nlen;

	body_off = parse_headers(norm, nlen, &h);
	if (!h.any) {
		m->flags |= PG_MAIL_NO_HEADERS;
		body_off = 0;
	}
	if ((error = ids_of(&m->message_id, h.message_id, 1, 1)) < 0 ||
	    (error = ids_of(&m->in_reply_to, h.in_reply_to, 1, 1)) < 0 ||
	    (error = ids_of(&m->references, h.references, MAX_REFERENCES, 0)) < 0)
		goto out;
	if (!m->message_id && !(m->message_id = pg_strdup("")))
		goto oom;
	if ((error = pg_mail_decode_header(&m->from, h.from.p ? h.from.p : "", h.from.n, &m->flags)) < 0 ||
	    (error = pg_mail_decode_header(&m->subject, h.subject.p ? h.subject.p : "", h.subject.n, &m->flags)) < 0 ||
	    (error = pg_mail_decode_header(&date, h.date.p ? h.date.p : "", h.date.n, &m->flags)) < 0 ||
	    (error = parse_from(m)) < 0)
		goto out;
	m->date = parse_date(date);

	if ((error = entity(&c, &h, norm + body_off, nlen - body_off, 0)) < 0)
		goto out;
	if (!(m->body = c.body.ptr ? pg_buf_detach(&c.body) : pg_strdup("")))
		goto oom;
	if ((error = split_body(m)) < 0)
		goto out;
	if ((error = pg_mail__subject_tags(m, m->subject, &is_reply)) < 0)
		goto out;
	{
		/*
		 * Trailers sit at the end of a message: only its last
		 * TRAILER_WINDOW bytes (from a line start) are given to the
		 * trailer parser, which keeps a hostile multi-megabyte
		 * "message" from costing more than a real one.
		 */
		size_t mlen = strlen(m->message), from = 0;
		if (mlen > TRAILER_WINDOW) {
			const char *nl = memchr(m->message + mlen - TRAILER_WINDOW, '\n', TRAILER_WINDOW);
			from = nl ? (size_t)(nl - m->message) + 1 : mlen;
		}
		if ((error = pg_trailers_parse(&m->trailers, m->message + from, mlen - from)) < 0)
			goto out;
	}
	if (is_reply)
		m->kind = PG_MAIL_REPLY;
	else if (m->is_patch && m->index == 0 && m->total > 0 && !m->diff)
		m->kind = PG_MAIL_COVER;
	else if (m->diff || m->is_patch)
		m->kind = PG_MAIL_PATCH;
	*out = m;
	m = NULL;
	goto out;
oom:
	error = pg_error_setc(PG_ENOMEM, "out of memory");
out:
	free(norm);
	free(date);
	pg_buf_release(&c.body);
	pg_buf_release(&c.tmp);
	pg_mail_free(m);
	return error;
}
