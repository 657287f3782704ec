/*
 * fuzz_trailer.c - libFuzzer target for the commit-message trailer parser.
 *
 * Built as a libFuzzer binary with -Dfuzz=true (clang), and also #included
 * by tests/unit/test_trailer.c, which feeds it a fixed junk corpus so the
 * ASan test run exercises the same checks.  Any broken invariant aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "patchgap/trailer.h"
#include "util/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define fuzz_check(x) do { if (!(x)) { \
	fprintf(stderr, "fuzz_trailer.c:%d: check failed: %s\n", __LINE__, #x); abort(); } } while (0)

/* Parse and check every invariant of trailer.h; returns the parse result. */
static int fuzz_trailer_one(const uint8_t *data, size_t size)
{
	pg_trailers t = PG_TRAILERS_INIT;
	const char *msg = (const char *)data, *subj, *body;
	size_t lines = 1, slen, blen;
	char *joined = NULL;
	int rc;

	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	rc = pg_trailers_parse(&t, msg, size);
	fuzz_check(rc == 0 || rc == PG_EINVALID || rc == PG_ENOMEM);
	fuzz_check(rc == 0 || t.n == 0);
	for (size_t i = 0; i < t.n; i++) {
		const pg_trailer *x = &t.v[i];
		fuzz_check((unsigned)x->kind < PG_TR__COUNT);
		fuzz_check(x->line >= 1 && x->line <= lines);
		fuzz_check(i == 0 || t.v[i - 1].line <= x->line);
		fuzz_check(x->raw && x->key && x->value);
		fuzz_check(strlen(x->raw) <= size && strlen(x->value) <= size);
		fuzz_check(*x->key);
		if (x->ref_id) {
			size_t n = strlen(x->ref_id);
			fuzz_check(n >= 8 && n <= 40);
			for (size_t j = 0; j < n; j++)
				fuzz_check((x->ref_id[j] >= '0' && x->ref_id[j] <= '9') ||
					   (x->ref_id[j] >= 'a' && x->ref_id[j] <= 'f'));
		}
		fuzz_check(!x->malformed || (x->hint && *x->hint));
		fuzz_check(!x->ref_subject || *x->ref_subject);
		fuzz_check(strcmp(pg_trailer_kind_name(x->kind), "unknown") != 0);
	}
	pg_trailers_release(&t);

	if (pg_message_split(msg, size, &subj, &slen, &body, &blen) == 0) {
		fuzz_check(size == 0 || (subj >= msg && subj + slen <= msg + size));
		fuzz_check(size == 0 || (body >= msg && body + blen == msg + size));
		fuzz_check(size == 0 || subj + slen <= body);
	}
	if (pg_message_subject(&joined, msg, size) == 0) {
		fuzz_check(joined != NULL && strlen(joined) <= size);
		free(joined);
	}
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_trailer_one(data, size);
	return 0;
}
