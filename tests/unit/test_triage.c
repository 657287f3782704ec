/*
 * test_triage.c - decisions (validation naming the field, append-only
 * history, the latest in force, overlay on a status result) and API tokens
 * (shown once, stored hashed, roles) on a real SQLite database.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "harness.h"
#include "patchgap/triage.h"
#include "util/json.h"

static char tmpdir[64];
#define FIX "1111111111111111111111111111111111111111"
#define OTHER "2222222222222222222222222222222222222222"

static pg_store *fresh(const char *name)
{
	char path[128];
	pg_store *s = NULL;
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	if (pg_store_open(&s, path, PG_STORE_CREATE) < 0)
		return NULL;
	pg_store_exec(s, "INSERT INTO branches (id, name, kind, ref) VALUES (1, 'master', 'mainline', 'refs/heads/master'),"
			 " (2, 'vendor', 'vendor', 'refs/heads/vendor');"
			 "INSERT INTO commits (id, sha, author, author_email, author_time, committer_time, parents, nparents,"
			 " subject, message) VALUES (1, '" FIX "', 'a', 'a@x', 1, 1, '', 0, 'net: fix', 'net: fix'),"
			 " (2, '" OTHER "', 'a', 'a@x', 2, 2, '', 0, 'mm: fix', 'mm: fix');");
	return s;
}

static int decide(json_t **row, const char **field, pg_store *s, const char *target, const char *branch,
		  const char *state, const char *just, const char *note, int64_t t)
{
	pg_decision d = { target, branch, NULL, state, just, note, "alice", t };
	*row = NULL;
	return pg_triage_decide(row, field, s, &d);
}

TEST(validation_names_the_field)
{
	pg_store *s = fresh("v.db");
	json_t *row = NULL;
	const char *f = NULL;
	CHECK(s != NULL);
	CHECK(decide(&row, &f, s, "zzzz", "vendor", "fixed", NULL, "n", 1) == PG_EINVALID);
	CHECK_STR(f, "target");
	CHECK(decide(&row, &f, s, "3333", "vendor", "fixed", NULL, "n", 1) == PG_ENOTFOUND);
	CHECK_STR(f, "target");
	CHECK(decide(&row, &f, s, "1111", "nope", "fixed", NULL, "n", 1) == PG_ENOTFOUND);
	CHECK_STR(f, "branch");
	CHECK(decide(&row, &f, s, "1111", "vendor", "perhaps", NULL, "n", 1) == PG_EINVALID);
	CHECK_STR(f, "state");
	CHECK(decide(&row, &f, s, "1111", "vendor", "not_affected", NULL, "n", 1) == PG_EINVALID);
	CHECK_STR(f, "justification");
	CHECK(decide(&row, &f, s, "1111", "vendor", "fixed", "code_not_present", "n", 1) == PG_EINVALID);
	CHECK_STR(f, "justification");
	CHECK(decide(&row, &f, s, "1111", "vendor", "fixed", NULL, "", 1) == PG_EINVALID);
	CHECK_STR(f, "note");
	CHECK(decide(&row, &f, s, "1111", "vendor", "fixed", NULL, "a\033[2Jb", 1) == PG_EINVALID);
	CHECK_STR(f, "note");
	CHECK(strstr(pg_error_last(), "field 'note'") != NULL);
	{
		pg_stmt *st = NULL;
		CHECK_OK(pg_store_prepare(&st, s, "SELECT count(*) FROM decisions"));
		CHECK(pg_stmt_step(st) == 1);
		CHECK_INT(pg_stmt_int(st, 0), 0);
		pg_stmt_free(st);
	}
	pg_store_free(s);
}

TEST(history_and_latest)
{
	pg_store *s = fresh("h.db");
	json_t *row = NULL, *h = NULL, *l = NULL;
	const char *ids[] = { FIX };
	CHECK(s != NULL);
	/* abbreviated id and the short justification name are normalised */
	CHECK_OK(decide(&row, NULL, s, "1111", "vendor", "not_affected", "code_not_present", "driver not built", 86400));
	CHECK_STR(json_string_value(json_object_get(row, "target")), FIX);
	CHECK_STR(json_string_value(json_object_get(row, "justification")), "vulnerable_code_not_present");
	CHECK_STR(json_string_value(json_object_get(row, "decided")),
		  "decided by alice on 1970-01-02: driver not built (not_affected, vulnerable_code_not_present)");
	json_decref(row);
	CHECK_OK(decide(&row, NULL, s, FIX, "vendor", "affected", NULL, "it is built after all", 2 * 86400));
	json_decref(row);
	CHECK_OK(decide(&row, NULL, s, FIX, "master", "fixed", NULL, "upstream", 3 * 86400));
	json_decref(row);
	CHECK_OK(pg_triage_history(&h, s, FIX, NULL));
	CHECK_INT(json_array_size(h), 3);
	CHECK_INT(json_integer_value(json_object_get(json_array_get(h, 0), "id")), 1);
	json_decref(h);
	CHECK_OK(pg_triage_history(&h, s, FIX, "vendor"));
	CHECK_INT(json_array_size(h), 2);
	json_decref(h);
	CHECK_OK(pg_triage_latest(&l, s, ids, 1, "vendor", NULL));
	CHECK(l != NULL);
	CHECK_STR(json_string_value(json_object_get(l, "state")), "affected");
	json_decref(l);
	ids[0] = OTHER;
	CHECK_OK(pg_triage_latest(&l, s, ids, 1, "vendor", NULL));
	CHECK(l == NULL);
	pg_store_free(s);
}

TEST(status_overlay)
{
	pg_store *s = fresh("s.db");
	json_t *row = NULL, *st;
	CHECK(s != NULL);
	st = json_pack("{s:s,s:[{s:s,s:s},{s:s,s:s}],s:[{s:s,s:s}],s:{s:i,s:i}}", "branch", "vendor", "unfixed", "id", FIX,
		       "fix", FIX, "id", "CVE-2026-1", "fix", OTHER, "fixed", "id", "x", "fix", "3333333333333333333333333333333333333333",
		       "counts", "unfixed", 2, "fixed", 1);
	CHECK_OK(decide(&row, NULL, s, FIX, "vendor", "will_not_fix", NULL, "EOL", 1));
	json_decref(row);
	CHECK_OK(decide(&row, NULL, s, OTHER, "master", "fixed", NULL, "other branch", 1));
	json_decref(row);
	CHECK_OK(pg_triage_apply_status(st, s));
	CHECK_INT(json_array_size(json_object_get(st, "unfixed")), 1);
	CHECK_INT(json_array_size(json_object_get(st, "decided")), 1);
	CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(st, "decided"), 0), "engine")), "unfixed");
	CHECK(json_object_get(json_array_get(json_object_get(st, "unfixed"), 0), "decision") == NULL);
	CHECK_INT(json_integer_value(json_object_get(json_object_get(st, "counts"), "unfixed")), 1);
	CHECK_INT(json_integer_value(json_object_get(json_object_get(st, "counts"), "decided")), 1);
	json_decref(st);
	pg_store_free(s);
}

TEST(tokens)
{
	pg_store *s = fresh("t.db");
	char *tok = NULL, *name = NULL;
	pg_triage_role role;
	json_t *list = NULL;
	pg_stmt *st = NULL;
	CHECK(s != NULL);
	CHECK_OK(pg_triage_token_add(&tok, s, "ci-bot", PG_ROLE_TRIAGER, 100));
	CHECK(tok && strlen(tok) == 44 && !strncmp(tok, "pgt_", 4));
	CHECK(pg_triage_token_add(&name, s, "ci-bot", PG_ROLE_READER, 100) == PG_EINVALID);
	CHECK(pg_triage_token_add(&name, s, "bad name", PG_ROLE_READER, 100) == PG_EINVALID);
	CHECK_OK(pg_triage_token_check(&role, &name, s, tok));
	CHECK_INT(role, PG_ROLE_TRIAGER);
	CHECK_STR(name, "ci-bot");
	free(name);
	name = NULL;
	/* the secret is not in the database */
	CHECK_OK(pg_store_prepare(&st, s, "SELECT count(*) FROM tokens WHERE hash = ? OR hash = ?"));
	pg_stmt_bind_text(st, 1, tok);
	pg_stmt_bind_text(st, 2, tok + 4);
	CHECK(pg_stmt_step(st) == 1);
	CHECK_INT(pg_stmt_int(st, 0), 0);
	pg_stmt_free(st);
	tok[10] ^= 1;
	CHECK(pg_triage_token_check(&role, NULL, s, tok) == PG_ENOTFOUND);
	CHECK(pg_triage_token_check(&role, NULL, s, "pgt_short") == PG_ENOTFOUND);
	CHECK_OK(pg_triage_token_list(&list, s));
	CHECK_INT(json_array_size(list), 1);
	CHECK_STR(json_string_value(json_object_get(json_array_get(list, 0), "role")), "triager");
	json_decref(list);
	CHECK_OK(pg_triage_token_remove(s, "ci-bot"));
	CHECK(pg_triage_token_remove(s, "ci-bot") == PG_ENOTFOUND);
	free(tok);
	pg_store_free(s);
}

TEST(request_body)
{
	json_t *o = NULL;
	pg_decision d;
	const char *f = NULL;
	static const char good[] = "{\"target\": \"CVE-2026-1\", \"branch\": \"b\", \"state\": \"fixed\", \"note\": \"n\","
				   " \"config\": null}";
	CHECK_OK(pg_triage_parse_request(&o, &d, &f, good, strlen(good)));
	CHECK_STR(d.target, "CVE-2026-1");
	CHECK(d.config == NULL && d.justification == NULL && d.author == NULL);
	json_decref(o);
	CHECK(pg_triage_parse_request(&o, &d, &f, "{\"colour\": \"red\"}", 17) == PG_EINVALID);
	CHECK_STR(f, "colour");
	CHECK(pg_triage_parse_request(&o, &d, &f, "{\"note\": 3}", 11) == PG_EINVALID);
	CHECK_STR(f, "note");
	/* jansson refuses \u0000 in strings: not JSON */
	CHECK(pg_triage_parse_request(&o, &d, &f, "{\"note\": \"a\\u0000b\"}", strlen("{\"note\": \"a\\u0000b\"}")) == PG_EINVALID);
	CHECK(pg_triage_parse_request(&o, &d, &f, "[]", 2) == PG_EINVALID);
	CHECK(f == NULL);
	CHECK(pg_triage_parse_request(&o, &d, &f, "{\"note\": \"a\", \"note\": \"b\"}", 26) == PG_EINVALID);
	CHECK(o == NULL);
}

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/pg-test-triage-XXXXXX");
	if (!mkdtemp(tmpdir))
		return 1;
	RUN(validation_names_the_field);
	RUN(history_and_latest);
	RUN(status_overlay);
	RUN(tokens);
	RUN(request_body);
	{
		char cmd[200];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", tmpdir);
	}
	return harness_done();
}
