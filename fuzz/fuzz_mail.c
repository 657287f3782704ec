/*
 * fuzz_mail.c - libFuzzer target for the mail parser (src/lists/mail.c).
 *
 * Built as a libFuzzer binary with -Dfuzz=true (clang), and also #included
 * by tests/unit/test_mail.c, which feeds it a fixed junk corpus so the ASan
 * test run exercises the same checks.  Any broken invariant aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "patchgap/lists.h"
#include "util/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define fuzz_mail_check(x) do { if (!(x)) { \
	fprintf(stderr, "fuzz_mail.c:%d: check failed: %s\n", __LINE__, #x); abort(); } } while (0)

/* Header fields: no control characters. */
static void fuzz_mail_no_controls(const char *s)
{
	fuzz_mail_check(s != NULL);
	for (; *s; s++)
		fuzz_mail_check((unsigned char)*s >= 0x20 && *s != 0x7f);
}

/* Valid UTF-8 throughout. */
static void fuzz_mail_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		size_t k = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3 : 4;
		fuzz_mail_check(*p < 0x80 || (*p >= 0xc2 && *p <= 0xf4));
		for (size_t i = 1; i < k; i++)
			fuzz_mail_check((p[i] & 0xc0) == 0x80);
		p += k;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pg_mail *m = NULL;
	if (pg_mail_parse(&m, (const char *)data, size) < 0)
		return 0;
	fuzz_mail_no_controls(m->message_id);
	fuzz_mail_no_controls(m->subject);
	fuzz_mail_no_controls(m->from);
	fuzz_mail_no_controls(m->clean_subject);
	fuzz_mail_utf8(m->subject);
	fuzz_mail_utf8(m->from);
	fuzz_mail_utf8(m->body);
	fuzz_mail_utf8(m->message);
	fuzz_mail_check(strlen(m->message) <= strlen(m->body));
	fuzz_mail_check(m->version >= 1);
	fuzz_mail_check(m->nfiles <= m->nfiles_total && m->nfiles <= PG_MAIL_MAX_FILES);
	for (size_t i = 0; i < m->nfiles; i++)
		fuzz_mail_check(m->files[i] && *m->files[i]);
	fuzz_mail_check(!m->diff || strlen(m->diff) <= strlen(m->body));
	pg_mail_free(m);
	return 0;
}
