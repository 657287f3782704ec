/*
 * fuzz_odb.c - libFuzzer target for the git object parsers of util/odb:
 * the commit parser (pg_odb_parse_commit) and the delta applier.
 *
 * Input: byte 0 selects the parser.  Even: the rest is a raw commit.
 * 3 mod 4: the rest is a commit-graph file (util/cgraph).  Other odd
 * values: a delta; byte 1 gives the base length n, the next n bytes are
 * the base, the remainder is the delta.  Also #included by
 * tests/unit/test_fuzz.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/cgraph.h"
#include "util/odb.h"
#include "util/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define fuzz_odb_check(x) do { if (!(x)) { \
	fprintf(stderr, "fuzz_odb.c:%d: check failed: %s\n", __LINE__, #x); abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] % 2 == 0) {
		pg_odb_commit c;
		const char *buf = (const char *)data + 1;
		size_t len = size - 1;
		int rc;
		memset(&c, 0, sizeof(c));
		rc = pg_odb_parse_commit(&c, buf, len);
		fuzz_odb_check(rc == 0 || rc == PG_EINVALID || rc == PG_ENOMEM);
		if (rc == 0) {
			fuzz_odb_check(c.message >= buf || c.message_len == 0);
			fuzz_odb_check(c.message_len == 0 || c.message + c.message_len <= buf + len);
			fuzz_odb_check(c.author_name >= buf && c.author_name + c.author_name_len <= buf + len);
			fuzz_odb_check(c.author_email >= buf && c.author_email + c.author_email_len <= buf + len);
			fuzz_odb_check(c.summary.len <= c.message_len);
			fuzz_odb_check(!memchr(pg_buf_cstr(&c.summary), '\n', c.summary.len));
		}
		pg_odb_commit_release(&c);
	} else if (data[0] % 4 == 3) {
		pg_cgraph *g = NULL;
		const char *why = NULL;
		int rc = pg_cgraph_from_buffer(&g, data + 1, size - 1, &why);
		fuzz_odb_check(rc == 0 || rc == PG_ENOMEM);
		fuzz_odb_check(g || why || rc < 0);
		if (g) {
			uint32_t pp[PG_CGRAPH_MAX_PARENTS], pos;
			size_t np;
			for (uint32_t p = 0; p < pg_cgraph_count(g); p++) {
				rc = pg_cgraph_parents(g, p, pp, &np);
				fuzz_odb_check(rc == 0 || rc == PG_EINVALID);
				for (size_t i = 0; rc == 0 && i < np; i++)
					fuzz_odb_check(pp[i] < pg_cgraph_count(g));
				/* ids need not be sorted in a fuzzed file: find must still stay in bounds */
				if (pg_cgraph_find(g, pg_cgraph_id(g, p), &pos) == 0)
					fuzz_odb_check(pos < pg_cgraph_count(g));
				(void)pg_cgraph_tree(g, p);
			}
			pg_cgraph_free(g);
		}
	} else if (size >= 2) {
		size_t n = data[1];
		pg_buf base = PG_BUF_INIT, delta = PG_BUF_INIT, out = PG_BUF_INIT;
		int rc;
		if (n > size - 2)
			n = size - 2;
		pg_buf_put(&base, (const char *)data + 2, n);
		pg_buf_put(&delta, (const char *)data + 2 + n, size - 2 - n);
		rc = pg_odb__apply_delta("fuzz", 0, &base, &delta, &out);
		fuzz_odb_check(rc == 0 || rc == PG_EINVALID || rc == PG_ENOMEM);
		pg_buf_release(&base);
		pg_buf_release(&delta);
		pg_buf_release(&out);
	}
	return 0;
}
