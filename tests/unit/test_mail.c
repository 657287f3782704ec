/*
 * test_mail.c - the mail parser of src/lists: hand-made mails for each
 * encoding and each hostile shape, real lore patch mails rebuilt from
 * ../shared/data (every parsed field checked against its record), and the
 * linear-time bound (parse time against a memchr pass over the same bytes,
 * at two sizes).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include "patchgap/lists.h"
#include "util/buf.h"
#include <time.h>
#include "util/jsonl.h"

#define LLVMFuzzerTestOneInput fuzz_mail_one
#include "../../fuzz/fuzz_mail.c"
#undef LLVMFuzzerTestOneInput

static pg_mail *parse(const char *s)
{
	pg_mail *m = NULL;
	if (pg_mail_parse(&m, s, strlen(s)) < 0)
		return NULL;
	return m;
}

static int has_file(const pg_mail *m, const char *path)
{
	for (size_t i = 0; i < m->nfiles; i++)
		if (!strcmp(m->files[i], path))
			return 1;
	return 0;
}

static const char format_patch[] =
	"From 1234567890abcdef1234567890abcdef12345678 Mon Sep 17 00:00:00 2001\n"
	"From: Taehee Yoo <ap420073@gmail.com>\n"
	"Date: Tue, 30 Apr 2019 01:55:29 +0900\n"
	"Subject: [PATCH nf v2 1/3] netfilter: nf_flow_table: fix netdev\n"
	" refcnt leak\n"
	"Message-Id: <20190429165529.1325-1-ap420073@gmail.com>\n"
	"In-Reply-To: <cover.1@gmail.com>\n"
	"References: <root@x.org>\n\t<cover.1@gmail.com>\n"
	"\n"
	"flow_offload_alloc() calls nf_route() to get a dst_entry.\n"
	"\n"
	"Fixes: ac2a66665e23 (\"netfilter: add generic flow table infrastructure\")\n"
	"Cc: stable@vger.kernel.org\n"
	"Signed-off-by: Taehee Yoo <ap420073@gmail.com>\n"
	"---\n"
	"v2: no change\n"
	"\n"
	" net/netfilter/nft_flow_offload.c | 1 +\n"
	"\n"
	"diff --git a/net/netfilter/nft_flow_offload.c b/net/netfilter/nft_flow_offload.c\n"
	"index 6e6b9adf7d38..ff50bc1b144f 100644\n"
	"--- a/net/netfilter/nft_flow_offload.c\n"
	"+++ b/net/netfilter/nft_flow_offload.c\n"
	"@@ -113,6 +113,7 @@ static void nft_flow_offload_eval(const struct nft_expr *expr,\n"
	" \tif (ret < 0)\n"
	"+\tdst_release(route.tuple[!dir].dst);\n"
	" \treturn;\n"
	"-- \n"
	"2.17.1\n";

TEST(format_patch_fields)
{
	pg_mail *m = parse(format_patch);
	CHECK(m != NULL);
	if (!m)
		return;
	CHECK_STR(m->message_id, "20190429165529.1325-1-ap420073@gmail.com");
	CHECK_STR(m->in_reply_to, "cover.1@gmail.com");
	CHECK_STR(m->references, "root@x.org cover.1@gmail.com");
	CHECK_STR(m->from_name, "Taehee Yoo");
	CHECK_STR(m->from_email, "ap420073@gmail.com");
	CHECK_INT(m->date, 1556556929);   /* 2019-04-29T16:55:29Z */
	CHECK_STR(m->subject, "[PATCH nf v2 1/3] netfilter: nf_flow_table: fix netdev refcnt leak");
	CHECK_STR(m->clean_subject, "netfilter: nf_flow_table: fix netdev refcnt leak");
	CHECK_STR(m->prefix, "PATCH nf v2 1/3");
	CHECK_STR(m->tree, "nf");
	CHECK_INT(m->version, 2);
	CHECK_INT(m->index, 1);
	CHECK_INT(m->total, 3);
	CHECK_INT(m->kind, PG_MAIL_PATCH);
	CHECK_INT(m->nfiles, 1);
	CHECK(has_file(m, "net/netfilter/nft_flow_offload.c"));
	CHECK(m->diff && !strncmp(m->diff, "diff --git ", 11));
	CHECK(m->diff && !strstr(m->diff, "2.17.1"));    /* signature cut */
	CHECK(strstr(m->message, "v2: no change") == NULL);
	CHECK(m->message[strlen(m->message) - 1] == '>');
	CHECK_INT(pg_trailers_count(&m->trailers, PG_TR_FIXES), 1);
	CHECK_INT(pg_trailers_count(&m->trailers, PG_TR_CC_STABLE), 1);
	CHECK_INT(m->flags, 0);
	pg_mail_free(m);
}

TEST(subject_tags_b4_rules)
{
	static const struct {
		const char *subject, *clean, *tree;
		int patch, rfc, version, index, total, reply;
	} cases[] = {
		{ "[PATCH net v3 2/7] net: x", "net: x", "net", 1, 0, 3, 2, 7, 0 },
		{ "[PATCHv4 1/2] a: b", "a: b", NULL, 1, 0, 4, 1, 2, 0 },
		{ "[RFC PATCH] a: b", "a: b", NULL, 1, 1, 1, 0, 0, 0 },
		{ "[RFC][PATCH v2 0/5] a", "a", NULL, 1, 1, 2, 0, 5, 0 },
		{ "Re: [PATCH nf-next,v2 03/12] x", "x", "nf-next", 1, 0, 2, 3, 12, 1 },
		{ "RE: Re: AW: [PATCH] x", "x", NULL, 1, 0, 1, 0, 0, 1 },
		{ "[PATCH AUTOSEL 5.5 126/542] netfilter: y", "netfilter: y", "AUTOSEL", 1, 0, 1, 126, 542, 0 },
		{ "[PATCH RESEND v2] z", "z", NULL, 1, 0, 2, 0, 0, 0 },
		{ "plain subject [not a tag]", "plain subject [not a tag]", NULL, 0, 0, 1, 0, 0, 0 },
		{ "[PATCH 1/2 unterminated", "[PATCH 1/2 unterminated", NULL, 0, 0, 1, 0, 0, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		pg_mail m;
		int reply = -1;
		memset(&m, 0, sizeof(m));
		CHECK_OK(pg_mail__subject_tags(&m, cases[i].subject, &reply));
		CHECK_STR(m.clean_subject, cases[i].clean);
		if (cases[i].tree)
			CHECK_STR(m.tree, cases[i].tree);
		else
			CHECK(m.tree == NULL);
		CHECK_INT(m.is_patch, cases[i].patch);
		CHECK_INT(m.rfc, cases[i].rfc);
		CHECK_INT(m.version, cases[i].version);
		CHECK_INT(m.index, cases[i].index);
		CHECK_INT(m.total, cases[i].total);
		CHECK_INT(reply, cases[i].reply);
		free(m.clean_subject);
		free(m.prefix);
		free(m.tree);
	}
}

TEST(encoded_words_and_folding)
{
	pg_mail *m = parse("From: =?iso-8859-1?q?J=F6rg_R=F6del?= <Joerg@Example.ORG>\r\n"
			   "Subject: =?UTF-8?B?W1BBVENIXSBuZXQ6IGZpeCDDqQ==?=\r\n"
			   "  =?utf-8?q?_more?= tail\r\n"
			   "Message-ID:\r\n <a@b>\r\n"
			   "\r\n"
			   "body line\r\n");
	CHECK(m != NULL);
	if (!m)
		return;
	CHECK_STR(m->from_name, "J\xc3\xb6rg R\xc3\xb6" "del");
	CHECK_STR(m->from_email, "joerg@example.org");
	CHECK_STR(m->subject, "[PATCH] net: fix \xc3\xa9 more tail");
	CHECK_STR(m->message_id, "a@b");
	CHECK_STR(m->message, "body line");
	CHECK_INT(m->flags, 0);
	pg_mail_free(m);
}

TEST(multipart_attachment_base64_and_qp)
{
	/* the patch as a base64 text/x-patch attachment, the message quoted-printable */
	pg_mail *m = parse("Subject: [PATCH] fs: attach\n"
			   "Message-ID: <mp@x>\n"
			   "Content-Type: multipart/mixed; boundary=\"==b==\"\n"
			   "\n"
			   "preamble is ignored\n"
			   "--==b==\n"
			   "Content-Type: text/plain; charset=utf-8\n"
			   "Content-Transfer-Encoding: quoted-printable\n"
			   "\n"
			   "A soft=\n"
			   " break and caf=C3=A9 =3D ok\n"
			   "\n"
			   "Signed-off-by: A <a@x>\n"
			   "--==b==\n"
			   "Content-Type: text/html\n"
			   "\n"
			   "<p>diff --git a/html b/html</p>\n"
			   "--==b==\n"
			   "Content-Type: application/octet-stream; name=\"0001-fix.patch\"\n"
			   "Content-Transfer-Encoding: base64\n"
			   "\n"
			   /* "diff --git a/fs/a.c b/fs/a.c\r\n+x\r\n" */
			   "ZGlmZiAtLWdpdCBhL2ZzL2EuYyBiL2ZzL2EuYw0KK3gNCg==\n"
			   "--==b==--\n"
			   "epilogue\n");
	CHECK(m != NULL);
	if (!m)
		return;
	CHECK_STR(m->message, "A soft break and caf\xc3\xa9 = ok\n\nSigned-off-by: A <a@x>");
	CHECK_INT(m->nfiles, 1);
	CHECK(has_file(m, "fs/a.c"));
	CHECK(!has_file(m, "html"));
	CHECK(m->diff && !strchr(m->diff, '\r'));
	CHECK_INT(pg_trailers_count(&m->trailers, PG_TR_SIGNED_OFF_BY), 1);
	CHECK_INT(m->flags, 0);
	pg_mail_free(m);
}

TEST(hostile_headers)
{
	/* a CR/LF decoded from an encoded word must not start a new header */
	pg_mail *m = parse("Subject: =?utf-8?q?[PATCH]_x=0D=0ABcc:_victim@example.org?=\n"
			   "Subject: second subject is ignored\n"
			   "From: \"Evil\xff\xfe\" <e@x>\n"
			   "Message-ID: <inj@x> <second@x>\n"
			   "\n"
			   "text \xc3\x28 invalid\n");
	CHECK(m != NULL);
	if (!m)
		return;
	CHECK_STR(m->subject, "[PATCH] x  Bcc: victim@example.org");
	CHECK(m->flags & PG_MAIL_HEADER_INJECTION);
	CHECK(m->flags & PG_MAIL_BAD_CHARSET);
	CHECK_STR(m->message_id, "inj@x");
	CHECK_STR(m->from_name, "Evil\xef\xbf\xbd\xef\xbf\xbd");
	CHECK(strstr(m->message, "\xef\xbf\xbd(") != NULL);
	pg_mail_free(m);
}

TEST(broken_mime)
{
	/* unterminated multipart: the last part runs to the end */
	pg_mail *m = parse("Subject: [PATCH] a\nContent-Type: multipart/mixed; boundary=zz\n\n"
			   "--zz\nContent-Type: text/plain\n\nhello\n--zz\n\ndiff --git a/x b/x\n+1\n");
	CHECK(m != NULL);
	if (m) {
		CHECK(m->flags & PG_MAIL_BAD_MIME);
		CHECK(has_file(m, "x"));
		CHECK_STR(m->message, "hello");
		pg_mail_free(m);
	}
	/* multipart without a boundary: read as text */
	m = parse("Subject: a\nContent-Type: multipart/mixed\n\nplain\n");
	CHECK(m != NULL);
	if (m) {
		CHECK(m->flags & PG_MAIL_BAD_MIME);
		CHECK_STR(m->message, "plain");
		pg_mail_free(m);
	}
	/* an unknown charset and junk base64 */
	m = parse("Subject: =?x-unknown?b?!!!?=\nContent-Type: text/plain; charset=klingon\n"
		  "Content-Transfer-Encoding: base64\n\n%%%aGk=\n");
	CHECK(m != NULL);
	if (m) {
		CHECK(m->flags & PG_MAIL_BAD_CHARSET);
		CHECK(m->flags & PG_MAIL_BAD_MIME);
		CHECK_STR(m->message, "hi");
		pg_mail_free(m);
	}
	/* no headers at all; empty input */
	m = parse("just text\n");
	CHECK(m != NULL);
	if (m) {
		CHECK(m->flags & PG_MAIL_NO_HEADERS);
		CHECK_STR(m->message_id, "");
		pg_mail_free(m);
	}
	CHECK_OK(pg_mail_parse(&m, NULL, 0));
	pg_mail_free(m);
	CHECK(pg_mail_parse(&m, NULL, 3) == PG_EINVALID);
}

/* A diff touching 10,000 files: every path listed once. */
TEST(ten_thousand_files)
{
	pg_buf b = PG_BUF_INIT;
	pg_mail *m = NULL;
	pg_buf_puts(&b, "Subject: [PATCH] treewide: everything\n\nmsg\n---\n");
	for (int i = 0; i < 10000; i++)
		pg_buf_printf(&b, "diff --git a/d%d/f.c b/d%d/f.c\n--- a/d%d/f.c\n+++ b/d%d/f.c\n@@ -1 +1 @@\n-a\n+b\n",
			      i % 97, i, i % 97, i);
	CHECK_OK(pg_mail_parse(&m, b.ptr, b.len));
	if (m) {
		CHECK_INT(m->nfiles, 10000);
		CHECK_STR(m->files[9999], "d9999/f.c");
		pg_mail_free(m);
	}
	pg_buf_release(&b);
}

/* ---- linear time ---- */

/* Thread CPU time: the test machines are shared and busy, wall time is not ours. */
static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double memchr_pass(const char *s, size_t n)
{
	double t0 = cpu_now();
	size_t lines = 0;
	for (int r = 0; r < 20; r++) {
		const char *p = s, *end = s + n;
		while ((p = memchr(p, '\n', (size_t)(end - p)))) {
			p++;
			lines++;
		}
	}
	if (!lines)
		fprintf(stderr, "  (no lines)\n");
	return (cpu_now() - t0) / 20;
}

static double parse_time(const char *s, size_t n)
{
	double best = 1e9;
	for (int r = 0; r < 2; r++) {
		pg_mail *m = NULL;
		double t0 = cpu_now(), t;
		if (pg_mail_parse(&m, s, n) < 0)
			return -1;
		t = cpu_now() - t0;
		pg_mail_free(m);
		if (t < best)
			best = t;
	}
	return best;
}

/* Shapes that make naive parsers quadratic, repeated to `size` bytes. */
static void hostile(pg_buf *b, int shape, size_t size)
{
	pg_buf_reset(b);
	switch (shape) {
	case 0: /* one enormous folded subject of near-miss encoded words */
		pg_buf_puts(b, "Subject: ");
		while (b->len < size)
			pg_buf_puts(b, "=?utf-8?q?a=?=?x =?utf-8?b?YQ==?=\n ");
		pg_buf_puts(b, "\n\nx\n");
		break;
	case 1: /* boundary look-alikes and nested multiparts */
		pg_buf_puts(b, "Content-Type: multipart/mixed; boundary=abcdefgh\n\n--abcdefgh\n"
			    "Content-Type: multipart/mixed; boundary=abcdefg\n\n");
		while (b->len < size)
			pg_buf_puts(b, "--abcdefg\n--abcdefgX\n--abcdefghi\n[\n");
		break;
	case 2: /* a diff: many small files and lines */
		pg_buf_puts(b, "Subject: [PATCH] x\n\nm\n---\n");
		for (int i = 0; b->len < size; i++)
			pg_buf_printf(b, "diff --git a/f%d b/f%d\n+++ b/f%d\n@@ -1 +1 @@\n-x\n+y\n", i, i, i);
		break;
	default: /* quoted-printable body of escapes and soft breaks, Re: chains */
		pg_buf_puts(b, "Subject: ");
		for (int i = 0; i < 2000; i++)
			pg_buf_puts(b, "Re: [");
		pg_buf_puts(b, "\nContent-Transfer-Encoding: quoted-printable\n\n");
		while (b->len < size)
			pg_buf_puts(b, "=3D=\n=C3=A9=ZZ= \n");
		break;
	}
}

TEST(parse_is_linear)
{
	pg_buf b = PG_BUF_INIT;
	const size_t small = (size_t)1 << 20;   /* above the caches: smaller inputs run from L2 and flatter the ratio */
	for (int shape = 0; shape < 4; shape++) {
		double r1, r8, t1, t8;
		hostile(&b, shape, small);
		t1 = parse_time(b.ptr, b.len);
		r1 = t1 / memchr_pass(b.ptr, b.len);
		hostile(&b, shape, 8 * small);
		t8 = parse_time(b.ptr, b.len);
		r8 = t8 / memchr_pass(b.ptr, b.len);
		fprintf(stderr, "  shape %d: 1 MiB %.1f ms (%.0fx memchr), 8 MiB %.1f ms (%.0fx memchr)\n",
			shape, t1 * 1e3, r1, t8 * 1e3, r8);
		CHECK(t1 >= 0 && t8 >= 0);
		/*
		 * linear: 8x the bytes takes ~8x the CPU time; quadratic would
		 * be 64x.  Measured 5-30x: the 8 MiB runs miss the caches (the
		 * file map of a 190,000-file diff) and take more page faults.
		 */
		CHECK(t8 < 40 * t1 + 0.01);
	}
	pg_buf_release(&b);
}

/* ---- real lore mails rebuilt from the shared data ---- */

static void qp_encode(pg_buf *b, const char *s)
{
	int col = 0;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '\n') {
			pg_buf_putc(b, '\n');
			col = 0;
			continue;
		}
		if (col >= 72) {
			pg_buf_puts(b, "=\n");
			col = 0;
		}
		if (c == '=' || c >= 127 || (c < 32 && c != '\t') || (c == ' ' && s[1] == '\n')) {
			pg_buf_printf(b, "=%02X", c);
			col += 3;
		} else {
			pg_buf_putc(b, (char)c);
			col++;
		}
	}
}

static void b64_encode(pg_buf *b, const char *s, size_t n)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t col = 0;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)s[i] << 16;
		if (i + 1 < n)
			v |= (unsigned char)s[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)s[i + 2];
		pg_buf_putc(b, a[(v >> 18) & 63]);
		pg_buf_putc(b, a[(v >> 12) & 63]);
		pg_buf_putc(b, i + 1 < n ? a[(v >> 6) & 63] : '=');
		pg_buf_putc(b, i + 2 < n ? a[v & 63] : '=');
		if ((col += 4) >= 76) {
			pg_buf_putc(b, '\n');
			col = 0;
		}
	}
	pg_buf_putc(b, '\n');
}

static const char *jstr(json_t *r, const char *k)
{
	const char *s = json_string_value(json_object_get(r, k));
	return s ? s : "";
}

/* Subject with non-ASCII encoded as UTF-8 B words, folded at a blank past column 60. */
static void put_subject(pg_buf *b, const char *s)
{
	int ascii = 1;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p >= 128)
			ascii = 0;
	pg_buf_puts(b, "Subject: ");
	if (!ascii) {
		pg_buf_puts(b, "=?UTF-8?B?");
		b64_encode(b, s, strlen(s));
		b->len--;   /* the newline */
		pg_buf_puts(b, "?=\n");
		return;
	}
	const char *sp = strlen(s) > 60 ? strchr(s + 60, ' ') : NULL;
	if (sp) {
		pg_buf_put(b, s, (size_t)(sp - s));
		pg_buf_puts(b, "\n");
		pg_buf_puts(b, sp);
	} else {
		pg_buf_puts(b, s);
	}
	pg_buf_puts(b, "\n");
}

/* The record as a mail in one of four shapes: 8bit, quoted-printable, CRLF, multipart+base64. */
static void build_mail(pg_buf *b, json_t *r, unsigned shape)
{
	pg_buf body = PG_BUF_INIT;
	const char *notes = jstr(r, "notes");
	pg_buf_reset(b);
	pg_buf_printf(b, "From: %s\n", jstr(r, "author"));
	put_subject(b, jstr(r, "subject"));
	pg_buf_printf(b, "Date: Tue, 30 Apr 2019 01:55:29 +0900\nMessage-ID: <%s>\nMIME-Version: 1.0\n",
		      jstr(r, "message_id"));
	pg_buf_printf(&body, "%s\n---\n%s%s\n", jstr(r, "message"), notes, *notes ? "\n" : "");
	if (shape == 3) {
		pg_buf_puts(b, "Content-Type: multipart/mixed; boundary=\"------------0123\"\n\n"
			    "This is a multi-part message in MIME format.\n--------------0123\n"
			    "Content-Type: text/plain; charset=UTF-8; format=flowed\n"
			    "Content-Transfer-Encoding: 8bit\n\n");
		pg_buf_puts(b, body.ptr);
		pg_buf_puts(b, "\n--------------0123\nContent-Type: text/x-patch; charset=UTF-8; name=\"0001-x.patch\"\n"
			    "Content-Disposition: attachment; filename=\"0001-x.patch\"\n"
			    "Content-Transfer-Encoding: base64\n\n");
		b64_encode(b, jstr(r, "diff"), strlen(jstr(r, "diff")));
		pg_buf_puts(b, "\n--------------0123--\n");
	} else {
		pg_buf_puts(&body, jstr(r, "diff"));
		if (shape == 1) {
			pg_buf_puts(b, "Content-Type: text/plain; charset=utf-8\n"
				    "Content-Transfer-Encoding: quoted-printable\n\n");
			qp_encode(b, body.ptr);
		} else {
			pg_buf_puts(b, "Content-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n\n");
			pg_buf_puts(b, body.ptr);
		}
		pg_buf_puts(b, "-- \n2.43.0\n\n");
	}
	if (shape == 2) {   /* CRLF line ends */
		pg_buf crlf = PG_BUF_INIT;
		for (size_t i = 0; i < b->len; i++) {
			if (b->ptr[i] == '\n')
				pg_buf_putc(&crlf, '\r');
			pg_buf_putc(&crlf, b->ptr[i]);
		}
		pg_buf_reset(b);
		pg_buf_put(b, crlf.ptr, crlf.len);
		pg_buf_release(&crlf);
	}
	pg_buf_release(&body);
}

static int same_trimmed(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	while (na && (a[na - 1] == '\n' || a[na - 1] == ' ' || a[na - 1] == '\t'))
		na--;
	while (nb && (b[nb - 1] == '\n' || b[nb - 1] == ' ' || b[nb - 1] == '\t'))
		nb--;
	while (na && (*a == '\n')) a++, na--;
	while (nb && (*b == '\n')) b++, nb--;
	return na == nb && !memcmp(a, b, na);
}

TEST(lore_records_roundtrip)
{
	char path[4096];
	pg_jsonl *rd = NULL;
	json_t *r = NULL;
	pg_buf b = PG_BUF_INIT;
	size_t n = 0, ok_subject = 0, ok_tags = 0, ok_files = 0, nfiles_cmp = 0, ok_msg = 0, ok_id = 0,
	       ok_author = 0, shown = 0;
	const size_t limit = 2000;   /* keeps the ASan run short */

	SKIP_WITHOUT_SHARED();
	snprintf(path, sizeof(path), "%s/lore-patches.jsonl.gz", SHARED_DATA);
	if (pg_jsonl_open(&rd, path, 0) < 0)
		SKIP("lore-patches.jsonl.gz not readable");
	while (n < limit && pg_jsonl_next(rd, &r) == 1) {
		pg_mail *m = NULL;
		json_t *files = json_object_get(r, "files");
		int tags_ok, files_ok = 1;
		build_mail(&b, r, (unsigned)(n % 4));
		if (pg_mail_parse(&m, b.ptr, b.len) < 0) {
			CHECK(!"parse failed");
			json_decref(r);
			break;
		}
		n++;
		ok_id += !strcmp(m->message_id, jstr(r, "message_id"));
		ok_subject += !strcmp(m->clean_subject, jstr(r, "clean_subject"));
		ok_author += !strcmp(m->from, jstr(r, "author"));
		tags_ok = m->version == json_integer_value(json_object_get(r, "patch_version")) &&
			  m->index == json_integer_value(json_object_get(r, "series_index")) &&
			  m->total == json_integer_value(json_object_get(r, "series_total")) &&
			  m->rfc == json_is_true(json_object_get(r, "rfc"));
		ok_tags += tags_ok;
		if (!json_is_true(json_object_get(r, "diff_truncated"))) {
			nfiles_cmp++;
			files_ok = json_array_size(files) == m->nfiles;
			for (size_t i = 0; files_ok && i < m->nfiles; i++)
				files_ok = has_file(m, json_string_value(json_array_get(files, i)));
			ok_files += files_ok;
		}
		ok_msg += same_trimmed(m->message, jstr(r, "message"));
		if ((!tags_ok || !files_ok) && shown++ < 3)
			fprintf(stderr, "  mismatch %s: v%d %d/%d rfc %d files %zu\n", jstr(r, "message_id"),
				m->version, m->index, m->total, m->rfc, m->nfiles);
		pg_mail_free(m);
		json_decref(r);
	}
	pg_jsonl_free(rd);
	pg_buf_release(&b);
	fprintf(stderr, "  %zu mails: id %zu, subject %zu, author %zu, tags %zu, files %zu/%zu, message %zu\n",
		n, ok_id, ok_subject, ok_author, ok_tags, ok_files, nfiles_cmp, ok_msg);
	CHECK(n == limit);
	CHECK(ok_id == n);
	CHECK(ok_subject * 1000 >= n * 999);
	CHECK(ok_author * 1000 >= n * 999);
	CHECK(ok_tags * 1000 >= n * 995);
	CHECK(ok_files * 1000 >= nfiles_cmp * 995);
	CHECK(ok_msg * 1000 >= n * 990);
}

/* ---- the fuzz entry point over a fixed corpus ---- */

TEST(fuzz_corpus)
{
	static const char *const samples[] = {
		format_patch,
		"Subject: =?utf-8?q?a=?= =?iso-8859-1?b?6Q==?=\nContent-Type: multipart/alternative; boundary=b\n\n"
		"--b\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\nZGlmZiAtLWdpdCBhL3ggYi94Cg==\n--b--\n",
		"Content-Type: text/plain; charset=\"latin1\"\nContent-Transfer-Encoding: quoted-printable\n\n"
		"x=E9=\n=3D\n---\n--- a/f\n+++ b/f\n@@ -1 +1 @@\n",
	};
	uint8_t buf[4096];
	uint32_t x = 12345;
	for (size_t s = 0; s < sizeof(samples) / sizeof(*samples); s++) {
		size_t len = strlen(samples[s]);
		for (size_t cut = 0; cut <= len; cut += 5)
			fuzz_mail_one((const uint8_t *)samples[s], cut);
		memcpy(buf, samples[s], len);
		for (int k = 0; k < 300; k++) {
			size_t at;
			x = x * 1103515245u + 12345u;
			at = (x >> 8) % len;
			buf[at] ^= (uint8_t)(1u << ((x >> 4) & 7));
			fuzz_mail_one(buf, len);
		}
	}
	for (int k = 0; k < 500; k++) {
		size_t len = 1 + k % 300;
		for (size_t i = 0; i < len; i++) {
			x = x * 1103515245u + 12345u;
			buf[i] = (uint8_t)("=?\n:[]-<> ab\r"[(x >> 8) % 13]);
		}
		fuzz_mail_one(buf, len);
	}
	CHECK(1);
}

int main(void)
{
	RUN(format_patch_fields);
	RUN(subject_tags_b4_rules);
	RUN(encoded_words_and_folding);
	RUN(multipart_attachment_base64_and_qp);
	RUN(hostile_headers);
	RUN(broken_mime);
	RUN(ten_thousand_files);
	RUN(parse_is_linear);
	RUN(lore_records_roundtrip);
	RUN(fuzz_corpus);
	return harness_done();
}
