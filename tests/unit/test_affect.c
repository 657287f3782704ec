/*
 * Unit tests for src/affect on a real SQLite store filled by SQL: dyad's
 * line format and order, an unknown introducer in status, the stored
 * cells (full, incremental after a changed record, read back), and status
 * reading them exactly while they are current.
 *
 * History: mainline I (v6.1) < F (v6.2, Fixes: I) < U (v6.2, no Fixes:);
 * linux-6.1.y (base v6.1) carries B = backport of F (v6.1.3).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "harness.h"
#include "patchgap/affect.h"
#include "patchgap/store.h"

static char tmpdir[256];
#define I_SHA "1111111111111111111111111111111111111111"
#define F_SHA "2222222222222222222222222222222222222222"
#define U_SHA "3333333333333333333333333333333333333333"
#define B_SHA "4444444444444444444444444444444444444444"

static pg_store *fixture(const char *name)
{
	char path[512];
	pg_store *s = NULL;
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	if (pg_store_open(&s, path, PG_STORE_CREATE) < 0)
		return NULL;
	if (pg_store_exec(s,
		"INSERT INTO commits (id, sha, author, author_email, author_time, committer_time, parents, nparents,"
		" subject, message, mainline_release, on_mainline) VALUES"
		" (1, '" I_SHA "', 'a', 'a@x', 1, 1, '', 0, 'x: add', '', 'v6.1', 1),"
		" (2, '" F_SHA "', 'a', 'a@x', 2, 2, '', 1, 'x: fix', '', 'v6.2-rc1', 1),"
		" (3, '" U_SHA "', 'a', 'a@x', 3, 3, '', 1, 'y: fix', '', 'v6.2', 1),"
		" (4, '" B_SHA "', 'a', 'a@x', 4, 4, '', 1, 'x: fix', '', NULL, 0);"
		"INSERT INTO relations (commit_id, kind, ref_id, target_sha, state) VALUES"
		" (2, 'fixes', '111111111111', '" I_SHA "', 'resolved'),"
		" (4, 'upstream', '" F_SHA "', '" F_SHA "', 'resolved');"
		"INSERT INTO branches (id, name, kind, ref, head_sha, base_tag) VALUES"
		" (1, 'master', 'mainline', 'refs/heads/master', '" U_SHA "', NULL),"
		" (2, 'linux-6.1.y', 'stable', 'refs/heads/linux-6.1.y', '" B_SHA "', 'v6.1');"
		"INSERT INTO branch_commits (branch_id, commit_id, release) VALUES (2, 4, 'v6.1.3');"
		"INSERT INTO tags (name, sha, line, major, minor, patch, rc) VALUES"
		" ('v6.1', '" I_SHA "', 'mainline', 6, 1, 0, 0), ('v6.2-rc1', '" F_SHA "', 'mainline', 6, 2, 0, 1),"
		" ('v6.2', '" U_SHA "', 'mainline', 6, 2, 0, 0), ('v6.1.3', '" B_SHA "', 'linux-6.1.y', 6, 1, 3, 0);"
		"INSERT INTO cves (id, year, num, state, layout, source_path, content_hash) VALUES"
		" ('CVE-2026-1', 2026, 1, 'published', 'vulns', 'a', 'h1'),"
		" ('CVE-2026-2', 2026, 2, 'published', 'vulns', 'b', 'h2');"
		"INSERT INTO cve_fixes (cve_id, sha, source) VALUES ('CVE-2026-1', '" F_SHA "', 'sha1'),"
		" ('CVE-2026-2', '" U_SHA "', 'sha1');") < 0) {
		pg_store_free(s);
		return NULL;
	}
	return s;
}

TEST(dyad_lines)
{
	pg_store *s = fixture("dyad.db");
	pg_affect_index *ix = NULL;
	json_t *o = NULL, *d;
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_OK(pg_affect_index_open(&ix, s));
	CHECK_OK(pg_affect_fix(&o, ix, "CVE-2026-1"));
	d = o ? json_object_get(o, "dyad") : NULL;
	CHECK_INT(json_array_size(d), 2);
	/* fixed lines by fix version: the stable one, then mainline (v6.2-rc1 counts as 6.2) */
	CHECK_STR(json_string_value(json_array_get(d, 0)), "6.1:" I_SHA ":6.1.3:" B_SHA);
	CHECK_STR(json_string_value(json_array_get(d, 1)), "6.1:" I_SHA ":6.2:" F_SHA);
	CHECK_STR(json_string_value(json_object_get(o, "branches_view")), "patchgap");
	json_decref(o);
	o = NULL;
	/* no introducer known: 0:0 on mainline; 6.1.y has no line (dyad prints nothing there) */
	CHECK_OK(pg_affect_fix(&o, ix, "CVE-2026-2"));
	d = o ? json_object_get(o, "dyad") : NULL;
	CHECK_INT(json_array_size(d), 1);
	CHECK_STR(json_string_value(json_array_get(d, 0)), "0:0:6.2:" U_SHA);
	json_decref(o);
	pg_affect_index_free(ix);
	pg_store_free(s);
}

TEST(status_unknown_introducer_is_affected)
{
	pg_store *s = fixture("status.db");
	pg_affect_index *ix = NULL;
	json_t *o = NULL, *e;
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_OK(pg_affect_index_open(&ix, s));
	CHECK_OK(pg_affect_status(&o, ix, "linux-6.1.y", NULL));
	CHECK_INT(json_array_size(json_object_get(o, "unfixed")), 1);
	e = json_array_get(json_object_get(o, "unfixed"), 0);
	CHECK_STR(json_string_value(json_object_get(e, "id")), "CVE-2026-2");
	CHECK_STR(json_string_value(json_object_get(e, "status")), "affected");
	CHECK(json_is_false(json_object_get(e, "introducer_known")));
	CHECK(json_object_get(o, "possibly_affected") == NULL);
	json_decref(o);
	pg_affect_index_free(ix);
	pg_store_free(s);
}

struct seen { int n; char buf[1024]; };
static int collect(const pg_affect_cell *c, void *payload)
{
	struct seen *s = payload;
	size_t l = strlen(s->buf);
	snprintf(s->buf + l, sizeof(s->buf) - l, "%s %s %s %d;", c->id, c->branch, c->status, c->introducer_known);
	s->n++;
	return 0;
}

TEST(cells)
{
	pg_store *s = fixture("cells.db");
	pg_affect_cells_stats st;
	struct seen seen = { 0, "" };
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_OK(pg_affect_cells_update(&st, s, 0));
	CHECK(st.full);
	CHECK_INT(st.evaluated, 4);
	CHECK_OK(pg_affect_cells_foreach(s, NULL, NULL, collect, &seen));
	CHECK_STR(seen.buf, "CVE-2026-1 linux-6.1.y fixed 1;CVE-2026-2 linux-6.1.y affected 0;"
			    "CVE-2026-1 master fixed 1;CVE-2026-2 master fixed 0;");
	/* nothing new: nothing recomputed */
	CHECK_OK(pg_affect_cells_update(&st, s, 0));
	CHECK(!st.full);
	CHECK_INT(st.evaluated, 0);
	/* a changed record: its cells only; a rejected one: its cells go */
	CHECK_OK(pg_store_exec(s, "UPDATE cves SET content_hash = 'h1b' WHERE id = 'CVE-2026-1';"
				  "UPDATE cves SET state = 'rejected' WHERE id = 'CVE-2026-2'"));
	CHECK_OK(pg_affect_cells_update(&st, s, 0));
	CHECK_INT(st.evaluated, 2);
	CHECK_INT(st.deleted, 2);
	seen.n = 0;
	seen.buf[0] = '\0';
	CHECK_OK(pg_affect_cells_foreach(s, "master", NULL, collect, &seen));
	CHECK_STR(seen.buf, "CVE-2026-1 master fixed 1;");
	pg_store_free(s);
}

/* linux-6.1.y's status as JSON text (sorted keys), from a fresh index; NULL on error. */
static char *status_text(pg_store *s, int recompute)
{
	pg_affect_index *ix = NULL;
	pg_status_options so = PG_STATUS_OPTIONS_INIT;
	json_t *o = NULL;
	char *text = NULL;
	so.recompute = recompute;
	so.include_fixed = 1;
	if (pg_affect_index_open(&ix, s) == 0 && pg_affect_status(&o, ix, "linux-6.1.y", &so) == 0)
		text = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(o);
	pg_affect_index_free(ix);
	return text;
}

/* status reads the cells (their reason marked) exactly while the stamp is current */
static void check_stored(pg_store *s, int want_stored, const char *what)
{
	char *st, *rc;
	CHECK_OK(pg_store_exec(s, "UPDATE cells SET reason = reason || ' [stored]' WHERE branch = 'linux-6.1.y'"));
	st = status_text(s, 0);
	rc = status_text(s, 1);
	CHECK_OK(pg_store_exec(s, "UPDATE cells SET reason = substr(reason, 1, length(reason) - 9)"
				  " WHERE branch = 'linux-6.1.y'"));
	CHECK(st && rc);
	if (st && rc) {
		if ((strstr(st, "[stored]") != NULL) != want_stored)
			fprintf(stderr, "  %s: cells %sread: %s\n", what, want_stored ? "not " : "", st);
		CHECK((strstr(st, "[stored]") != NULL) == want_stored);
		CHECK(strstr(rc, "[stored]") == NULL);
	}
	free(st);
	free(rc);
	/* unmarked, the stored output is the computed one */
	st = status_text(s, 0);
	rc = status_text(s, 1);
	CHECK(st && rc && !strcmp(st, rc));
	free(st);
	free(rc);
}

TEST(status_from_cells)
{
	pg_store *s = fixture("stored.db");
	pg_affect_cells_stats st;
	CHECK(s != NULL);
	if (!s)
		return;
	check_stored(s, 0, "no cells yet");
	CHECK_OK(pg_affect_cells_update(&st, s, 0));
	check_stored(s, 1, "after cells");
	/* a new commit: computed until cells ran */
	CHECK_OK(pg_store_exec(s,
		"INSERT INTO commits (id, sha, author, author_email, author_time, committer_time, parents, nparents,"
		" subject, message, mainline_release, on_mainline) VALUES"
		" (5, '5555555555555555555555555555555555555555', 'a', 'a@x', 5, 5, '', 1, 'z: new', '', NULL, 1)"));
	check_stored(s, 0, "new commit");
	CHECK_OK(pg_affect_cells_update(&st, s, 0));
	CHECK(!st.full);
	check_stored(s, 1, "new commit, cells ran");
	/* a changed record */
	CHECK_OK(pg_store_exec(s, "UPDATE cves SET content_hash = 'h2b' WHERE id = 'CVE-2026-2'"));
	check_stored(s, 0, "changed record");
	CHECK_OK(pg_affect_cells_update(&st, s, 0));
	check_stored(s, 1, "changed record, cells ran");
	/* a branch's kind: no row changes, yet every branch is recomputed */
	CHECK_OK(pg_store_exec(s, "UPDATE branches SET kind = 'vendor' WHERE name = 'linux-6.1.y'"));
	check_stored(s, 0, "kind changed");
	CHECK_OK(pg_affect_cells_update(&st, s, 0));
	CHECK(st.full);
	check_stored(s, 1, "kind changed, cells ran");
	pg_store_free(s);
}

int main(void)
{
	char cmd[300];
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/pg-test-affect-XXXXXX");
	if (!mkdtemp(tmpdir))
		return 1;
	RUN(dyad_lines);
	RUN(status_unknown_introducer_is_affected);
	RUN(cells);
	RUN(status_from_cells);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmpdir);
	return harness_done();
}
