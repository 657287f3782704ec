/*
 * query.c - read-only views of the ingested history for `log` and `show`.
 * Results are jansson values so the CLI can print them as JSON or text
 * from one source of truth.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "patchgap/ingest.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/str.h"
#include "util/banned.h"

/* [lo, hi) bounds of ids starting with a hex prefix, for an index range scan. */
static int prefix_bounds(char lo[42], char hi[42], const char *id)
{
	size_t n = strlen(id);
	if (n < 4 || n > 40 || pg_str_hexlen(id, 41) != n)
		return pg_error_setc(PG_EINVALID, "'%s' is not a commit id (4 to 40 hex digits)", id);
	memcpy(lo, id, n);
	lo[n] = '\0';
	pg_str_lower(lo);
	memcpy(hi, lo, n + 1);
	hi[n] = 'g'; /* > any hex digit */
	hi[n + 1] = '\0';
	return 0;
}

int pg_ingest_resolve(char out[41], pg_store *store, const char *id)
{
	pg_stmt *st = NULL;
	char lo[42], hi[42];
	pg_buf cands = PG_BUF_INIT;
	int error, rc, n = 0;

	if ((error = prefix_bounds(lo, hi, id)) < 0)
		return error;
	if ((error = pg_store_prepare(&st, store,
				      "SELECT sha FROM commits WHERE sha >= ? AND sha < ? ORDER BY sha LIMIT 10")) < 0)
		return error;
	pg_stmt_bind_text(st, 1, lo);
	pg_stmt_bind_text(st, 2, hi);
	while ((rc = pg_stmt_step(st)) > 0) {
		if (!n)
			snprintf(out, 41, "%s", pg_stmt_text(st, 0));
		pg_buf_printf(&cands, " %s", pg_stmt_text(st, 0));
		n++;
	}
	if (rc < 0)
		error = rc;
	else if (n == 0)
		error = pg_error_setc(PG_ENOTFOUND, "commit '%s' is not in the database (not ingested?)", id);
	else if (n > 1)
		error = pg_error_setc(PG_EAMBIGUOUS, "commit id '%s' is ambiguous:%s", id, pg_buf_cstr(&cands));
	pg_buf_release(&cands);
	pg_stmt_free(st);
	return error;
}

static json_t *row_summary(pg_stmt *st)
{
	json_t *o = json_object();
	char when[32];
	pg_time_iso8601(when, sizeof(when), pg_stmt_int(st, 3));
	pg_json_set(o, "sha", pg_json_string(pg_stmt_text(st, 0)));
	pg_json_set(o, "subject", pg_json_string(pg_stmt_text(st, 1)));
	pg_json_set(o, "author", pg_json_string(pg_stmt_text(st, 2)));
	pg_json_set(o, "date", json_string(when));
	pg_json_set(o, "mainline_release", pg_json_string(pg_stmt_text(st, 4)));
	pg_json_set(o, "files_changed", json_integer(pg_stmt_int(st, 5)));
	return o;
}

int pg_ingest_log(json_t **out, pg_store *store, const pg_log_filter *f)
{
	pg_buf sql = PG_BUF_INIT;
	pg_stmt *st = NULL;
	json_t *arr = json_array();
	char lo[42], hi[42], plo[4200];
	int error = 0, rc, idx = 1;

	*out = NULL;
	if (f->branch) {
		/* an unknown branch is an error, not an empty history */
		if ((error = pg_store_prepare(&st, store, "SELECT 1 FROM branches WHERE name = ?")) < 0)
			goto out;
		pg_stmt_bind_text(st, 1, f->branch);
		if ((rc = pg_stmt_step(st)) <= 0) {
			error = rc < 0 ? rc : pg_error_setc(PG_ENOTFOUND, "unknown branch '%s' (not in the config's tracked branches, or never ingested)",
							    f->branch);
			goto out;
		}
		pg_stmt_free(st);
		st = NULL;
	}
	pg_buf_puts(&sql, "SELECT c.sha, c.subject, c.author, c.committer_time, c.mainline_release, c.files_changed"
			  " FROM commits c WHERE c.reachable = 1");
	if (f->branch)
		pg_buf_puts(&sql, " AND (EXISTS (SELECT 1 FROM branches b WHERE b.name = ? AND b.kind = 'mainline'"
				  " AND c.on_mainline = 1) OR EXISTS (SELECT 1 FROM branch_commits bc JOIN branches b"
				  " ON b.id = bc.branch_id WHERE b.name = ? AND bc.commit_id = c.id AND bc.reachable = 1))");
	if (f->since)
		pg_buf_puts(&sql, " AND c.committer_time >= ?");
	if (f->until)
		pg_buf_puts(&sql, " AND c.committer_time <= ?");
	if (f->path)
		pg_buf_puts(&sql, " AND EXISTS (SELECT 1 FROM commit_files cf WHERE cf.commit_id = c.id"
				  " AND cf.path >= ? AND cf.path < ?)");
	if (f->has_fixes)
		pg_buf_puts(&sql, " AND EXISTS (SELECT 1 FROM trailers t WHERE t.commit_id = c.id AND t.kind = 'fixes')");
	if (f->backport_of) {
		if ((error = prefix_bounds(lo, hi, f->backport_of)) < 0)
			goto out;
		pg_buf_puts(&sql, " AND EXISTS (SELECT 1 FROM relations r WHERE r.commit_id = c.id AND r.kind = 'upstream'"
				  " AND ((r.target_sha >= ? AND r.target_sha < ?) OR (r.ref_id >= ? AND r.ref_id < ?)))");
	}
	pg_buf_puts(&sql, " ORDER BY c.committer_time DESC, c.id DESC");
	if (f->limit)
		pg_buf_printf(&sql, " LIMIT %zu", f->limit);
	if ((error = pg_store_prepare(&st, store, sql.ptr)) < 0)
		goto out;
	if (f->branch) {
		pg_stmt_bind_text(st, idx++, f->branch);
		pg_stmt_bind_text(st, idx++, f->branch);
	}
	if (f->since)
		pg_stmt_bind_int(st, idx++, f->since);
	if (f->until)
		pg_stmt_bind_int(st, idx++, f->until);
	if (f->path) {
		/* prefix range: "drivers/net" matches "drivers/net/..." and "drivers/netfilter"? no:
		 * a prefix ending without '/' is treated as a directory or exact file */
		size_t n = strlen(f->path);
		snprintf(plo, sizeof(plo), "%s", f->path);
		if (n && plo[n - 1] == '/')
			plo[n - 1] = '\0';
		pg_stmt_bind_text(st, idx++, plo);
		n = strlen(plo);
		if (n + 2 < sizeof(plo)) {
			plo[n] = '0'; /* '/' + 1: every "prefix/..." sorts below "prefix0" */
			plo[n + 1] = '\0';
		}
		pg_stmt_bind_text(st, idx++, plo);
	}
	if (f->backport_of) {
		pg_stmt_bind_text(st, idx++, lo);
		pg_stmt_bind_text(st, idx++, hi);
		pg_stmt_bind_text(st, idx++, lo);
		pg_stmt_bind_text(st, idx++, hi);
	}
	while ((rc = pg_stmt_step(st)) > 0)
		json_array_append_new(arr, row_summary(st));
	if (rc < 0)
		error = rc;
out:
	pg_stmt_free(st);
	pg_buf_release(&sql);
	if (error < 0)
		json_decref(arr);
	else
		*out = arr;
	return error;
}

/* Run a query with one text parameter and turn each row into an object with the given keys. */
static int rows(json_t **out, pg_store *store, const char *sql, const char *param, const char *const *keys)
{
	pg_stmt *st = NULL;
	json_t *arr = json_array();
	int error, rc;

	*out = NULL;
	if ((error = pg_store_prepare(&st, store, sql)) < 0) {
		json_decref(arr);
		return error;
	}
	pg_stmt_bind_text(st, 1, param);
	while ((rc = pg_stmt_step(st)) > 0) {
		json_t *o = json_object();
		for (int c = 0; keys[c]; c++) {
			if (pg_stmt_isnull(st, c))
				pg_json_set(o, keys[c], json_null());
			else if (keys[c][0] == '#')
				pg_json_set(o, keys[c] + 1, json_integer(pg_stmt_int(st, c)));
			else
				pg_json_set(o, keys[c], pg_json_string(pg_stmt_text(st, c)));
		}
		json_array_append_new(arr, o);
	}
	pg_stmt_free(st);
	if (rc < 0) {
		json_decref(arr);
		return rc;
	}
	*out = arr;
	return 0;
}

int pg_ingest_show(json_t **out, pg_store *store, const char *id)
{
	static const char *const kfiles[] = { "path", "status", "#added", "#deleted", NULL };
	static const char *const ktr[] = { "kind", "raw", "value", "ref_id", "ref_subject", "hint", "#malformed", NULL };
	static const char *const krel[] = { "kind", "ref_id", "target", "state", "candidates", "target_subject", NULL };
	static const char *const kback[] = { "sha", "subject", "branch", "release", "kind", NULL };
	static const char *const kin[] = { "branch", "release", "#reachable", NULL };
	char sha[41], when[32];
	pg_stmt *st = NULL;
	json_t *o = NULL, *a;
	int error;

	*out = NULL;
	if ((error = pg_ingest_resolve(sha, store, id)) < 0)
		return error;
	if ((error = pg_store_prepare(&st, store,
				      "SELECT sha, author, author_email, author_time, committer_time, parents, subject, message,"
				      " files_changed, insertions, deletions, diff_state, mainline_release, on_mainline, reachable"
				      " FROM commits WHERE sha = ?")) < 0)
		return error;
	pg_stmt_bind_text(st, 1, sha);
	if ((error = pg_stmt_step(st)) <= 0) {
		pg_stmt_free(st);
		return error < 0 ? error : pg_error_setc(PG_ENOTFOUND, "commit '%s' vanished", sha);
	}
	o = json_object();
	pg_json_set(o, "sha", pg_json_string(pg_stmt_text(st, 0)));
	pg_json_set(o, "author", pg_json_string(pg_stmt_text(st, 1)));
	pg_json_set(o, "author_email", pg_json_string(pg_stmt_text(st, 2)));
	pg_time_iso8601(when, sizeof(when), pg_stmt_int(st, 3));
	pg_json_set(o, "author_date", json_string(when));
	pg_time_iso8601(when, sizeof(when), pg_stmt_int(st, 4));
	pg_json_set(o, "commit_date", json_string(when));
	a = json_array();
	{
		const char *p = pg_stmt_text(st, 5);
		while (p && *p) {
			size_t n = strcspn(p, " ");
			json_array_append_new(a, json_stringn(p, n));
			p += n + (p[n] == ' ');
		}
	}
	pg_json_set(o, "parents", a);
	pg_json_set(o, "subject", pg_json_string(pg_stmt_text(st, 6)));
	pg_json_set(o, "message", pg_json_string(pg_stmt_text(st, 7)));
	a = json_object();
	pg_json_set(a, "files_changed", json_integer(pg_stmt_int(st, 8)));
	pg_json_set(a, "insertions", json_integer(pg_stmt_int(st, 9)));
	pg_json_set(a, "deletions", json_integer(pg_stmt_int(st, 10)));
	pg_json_set(o, "diffstat", a);
	pg_json_set(o, "diff_state", pg_json_string(pg_stmt_text(st, 11)));
	pg_json_set(o, "mainline_release", pg_json_string(pg_stmt_text(st, 12)));
	pg_json_set(o, "on_mainline", json_boolean(pg_stmt_int(st, 13)));
	pg_json_set(o, "reachable", json_boolean(pg_stmt_int(st, 14)));
	pg_stmt_free(st);

#define SUB(key, sql, keys) do { if ((error = rows(&a, store, sql, sha, keys)) < 0) goto out; \
	pg_json_set(o, key, a); } while (0)
	SUB("files", "SELECT path, status, added, deleted FROM commit_files cf JOIN commits c ON c.id = cf.commit_id"
		     " WHERE c.sha = ? ORDER BY path", kfiles);
	SUB("trailers", "SELECT kind, raw, value, ref_id, ref_subject, hint, malformed FROM trailers t"
			" JOIN commits c ON c.id = t.commit_id WHERE c.sha = ? ORDER BY seq", ktr);
	SUB("relations", "SELECT r.kind, r.ref_id, r.target_sha, r.state, r.candidates, tc.subject FROM relations r"
			 " JOIN commits c ON c.id = r.commit_id LEFT JOIN commits tc ON tc.sha = r.target_sha"
			 " WHERE c.sha = ? ORDER BY r.kind, r.ref_id", krel);
	SUB("branches", "SELECT b.name, bc.release, bc.reachable FROM branch_commits bc JOIN branches b ON b.id = bc.branch_id"
			" JOIN commits c ON c.id = bc.commit_id WHERE c.sha = ? ORDER BY b.name", kin);
	/* who points at this commit: backports, fixes of it, reverts of it */
	SUB("referenced_by", "SELECT c.sha, c.subject, b.name, bc.release, r.kind FROM relations r"
			     " JOIN commits c ON c.id = r.commit_id"
			     " LEFT JOIN branch_commits bc ON bc.commit_id = c.id AND bc.reachable = 1"
			     " LEFT JOIN branches b ON b.id = bc.branch_id"
			     " WHERE r.target_sha = ? ORDER BY r.kind, b.name, c.sha", kback);
#undef SUB
	*out = o;
	o = NULL;
out:
	json_decref(o);
	return error;
}

int pg_ingest_branches(json_t **out, pg_store *store)
{
	pg_stmt *st = NULL;
	json_t *arr = json_array();
	int error = 0, rc;

	*out = NULL;
	if (!arr)
		return pg_error_setc(PG_ENOMEM, "out of memory");
	if ((error = pg_store_prepare(&st, store, "SELECT name, kind, ref, head_sha, base_tag, config_path"
						  " FROM branches ORDER BY id")) < 0)
		goto out;
	while ((rc = pg_stmt_step(st)) > 0) {
		json_t *b = json_object();
		if (!b || pg_json_set(b, "name", pg_json_string(pg_stmt_text(st, 0))) < 0 ||
		    pg_json_set(b, "kind", pg_json_string(pg_stmt_text(st, 1))) < 0 ||
		    pg_json_set(b, "ref", pg_json_string(pg_stmt_text(st, 2))) < 0 ||
		    pg_json_set(b, "head", pg_json_string(pg_stmt_text(st, 3))) < 0 ||
		    pg_json_set(b, "base_tag", pg_json_string(pg_stmt_text(st, 4))) < 0 ||
		    pg_json_set(b, "config", pg_json_string(pg_stmt_text(st, 5))) < 0 ||
		    json_array_append_new(arr, b) < 0) {
			json_decref(b);
			error = pg_error_setc(PG_ENOMEM, "out of memory");
			goto out;
		}
	}
	if (rc < 0) {
		error = rc;
		goto out;
	}
	*out = arr;
	arr = NULL;
out:
	json_decref(arr);
	pg_stmt_free(st);
	return error;
}

void pg_ingest_commit_release(pg_ingest_commit *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->npaths; i++)
		free(c->paths[i]);
	free(c->paths);
	free(c->sha);
	free(c->subject);
	free(c->message);
	memset(c, 0, sizeof(*c));
}

/* Appends the paths of commit c->id, in path order, to c->paths. */
static int load_paths(pg_ingest_commit *c, pg_stmt *files)
{
	size_t cap = c->npaths;
	int rc, error;
	if ((error = pg_stmt_reset(files)) < 0 || (error = pg_stmt_bind_int(files, 1, c->id)) < 0)
		return error;
	while ((rc = pg_stmt_step(files)) > 0) {
		const char *p = pg_stmt_text(files, 0);
		if (c->npaths == cap) {
			size_t na = cap ? cap * 2 : 16;
			char **np = realloc(c->paths, na * sizeof(*np));
			if (!np)
				return pg_error_setc(PG_ENOMEM, "out of memory");
			c->paths = np;
			cap = na;
		}
		if (!(c->paths[c->npaths] = strdup(p ? p : "")))
			return pg_error_setc(PG_ENOMEM, "out of memory");
		c->npaths++;
	}
	return rc < 0 ? rc : 0;
}

static int commit_row(pg_ingest_commit *c, pg_stmt *st)
{
	const char *subject = pg_stmt_text(st, 2), *message = pg_stmt_text(st, 3);
	c->id = pg_stmt_int(st, 0);
	c->committer_time = pg_stmt_int(st, 4);
	if (!(c->sha = strdup(pg_stmt_text(st, 1))) || !(c->subject = strdup(subject ? subject : "")) ||
	    !(c->message = strdup(message ? message : "")))
		return pg_error_setc(PG_ENOMEM, "out of memory");
	return 0;
}

int pg_ingest_commit_get(pg_ingest_commit *out, pg_store *store, const char *id)
{
	pg_stmt *st = NULL, *files = NULL;
	char lo[42], hi[42];
	int error, rc, found = 0;

	memset(out, 0, sizeof(*out));
	if ((error = prefix_bounds(lo, hi, id)) < 0)
		return error;
	if ((error = pg_store_prepare(&st, store, "SELECT id, sha, subject, message, committer_time FROM commits"
						  " WHERE sha >= ? AND sha < ? ORDER BY sha LIMIT 2")) < 0 ||
	    (error = pg_stmt_bind_text(st, 1, lo)) < 0 || (error = pg_stmt_bind_text(st, 2, hi)) < 0)
		goto out;
	while ((rc = pg_stmt_step(st)) > 0) {
		if (found++) {
			error = pg_error_setc(PG_EAMBIGUOUS, "commit id '%s' is ambiguous (matches %s and %s...)", id,
					      out->sha, pg_stmt_text(st, 1));
			goto out;
		}
		if ((error = commit_row(out, st)) < 0)
			goto out;
	}
	if (rc < 0) {
		error = rc;
		goto out;
	}
	if (!found) {
		error = pg_error_setc(PG_ENOTFOUND, "no ingested commit '%s' in %s", id, pg_store_path(store));
		goto out;
	}
	if ((error = pg_store_prepare(&files, store, "SELECT path FROM commit_files WHERE commit_id = ? ORDER BY path")) < 0)
		goto out;
	error = load_paths(out, files);
out:
	if (error < 0)
		pg_ingest_commit_release(out);
	pg_stmt_free(st);
	pg_stmt_free(files);
	return error;
}

int pg_ingest_commit_foreach(pg_store *store, int (*skip)(int64_t id, void *payload),
			     int (*cb)(const pg_ingest_commit *c, void *payload), void *payload)
{
	pg_stmt *st = NULL, *files = NULL;
	pg_ingest_commit c;
	char **paths = NULL;
	int error, rc;

	memset(&c, 0, sizeof(c));
	if ((error = pg_store_prepare(&st, store, "SELECT id, sha, subject, message, committer_time FROM commits ORDER BY id")) < 0 ||
	    (error = pg_store_prepare(&files, store, "SELECT path FROM commit_files WHERE commit_id = ? ORDER BY path")) < 0)
		goto out;
	while ((rc = pg_stmt_step(st)) > 0) {
		const char *subject = pg_stmt_text(st, 2), *message = pg_stmt_text(st, 3);
		c.id = pg_stmt_int(st, 0);
		if (skip && skip(c.id, payload))
			continue;
		/* the row's text is borrowed for the callback; the path array is reused */
		c.sha = (char *)pg_stmt_text(st, 1);
		c.subject = (char *)(subject ? subject : "");
		c.message = (char *)(message ? message : "");
		c.committer_time = pg_stmt_int(st, 4);
		for (size_t i = 0; i < c.npaths; i++)
			free(c.paths[i]);
		c.npaths = 0;
		c.paths = paths;
		error = load_paths(&c, files);
		paths = c.paths;
		if (error < 0)
			goto out;
		if ((error = cb(&c, payload)) != 0)
			goto out;
	}
	error = rc < 0 ? rc : 0;
out:
	for (size_t i = 0; i < c.npaths; i++)
		free(c.paths[i]);
	free(paths);
	pg_stmt_free(st);
	pg_stmt_free(files);
	return error;
}

int pg_ingest_commit_time(int64_t *out, pg_store *store, const char *sha)
{
	pg_stmt *st = NULL;
	int error, rc;
	if ((error = pg_store_prepare(&st, store, "SELECT committer_time FROM commits WHERE sha = ?")) < 0)
		return error;
	pg_stmt_bind_text(st, 1, sha);
	if ((rc = pg_stmt_step(st)) > 0)
		*out = pg_stmt_int(st, 0);
	pg_stmt_free(st);
	return rc < 0 ? rc : rc == 0 ? PG_ENOTFOUND : 0;
}

void pg_ingest_place_release(pg_ingest_place *p)
{
	free(p->first_path);
	free(p->release);
	memset(p, 0, sizeof(*p));
}

/* One row of a one-or-two-column query with text parameters; *text set only when the row has it. */
static int query1(pg_store *s, const char *sql, const char *p1, const char *p2, char **text, int64_t *num)
{
	pg_stmt *st = NULL;
	int error, rc;
	if ((error = pg_store_prepare(&st, s, sql)) < 0)
		return error;
	pg_stmt_bind_text(st, 1, p1);
	if (p2)
		pg_stmt_bind_text(st, 2, p2);
	if ((rc = pg_stmt_step(st)) > 0) {
		const char *t = pg_stmt_text(st, 0);
		if (text) {
			free(*text);
			*text = NULL;
			if (t && !(*text = strdup(t)))
				rc = pg_error_setc(PG_ENOMEM, "out of memory");
		}
		if (num)
			*num = pg_stmt_int(st, text ? 1 : 0);
	}
	pg_stmt_free(st);
	return rc < 0 ? rc : 0;
}

int pg_ingest_commit_place(pg_ingest_place *out, pg_store *s, const char *sha, const char *branch)
{
	int error;
	memset(out, 0, sizeof(*out));
	if ((error = query1(s, "SELECT f.path FROM commit_files f JOIN commits c ON c.id = f.commit_id"
			       " WHERE c.sha = ? ORDER BY f.path", sha, NULL, &out->first_path, NULL)) < 0)
		goto out;
	if (branch) {
		if ((error = query1(s, "SELECT committer_time FROM commits WHERE sha = ?", sha, NULL, NULL,
				    &out->committer_time)) < 0 ||
		    (error = query1(s, "SELECT bc.release FROM branch_commits bc JOIN branches b ON b.id = bc.branch_id"
				       " JOIN commits c ON c.id = bc.commit_id WHERE c.sha = ? AND b.name = ?",
				    sha, branch, &out->release, NULL)) < 0)
			goto out;
	} else if ((error = query1(s, "SELECT mainline_release, committer_time FROM commits WHERE sha = ?", sha, NULL,
				   &out->release, &out->committer_time)) < 0) {
		goto out;
	}
	if (out->release)
		error = query1(s, "SELECT tag_time FROM tags WHERE name = ?", out->release, NULL, NULL, &out->release_time);
out:
	if (error < 0)
		pg_ingest_place_release(out);
	return error;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "name")),
		      json_string_value(json_object_get(*(json_t *const *)b, "name")));
}

int pg_ingest_branches_by_name(json_t **out, pg_store *store)
{
	json_t *arr = NULL, **v;
	size_t n;
	int error;
	*out = NULL;
	if ((error = pg_ingest_branches(&arr, store)) < 0)
		return error;
	n = json_array_size(arr);
	if (!(v = calloc(n + 1, sizeof(*v)))) {
		json_decref(arr);
		return pg_error_setc(PG_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(arr, i));
	qsort(v, n, sizeof(*v), cmp_name);
	json_array_clear(arr);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, v[i]);
	free(v);
	*out = arr;
	return 0;
}
