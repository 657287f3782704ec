/* Unit tests for src/store: open/create, refusal of foreign files, transactions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "harness.h"
#include "patchgap/store.h"

static char tmpdir[256];

static const char *tmp_path(const char *name)
{
	static char p[512];
	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	return p;
}

TEST(create_and_reopen)
{
	pg_store *s = NULL;
	char *v = NULL;
	CHECK(pg_store_open(&s, tmp_path("none.db"), 0) == PG_ENOTFOUND);
	CHECK_OK(pg_store_open(&s, tmp_path("a.db"), PG_STORE_CREATE));
	CHECK_OK(pg_store_meta_set(s, "k", "v1"));
	pg_store_free(s);
	CHECK_OK(pg_store_open(&s, tmp_path("a.db"), PG_STORE_READONLY));
	CHECK_OK(pg_store_meta_get(&v, s, "k"));
	CHECK_STR(v, "v1");
	free(v);
	CHECK(pg_store_meta_get(&v, s, "missing") == PG_ENOTFOUND);
	pg_store_free(s);
}

TEST(refuses_foreign_files)
{
	pg_store *s = NULL;
	FILE *f = fopen(tmp_path("junk.db"), "w");
	char buf[64];
	fputs("this is not a database at all, just some text.........................\n", f);
	fclose(f);
	CHECK(pg_store_open(&s, tmp_path("junk.db"), PG_STORE_CREATE) == PG_EINVALID);
	CHECK(strstr(pg_error_last(), "junk.db") != NULL);
	/* the file is untouched */
	f = fopen(tmp_path("junk.db"), "r");
	CHECK(fgets(buf, sizeof(buf), f) && !strncmp(buf, "this is not", 11));
	fclose(f);
}

TEST(transactions)
{
	pg_store *s = NULL;
	pg_stmt *st = NULL;
	CHECK_OK(pg_store_open(&s, tmp_path("t.db"), PG_STORE_CREATE));
	CHECK_OK(pg_store_begin(s));
	CHECK_OK(pg_store_meta_set(s, "x", "1"));
	CHECK_OK(pg_store_rollback(s));
	CHECK_OK(pg_store_prepare(&st, s, "SELECT count(*) FROM meta WHERE key = 'x'"));
	CHECK(pg_stmt_step(st) == 1);
	CHECK_INT(pg_stmt_int(st, 0), 0);
	pg_stmt_free(st);
	/* an inner rollback poisons the outer commit */
	CHECK_OK(pg_store_begin(s));
	CHECK_OK(pg_store_begin(s));
	CHECK_OK(pg_store_meta_set(s, "y", "1"));
	CHECK_OK(pg_store_rollback(s));
	CHECK(pg_store_commit(s) < 0);
	pg_store_free(s);
}

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/pg-test-store-XXXXXX");
	if (!mkdtemp(tmpdir))
		return 1;
	RUN(create_and_reopen);
	RUN(refuses_foreign_files);
	RUN(transactions);
	{
		char cmd[400];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", tmpdir);
	}
	return harness_done();
}
