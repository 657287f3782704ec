/*
 * fuzz_sql.c - libFuzzer target for the SQL dialect rewriter of the
 * PostgreSQL backend (pg_store__pgsql_rewrite, src/store/pgsql.c).
 *
 * Input: any bytes as SQL text (cut at the first NUL).  Checks: success,
 * output bounded by a constant factor of the input (one pass, linear), and
 * as many $n parameters written as '?' reported.  Also #included by
 * tests/unit/test_fuzz.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/store_int.h"
#include "util/buf.h"
#include "util/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define fuzz_sql_check(x) do { if (!(x)) { \
	fprintf(stderr, "fuzz_sql.c:%d: check failed: %s\n", __LINE__, #x); abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *sql = malloc(size + 1);
	pg_buf out = PG_BUF_INIT;
	int n = -1, rc;

	if (!sql)
		return 0;
	memcpy(sql, data, size);
	sql[size] = '\0';
	rc = pg_store__pgsql_rewrite(&out, sql, &n);
	fuzz_sql_check(rc == 0 || rc == PG_ENOMEM);
	if (rc == 0) {
		/* the longest expansion: INTEGER (7 bytes) -> 39 bytes; ? -> $ and 10 digits */
		fuzz_sql_check(out.len <= 11 * strlen(sql) + 1);
		fuzz_sql_check(n >= 0 && (size_t)n <= strlen(sql));
	}
	pg_buf_release(&out);
	free(sql);
	return 0;
}
