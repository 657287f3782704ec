/*
 * output.c - a backport result as an mbox series (`git am` input) and as
 * JSON, and its row in the database (backport_runs).
 *
 * The mbox is built from the step trees, so it exists even when no commit was
 * created (--no-branch): patch i is the diff between step i-1's tree (the
 * branch head for the first) and step i's tree, with the message the commit
 * has (or would have).  Subjects follow the stable review style
 * "[PATCH 6.1 n/m]" when the branch is linux-X.Y.y, else "[PATCH n/m]".
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include "backport/backport_int.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/str.h"
#include "util/banned.h"

static void rfc2822(char *buf, size_t size, const git_time *t)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t local = (time_t)(t->time + (int64_t)t->offset * 60);
	struct tm tm;
	int off = t->offset < 0 ? -t->offset : t->offset;

	gmtime_r(&local, &tm);
	snprintf(buf, size, "%s, %d %s %d %02d:%02d:%02d %c%02d%02d", days[tm.tm_wday], tm.tm_mday,
		 months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 t->offset < 0 ? '-' : '+', off / 60, off % 60);
}

/* "6.1 " for linux-6.1.y, else "". */
static void series_tag(char *buf, size_t size, const char *branch)
{
	const char *p = strstr(branch, "linux-");
	size_t n;
	buf[0] = '\0';
	if (!p)
		return;
	p += 6;
	n = strspn(p, "0123456789.");
	if (n >= 3 && pg_str_starts_with(p + n - 1, ".y"))
		snprintf(buf, size, "%.*s ", (int)(n - 1), p);
}

/*
 * A message body in an mbox: a line "From ..." would start a new message
 * for a reader, so lines matching ">*From " get one more '>' (mboxrd,
 * undone by `git am --patch-format=mboxrd`).  Returns 0 or -1.
 */
static int put_mboxrd_body(pg_buf *b, const char *text)
{
	int error = 0;
	while (*text && !error) {
		const char *nl = strchr(text, '\n');
		size_t n = nl ? (size_t)(nl - text + 1) : strlen(text), q = strspn(text, ">");
		if (q < n && !strncmp(text + q, "From ", 5))
			error = pg_buf_putc(b, '>');
		if (!error)
			error = pg_buf_put(b, text, n);
		text += n;
	}
	return error < 0 ? -1 : 0;
}

int pg_backport_mbox(char **out, git_repository *repo, const pg_backport_result *r)
{
	pg_buf b = PG_BUF_INIT;
	git_tree *prev = NULL;
	git_commit *head = NULL;
	char tag[32];
	int error = 0;

	*out = NULL;
	if (r->status != PG_BACKPORT_CLEAN && r->status != PG_BACKPORT_WITH_DEPS)
		return pg_error_setc(PG_EINVALID, "no mbox: the backport is %s, no series applies",
				     pg_backport_status_name(r->status));
	series_tag(tag, sizeof(tag), r->branch_name);
	if (git_commit_lookup(&head, repo, &r->head) < 0 || git_commit_tree(&prev, head) < 0) {
		error = pg_error_set("cannot read the branch head: %s", pg_backport__git_msg());
		goto out;
	}
	for (size_t i = 0; i < r->nsteps; i++) {
		const pg_backport_step *s = &r->steps[i];
		git_commit *up = NULL;
		git_tree *tree = NULL;
		git_diff *diff = NULL;
		git_diff_stats *stats = NULL;
		git_buf statbuf = { 0 };
		git_diff_options dopts;
		pg_buf msg = PG_BUF_INIT;
		const git_signature *au;
		char hex[GIT_OID_HEXSZ + 1], date[64];
		const char *body, *nl;

		git_diff_options_init(&dopts, GIT_DIFF_OPTIONS_VERSION);
		dopts.flags |= GIT_DIFF_INDENT_HEURISTIC | GIT_DIFF_SHOW_BINARY;
		if (git_commit_lookup(&up, repo, &s->upstream) < 0 || git_tree_lookup(&tree, repo, &s->tree) < 0 ||
		    git_diff_tree_to_tree(&diff, repo, prev, tree, &dopts) < 0 ||
		    git_diff_get_stats(&stats, diff) < 0 ||
		    git_diff_stats_to_buf(&statbuf, stats, GIT_DIFF_STATS_FULL | GIT_DIFF_STATS_INCLUDE_SUMMARY, 72) < 0) {
			error = pg_error_set("cannot format patch %zu of the series: %s", i + 1,
					     pg_backport__git_msg());
			goto step_out;
		}
		if ((error = pg_backport__message(&msg, up, r, s->prerequisite, r->nsteps - 1)) < 0)
			goto step_out;
		au = git_commit_author(up);
		rfc2822(date, sizeof(date), &au->when);
		git_oid_tostr(hex, sizeof(hex), !git_oid_is_zero(&s->created) ? &s->created : &s->upstream);
		nl = strchr(msg.ptr, '\n');
		body = nl ? nl + 1 : "";
		while (*body == '\n')
			body++;
		error |= pg_buf_printf(&b, "From %s Mon Sep 17 00:00:00 2001\n", hex);
		error |= pg_buf_printf(&b, "From: %s <%s>\nDate: %s\n", au->name, au->email, date);
		if (r->nsteps == 1) /* tag ends with a space: drop it */
			error |= pg_buf_printf(&b, "Subject: [PATCH%s%.*s] ", *tag ? " " : "",
					       (int)(*tag ? strlen(tag) - 1 : 0), tag);
		else
			error |= pg_buf_printf(&b, "Subject: [PATCH %s%zu/%zu] ", tag, i + 1, r->nsteps);
		error |= pg_buf_put(&b, msg.ptr, nl ? (size_t)(nl - msg.ptr) : msg.len);
		error |= pg_buf_puts(&b, "\nMIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n"
				     "Content-Transfer-Encoding: 8bit\n\n");
		error |= put_mboxrd_body(&b, body);
		error |= pg_buf_puts(&b, "---\n");
		error |= pg_buf_put(&b, statbuf.ptr, statbuf.size);
		error |= pg_buf_putc(&b, '\n');
		if (error) {
			error = pg_error_setc(PG_ENOMEM, "out of memory");
			goto step_out;
		}
		git_diff_free(diff);
		diff = NULL;
		if ((error = pg_backport__diff_text(&b, repo, prev, tree)) < 0)
			goto step_out;
		error = pg_buf_printf(&b, "-- \npatchgap %s\n\n", PG_VERSION) < 0 ? PG_ENOMEM : 0;
		git_tree_free(prev);
		prev = tree;
		tree = NULL;
step_out:
		pg_buf_release(&msg);
		git_buf_dispose(&statbuf);
		git_diff_stats_free(stats);
		git_diff_free(diff);
		git_tree_free(tree);
		git_commit_free(up);
		if (error < 0)
			goto out;
	}
	if (!(*out = pg_buf_detach(&b)))
		error = PG_ENOMEM;
out:
	pg_buf_release(&b);
	git_tree_free(prev);
	git_commit_free(head);
	return error;
}

/* ---- JSON ---------------------------------------------------------------- */

static json_t *oid_json(const git_oid *id)
{
	char hex[GIT_OID_HEXSZ + 1];
	if (git_oid_is_zero(id))
		return json_null();
	git_oid_tostr(hex, sizeof(hex), id);
	return json_string(hex);
}

static json_t *side_json(unsigned start, unsigned lines, const char *text)
{
	return json_pack("{s:I, s:I, s:s}", "start", (json_int_t)start, "lines", (json_int_t)lines, "text",
			 text ? text : "");
}

static json_t *conflicts_json(const pg_backport_conflict *c, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++) {
		json_t *hunks = json_array(), *o;
		for (size_t j = 0; hunks && j < c[i].nhunks; j++) {
			const pg_backport_hunk *h = &c[i].hunks[j];
			json_array_append_new(hunks, json_pack("{s:o, s:o, s:o}",
				"ours", side_json(h->ours_start, h->ours_lines, h->ours),
				"base", side_json(h->base_start, h->base_lines, h->base),
				"theirs", side_json(h->theirs_start, h->theirs_lines, h->theirs)));
		}
		o = json_pack("{s:s, s:s, s:s, s:o, s:o}", "path", c[i].path, "upstream_path", c[i].upstream_path,
			      "kind", c[i].kind, "commit", oid_json(&c[i].commit), "hunks", hunks ? hunks : json_array());
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *to_json(const pg_backport_result *r)
{
	json_t *o = json_object(), *a;
	if (!o)
		return NULL;
	json_object_set_new(o, "fix", oid_json(&r->fix));
	json_object_set_new(o, "fix_subject", json_string(r->fix_subject ? r->fix_subject : ""));
	json_object_set_new(o, "onto", json_string(r->onto_ref ? r->onto_ref : ""));
	json_object_set_new(o, "branch", json_string(r->branch_name ? r->branch_name : ""));
	json_object_set_new(o, "head", oid_json(&r->head));
	json_object_set_new(o, "fork_point", r->has_fork_point ? oid_json(&r->fork_point) : json_null());
	json_object_set_new(o, "status", json_string(pg_backport_status_name(r->status)));
	json_object_set_new(o, "created_ref", r->created_ref ? json_string(r->created_ref) : json_null());
	if (r->status == PG_BACKPORT_PRESENT)
		json_object_set_new(o, "present", json_pack("{s:s, s:o, s:s}", "how", r->present_how,
				    "commit", oid_json(&r->present_commit), "evidence",
				    r->present_evidence ? r->present_evidence : ""));
	else
		json_object_set_new(o, "present", json_null());
	a = json_array();
	for (size_t i = 0; a && i < r->nsteps; i++) {
		const pg_backport_step *s = &r->steps[i];
		json_array_append_new(a, json_pack("{s:o, s:s, s:b, s:s, s:o, s:o}", "commit", oid_json(&s->upstream),
				      "subject", s->subject, "prerequisite", s->prerequisite, "why", s->why,
				      "tree", oid_json(&s->tree), "created", oid_json(&s->created)));
	}
	json_object_set_new(o, "series", a);
	json_object_set_new(o, "conflicts", conflicts_json(r->conflicts, r->nconflicts));
	json_object_set_new(o, "remaining_conflicts", conflicts_json(r->remaining, r->nremaining));
	a = json_array();
	for (size_t i = 0; a && i < r->ncandidates; i++)
		json_array_append_new(a, json_pack("{s:o, s:s, s:s, s:b}", "commit", oid_json(&r->candidates[i].id),
				      "subject", r->candidates[i].subject, "why", r->candidates[i].why,
				      "used", r->candidates[i].used));
	json_object_set_new(o, "candidates", a);
	a = json_array();
	for (size_t i = 0; a && i < r->nrenames; i++)
		json_array_append_new(a, json_pack("{s:s, s:s, s:I}", "from", r->renames[i].from, "to",
				      r->renames[i].to, "similarity", (json_int_t)r->renames[i].similarity));
	json_object_set_new(o, "renames", a);
	if (r->test.ran)
		json_object_set_new(o, "test", json_pack("{s:b, s:i, s:b, s:I, s:s, s:s}", "passed", r->test.passed,
				    "exit_code", r->test.exit_code, "timed_out", r->test.timed_out,
				    "duration_ms", (json_int_t)r->test.duration_ms, "reason",
				    r->test.reason ? r->test.reason : "", "log_tail",
				    r->test.log_tail ? r->test.log_tail : ""));
	else
		json_object_set_new(o, "test", json_null());
	json_object_set_new(o, "livepatch", r->livepatch ? pg_livepatch__to_json(r->livepatch) : json_null());
	return o;
}

int pg_backport_json(char **out, const pg_backport_result *r)
{
	json_t *o = to_json(r);
	*out = o ? json_dumps(o, JSON_SORT_KEYS | JSON_INDENT(2)) : NULL;
	json_decref(o);
	return *out ? 0 : pg_error_setc(PG_ENOMEM, "cannot format the backport result as JSON");
}

/* ---- database ------------------------------------------------------------ */

int pg_backport_record(pg_store *s, const pg_backport_result *r, const char *test_cmd, int64_t now,
		       int64_t *id_out)
{
	static const char sql[] =
		"INSERT INTO backport_runs (fix_sha, onto_ref, onto_sha, status, series, created_ref,"
		" result_sha, conflicts, present_how, present_sha, test_cmd, test_result, test_reason,"
		" test_exit, test_duration_ms, test_log_tail, livepatch, created_at, conflict_hunks)"
		" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
	pg_stmt *st = NULL;
	pg_buf series = PG_BUF_INIT;
	char fix[GIT_OID_HEXSZ + 1], head[GIT_OID_HEXSZ + 1], res[GIT_OID_HEXSZ + 1], pres[GIT_OID_HEXSZ + 1];
	char *hunks = NULL;
	size_t nconf = 0;
	int error;

	git_oid_tostr(fix, sizeof(fix), &r->fix);
	git_oid_tostr(head, sizeof(head), &r->head);
	git_oid_tostr(pres, sizeof(pres), &r->present_commit);
	res[0] = '\0';
	if (r->created && r->nsteps)
		git_oid_tostr(res, sizeof(res), &r->steps[r->nsteps - 1].created);
	for (size_t i = 0; i < r->nsteps; i++) {
		char hex[GIT_OID_HEXSZ + 1];
		git_oid_tostr(hex, sizeof(hex), &r->steps[i].upstream);
		if (pg_buf_printf(&series, "%s%s", i ? " " : "", hex) < 0) {
			pg_buf_release(&series);
			return PG_ENOMEM;
		}
	}
	for (size_t i = 0; i < r->nremaining; i++)
		nconf += r->remaining[i].nhunks ? r->remaining[i].nhunks : 1;
	if ((error = pg_store_begin(s)) < 0)
		goto out;
	if ((error = pg_store_prepare(&st, s, sql)) < 0)
		goto fail;
	pg_stmt_bind_text(st, 1, fix);
	pg_stmt_bind_text(st, 2, r->onto_ref);
	pg_stmt_bind_text(st, 3, head);
	pg_stmt_bind_text(st, 4, pg_backport_status_name(r->status));
	pg_stmt_bind_text(st, 5, series.len ? series.ptr : NULL);
	pg_stmt_bind_text(st, 6, r->created_ref);
	pg_stmt_bind_text(st, 7, res[0] ? res : NULL);
	pg_stmt_bind_int(st, 8, (int64_t)nconf);
	pg_stmt_bind_text(st, 9, r->status == PG_BACKPORT_PRESENT ? r->present_how : NULL);
	pg_stmt_bind_text(st, 10, r->status == PG_BACKPORT_PRESENT && !git_oid_is_zero(&r->present_commit) ? pres : NULL);
	pg_stmt_bind_text(st, 11, test_cmd);
	pg_stmt_bind_text(st, 12, r->test.ran ? (r->test.passed ? "pass" : "fail") : NULL);
	pg_stmt_bind_text(st, 13, r->test.ran ? r->test.reason : NULL);
	if (r->test.ran && r->test.exit_code >= 0)
		pg_stmt_bind_int(st, 14, r->test.exit_code);
	else
		pg_stmt_bind_null(st, 14);
	if (r->test.ran)
		pg_stmt_bind_int(st, 15, r->test.duration_ms);
	else
		pg_stmt_bind_null(st, 15);
	pg_stmt_bind_text(st, 16, r->test.ran ? r->test.log_tail : NULL);
	pg_stmt_bind_text(st, 17, r->livepatch ? pg_livepatch_level_name(r->livepatch->level) : NULL);
	pg_stmt_bind_int(st, 18, now);
	/* what is left to resolve by hand: the best series' conflicts, else the fix's own */
	if (r->status == PG_BACKPORT_CONFLICT) {
		json_t *c = r->nremaining ? conflicts_json(r->remaining, r->nremaining)
					  : conflicts_json(r->conflicts, r->nconflicts);
		hunks = c ? json_dumps(c, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
		json_decref(c);
	}
	pg_stmt_bind_text(st, 19, hunks);
	if ((error = pg_stmt_exec(st)) < 0)
		goto fail;
	if (id_out)
		*id_out = pg_store_last_id(s);
	if ((error = pg_store_commit(s)) < 0)
		goto fail;
	goto out;
fail:
	pg_error_prefix("cannot record the backport run of %.12s", fix);
	pg_store_rollback(s);
out:
	free(hunks);
	pg_stmt_free(st);
	pg_buf_release(&series);
	return error;
}

int pg_backport_runs(void **out, pg_store *s, const char *fix_sha)
{
	static const char *const cols[] = { "onto_ref", "onto_sha", "status", NULL, "result_sha", "present_how",
					     "present_sha", "test_result", "test_reason" };
	pg_stmt *st = NULL;
	json_t *arr = json_array();
	int error, rc;

	*out = NULL;
	if (!arr)
		return pg_error_setc(PG_ENOMEM, "out of memory");
	if ((error = pg_store_prepare(&st, s, "SELECT onto_ref, onto_sha, status, conflicts, result_sha, present_how,"
					      " present_sha, test_result, test_reason, livepatch, created_at, id, conflict_hunks"
					      " FROM backport_runs WHERE fix_sha = ? ORDER BY id")) < 0)
		goto out;
	pg_stmt_bind_text(st, 1, fix_sha);
	while ((rc = pg_stmt_step(st)) > 0) {
		json_t *r = json_object();
		char date[40];
		if (!r) {
			error = pg_error_setc(PG_ENOMEM, "out of memory");
			goto out;
		}
		for (int c = 0; c < 9; c++)
			if (cols[c])
				pg_json_set(r, cols[c], pg_json_string(pg_stmt_text(st, c)));
		pg_json_set(r, "conflicts", json_integer(pg_stmt_int(st, 3)));
		pg_json_set(r, "livepatch", pg_json_string(pg_stmt_text(st, 9)));
		pg_time_iso8601(date, sizeof(date), pg_stmt_int(st, 10));
		pg_json_set(r, "created", json_string(date));
		pg_json_set(r, "id", json_integer(pg_stmt_int(st, 11)));
		{
			/* [{path, upstream_path, kind, commit, hunks: [{ours, base, theirs: {start, lines, text}}]}] */
			const char *h = pg_stmt_text(st, 12);
			json_t *c = h ? json_loads(h, 0, NULL) : NULL;
			pg_json_set(r, "conflict_hunks", json_is_array(c) ? c : (json_decref(c), json_array()));
		}
		json_array_append_new(arr, r);
	}
	if ((error = rc) < 0)
		goto out;
	*out = arr;
	arr = NULL;
out:
	pg_stmt_free(st);
	json_decref(arr);
	return error;
}
