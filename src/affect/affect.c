/*
 * affect.c - vulnerable/fixed pairs per tracked branch (see affect.h).
 *
 * A branch other than mainline is a "view": a mainline base (the series'
 * release tag vX.Y) plus the branch's own commits (branch_commits), indexed
 * by the upstream id each one carries (annotations), by subject for the
 * unannotated ones, and by what they revert.  Views are built once per
 * index from one query, so evaluating thousands of fixes against twenty
 * branches is hash lookups, not SQL.  Commit facts (mainline release,
 * Fixes: targets) are fetched once per id and cached.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <git2.h>
#include "patchgap/affect.h"
#include "affect/affect_int.h"
#include "util/json.h"
#include "util/str.h"
#include "util/banned.h"

static void commit_free(struct pg_affect__commit *c);

static void row_free(struct pg_affect__row *r)
{
	if (!r)
		return;
	free(r->subject);
	free(r->release);
	free(r);
}

void pg_affect__view_free(struct pg_affect__view *v)
{
	if (!v)
		return;
	if (v->owns_rows)
		for (size_t i = 0; i < v->rows.len; i++)
			row_free(v->rows.ptr[i]);
	pg_vec_release(&v->rows);
	pg_oidmap_release(&v->up);
	pg_oidmap_release(&v->up_last);
	pg_strmap_release(&v->subj);
	pg_oidmap_release(&v->reverted);
	pg_oidmap_release(&v->own);
	free(v->name);
	free(v->kind);
	free(v->series);
	free(v);
}

void pg_affect_index_free(pg_affect_index *ix)
{
	size_t it = 0;
	void *val;
	if (!ix)
		return;
	for (size_t i = 0; i < ix->views.len; i++)
		pg_affect__view_free(ix->views.ptr[i]);
	pg_vec_release(&ix->views);
	pg_affect__stored_free(ix->stored);
	while (pg_strmap_next(&ix->commits, &it, NULL, &val)) {
		commit_free(val); /* NULL: cached "not ingested" */
	}
	pg_strmap_release(&ix->commits);
	for (size_t i = 0; i < ix->commit_vec.len; i++)
		commit_free(ix->commit_vec.ptr[i]);
	pg_vec_release(&ix->commit_vec);
	pg_oidmap_release(&ix->commit_ids);
	it = 0;
	while (pg_strmap_next(&ix->targets, &it, NULL, &val))
		pg_affect__target_free(val);
	pg_strmap_release(&ix->targets);
	pg_stmt_free(ix->q_commit);
	pg_stmt_free(ix->q_rel);
	pg_stmt_free(ix->q_files);
	pg_stmt_free(ix->q_cve_state);
	pg_stmt_free(ix->q_cve_fixes);
	pg_stmt_free(ix->q_cve_intro);
	pg_stmt_free(ix->q_releases);
	free(ix);
}

const struct pg_affect__row *pg_affect__view_get(const struct pg_affect__view *v, const pg_oidmap *m, const char *sha)
{
	git_oid id;
	uint32_t i;
	if (!sha || !m->count || pg_str_hexlen(sha, 41) != 40 || git_oid_fromstr(&id, sha) < 0 ||
	    (i = pg_oidmap_get(m, id.id)) == PG_OIDMAP_NONE)
		return NULL;
	return v->rows.ptr[i];
}

/* Index a row into a view's maps (oldest row wins: rows come in commit order). */
int pg_affect__view_add(struct pg_affect__view *v, struct pg_affect__row *r)
{
	git_oid id;
	uint32_t at;
	int error = 0, found;
	if ((error = pg_vec_push(&v->rows, r)) < 0)
		return error;
	at = (uint32_t)(v->rows.len - 1);
	if (git_oid_fromstr(&id, r->sha) == 0 && (error = pg_oidmap_set(&v->own, id.id, at)) < 0)
		return error;
	if (r->upstream[0]) {
		if (git_oid_fromstr(&id, r->upstream) == 0) {
			if (pg_oidmap_get(&v->up, id.id) == PG_OIDMAP_NONE)
				error = pg_oidmap_set(&v->up, id.id, at);
			if (!error)
				error = pg_oidmap_set(&v->up_last, id.id, at);
		}
	} else if (r->subject && r->subject[0]) {
		pg_strmap_get(&v->subj, r->subject, &found);
		if (!found)
			error = pg_strmap_set(&v->subj, r->subject, r);
	}
	if (!error && r->reverts[0] && git_oid_fromstr(&id, r->reverts) == 0 &&
	    pg_oidmap_get(&v->reverted, id.id) == PG_OIDMAP_NONE)
		error = pg_oidmap_set(&v->reverted, id.id, at);
	return error;
}

/* The tracked branches, without their rows. */
static int load_branches(pg_affect_index *ix)
{
	pg_stmt *st = NULL;
	int error = 0, rc;

	/* a branch no ingest run has completed has no view: its rows may be partial */
	if ((error = pg_store_prepare(&st, ix->store,
				      "SELECT id, name, kind, base_tag FROM branches WHERE head_sha IS NOT NULL ORDER BY id")) < 0)
		return error;
	while ((rc = pg_stmt_step(st)) > 0) {
		struct pg_affect__view *v = calloc(1, sizeof(*v));
		const char *base = pg_stmt_text(st, 3);
		if (!v) {
			error = pg_error_setc(PG_ENOMEM, "out of memory");
			break;
		}
		v->branch_id = pg_stmt_int(st, 0);
		v->name = pg_strdup(pg_stmt_text(st, 1));
		v->kind = pg_strdup(pg_stmt_text(st, 2));
		v->owns_rows = 1;
		v->mainline = !strcmp(v->kind, "mainline");
		if (base && pg_kver_parse(&v->base, base) == 0) {
			char s[32];
			v->has_base = 1;
			snprintf(s, sizeof(s), "%d.%d", v->base.major, v->base.minor);
			v->series = pg_strdup(s);
		}
		if ((error = pg_vec_push(&ix->views, v)) < 0) {
			pg_affect__view_free(v);
			break;
		}
	}
	if (rc < 0)
		error = rc;
	pg_stmt_free(st);
	return error;
}

static struct pg_affect__view *view_by_id(pg_affect_index *ix, int64_t bid)
{
	for (size_t i = 0; i < ix->views.len; i++)
		if (ix->views.ptr[i]->branch_id == bid)
			return ix->views.ptr[i];
	return NULL;
}

static void view_note_release(struct pg_affect__view *v, const char *release)
{
	pg_kver k;
	if (release && pg_kver_parse(&k, release) == 0 && k.patch > v->max_patch)
		v->max_patch = k.patch;
}

/*
 * A branch's own commits with what the view indexes them by: ROW_COLUMNS
 * of branch_commits bc joined to commits c.
 */
#define ROW_COLUMNS \
	"bc.branch_id, c.sha, c.subject, bc.release," \
	" (SELECT r.target_sha FROM relations r WHERE r.commit_id = c.id AND r.kind = 'upstream'" \
	"   AND r.state = 'resolved' ORDER BY r.ref_id LIMIT 1)," \
	" (SELECT r.target_sha FROM relations r WHERE r.commit_id = c.id AND r.kind = 'reverts'" \
	"   AND r.state = 'resolved' ORDER BY r.ref_id LIMIT 1)," \
	" c.id"

/* Add every row of rs (ROW_COLUMNS, each branch's in commit order) to its view. */
static int add_rows(pg_affect_index *ix, pg_stmt *rs)
{
	struct pg_affect__view *v = NULL;
	int error = 0, rc;

	while ((rc = pg_stmt_step(rs)) > 0) {
		int64_t bid = pg_stmt_int(rs, 0);
		struct pg_affect__row *r;
		if ((!v || v->branch_id != bid) && !(v = view_by_id(ix, bid)))
			continue;
		if (!(r = calloc(1, sizeof(*r)))) {
			error = pg_error_setc(PG_ENOMEM, "out of memory");
			break;
		}
		snprintf(r->sha, sizeof(r->sha), "%s", pg_stmt_text(rs, 1));
		r->subject = pg_strdup(pg_stmt_text(rs, 2));
		r->release = pg_stmt_text(rs, 3) ? pg_strdup(pg_stmt_text(rs, 3)) : NULL;
		if (pg_stmt_text(rs, 4))
			snprintf(r->upstream, sizeof(r->upstream), "%s", pg_stmt_text(rs, 4));
		if (pg_stmt_text(rs, 5))
			snprintf(r->reverts, sizeof(r->reverts), "%s", pg_stmt_text(rs, 5));
		r->order = pg_stmt_int(rs, 6);
		view_note_release(v, r->release);
		if ((error = pg_affect__view_add(v, r)) < 0) {
			row_free(r);
			break;
		}
	}
	if (!error && rc < 0)
		error = rc;
	pg_stmt_reset(rs);
	return error;
}

static int load_views(pg_affect_index *ix)
{
	pg_stmt *rs = NULL;
	int error;

	if ((error = load_branches(ix)) < 0)
		return error;
	/* One pass over every branch's own commits, oldest first. */
	if ((error = pg_store_prepare(&rs, ix->store,
		"SELECT " ROW_COLUMNS " FROM branch_commits bc JOIN commits c ON c.id = bc.commit_id"
		" WHERE bc.reachable = 1 ORDER BY bc.branch_id, c.id")) < 0)
		return error;
	error = add_rows(ix, rs);
	pg_stmt_free(rs);
	return error;
}

static int load_mainline_head(pg_affect_index *ix)
{
	pg_stmt *st = NULL;
	int error;
	if ((error = pg_store_prepare(&st, ix->store,
				      "SELECT name FROM tags WHERE line = 'mainline'")) < 0)
		return error;
	while ((error = pg_stmt_step(st)) > 0) {
		pg_kver k;
		if (pg_kver_parse(&k, pg_stmt_text(st, 0)) == 0 &&
		    (!ix->has_latest || pg_kver_cmp(&k, &ix->latest) > 0)) {
			ix->latest = k;
			ix->has_latest = 1;
		}
	}
	pg_stmt_free(st);
	return error;
}

static int index_open(pg_affect_index **out, pg_store *store, int partial)
{
	pg_affect_index *ix;
	int error;

	*out = NULL;
	if (!(ix = calloc(1, sizeof(*ix))))
		return pg_error_setc(PG_ENOMEM, "out of memory");
	ix->store = store;
	/*
	 * The index reads every branch's rows and then one commit at a time all
	 * over the commits table: with SQLite's default 2 MB page cache that is
	 * mostly pread system calls.  Map the file instead (reads only).  SQLite
	 * only: a PostgreSQL server keeps its own cache.
	 */
	if (!strcmp(pg_store_backend(store), "sqlite") &&
	    (error = pg_store_exec(store, "PRAGMA mmap_size=1073741824; PRAGMA cache_size=-65536")) < 0) {
		pg_affect_index_free(ix);
		return error;
	}
	if ((error = pg_store_prepare(&ix->q_commit, store,
				      "SELECT id, subject, mainline_release, on_mainline, committer_time FROM commits WHERE sha = ?")) < 0 ||
	    (error = pg_store_prepare(&ix->q_rel, store,
				      "SELECT r.kind, r.target_sha FROM relations r JOIN commits c ON c.id = r.commit_id"
				      " WHERE c.sha = ? AND r.state = 'resolved' AND r.kind IN ('fixes', 'reverts')"
				      " ORDER BY r.kind, r.ref_id")) < 0 ||
	    (error = pg_store_prepare(&ix->q_files, store,
				      "SELECT path FROM commit_files f JOIN commits c ON c.id = f.commit_id"
				      " WHERE c.sha = ? ORDER BY path")) < 0 ||
	    (partial && ((error = load_branches(ix)) < 0 || (error = load_mainline_head(ix)) < 0))) {
		pg_affect_index_free(ix);
		return error;
	}
	ix->partial = partial;
	ix->loaded = partial;   /* a partial index has its views; pg_affect__index_load_for() adds rows */
	for (size_t i = 0; partial && i < ix->views.len; i++)
		ix->views.ptr[i]->max_patch_lazy = 1;
	*out = ix;
	return 0;
}

/*
 * Every branch's rows are most of an index's cost (0.1-0.15 s CPU at 290k
 * commits, more at 1.5M) and a status served from stored cells needs none:
 * they are read the first time an evaluation needs them.
 */
int pg_affect__index_load(pg_affect_index *ix)
{
	int error;
	if (ix->loaded)
		return 0;
	if ((error = load_views(ix)) < 0 || (error = load_mainline_head(ix)) < 0) {
		for (size_t i = 0; i < ix->views.len; i++)
			pg_affect__view_free(ix->views.ptr[i]);
		ix->views.len = 0;
		ix->has_latest = 0;
		return error;
	}
	ix->loaded = 1;
	return 0;
}

int pg_affect_index_open(pg_affect_index **out, pg_store *store)
{
	return index_open(out, store, 0);
}

int pg_affect__index_open_partial(pg_affect_index **out, pg_store *store)
{
	return index_open(out, store, 1);
}

/* A commit's facts from a row (id, subject, mainline_release, on_mainline, committer_time) from column col. */
static struct pg_affect__commit *commit_from_row(pg_stmt *st, int col, const char *sha)
{
	struct pg_affect__commit *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	snprintf(c->sha, sizeof(c->sha), "%s", sha);
	c->order = pg_stmt_int(st, col);
	c->subject = pg_strdup(pg_stmt_text(st, col + 1));
	c->release = pg_stmt_text(st, col + 2) ? pg_strdup(pg_stmt_text(st, col + 2)) : NULL;
	c->on_mainline = (int)pg_stmt_int(st, col + 3);
	c->time = pg_stmt_int(st, col + 4);
	if (c->release && pg_kver_parse(&c->rel, c->release) == 0)
		c->has_rel = 1;
	return c;
}

static void commit_free(struct pg_affect__commit *c)
{
	if (!c)
		return;
	free(c->subject);
	free(c->release);
	free(c->files);
	free(c->fixes);
	free(c->reverts);
	free(c);
}

static struct pg_affect__commit *commits_get(pg_affect_index *ix, const char *sha, int *found)
{
	git_oid id;
	uint32_t i;
	if (pg_str_hexlen(sha, 41) == 40 && git_oid_fromstr(&id, sha) == 0) {
		i = pg_oidmap_get(&ix->commit_ids, id.id);
		if (found)
			*found = i != PG_OIDMAP_NONE;
		return i == PG_OIDMAP_NONE ? NULL : ix->commit_vec.ptr[i];
	}
	return pg_strmap_get(&ix->commits, sha, found);
}

/* Cache c (NULL: not ingested) for sha; the index owns c once this succeeds. */
static int commits_put(pg_affect_index *ix, const char *sha, struct pg_affect__commit *c)
{
	git_oid id;
	int error;
	if (pg_str_hexlen(sha, 41) == 40 && git_oid_fromstr(&id, sha) == 0) {
		if ((error = pg_vec_push(&ix->commit_vec, c)) < 0)
			return error;
		if ((error = pg_oidmap_set(&ix->commit_ids, id.id, (uint32_t)(ix->commit_vec.len - 1))) < 0) {
			ix->commit_vec.len--;
			return error;
		}
		return 0;
	}
	return pg_strmap_set(&ix->commits, sha, c);
}

/* Cached facts about one commit; NULL (not an error) when it is not ingested. */
int pg_affect__commit(const struct pg_affect__commit **out, pg_affect_index *ix, const char *sha)
{
	struct pg_affect__commit *c;
	pg_buf fixes = PG_BUF_INIT, reverts = PG_BUF_INIT;
	int found, rc, error = 0;

	*out = commits_get(ix, sha, &found);
	if (found)
		return 0;
	c = NULL;
	pg_stmt_bind_text(ix->q_commit, 1, sha);
	if ((rc = pg_stmt_step(ix->q_commit)) > 0 && !(c = commit_from_row(ix->q_commit, 0, sha))) {
		pg_stmt_reset(ix->q_commit);
		return pg_error_setc(PG_ENOMEM, "out of memory");
	}
	pg_stmt_reset(ix->q_commit);
	if (rc < 0)
		return rc;
	if (c) {
		pg_stmt_bind_text(ix->q_rel, 1, sha);
		while ((rc = pg_stmt_step(ix->q_rel)) > 0) {
			pg_buf *b = !strcmp(pg_stmt_text(ix->q_rel, 0), "fixes") ? &fixes : &reverts;
			pg_buf_printf(b, "%s%s", b->len ? " " : "", pg_stmt_text(ix->q_rel, 1));
		}
		pg_stmt_reset(ix->q_rel);
		c->fixes = pg_buf_detach(&fixes);
		c->reverts = pg_buf_detach(&reverts);
		if (rc < 0)
			error = rc;
	}
	if (!error)
		error = commits_put(ix, sha, c);
	if (error)
		commit_free(c);
	*out = error ? NULL : c;
	return error;
}

/* The paths a commit touches, one per line, sorted: read once, when a subject match needs them. */
const char *pg_affect__commit_files(pg_affect_index *ix, const struct pg_affect__commit *cc)
{
	struct pg_affect__commit *c = (struct pg_affect__commit *)cc; /* the cache is ours */
	pg_buf files = PG_BUF_INIT;
	int rc;

	if (!c)
		return NULL;
	if (c->have_files)
		return c->files;
	pg_stmt_bind_text(ix->q_files, 1, c->sha);
	while ((rc = pg_stmt_step(ix->q_files)) > 0)
		pg_buf_printf(&files, "%s\n", pg_stmt_text(ix->q_files, 0));
	pg_stmt_reset(ix->q_files);
	c->files = pg_buf_detach(&files);
	c->have_files = rc == 0;
	return c->files;
}

/*
 * The commits every known security fix names (fix commits, introducers, and
 * what the fixes' Fixes: trailers and reverts resolve to) in two queries,
 * instead of three per commit: evaluating 15,000 CVEs otherwise spends most
 * of its time in SQLite's statement machinery.  Ids the records name that
 * are not ingested are cached as such.
 */
#define NAMED_SHAS \
	"SELECT sha FROM cve_fixes UNION SELECT sha FROM cve_introducers UNION" \
	" SELECT r.target_sha FROM relations r WHERE r.commit_id IN (SELECT f.id FROM cve_fixes x JOIN commits f ON f.sha = x.sha)" \
	" AND r.state = 'resolved' AND r.kind IN ('fixes', 'reverts') AND r.target_sha IS NOT NULL"

/*
 * Cache the commits of st's rows: COMMIT_COLUMNS, each commit with its
 * Fixes: and reverts in the order the one-commit query gives them.
 * Commits already cached are skipped.
 */
#define COMMIT_COLUMNS "c.sha, c.id, c.subject, c.mainline_release, c.on_mainline, c.committer_time, r.kind, r.target_sha"
#define COMMIT_FROM \
	" FROM commits c LEFT JOIN relations r ON r.commit_id = c.id" \
	" AND r.state = 'resolved' AND r.kind IN ('fixes', 'reverts') AND r.target_sha IS NOT NULL"
#define COMMIT_ORDER " ORDER BY c.id, r.kind, r.ref_id"

static int commits_from_rows(pg_affect_index *ix, pg_stmt *st)
{
	struct pg_affect__commit *c = NULL;
	pg_buf fixes = PG_BUF_INIT, reverts = PG_BUF_INIT;
	int error = 0, rc, found;

	while ((rc = pg_stmt_step(st)) > 0) {
		const char *sha = pg_stmt_text(st, 0);
		if (!c || strcmp(c->sha, sha)) {
			if (c) {
				c->fixes = pg_buf_detach(&fixes);
				c->reverts = pg_buf_detach(&reverts);
				if (!c->fixes || !c->reverts) {
					error = pg_error_setc(PG_ENOMEM, "out of memory");
					break;
				}
			}
			c = NULL;
			commits_get(ix, sha, &found);
			if (found)
				continue;
			if (!(c = commit_from_row(st, 1, sha))) {
				error = pg_error_setc(PG_ENOMEM, "out of memory");
				break;
			}
			c->preloaded = 1;
			if ((error = commits_put(ix, c->sha, c)) < 0) {
				commit_free(c);
				c = NULL;
				break;
			}
		}
		if (pg_stmt_text(st, 6)) {
			pg_buf *b = !strcmp(pg_stmt_text(st, 6), "fixes") ? &fixes : &reverts;
			pg_buf_printf(b, "%s%s", b->len ? " " : "", pg_stmt_text(st, 7));
		}
	}
	if (c && !error) {
		c->fixes = pg_buf_detach(&fixes);
		c->reverts = pg_buf_detach(&reverts);
		if (!c->fixes || !c->reverts)
			error = pg_error_setc(PG_ENOMEM, "out of memory");
	}
	pg_buf_release(&fixes);
	pg_buf_release(&reverts);
	pg_stmt_reset(st);
	return error < 0 ? error : rc < 0 ? rc : 0;
}

int pg_affect__commits_preload(pg_affect_index *ix)
{
	pg_stmt *st = NULL;
	int error, rc, found;

	if ((error = pg_store_prepare(&st, ix->store,
				      "SELECT " COMMIT_COLUMNS COMMIT_FROM " WHERE c.sha IN (" NAMED_SHAS ")" COMMIT_ORDER)) < 0)
		return error;
	error = commits_from_rows(ix, st);
	pg_stmt_free(st);
	st = NULL;
	if (error < 0)
		return error;
	/* named but not ingested */
	if ((error = pg_store_prepare(&st, ix->store,
				      "SELECT sha FROM cve_fixes UNION SELECT sha FROM cve_introducers")) < 0)
		return error;
	while ((rc = pg_stmt_step(st)) > 0) {
		commits_get(ix, pg_stmt_text(st, 0), &found);
		if (!found && pg_str_is_sha(pg_stmt_text(st, 0)) &&
		    (error = commits_put(ix, pg_stmt_text(st, 0), NULL)) < 0)
			break;
	}
	pg_stmt_free(st);
	return error < 0 ? error : rc < 0 ? rc : 0;
}

/*
 * Lookups of a set of keys: one statement with BATCH placeholders, run once
 * per BATCH keys (unused ones bound NULL), rather than one per key.  IN
 * lists keep it portable (no temporary tables, no json_each).
 */
#define BATCH 64
typedef PG_VEC(int64_t) id_vec;

static int prepare_batch(pg_stmt **st, pg_store *s, const char *head, const char *tail)
{
	pg_buf q = PG_BUF_INIT;
	int error;
	pg_buf_puts(&q, head);
	for (int i = 0; i < BATCH; i++)
		pg_buf_puts(&q, i ? ", ?" : "?");
	pg_buf_puts(&q, tail);
	error = q.ptr ? pg_store_prepare(st, s, q.ptr) : pg_error_setc(PG_ENOMEM, "out of memory");
	pg_buf_release(&q);
	return error;
}

static void bind_texts(pg_stmt *st, char *const *keys, size_t n, size_t from)
{
	for (size_t i = 0; i < BATCH; i++)
		pg_stmt_bind_text(st, (int)i + 1, from + i < n ? keys[from + i] : NULL);
}

/* Run a batch statement over keys; the first column (an id) of every row into ids, the second (a sha) into more if set. */
static int batch_ids(pg_stmt *st, const pg_affect__strs *keys, size_t n, id_vec *ids, pg_strmap *seen,
		     pg_affect__strs *more)
{
	int error = 0, rc = 0, found;
	/* more may be keys: index it afresh for every batch, pushing moves it */
	for (size_t from = 0; from < n && !error; from += BATCH) {
		bind_texts(st, keys->ptr, n, from);
		while ((rc = pg_stmt_step(st)) > 0) {
			const char *sha = more ? pg_stmt_text(st, 1) : NULL;
			char *dup;
			if ((error = pg_vec_push(ids, pg_stmt_int(st, 0))) < 0)
				break;
			if (!sha || (pg_strmap_get(seen, sha, &found), found))
				continue;
			if (!(dup = pg_strdup(sha)) || (error = pg_vec_push(more, dup)) < 0) {
				free(dup);
				error = pg_error_setc(PG_ENOMEM, "out of memory");
				break;
			}
			if ((error = pg_strmap_set(seen, sha, (void *)1)) < 0)
				break;
		}
		pg_stmt_reset(st);
		if (!error && rc < 0)
			error = rc;
	}
	return error;
}

static int cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

int pg_affect__index_load_for(pg_affect_index *ix, const pg_affect__strs *shas)
{
	pg_affect__strs keys = PG_VEC_INIT, subjects = PG_VEC_INIT; /* keys owned, subjects borrowed from the cache */
	pg_strmap seen = PG_STRMAP_INIT, seen_subj = PG_STRMAP_INIT;
	id_vec ids = PG_VEC_INIT;
	pg_stmt *st = NULL;
	size_t nkeys, n;
	int error = 0, found;

	/* rows loaded twice would be indexed twice */
	if (!ix->partial || ix->partial_loaded)
		return pg_error_set("the index already has the rows it can hold");
	ix->partial_loaded = 1;
	for (size_t i = 0; i < shas->len; i++) {
		char *dup;
		if (!pg_str_is_sha(shas->ptr[i]) || (pg_strmap_get(&seen, shas->ptr[i], &found), found))
			continue;
		if (!(dup = pg_strdup(shas->ptr[i])) || (error = pg_vec_push(&keys, dup)) < 0) {
			free(dup);
			error = pg_error_setc(PG_ENOMEM, "out of memory");
			goto out;
		}
		if ((error = pg_strmap_set(&seen, dup, (void *)1)) < 0)
			goto out;
	}
	nkeys = keys.len;

	/* the commits themselves (evaluation needs their facts anyway); their own rows */
	if ((error = prepare_batch(&st, ix->store, "SELECT " COMMIT_COLUMNS COMMIT_FROM " WHERE c.sha IN (",
				   ")" COMMIT_ORDER)) < 0)
		goto out;
	for (size_t from = 0; from < nkeys && !error; from += BATCH) {
		bind_texts(st, keys.ptr, nkeys, from);
		error = commits_from_rows(ix, st);
	}
	pg_stmt_free(st);
	st = NULL;
	for (size_t i = 0; i < nkeys && !error; i++) {
		const struct pg_affect__commit *c = commits_get(ix, keys.ptr[i], &found);
		if (!found) {
			error = commits_put(ix, keys.ptr[i], NULL);
			continue;
		}
		if (!c)
			continue;
		if ((error = pg_vec_push(&ids, c->order)) < 0)
			break;
		/* by_subject() looks up unannotated rows by the commit's subject (never an empty one) */
		if (c->subject && c->subject[0] && (pg_strmap_get(&seen_subj, c->subject, &found), !found) &&
		    ((error = pg_strmap_set(&seen_subj, c->subject, (void *)1)) < 0 ||
		     (error = pg_vec_push(&subjects, c->subject)) < 0))
			break;
	}
	if (error < 0)
		goto out;

	/* rows carrying one of them (annotation), rows with one's subject: their ids revert lookups use too */
	if ((error = prepare_batch(&st, ix->store,
				   "SELECT r.commit_id, c.sha FROM relations r CROSS JOIN commits c WHERE r.target_sha IN (",
				   ") AND r.kind = 'upstream' AND r.state = 'resolved' AND c.id = r.commit_id")) < 0 ||
	    (error = batch_ids(st, &keys, nkeys, &ids, &seen, &keys)) < 0)
		goto out;
	pg_stmt_free(st);
	st = NULL;
	/* (only branch rows: a subject is often shared by many mainline commits) */
	if ((error = prepare_batch(&st, ix->store, "SELECT c.id, c.sha FROM commits c WHERE c.subject IN (",
				   ") AND EXISTS (SELECT 1 FROM branch_commits bc WHERE bc.commit_id = c.id"
				   " AND bc.reachable = 1)")) < 0 ||
	    (error = batch_ids(st, &subjects, subjects.len, &ids, &seen, &keys)) < 0)
		goto out;
	pg_stmt_free(st);
	st = NULL;
	/* rows reverting any of those */
	n = keys.len;
	if ((error = prepare_batch(&st, ix->store, "SELECT commit_id FROM relations WHERE target_sha IN (",
				   ") AND kind = 'reverts' AND state = 'resolved'")) < 0 ||
	    (error = batch_ids(st, &keys, n, &ids, &seen, NULL)) < 0)
		goto out;
	pg_stmt_free(st);
	st = NULL;

	/* the rows, in commit order as the full index adds them (oldest wins) */
	if (ids.len)
		qsort(ids.ptr, ids.len, sizeof(*ids.ptr), cmp_id);
	n = 0;
	for (size_t i = 0; i < ids.len; i++)
		if (!n || ids.ptr[i] != ids.ptr[n - 1])
			ids.ptr[n++] = ids.ptr[i];
	ids.len = n;
	if ((error = prepare_batch(&st, ix->store,
				   "SELECT " ROW_COLUMNS " FROM commits c CROSS JOIN branch_commits bc WHERE c.id IN (",
				   ") AND bc.commit_id = c.id AND bc.reachable = 1 ORDER BY c.id, bc.branch_id")) < 0)
		goto out;
	for (size_t from = 0; from < ids.len && !error; from += BATCH) {
		for (size_t i = 0; i < BATCH; i++) {
			if (from + i < ids.len)
				pg_stmt_bind_int(st, (int)i + 1, ids.ptr[from + i]);
			else
				pg_stmt_bind_null(st, (int)i + 1);
		}
		error = add_rows(ix, st);
	}
	pg_stmt_free(st);
	st = NULL;
	if (error < 0)
		goto out;

out:
	pg_stmt_free(st);
	for (size_t i = 0; i < keys.len; i++)
		free(keys.ptr[i]);
	pg_vec_release(&keys);
	pg_vec_release(&subjects);
	pg_vec_release(&ids);
	pg_strmap_release(&seen);
	pg_strmap_release(&seen_subj);
	return error;
}

/*
 * "6.2" for a commit first released in v6.2-rc3; "6.4-rc1" while v6.4 is not
 * tagged yet (an -rc tag names the version only in the newest cycle, as
 * dyad does).  Untagged: "0" for dyad, else the release in progress.
 */
void pg_affect__mainline_version(char out[32], pg_affect_index *ix, const struct pg_affect__commit *c,
				 unsigned flags)
{
	if (c && c->has_rel) {
		if (c->rel.rc && ix->has_latest && ix->latest.rc && ix->latest.major == c->rel.major &&
		    ix->latest.minor == c->rel.minor)
			snprintf(out, 32, "%d.%d-rc%d", c->rel.major, c->rel.minor, c->rel.rc);
		else
			snprintf(out, 32, "%d.%d", c->rel.major, c->rel.minor);
	} else if (flags & PG_AFFECT__DYAD) {
		snprintf(out, 32, "0");
	} else if (ix->has_latest) {
		if (ix->latest.rc)
			snprintf(out, 32, "%d.%d", ix->latest.major, ix->latest.minor);
		else
			snprintf(out, 32, "%d.%d", ix->latest.major, ix->latest.minor + 1);
	} else {
		snprintf(out, 32, "0");
	}
}

/*
 * The view's highest stable release number: a partial index reads it on
 * first use, one branch at a time (most branches of an incremental run
 * never predict a version).
 */
static int view_max_patch(pg_affect_index *ix, const struct pg_affect__view *cv)
{
	struct pg_affect__view *v = (struct pg_affect__view *)cv; /* the cache is ours */
	int error, rc;

	if (!v->max_patch_lazy)
		return 0;
	if (!ix->q_releases &&
	    (error = pg_store_prepare(&ix->q_releases, ix->store,
				      "SELECT DISTINCT release FROM branch_commits"
				      " WHERE branch_id = ? AND reachable = 1 AND release IS NOT NULL")) < 0)
		return error;
	pg_stmt_bind_int(ix->q_releases, 1, v->branch_id);
	while ((rc = pg_stmt_step(ix->q_releases)) > 0)
		view_note_release(v, pg_stmt_text(ix->q_releases, 0));
	pg_stmt_reset(ix->q_releases);
	if (rc < 0)
		return rc;
	v->max_patch_lazy = 0;
	return 0;
}

/* Stable version of a branch row: its release tag, or the next one when untagged. */
static int row_version(char out[32], pg_affect_index *ix, const struct pg_affect__view *v,
		       const struct pg_affect__row *r, int *released, unsigned flags)
{
	int error;
	*released = r->release != NULL;
	if (r->release) {
		snprintf(out, 32, "%s", r->release[0] == 'v' ? r->release + 1 : r->release);
	} else if (v->series && !(flags & PG_AFFECT__DYAD)) {
		if ((error = view_max_patch(ix, v)) < 0)
			return error;
		snprintf(out, 32, "%s.%d", v->series, v->max_patch + 1);
	} else {
		snprintf(out, 32, "0");
	}
	return 0;
}

/* Is a mainline commit part of the view's base (vX.Y)? */
static int in_base(const struct pg_affect__view *v, const struct pg_affect__commit *c)
{
	pg_kver base;
	if (!c || !c->on_mainline || !c->has_rel || !v->has_base)
		return 0;
	base = v->base;
	return pg_kver_cmp(&c->rel, &base) <= 0;
}

/*
 * The view's commit carrying upstream commit sha, and the branch commit that
 * reverted it (NULL if none).  A backport that was reverted and applied
 * again is carried by the re-applied copy.
 */
static const struct pg_affect__row *carrier(const struct pg_affect__view *v, const char *sha, const char **how,
					    const struct pg_affect__row **reverted_by)
{
	const struct pg_affect__row *r, *last;
	*reverted_by = NULL;
	if ((r = pg_affect__view_get(v, &v->up, sha)))
		*how = "annotation";
	else if ((r = pg_affect__view_get(v, &v->own, sha)))
		*how = "same commit";
	else
		return NULL;
	*reverted_by = pg_affect__view_get(v, &v->reverted, r->sha);
	if (!*reverted_by)
		*reverted_by = pg_affect__view_get(v, &v->reverted, sha);
	if (*reverted_by && (last = pg_affect__view_get(v, &v->up_last, sha)) && last != r &&
	    last->order > (*reverted_by)->order && !pg_affect__view_get(v, &v->reverted, last->sha)) {
		*reverted_by = NULL;
		*how = "annotation, re-applied";
		return last;
	}
	return r;
}

/* Fallback for trees without annotations: same subject (and same files for full confidence). */
static const struct pg_affect__row *by_subject(pg_affect_index *ix, const struct pg_affect__view *v,
					       const struct pg_affect__commit *c, double *confidence)
{
	const struct pg_affect__row *r;
	const struct pg_affect__commit *rc = NULL;
	if (!c || !c->subject || !(r = pg_strmap_get(&v->subj, c->subject, NULL)))
		return NULL;
	*confidence = 0.8;
	if (pg_affect__commit(&rc, ix, r->sha) == 0 && rc && pg_affect__commit_files(ix, rc) &&
	    pg_affect__commit_files(ix, c) && !strcmp(rc->files, c->files))
		*confidence = 0.95;
	return r;
}

int pg_affect__eval(struct pg_affect__eval *e, pg_affect_index *ix, const struct pg_affect__view *v,
		    const char *fix, const char *const *intro, size_t nintro)
{
	return pg_affect__eval_ex(e, ix, v, fix, intro, nintro, 0);
}

int pg_affect__eval_ex(struct pg_affect__eval *e, pg_affect_index *ix, const struct pg_affect__view *v,
		       const char *fix, const char *const *intro, size_t nintro, unsigned flags)
{
	const struct pg_affect__commit *F = NULL, *I;
	const struct pg_affect__row *r, *rv, *closing = NULL;
	const char *how;
	int error;

	memset(e, 0, sizeof(*e));
	e->confidence = 1.0;
	if ((error = pg_affect__commit(&F, ix, fix)) < 0)
		return error;
	if (!F) {
		e->status = PG_AFFECT_UNKNOWN;
		snprintf(e->reason, sizeof(e->reason), "fix %.12s is not in the ingested history", fix);
		return 0;
	}
	/*
	 * A fix that is not a mainline commit (CNA records often list a stable
	 * branch's own copy in .sha1 beside the mainline fix) speaks only for
	 * the branches that carry it: elsewhere it is not applicable, and must
	 * not make a branch whose base has the mainline fix look unfixed.
	 */
	if (!F->on_mainline) {
		double conf;
		const struct pg_affect__row *rr = NULL;
		if (!v->mainline && !(rr = carrier(v, F->sha, &how, &rv)))
			rr = by_subject(ix, v, F, &conf);
		/*
		 * A fix of this branch made after the evaluated commit, or a fix of
		 * the stable branch a vendor tree is built on that the tree lacks:
		 * the branch is evaluated as it was before the fix (the bug is there).
		 */
		for (size_t i = 0; i < ix->views.len && !rr && !v->mainline; i++) {
			const struct pg_affect__view *s = ix->views.ptr[i];
			if (s == v || !pg_affect__view_get(s, &s->own, F->sha))
				continue;
			if (s->branch_id == v->branch_id ||
			    (!strcmp(v->kind, "vendor") && !strcmp(s->kind, "stable") && s->series && v->series &&
			     !strcmp(s->series, v->series)))
				rr = pg_affect__view_get(s, &s->own, F->sha);
		}
		if (!rr) {
			e->status = PG_AFFECT_NOT_AFFECTED;
			snprintf(e->reason, sizeof(e->reason), "fix %.12s is a commit of another branch, not of %s",
				 F->sha, v->name);
			return 0;
		}
	}
	if (v->mainline) {
		/* mainline: the earliest introducer on mainline, the fix's release */
		const struct pg_affect__commit *best = NULL;
		for (size_t i = 0; i < nintro; i++) {
			if ((error = pg_affect__commit(&I, ix, intro[i])) < 0)
				return error;
			if (I && I->on_mainline && (!v->cut || I->order <= v->cut) && (!best || I->order < best->order))
				best = I;
		}
		if (nintro && !best) {
			e->status = v->cut ? PG_AFFECT_NOT_AFFECTED : PG_AFFECT_UNKNOWN;
			snprintf(e->reason, sizeof(e->reason), "no introducer of %.12s is in %s", fix,
				 v->cut ? "this commit's history" : "the ingested mainline");
			return 0;
		}
		if (best) {
			pg_affect__mainline_version(e->vuln_version, ix, best, flags);
			snprintf(e->vuln_sha, sizeof(e->vuln_sha), "%s", best->sha);
			e->vuln_how = "mainline";
		} else {
			snprintf(e->vuln_version, sizeof(e->vuln_version), "0");
			snprintf(e->vuln_sha, sizeof(e->vuln_sha), "0");
			e->vuln_how = "unknown";
		}
		if (F->on_mainline && (!v->cut || F->order <= v->cut)) {
			pg_affect__mainline_version(e->fix_version, ix, F, flags);
			snprintf(e->fix_sha, sizeof(e->fix_sha), "%s", F->sha);
			e->fix_released = F->has_rel;
			e->fix_how = "mainline";
			e->status = PG_AFFECT_FIXED;
		} else {
			snprintf(e->fix_version, sizeof(e->fix_version), "0");
			snprintf(e->fix_sha, sizeof(e->fix_sha), "0");
			e->status = PG_AFFECT_AFFECTED;
		}
		snprintf(e->reason, sizeof(e->reason), "mainline");
		return 0;
	}
	if (in_base(v, F)) {
		e->status = PG_AFFECT_NOT_AFFECTED;
		snprintf(e->reason, sizeof(e->reason), "fix %.12s is already in the base v%s", F->sha, v->series);
		return 0;
	}
	/*
	 * Where the bug entered: an introducer in the base, else its backport.
	 * An unreverted backport wins.  A backport the branch reverted later
	 * (a backport of the mainline revert, or a stable-only revert) does not
	 * make the branch vulnerable today (patchgap's view: not affected), but
	 * dyad prints the pair (backport of the bug, the revert).
	 */
	for (size_t pass = 0; pass < 2 && !e->vuln_how; pass++) {
		const struct pg_affect__row *best = NULL, *best_rv = NULL, *best_rv_by = NULL;
		for (size_t i = 0; i < nintro; i++) {
			if ((error = pg_affect__commit(&I, ix, intro[i])) < 0)
				return error;
			if (pass == 0) {
				if (in_base(v, I) && (!e->vuln_how || I->order < e->vuln_order)) {
					pg_affect__mainline_version(e->vuln_version, ix, I, flags);
					snprintf(e->vuln_sha, sizeof(e->vuln_sha), "%s", I->sha);
					e->vuln_how = "base";
					e->vuln_order = I->order;
				}
			} else if ((r = carrier(v, intro[i], &how, &rv))) {
				if (!rv && (!best || r->order < best->order))
					best = r;
				else if (rv && (flags & PG_AFFECT__DYAD) && (!best_rv || r->order < best_rv->order)) {
					best_rv = r;
					best_rv_by = rv;
				}
			} else if (I) {
				/* an unannotated pick of the introducer (vendor trees) */
				double conf;
				if ((r = by_subject(ix, v, I, &conf)) && !pg_affect__view_get(v, &v->reverted, r->sha) &&
				    (!best || r->order < best->order))
					best = r;
			}
		}
		if (!best && best_rv) {
			best = best_rv;
			closing = best_rv_by;
		}
		if (best) {
			int rel;
			if ((error = row_version(e->vuln_version, ix, v, best, &rel, flags)) < 0)
				return error;
			snprintf(e->vuln_sha, sizeof(e->vuln_sha), "%s", best->sha);
			e->vuln_how = "backport";
		}
	}
	/* where it was fixed */
	if ((r = carrier(v, F->sha, &how, &rv))) {
		if (rv) {
			snprintf(e->reason, sizeof(e->reason), "fix backport %.12s was reverted by %.12s", r->sha, rv->sha);
		} else {
			if ((error = row_version(e->fix_version, ix, v, r, &e->fix_released, flags)) < 0)
				return error;
			snprintf(e->fix_sha, sizeof(e->fix_sha), "%s", r->sha);
			e->fix_how = how;
		}
	} else if ((r = by_subject(ix, v, F, &e->confidence))) {
		if ((error = row_version(e->fix_version, ix, v, r, &e->fix_released, flags)) < 0)
			return error;
		snprintf(e->fix_sha, sizeof(e->fix_sha), "%s", r->sha);
		e->fix_how = e->confidence > 0.9 ? "subject+files" : "subject";
	}
	if (!e->fix_how && closing) {
		if ((error = row_version(e->fix_version, ix, v, closing, &e->fix_released, flags)) < 0)
			return error;
		snprintf(e->fix_sha, sizeof(e->fix_sha), "%s", closing->sha);
		e->fix_how = "revert of the backported bug";
		e->confidence = 1.0;
		e->reason[0] = '\0';
	}
	if (!nintro) {
		if (!e->fix_how) {
			e->status = PG_AFFECT_NOT_AFFECTED;
			e->assumed = 1; /* dyad prints nothing; status treats it as possibly affected */
			snprintf(e->reason, sizeof(e->reason), "no introducer known and no backport of the fix");
			return 0;
		}
		snprintf(e->vuln_version, sizeof(e->vuln_version), "0");
		snprintf(e->vuln_sha, sizeof(e->vuln_sha), "0");
		e->vuln_how = "unknown";
	}
	if (!e->vuln_how) {
		e->status = PG_AFFECT_NOT_AFFECTED;
		snprintf(e->reason, sizeof(e->reason), "no introducer is in the base v%s or backported",
			 v->series ? v->series : "?");
		return 0;
	}
	if (e->fix_how) {
		e->status = PG_AFFECT_FIXED;
		if (!e->reason[0])
			snprintf(e->reason, sizeof(e->reason), "fixed by %.12s (%s)", e->fix_sha, e->fix_how);
	} else {
		e->status = PG_AFFECT_AFFECTED;
		snprintf(e->fix_version, sizeof(e->fix_version), "0");
		snprintf(e->fix_sha, sizeof(e->fix_sha), "0");
		if (!e->reason[0])
			snprintf(e->reason, sizeof(e->reason), "introducer present (%s %.12s), fix absent", e->vuln_how,
				 e->vuln_sha);
	}
	return 0;
}

const char *pg_affect__status_name(int s)
{
	switch (s) {
	case PG_AFFECT_AFFECTED: return "affected";
	case PG_AFFECT_FIXED: return "fixed";
	case PG_AFFECT_NOT_AFFECTED: return "not_affected";
	default: return "unknown";
	}
}
