/*
 * backport.c - the backport engine: presence checks, in-memory cherry-picks,
 * conflict hunks, prerequisite search and commit creation.
 *
 * Everything happens on trees and in-memory indexes: a cherry-pick of C onto
 * tree T is git_merge_trees(ancestor = C^'s tree, ours = T, theirs = C's tree),
 * which is exactly what git_cherrypick_commit() does, but works on the
 * intermediate trees of a series without writing commits.  The user's index,
 * working tree and HEAD are never opened for writing.
 *
 * Prerequisite search (greedy, smallest first): apply [fix]; while a step
 * conflicts, collect candidates for that step (blame of its parent over the
 * conflicting base lines between the fork point and the step, plus the
 * commits its message names in Fixes:/Depends-on:/"prerequisite" lines),
 * drop those already on the branch, then try adding each candidate alone (in
 * upstream order); the first that makes the whole series apply wins,
 * otherwise the one that gets furthest (then: most blamed lines) is kept and
 * the loop continues, up to max_deps prerequisites.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "backport/backport_int.h"
#include "patchgap/trailer.h"
#include "util/buf.h"
#include "util/map.h"
#include "util/str.h"
#include "util/vec.h"
#include "util/banned.h"

#define SNIPPET_MAX 2048

typedef PG_VEC(git_oid) oid_vec;
typedef PG_VEC(char *) str_vec;
typedef PG_VEC(uint32_t) u32_vec;

struct annot {
	char hex[GIT_OID_HEXSZ + 1]; /* as written, lowercase, 8..40 digits */
	git_oid commit;              /* the branch commit carrying it */
	char *line;
};

struct bp_ctx {
	git_repository *repo;
	const pg_backport_options *o;
	pg_backport_result *r;
	git_commit *head;
	git_tree *head_tree;
	git_tree *fork_tree;
	oid_vec branch;              /* commits on the branch only (head ^fork) */
	PG_VEC(struct annot) annots;
	pg_strmap paths;             /* path -> u32_vec* of branch indexes */
	int paths_loaded;
	git_oid *branch_pid;         /* patch id per branch commit (lazily) */
	unsigned char *branch_pid_state; /* 0 unknown, 1 ok, 2 none */
	pg_oidmap order;             /* upstream position of fork..fix commits */
	int renames_loaded;
};

struct attempt {
	git_oid *trees;     /* per step */
	size_t ok;          /* steps applied cleanly */
	pg_backport_conflict *conflicts;
	size_t nconflicts, nhunks;
};

static void str_vec_free(str_vec *v)
{
	for (size_t i = 0; i < v->len; i++)
		free(v->ptr[i]);
	pg_vec_release(v);
}

static int commit_trees(git_tree **parent_tree, git_tree **tree, git_repository *repo, const git_commit *c);

const char *pg_backport__git_msg(void)
{
	const git_error *e = git_error_last();
	return e && e->message ? e->message : "libgit2 error";
}

static int git_fail(const char *what)
{
	return pg_error_set("%s: %s", what, pg_backport__git_msg());
}

static void oid_hex(char out[GIT_OID_HEXSZ + 1], const git_oid *id)
{
	git_oid_tostr(out, GIT_OID_HEXSZ + 1, id);
}

char *pg_backport__subject(const git_commit *c)
{
	const char *s = git_commit_summary((git_commit *)c);
	return pg_strdup(s ? s : "");
}

int pg_backport__diff_text(pg_buf *out, git_repository *repo, git_tree *a, git_tree *b)
{
	git_diff_options dopts;
	git_diff *diff = NULL;
	git_buf buf = { 0 };
	int error = 0;

	git_diff_options_init(&dopts, GIT_DIFF_OPTIONS_VERSION);
	dopts.flags |= GIT_DIFF_INDENT_HEURISTIC | GIT_DIFF_SHOW_BINARY;
	if (git_diff_tree_to_tree(&diff, repo, a, b, &dopts) < 0 ||
	    git_diff_to_buf(&buf, diff, GIT_DIFF_FORMAT_PATCH) < 0)
		error = git_fail("cannot diff trees");
	else if (buf.size)
		error = pg_buf_put(out, buf.ptr, buf.size);
	git_buf_dispose(&buf);
	git_diff_free(diff);
	return error;
}

int pg_livepatch_assess_commit(pg_livepatch_verdict **out, git_repository *repo, const git_oid *commit)
{
	git_commit *c = NULL;
	git_tree *pt = NULL, *t = NULL;
	pg_buf diff = PG_BUF_INIT;
	char hex[GIT_OID_HEXSZ + 1];
	int error;

	*out = NULL;
	oid_hex(hex, commit);
	if (git_commit_lookup(&c, repo, commit) < 0) {
		git_error_clear();
		return pg_error_setc(PG_ENOTFOUND, "unknown commit %s", hex);
	}
	if (git_commit_parentcount(c) > 1)
		error = pg_error_setc(PG_EINVALID, "commit %s is a merge: no single diff to assess", hex);
	else if ((error = commit_trees(&pt, &t, repo, c)) == 0 &&
		 (error = pg_backport__diff_text(&diff, repo, pt, t)) == 0)
		error = diff.len ? pg_livepatch_assess(out, pg_buf_cstr(&diff), diff.len)
				 : pg_error_setc(PG_EINVALID, "commit %s changes no file: nothing to assess", hex);
	pg_buf_release(&diff);
	git_tree_free(pt);
	git_tree_free(t);
	git_commit_free(c);
	return error;
}

/* ---- result lifecycle ---------------------------------------------------- */

static void conflicts_free(pg_backport_conflict *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < c[i].nhunks; j++) {
			free(c[i].hunks[j].ours);
			free(c[i].hunks[j].base);
			free(c[i].hunks[j].theirs);
		}
		free(c[i].hunks);
		free(c[i].path);
		free(c[i].upstream_path);
	}
	free(c);
}

void pg_backport_test_release(pg_backport_test *t)
{
	free(t->reason);
	free(t->log_tail);
	memset(t, 0, sizeof(*t));
	t->exit_code = -1;
}

void pg_backport_result_free(pg_backport_result *r)
{
	if (!r)
		return;
	free(r->fix_subject);
	free(r->onto_ref);
	free(r->branch_name);
	free(r->created_ref);
	free(r->present_evidence);
	for (size_t i = 0; i < r->nsteps; i++) {
		free(r->steps[i].subject);
		free(r->steps[i].why);
	}
	free(r->steps);
	conflicts_free(r->conflicts, r->nconflicts);
	conflicts_free(r->remaining, r->nremaining);
	for (size_t i = 0; i < r->ncandidates; i++) {
		free(r->candidates[i].subject);
		free(r->candidates[i].why);
	}
	free(r->candidates);
	for (size_t i = 0; i < r->nrenames; i++) {
		free(r->renames[i].from);
		free(r->renames[i].to);
	}
	free(r->renames);
	pg_backport_test_release(&r->test);
	pg_livepatch_free(r->livepatch);
	free(r);
}

const char *pg_backport_status_name(pg_backport_status s)
{
	switch (s) {
	case PG_BACKPORT_PRESENT: return "present";
	case PG_BACKPORT_CLEAN: return "clean";
	case PG_BACKPORT_WITH_DEPS: return "with-deps";
	default: return "conflict";
	}
}

static void attempt_release(struct attempt *a)
{
	free(a->trees);
	conflicts_free(a->conflicts, a->nconflicts);
	memset(a, 0, sizeof(*a));
}

static void ctx_release(struct bp_ctx *cx)
{
	const char *k;
	void *v;
	git_commit_free(cx->head);
	git_tree_free(cx->head_tree);
	git_tree_free(cx->fork_tree);
	pg_vec_release(&cx->branch);
	for (size_t i = 0; i < cx->annots.len; i++)
		free(cx->annots.ptr[i].line);
	pg_vec_release(&cx->annots);
	for (size_t i = 0; pg_strmap_next(&cx->paths, &i, &k, &v);) {
		u32_vec *uv = v;
		pg_vec_release(uv);
		free(uv);
	}
	pg_strmap_release(&cx->paths);
	free(cx->branch_pid);
	free(cx->branch_pid_state);
	pg_oidmap_release(&cx->order);
}

/* ---- annotations ------------------------------------------------------- */

/* Lowercase hex of 8..40 digits starting at p, or 0. */
static size_t hex_at(char out[GIT_OID_HEXSZ + 1], const char *p)
{
	size_t n = pg_str_hexlen(p, GIT_OID_HEXSZ + 1);
	if (n < 8 || n > GIT_OID_HEXSZ)
		return 0;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)p[i]);
	out[n] = '\0';
	return n;
}

/*
 * The upstream ids a backport's message names: "commit X upstream.",
 * "[ Upstream commit X ]", "(cherry picked from commit X)" (the trailer
 * parser's upstream and cherry_pick annotations).
 */
static int scan_backport_annotations(struct bp_ctx *cx, const git_commit *c)
{
	const char *msg = git_commit_message((git_commit *)c);
	pg_trailers tr = PG_TRAILERS_INIT;
	int error;

	if ((error = pg_trailers_parse(&tr, msg, strlen(msg))) < 0)
		return error;
	for (size_t i = 0; i < tr.n && !error; i++) {
		const pg_trailer *t = &tr.v[i];
		struct annot a;
		if ((t->kind != PG_TR_UPSTREAM && t->kind != PG_TR_CHERRY_PICK) || !t->ref_id ||
		    strlen(t->ref_id) < 8 || strlen(t->ref_id) > GIT_OID_HEXSZ)
			continue;
		snprintf(a.hex, sizeof(a.hex), "%s", t->ref_id);
		git_oid_cpy(&a.commit, git_commit_id(c));
		if (!(a.line = pg_strdup(t->raw)))
			error = PG_ENOMEM;
		else if (pg_vec_push(&cx->annots, a) < 0) {
			free(a.line);
			error = pg_error_setc(PG_ENOMEM, "out of memory");
		}
	}
	pg_trailers_release(&tr);
	return error;
}

static const struct annot *annotated(const struct bp_ctx *cx, const git_oid *id)
{
	char hex[GIT_OID_HEXSZ + 1];
	oid_hex(hex, id);
	for (size_t i = 0; i < cx->annots.len; i++)
		if (!strncmp(hex, cx->annots.ptr[i].hex, strlen(cx->annots.ptr[i].hex)))
			return &cx->annots.ptr[i];
	return NULL;
}

/* Walk head ^fork once: the branch-only commits and their annotations. */
static int load_branch(struct bp_ctx *cx)
{
	git_revwalk *w = NULL;
	git_oid id;
	int error = 0, rc;

	if (git_revwalk_new(&w, cx->repo) < 0 || git_revwalk_push(w, git_commit_id(cx->head)) < 0 ||
	    (cx->r->has_fork_point && git_revwalk_hide(w, &cx->r->fork_point) < 0)) {
		error = git_fail("cannot walk the branch");
		goto out;
	}
	git_revwalk_sorting(w, GIT_SORT_TOPOLOGICAL);
	while ((rc = git_revwalk_next(&id, w)) == 0) {
		git_commit *c = NULL;
		if (pg_vec_push(&cx->branch, id) < 0) {
			error = pg_error_setc(PG_ENOMEM, "out of memory");
			goto out;
		}
		if (git_commit_lookup(&c, cx->repo, &id) < 0) {
			error = git_fail("cannot read a branch commit");
			goto out;
		}
		error = scan_backport_annotations(cx, c);
		git_commit_free(c);
		if (error < 0)
			goto out;
	}
	if (rc != GIT_ITEROVER)
		error = git_fail("cannot walk the branch");
out:
	git_revwalk_free(w);
	return error;
}

/* ---- patch-id equivalence ---------------------------------------------- */

static int commit_trees(git_tree **parent_tree, git_tree **tree, git_repository *repo, const git_commit *c)
{
	git_commit *p = NULL;
	int error = 0;
	*parent_tree = *tree = NULL;
	if (git_commit_parentcount(c) > 0 &&
	    (git_commit_parent(&p, c, 0) < 0 || git_commit_tree(parent_tree, p) < 0))
		error = git_fail("cannot read a commit's parent tree");
	else if (git_commit_tree(tree, c) < 0)
		error = git_fail("cannot read a commit's tree");
	git_commit_free(p);
	(void)repo;
	return error;
}

static int commit_paths(str_vec *out, git_repository *repo, const git_commit *c)
{
	git_tree *pt = NULL, *t = NULL;
	git_diff *diff = NULL;
	int error;

	if ((error = commit_trees(&pt, &t, repo, c)) < 0)
		goto out;
	if (git_diff_tree_to_tree(&diff, repo, pt, t, NULL) < 0) {
		error = git_fail("cannot diff a commit");
		goto out;
	}
	for (size_t i = 0; i < git_diff_num_deltas(diff); i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);
		const char *path = d->new_file.path ? d->new_file.path : d->old_file.path;
		char *s = pg_strdup(path);
		if (!s || pg_vec_push(out, s) < 0) {
			free(s);
			error = pg_error_setc(PG_ENOMEM, "out of memory");
			goto out;
		}
	}
out:
	git_diff_free(diff);
	git_tree_free(pt);
	git_tree_free(t);
	return error;
}

static int load_paths(struct bp_ctx *cx)
{
	int error = 0;
	if (cx->paths_loaded)
		return 0;
	cx->paths_loaded = 1;
	cx->branch_pid = calloc(cx->branch.len + 1, sizeof(git_oid));
	cx->branch_pid_state = calloc(cx->branch.len + 1, 1);
	if (!cx->branch_pid || !cx->branch_pid_state)
		return pg_error_setc(PG_ENOMEM, "out of memory");
	for (size_t i = 0; i < cx->branch.len && !error; i++) {
		git_commit *c = NULL;
		str_vec paths = PG_VEC_INIT;
		if (git_commit_lookup(&c, cx->repo, &cx->branch.ptr[i]) < 0)
			return git_fail("cannot read a branch commit");
		if (git_commit_parentcount(c) == 1)
			error = commit_paths(&paths, cx->repo, c);
		git_commit_free(c);
		for (size_t j = 0; j < paths.len && !error; j++) {
			u32_vec *uv = pg_strmap_get(&cx->paths, paths.ptr[j], NULL);
			if (!uv) {
				if (!(uv = calloc(1, sizeof(*uv))) || pg_strmap_set(&cx->paths, paths.ptr[j], uv) < 0) {
					free(uv);
					error = pg_error_setc(PG_ENOMEM, "out of memory");
					break;
				}
			}
			if (pg_vec_push(uv, (uint32_t)i) < 0)
				error = pg_error_setc(PG_ENOMEM, "out of memory");
		}
		str_vec_free(&paths);
	}
	return error;
}

/* A branch commit with the same stable patch id as c, if any (1 found, 0 not). */
static int find_equivalent(git_oid *found, struct bp_ctx *cx, const git_commit *c)
{
	str_vec paths = PG_VEC_INIT;
	git_oid pid;
	u32_vec *uv;
	int error;

	if (git_commit_parentcount(c) != 1)
		return 0;
	if ((error = load_paths(cx)) < 0 || (error = commit_paths(&paths, cx->repo, c)) < 0)
		goto out;
	if (!paths.len || !(uv = pg_strmap_get(&cx->paths, paths.ptr[0], NULL)))
		goto out;
	if ((error = pg_patchid_commit(&pid, cx->repo, git_commit_id(c))) < 0) {
		error = error == PG_ENOTFOUND ? 0 : error;
		pg_error_clear();
		goto out;
	}
	for (size_t k = 0; k < uv->len; k++) {
		uint32_t i = uv->ptr[k];
		if (!cx->branch_pid_state[i]) {
			int rc = pg_patchid_commit(&cx->branch_pid[i], cx->repo, &cx->branch.ptr[i]);
			cx->branch_pid_state[i] = rc == 0 ? 1 : 2;
			pg_error_clear();
		}
		if (cx->branch_pid_state[i] == 1 && git_oid_equal(&cx->branch_pid[i], &pid)) {
			git_oid_cpy(found, &cx->branch.ptr[i]);
			error = 1;
			goto out;
		}
	}
out:
	str_vec_free(&paths);
	return error;
}

/*
 * Is commit id already on the branch?  1 with how/evidence filled, 0 not.
 * how: "ancestor", "annotation", "patch-id".
 */
static int on_branch(struct bp_ctx *cx, const git_oid *id, const char **how, git_oid *evidence, char **text)
{
	const struct annot *a;
	git_commit *c = NULL;
	char hex[GIT_OID_HEXSZ + 1], ehex[GIT_OID_HEXSZ + 1];
	pg_buf b = PG_BUF_INIT;
	int error = 0;

	oid_hex(hex, id);
	if (git_oid_equal(id, git_commit_id(cx->head)) ||
	    git_graph_descendant_of(cx->repo, git_commit_id(cx->head), id) == 1) {
		*how = "ancestor";
		git_oid_cpy(evidence, id);
		error = pg_buf_printf(&b, "commit %s is an ancestor of the branch head", hex);
		goto found;
	}
	if ((a = annotated(cx, id))) {
		*how = "annotation";
		git_oid_cpy(evidence, &a->commit);
		oid_hex(ehex, &a->commit);
		error = pg_buf_printf(&b, "branch commit %s says '%s'", ehex, a->line);
		goto found;
	}
	if (git_commit_lookup(&c, cx->repo, id) < 0)
		return git_fail("cannot read a commit");
	error = find_equivalent(evidence, cx, c);
	git_commit_free(c);
	if (error <= 0)
		return error;
	*how = "patch-id";
	oid_hex(ehex, evidence);
	error = pg_buf_printf(&b, "branch commit %s has the same patch id (git patch-id --stable) as %s", ehex, hex);
found:
	if (error < 0 || (text && !(*text = pg_buf_detach(&b)))) {
		pg_buf_release(&b);
		return PG_ENOMEM;
	}
	pg_buf_release(&b);
	return 1;
}

/* ---- renames on the branch --------------------------------------------- */

static int load_renames(struct bp_ctx *cx)
{
	git_diff *diff = NULL;
	git_diff_find_options fo;
	int error = 0;

	git_diff_find_options_init(&fo, GIT_DIFF_FIND_OPTIONS_VERSION);
	if (cx->renames_loaded || !cx->fork_tree)
		return 0;
	cx->renames_loaded = 1;
	fo.flags = GIT_DIFF_FIND_RENAMES;
	if (git_diff_tree_to_tree(&diff, cx->repo, cx->fork_tree, cx->head_tree, NULL) < 0 ||
	    git_diff_find_similar(diff, &fo) < 0) {
		error = git_fail("cannot detect renames on the branch");
		goto out;
	}
	for (size_t i = 0; i < git_diff_num_deltas(diff); i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);
		pg_backport_rename *nr;
		if (d->status != GIT_DELTA_RENAMED)
			continue;
		if (!(nr = realloc(cx->r->renames, (cx->r->nrenames + 1) * sizeof(*nr)))) {
			error = pg_error_setc(PG_ENOMEM, "out of memory");
			goto out;
		}
		cx->r->renames = nr;
		nr += cx->r->nrenames;
		nr->from = pg_strdup(d->old_file.path);
		nr->to = pg_strdup(d->new_file.path);
		nr->similarity = d->similarity;
		cx->r->nrenames++;
		if (!nr->from || !nr->to) {
			error = PG_ENOMEM;
			goto out;
		}
	}
out:
	git_diff_free(diff);
	return error;
}

static const char *renamed_to(const struct bp_ctx *cx, const char *path)
{
	for (size_t i = 0; i < cx->r->nrenames; i++)
		if (!strcmp(cx->r->renames[i].from, path))
			return cx->r->renames[i].to;
	return NULL;
}

/* Copy of tree with each entry at from moved to to. */
static int move_paths(git_tree **out, git_repository *repo, git_tree *t, const str_vec *from, const str_vec *to)
{
	git_index *idx = NULL;
	git_oid oid;
	int error = 0;

	*out = NULL;
	if (!t)
		return 0;
	if (git_index_new(&idx) < 0 || git_index_read_tree(idx, t) < 0) {
		error = git_fail("cannot build an in-memory index");
		goto out;
	}
	for (size_t i = 0; i < from->len; i++) {
		const git_index_entry *e = git_index_get_bypath(idx, from->ptr[i], 0);
		git_index_entry copy;
		if (!e)
			continue;
		copy = *e;
		copy.path = to->ptr[i];
		if (git_index_add(idx, &copy) < 0 || git_index_remove(idx, from->ptr[i], 0) < 0) {
			error = git_fail("cannot move a path in an in-memory index");
			goto out;
		}
	}
	if (git_index_write_tree_to(&oid, idx, repo) < 0 || git_tree_lookup(out, repo, &oid) < 0)
		error = git_fail("cannot write a remapped tree");
out:
	git_index_free(idx);
	return error;
}

/* ---- applying ------------------------------------------------------------ */

static char *lines_of(const char *data, size_t size, unsigned start, unsigned count)
{
	pg_buf b = PG_BUF_INIT;
	unsigned ln = 1;
	size_t i = 0;

	pg_buf_init(&b, SNIPPET_MAX + 64);
	while (i < size && ln < start) {
		if (data[i++] == '\n')
			ln++;
	}
	while (i < size && count) {
		const char *nl = memchr(data + i, '\n', size - i);
		size_t n = nl ? (size_t)(nl - (data + i)) + 1 : size - i;
		if (b.len + n > SNIPPET_MAX) {
			pg_buf_puts(&b, "[...]\n");
			break;
		}
		pg_buf_put(&b, data + i, n);
		i += n;
		count--;
	}
	return pg_buf_detach(&b);
}

struct range { unsigned os, ol, ns, nl; };
typedef PG_VEC(struct range) range_vec;

static int hunk_cb(const git_diff_delta *d, const git_diff_hunk *h, void *payload)
{
	range_vec *v = payload;
	struct range r = { (unsigned)h->old_start, (unsigned)h->old_lines, (unsigned)h->new_start, (unsigned)h->new_lines };
	(void)d;
	/* with zero context a pure insertion is "after line os": make it start there */
	if (!r.ol)
		r.os++;
	if (!r.nl)
		r.ns++;
	return pg_vec_push(v, r) < 0 ? -1 : 0;
}

static int blob_ranges(range_vec *out, git_blob *a, git_blob *b)
{
	git_diff_options o;
	git_diff_options_init(&o, GIT_DIFF_OPTIONS_VERSION);
	o.context_lines = 0;
	if (git_diff_blobs(a, NULL, b, NULL, &o, NULL, NULL, hunk_cb, NULL, out) < 0)
		return git_fail("cannot diff conflicting blobs");
	return 0;
}

static unsigned count_lines(const char *p, size_t n)
{
	unsigned c = 0;
	for (size_t i = 0; i < n; i++)
		c += p[i] == '\n';
	return c + (n && p[n - 1] != '\n');
}

/*
 * Conflicting regions of a content conflict: branches of ancestor->ours and
 * ancestor->theirs that overlap or touch in the ancestor (xdiff's rule).
 */
static int content_hunks(pg_backport_conflict *c, git_repository *repo, const git_index_entry *anc,
			 const git_index_entry *ours, const git_index_entry *theirs)
{
	git_blob *ba = NULL, *bo = NULL, *bt = NULL;
	range_vec ro = PG_VEC_INIT, rt = PG_VEC_INIT;
	PG_VEC(pg_backport_hunk) hv = PG_VEC_INIT;
	int error = 0;
	char *used = NULL;

	if (git_blob_lookup(&ba, repo, &anc->id) < 0 || git_blob_lookup(&bo, repo, &ours->id) < 0 ||
	    git_blob_lookup(&bt, repo, &theirs->id) < 0) {
		error = git_fail("cannot read conflicting blobs");
		goto out;
	}
	if ((error = blob_ranges(&ro, ba, bo)) < 0 || (error = blob_ranges(&rt, ba, bt)) < 0)
		goto out;
	if (!(used = calloc(rt.len + 1, 1))) {
		error = PG_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < rt.len; i++) {
		unsigned bs, be, os = 0, oe = 0, ts, te;
		int any = 0;
		pg_backport_hunk h;
		if (used[i])
			continue;
		bs = rt.ptr[i].os, be = rt.ptr[i].os + rt.ptr[i].ol;
		ts = rt.ptr[i].ns, te = rt.ptr[i].ns + rt.ptr[i].nl;
		for (int grew = 1; grew;) {
			grew = 0;
			for (size_t j = 0; j < ro.len; j++) {
				unsigned s = ro.ptr[j].os, e = ro.ptr[j].os + ro.ptr[j].ol;
				if (s <= be && bs <= e && !(any && ro.ptr[j].ns >= os && ro.ptr[j].ns + ro.ptr[j].nl <= oe)) {
					if (!any || ro.ptr[j].ns < os)
						os = ro.ptr[j].ns;
					if (!any || ro.ptr[j].ns + ro.ptr[j].nl > oe)
						oe = ro.ptr[j].ns + ro.ptr[j].nl;
					if (s < bs)
						bs = s, grew = 1;
					if (e > be)
						be = e, grew = 1;
					any = 1;
				}
			}
			for (size_t k = i + 1; k < rt.len; k++) {
				unsigned s = rt.ptr[k].os, e = rt.ptr[k].os + rt.ptr[k].ol;
				if (!used[k] && s <= be && bs <= e) {
					used[k] = 1;
					if (rt.ptr[k].ns + rt.ptr[k].nl > te)
						te = rt.ptr[k].ns + rt.ptr[k].nl;
					if (e > be)
						be = e, grew = 1;
				}
			}
		}
		if (!any)
			continue;
		memset(&h, 0, sizeof(h));
		h.base_start = bs, h.base_lines = be - bs;
		h.ours_start = os, h.ours_lines = oe - os;
		h.theirs_start = ts, h.theirs_lines = te - ts;
		h.base = lines_of(git_blob_rawcontent(ba), (size_t)git_blob_rawsize(ba), bs, be - bs);
		h.ours = lines_of(git_blob_rawcontent(bo), (size_t)git_blob_rawsize(bo), os, oe - os);
		h.theirs = lines_of(git_blob_rawcontent(bt), (size_t)git_blob_rawsize(bt), ts, te - ts);
		if (!h.base || !h.ours || !h.theirs || pg_vec_push(&hv, h) < 0) {
			free(h.base), free(h.ours), free(h.theirs);
			error = pg_error_setc(PG_ENOMEM, "out of memory");
			goto out;
		}
	}
	if (!hv.len) {
		/* no overlapping edits found (e.g. binary or whole-file): report the file */
		pg_backport_hunk h;
		memset(&h, 0, sizeof(h));
		h.base_start = h.ours_start = h.theirs_start = 1;
		h.base_lines = count_lines(git_blob_rawcontent(ba), (size_t)git_blob_rawsize(ba));
		h.ours_lines = count_lines(git_blob_rawcontent(bo), (size_t)git_blob_rawsize(bo));
		h.theirs_lines = count_lines(git_blob_rawcontent(bt), (size_t)git_blob_rawsize(bt));
		h.base = pg_strdup(""), h.ours = pg_strdup(""), h.theirs = pg_strdup("");
		if (!h.base || !h.ours || !h.theirs || pg_vec_push(&hv, h) < 0) {
			free(h.base), free(h.ours), free(h.theirs);
			error = PG_ENOMEM;
			goto out;
		}
	}
	c->hunks = hv.ptr;
	c->nhunks = hv.len;
	hv.ptr = NULL;
out:
	for (size_t i = 0; hv.ptr && i < hv.len; i++)
		free(hv.ptr[i].base), free(hv.ptr[i].ours), free(hv.ptr[i].theirs);
	pg_vec_release(&hv);
	pg_vec_release(&ro);
	pg_vec_release(&rt);
	free(used);
	git_blob_free(ba);
	git_blob_free(bo);
	git_blob_free(bt);
	return error;
}

static int collect_conflicts(struct attempt *a, struct bp_ctx *cx, git_index *idx, const git_oid *commit,
			     const str_vec *from, const str_vec *to)
{
	git_index_conflict_iterator *it = NULL;
	const git_index_entry *anc, *ours, *theirs;
	PG_VEC(pg_backport_conflict) cv = PG_VEC_INIT;
	int error = 0, rc;

	if (git_index_conflict_iterator_new(&it, idx) < 0)
		return git_fail("cannot list conflicts");
	while ((rc = git_index_conflict_next(&anc, &ours, &theirs, it)) == 0) {
		pg_backport_conflict c;
		const char *path = ours ? ours->path : theirs ? theirs->path : anc->path;
		const char *up = path;
		memset(&c, 0, sizeof(c));
		for (size_t i = 0; i < to->len; i++)
			if (!strcmp(to->ptr[i], path))
				up = from->ptr[i];
		c.path = pg_strdup(path);
		c.upstream_path = pg_strdup(up);
		git_oid_cpy(&c.commit, commit);
		c.kind = !anc ? "add/add" : !ours ? "missing-on-branch" : !theirs ? "deleted-upstream" : "content";
		if (!c.path || !c.upstream_path || pg_vec_push(&cv, c) < 0) {
			free(c.path), free(c.upstream_path);
			error = pg_error_setc(PG_ENOMEM, "out of memory");
			goto out;
		}
		if (anc && ours && theirs &&
		    (error = content_hunks(&cv.ptr[cv.len - 1], cx->repo, anc, ours, theirs)) < 0)
			goto out;
		a->nhunks += cv.ptr[cv.len - 1].nhunks ? cv.ptr[cv.len - 1].nhunks : 1;
	}
	if (rc != GIT_ITEROVER)
		error = git_fail("cannot list conflicts");
out:
	git_index_conflict_iterator_free(it);
	a->conflicts = cv.ptr;
	a->nconflicts = cv.len;
	return error;
}

/* Cherry-pick commit onto tree ours in memory. *clean = 1 and tree_out set, or conflicts in a. */
static int apply_one(struct bp_ctx *cx, struct attempt *a, const git_oid *commit, git_tree *ours,
		     git_oid *tree_out, int *clean)
{
	git_commit *c = NULL;
	git_tree *pt = NULL, *t = NULL, *mpt = NULL, *mt = NULL;
	git_index *idx = NULL;
	git_merge_options mo;
	str_vec paths = PG_VEC_INIT, from = PG_VEC_INIT, to = PG_VEC_INIT;
	int error;

	git_merge_options_init(&mo, GIT_MERGE_OPTIONS_VERSION);
	*clean = 0;
	if (git_commit_lookup(&c, cx->repo, commit) < 0) {
		error = git_fail("cannot read a commit to apply");
		goto out;
	}
	if ((error = commit_trees(&pt, &t, cx->repo, c)) < 0 || (error = commit_paths(&paths, cx->repo, c)) < 0)
		goto out;
	/* files the commit touches that the branch has under another name */
	for (size_t i = 0; i < paths.len; i++) {
		git_tree_entry *e = NULL;
		const char *dst;
		if (git_tree_entry_bypath(&e, ours, paths.ptr[i]) == 0) {
			git_tree_entry_free(e);
			continue;
		}
		if ((error = load_renames(cx)) < 0)
			goto out;
		if ((dst = renamed_to(cx, paths.ptr[i]))) {
			char *f = pg_strdup(paths.ptr[i]), *d = pg_strdup(dst);
			if (!f || !d || pg_vec_push(&from, f) < 0) {
				free(f), free(d);
				error = PG_ENOMEM;
				goto out;
			}
			if (pg_vec_push(&to, d) < 0) {
				free(d);
				error = PG_ENOMEM;
				goto out;
			}
		}
	}
	if (from.len && ((error = move_paths(&mpt, cx->repo, pt, &from, &to)) < 0 ||
			 (error = move_paths(&mt, cx->repo, t, &from, &to)) < 0))
		goto out;
	if (git_merge_trees(&idx, cx->repo, mpt ? mpt : pt, ours, mt ? mt : t, &mo) < 0) {
		error = git_fail("cannot cherry-pick in memory");
		goto out;
	}
	if (git_index_has_conflicts(idx)) {
		error = collect_conflicts(a, cx, idx, commit, &from, &to);
		goto out;
	}
	if (git_index_write_tree_to(tree_out, idx, cx->repo) < 0) {
		error = git_fail("cannot write the cherry-picked tree");
		goto out;
	}
	*clean = 1;
out:
	str_vec_free(&paths);
	str_vec_free(&from);
	str_vec_free(&to);
	git_index_free(idx);
	git_tree_free(pt);
	git_tree_free(t);
	git_tree_free(mpt);
	git_tree_free(mt);
	git_commit_free(c);
	return error;
}

static int apply_series(struct attempt *a, struct bp_ctx *cx, const git_oid *series, size_t n)
{
	git_tree *cur = NULL;
	int error = 0, clean;

	memset(a, 0, sizeof(*a));
	if (!(a->trees = calloc(n + 1, sizeof(git_oid))))
		return pg_error_setc(PG_ENOMEM, "out of memory");
	if (git_tree_dup(&cur, cx->head_tree) < 0)
		return git_fail("cannot copy the head tree");
	for (size_t i = 0; i < n; i++) {
		git_tree *next = NULL;
		if ((error = apply_one(cx, a, &series[i], cur, &a->trees[i], &clean)) < 0 || !clean)
			break;
		a->ok = i + 1;
		if (git_tree_lookup(&next, cx->repo, &a->trees[i]) < 0) {
			error = git_fail("cannot read a cherry-picked tree");
			break;
		}
		git_tree_free(cur);
		cur = next;
	}
	git_tree_free(cur);
	return error;
}

/* ---- prerequisites ------------------------------------------------------ */

static int load_order(struct bp_ctx *cx)
{
	git_revwalk *w = NULL;
	git_oid id;
	uint32_t pos = 0;
	int error = 0, rc;

	if (cx->order.count)
		return 0;
	if (git_revwalk_new(&w, cx->repo) < 0 || git_revwalk_push(w, &cx->r->fix) < 0 ||
	    git_revwalk_hide(w, git_commit_id(cx->head)) < 0 ||
	    (cx->r->has_fork_point && git_revwalk_hide(w, &cx->r->fork_point) < 0)) {
		error = git_fail("cannot walk upstream from the fork point to the fix");
		goto out;
	}
	git_revwalk_sorting(w, GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE);
	while ((rc = git_revwalk_next(&id, w)) == 0)
		if (pg_oidmap_set(&cx->order, id.id, pos++) < 0) {
			error = pg_error_setc(PG_ENOMEM, "out of memory");
			goto out;
		}
	if (rc != GIT_ITEROVER)
		error = git_fail("cannot walk upstream");
out:
	git_revwalk_free(w);
	return error;
}

struct cand {
	git_oid id;
	uint32_t pos;
	unsigned weight;   /* blamed lines */
	char *why;
};
typedef PG_VEC(struct cand) cand_vec;

static void cand_vec_free(cand_vec *v)
{
	for (size_t i = 0; i < v->len; i++)
		free(v->ptr[i].why);
	pg_vec_release(v);
}

static int cand_add(struct bp_ctx *cx, cand_vec *v, const git_oid *id, unsigned weight, const char *why,
		    const git_oid *series, size_t n)
{
	uint32_t pos = pg_oidmap_get(&cx->order, id->id);
	const char *how;
	git_oid ev;
	int rc;

	if (pos == PG_OIDMAP_NONE || git_oid_equal(id, &cx->r->fix))
		return 0; /* not between the fork point and the fix */
	for (size_t i = 0; i < n; i++)
		if (git_oid_equal(&series[i], id))
			return 0;
	for (size_t i = 0; i < v->len; i++)
		if (git_oid_equal(&v->ptr[i].id, id)) {
			pg_buf b = PG_BUF_INIT;
			v->ptr[i].weight += weight;
			if (!strstr(v->ptr[i].why, why)) {
				if (pg_buf_printf(&b, "%s; %s", v->ptr[i].why, why) < 0)
					return PG_ENOMEM;
				free(v->ptr[i].why);
				v->ptr[i].why = pg_buf_detach(&b);
			}
			return 0;
		}
	if ((rc = on_branch(cx, id, &how, &ev, NULL)) != 0)
		return rc < 0 ? rc : 0; /* already there: not the cause */
	{
		struct cand c = { *id, pos, weight, pg_strdup(why) };
		if (!c.why || pg_vec_push(v, c) < 0) {
			free(c.why);
			return pg_error_setc(PG_ENOMEM, "out of memory");
		}
	}
	return 0;
}

static int blame_candidates(struct bp_ctx *cx, cand_vec *v, const pg_backport_conflict *c,
			    const git_oid *series, size_t n)
{
	git_commit *commit = NULL;
	git_blame *blame = NULL;
	git_tree *pt = NULL, *t = NULL;
	git_tree_entry *te = NULL;
	git_blob *blob = NULL;
	int error = 0;

	if (git_commit_lookup(&commit, cx->repo, &c->commit) < 0 || git_commit_parentcount(commit) != 1)
		goto out;
	if ((error = commit_trees(&pt, &t, cx->repo, commit)) < 0)
		goto out;
	if (git_tree_entry_bypath(&te, pt, c->upstream_path) < 0 ||
	    git_blob_lookup(&blob, cx->repo, git_tree_entry_id(te)) < 0)
		goto out; /* the file is new upstream: nothing to blame */
	for (size_t h = 0; h < c->nhunks; h++) {
		git_blame_options bo;
		unsigned total = count_lines(git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
		unsigned lo = c->hunks[h].base_start, hi = lo + c->hunks[h].base_lines - 1;
		git_blame_options_init(&bo, GIT_BLAME_OPTIONS_VERSION);
		if (!c->hunks[h].base_lines) /* an insertion point: blame its neighbours */
			lo = lo > 1 ? lo - 1 : 1, hi = lo + 1;
		if (hi > total)
			hi = total;
		if (lo > hi || !total)
			continue;
		bo.newest_commit = *git_commit_parent_id(commit, 0);
		if (cx->r->has_fork_point)
			bo.oldest_commit = cx->r->fork_point;
		bo.min_line = lo;
		bo.max_line = hi;
		if (git_blame_file(&blame, cx->repo, c->upstream_path, &bo) < 0) {
			error = git_fail("cannot blame the conflicting lines");
			goto out;
		}
		for (uint32_t i = 0; i < git_blame_get_hunk_count(blame); i++) {
			const git_blame_hunk *bh = git_blame_get_hunk_byindex(blame, i);
			char why[512];
			unsigned a = (unsigned)bh->final_start_line_number;
			snprintf(why, sizeof(why), "blame %s:%u-%u", c->upstream_path, a,
				 a + (unsigned)bh->lines_in_hunk - 1);
			if (bh->boundary)
				continue;
			if ((error = cand_add(cx, v, &bh->final_commit_id, (unsigned)bh->lines_in_hunk, why,
					      series, n)) < 0)
				goto out;
		}
		git_blame_free(blame);
		blame = NULL;
	}
out:
	git_blame_free(blame);
	git_blob_free(blob);
	git_tree_entry_free(te);
	git_tree_free(pt);
	git_tree_free(t);
	git_commit_free(commit);
	return error;
}

static int named_candidate(struct bp_ctx *cx, cand_vec *v, const char *hexid, const char *kind,
			   const git_oid *series, size_t n)
{
	char hex[GIT_OID_HEXSZ + 1], why[300];
	git_oid prefix;
	git_object *obj = NULL;
	size_t hn;
	int error;

	if (!(hn = hex_at(hex, hexid)) || git_oid_fromstrn(&prefix, hex, hn) < 0)
		return 0;
	if (git_object_lookup_prefix(&obj, cx->repo, &prefix, hn, GIT_OBJECT_COMMIT) < 0) {
		git_error_clear();
		return 0; /* unknown or ambiguous: not usable */
	}
	snprintf(why, sizeof(why), "%s: %.12s", kind, hex);
	error = cand_add(cx, v, git_object_id(obj), 1, why, series, n);
	git_object_free(obj);
	return error;
}

/*
 * Commits named by the message of commit id: Fixes:, Depends-on:, a stable
 * "Cc: stable # X.Y.x: <id>: prereq" line, and any line that says
 * "prerequisite" next to a commit id.  "Stable-dep-of: X" is skipped: it says
 * this commit is X's dependency, the other direction.
 */
static int annotation_candidates(struct bp_ctx *cx, cand_vec *v, const git_oid *id, const git_oid *series,
				 size_t n)
{
	git_commit *c = NULL;
	pg_trailers tr = PG_TRAILERS_INIT;
	const char *msg, *line;
	int error;

	if (git_commit_lookup(&c, cx->repo, id) < 0)
		return git_fail("cannot read a commit");
	msg = git_commit_message(c);
	if ((error = pg_trailers_parse(&tr, msg, strlen(msg))) < 0)
		goto out;
	for (size_t i = 0; i < tr.n && !error; i++) {
		const pg_trailer *t = &tr.v[i];
		if (!t->ref_id)
			continue;
		if (t->kind == PG_TR_FIXES)
			error = named_candidate(cx, v, t->ref_id, "Fixes", series, n);
		else if (t->kind == PG_TR_DEPENDS_ON && t->key && !pg_str_find_ci(t->key, "stable-dep-of") &&
			 !pg_str_find_ci(t->key, "patch-id"))
			error = named_candidate(cx, v, t->ref_id, t->key, series, n);
		else if (t->kind == PG_TR_CC_STABLE)
			error = named_candidate(cx, v, t->ref_id, "Cc: stable prerequisite", series, n);
	}
	for (line = msg; line && *line && !error;) {
		const char *nl = strchr(line, '\n'), *p;
		char buf[256];
		size_t len = nl ? (size_t)(nl - line) : strlen(line);

		snprintf(buf, sizeof(buf), "%.*s", (int)(len < 255 ? len : 255), line);
		line = nl ? nl + 1 : NULL;
		if (!pg_str_find_ci(buf, "prerequisite") || pg_str_find_ci(buf, "prerequisite-patch-id") ||
		    pg_str_starts_with_ci(buf, "cc:"))
			continue;
		for (p = buf; *p; p++)
			if (pg_str_hexlen(p, 41) >= 8 && (p == buf || !isalnum((unsigned char)p[-1])) &&
			    !isalnum((unsigned char)p[pg_str_hexlen(p, 41)])) {
				error = named_candidate(cx, v, p, "prerequisite", series, n);
				break;
			}
	}
out:
	pg_trailers_release(&tr);
	git_commit_free(c);
	return error;
}

static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Insert id into series (upstream order); series has room for one more. */
static void series_insert(git_oid *series, size_t *n, const git_oid *id, uint32_t pos, const pg_oidmap *order)
{
	size_t i = 0;
	while (i < *n - 1 && pg_oidmap_get(order, series[i].id) < pos)
		i++;
	memmove(&series[i + 1], &series[i], (*n - i) * sizeof(git_oid));
	series[i] = *id;
	(*n)++;
}

static int remember_candidate(pg_backport_result *r, git_repository *repo, const struct cand *c)
{
	pg_backport_candidate *nc;
	git_commit *commit = NULL;
	for (size_t i = 0; i < r->ncandidates; i++)
		if (git_oid_equal(&r->candidates[i].id, &c->id))
			return 0;
	if (!(nc = realloc(r->candidates, (r->ncandidates + 1) * sizeof(*nc))))
		return PG_ENOMEM;
	r->candidates = nc;
	nc += r->ncandidates++;
	memset(nc, 0, sizeof(*nc));
	nc->id = c->id;
	if (git_commit_lookup(&commit, repo, &c->id) == 0)
		nc->subject = pg_backport__subject(commit);
	git_commit_free(commit);
	nc->why = pg_strdup(c->why);
	return nc->why && nc->subject ? 0 : PG_ENOMEM;
}

/* ---- commits ------------------------------------------------------------- */

int pg_backport__message(pg_buf *b, const git_commit *c, const pg_backport_result *r, int prereq,
			 size_t nprereq)
{
	const char *msg = git_commit_message((git_commit *)c), *body;
	char hex[GIT_OID_HEXSZ + 1], fixhex[GIT_OID_HEXSZ + 1];
	size_t sublen, bodylen;
	int error = 0;

	oid_hex(hex, git_commit_id(c));
	oid_hex(fixhex, &r->fix);
	body = strstr(msg, "\n\n");
	sublen = body ? (size_t)(body - msg) : strlen(msg);
	while (sublen && isspace((unsigned char)msg[sublen - 1]))
		sublen--;
	body = body ? body + 2 : msg + strlen(msg);
	while (*body == '\n')
		body++;
	bodylen = strlen(body);
	while (bodylen && isspace((unsigned char)body[bodylen - 1]))
		bodylen--;
	error |= pg_buf_put(b, msg, sublen);
	error |= pg_buf_printf(b, "\n\ncommit %s upstream.\n\n", hex);
	if (bodylen) {
		error |= pg_buf_put(b, body, bodylen);
		error |= pg_buf_putc(b, '\n');
	}
	if (prereq)
		error |= pg_buf_printf(b, "Stable-dep-of: %.12s (\"%s\")\n", fixhex, r->fix_subject);
	if (prereq)
		error |= pg_buf_printf(b, "Backported-by: patchgap %s (prerequisite of %.12s)\n", PG_VERSION, fixhex);
	else if (nprereq)
		error |= pg_buf_printf(b, "Backported-by: patchgap %s (with %zu prerequisite%s)\n", PG_VERSION,
				       nprereq, nprereq == 1 ? "" : "s");
	else
		error |= pg_buf_printf(b, "Backported-by: patchgap %s (clean)\n", PG_VERSION);
	return error ? pg_error_setc(PG_ENOMEM, "out of memory") : 0;
}

static int create_commits(struct bp_ctx *cx)
{
	pg_backport_result *r = cx->r;
	git_signature *committer = NULL;
	git_commit *parent = NULL;
	pg_buf refname = PG_BUF_INIT, log = PG_BUF_INIT;
	git_reference *ref = NULL;
	char fixhex[GIT_OID_HEXSZ + 1];
	int error = 0, valid = 0;
	size_t nprereq = r->nsteps - 1;
	int64_t now = cx->o->now ? cx->o->now : (int64_t)time(NULL);

	if (git_signature_default(&committer, cx->repo) < 0) {
		git_error_clear();
		if (git_signature_new(&committer, "patchgap", "patchgap@localhost", now, 0) < 0)
			return git_fail("cannot make a committer signature");
	} else {
		git_signature *tmp = NULL;
		if (git_signature_new(&tmp, committer->name, committer->email, now, committer->when.offset) < 0) {
			git_signature_free(committer);
			return git_fail("cannot make a committer signature");
		}
		git_signature_free(committer);
		committer = tmp;
	}
	if (git_commit_dup(&parent, cx->head) < 0) {
		error = git_fail("cannot copy the head commit");
		goto out;
	}
	for (size_t i = 0; i < r->nsteps; i++) {
		pg_backport_step *s = &r->steps[i];
		git_commit *up = NULL, *next = NULL;
		git_tree *tree = NULL;
		pg_buf msg = PG_BUF_INIT;
		const git_commit *parents[1] = { parent };

		if (git_commit_lookup(&up, cx->repo, &s->upstream) < 0 ||
		    git_tree_lookup(&tree, cx->repo, &s->tree) < 0) {
			git_commit_free(up);
			error = git_fail("cannot read a step of the series");
			goto out;
		}
		error = pg_backport__message(&msg, up, r, s->prerequisite, nprereq);
		if (!error && git_commit_create(&s->created, cx->repo, NULL, git_commit_author(up), committer,
						NULL, msg.ptr, tree, 1, parents) < 0)
			error = git_fail("cannot create the backport commit");
		pg_buf_release(&msg);
		git_tree_free(tree);
		git_commit_free(up);
		if (error < 0)
			goto out;
		if (git_commit_lookup(&next, cx->repo, &s->created) < 0) {
			error = git_fail("cannot read the created commit");
			goto out;
		}
		git_commit_free(parent);
		parent = next;
	}
	oid_hex(fixhex, &r->fix);
	if (pg_buf_printf(&refname, "%s%s/%.12s", cx->o->ref_prefix ? cx->o->ref_prefix : "refs/heads/patchgap/",
			  r->branch_name, fixhex) < 0 ||
	    pg_buf_printf(&log, "patchgap backport %.12s onto %s", fixhex, r->onto_ref) < 0) {
		error = PG_ENOMEM;
		goto out;
	}
	if (git_reference_name_is_valid(&valid, refname.ptr) < 0 || !valid) {
		error = pg_error_setc(PG_EINVALID, "cannot name the backport branch: '%s' is not a valid ref name",
				      refname.ptr);
		goto out;
	}
	if (git_reference_create(&ref, cx->repo, refname.ptr, git_commit_id(parent), 1, log.ptr) < 0) {
		error = git_fail("cannot create the backport branch");
		goto out;
	}
	r->created_ref = pg_buf_detach(&refname);
	r->created = 1;
	if (!r->created_ref)
		error = PG_ENOMEM;
out:
	git_reference_free(ref);
	pg_buf_release(&refname);
	pg_buf_release(&log);
	git_commit_free(parent);
	git_signature_free(committer);
	return error;
}

/* ---- the run --------------------------------------------------------------- */

static int resolve_onto(struct bp_ctx *cx, const char *onto)
{
	git_reference *ref = NULL;
	git_object *obj = NULL;
	int error = 0;

	if (git_reference_dwim(&ref, cx->repo, onto) == 0) {
		if (git_reference_peel(&obj, ref, GIT_OBJECT_COMMIT) < 0) {
			error = pg_error_setc(PG_EINVALID, "branch '%s' does not point to a commit", onto);
			goto out;
		}
		cx->r->onto_ref = pg_strdup(git_reference_name(ref));
		cx->r->branch_name = pg_strdup(git_reference_shorthand(ref));
	} else {
		git_error_clear();
		if (git_revparse_single(&obj, cx->repo, onto) < 0) {
			git_error_clear();
			error = pg_error_setc(PG_ENOTFOUND, "unknown branch '%s': no such ref or revision in the repository",
					      onto);
			goto out;
		}
		if (git_object_type(obj) != GIT_OBJECT_COMMIT) {
			git_object *peeled = NULL;
			if (git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT) < 0) {
				git_error_clear();
				error = pg_error_setc(PG_EINVALID, "'%s' does not name a commit", onto);
				goto out;
			}
			git_object_free(obj);
			obj = peeled;
		}
		cx->r->onto_ref = pg_strdup(onto);
		cx->r->branch_name = pg_strdup(onto);
		if (cx->r->branch_name)
			for (char *p = cx->r->branch_name; *p; p++)
				if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-' && *p != '_' && *p != '/')
					*p = '-';
	}
	if (!cx->r->onto_ref || !cx->r->branch_name) {
		error = PG_ENOMEM;
		goto out;
	}
	if (git_commit_lookup(&cx->head, cx->repo, git_object_id(obj)) < 0 ||
	    git_commit_tree(&cx->head_tree, cx->head) < 0)
		error = git_fail("cannot read the branch head");
	else
		git_oid_cpy(&cx->r->head, git_commit_id(cx->head));
out:
	git_object_free(obj);
	git_reference_free(ref);
	return error;
}

static int set_steps(pg_backport_result *r, git_repository *repo, const git_oid *series, size_t n,
		     const struct attempt *a, const cand_vec *chosen)
{
	if (!(r->steps = calloc(n, sizeof(*r->steps))))
		return PG_ENOMEM;
	r->nsteps = n;
	for (size_t i = 0; i < n; i++) {
		git_commit *c = NULL;
		pg_backport_step *s = &r->steps[i];
		s->upstream = series[i];
		s->prerequisite = !git_oid_equal(&series[i], &r->fix);
		if (a && i < a->ok)
			s->tree = a->trees[i];
		if (git_commit_lookup(&c, repo, &series[i]) < 0)
			return git_fail("cannot read a commit of the series");
		s->subject = pg_backport__subject(c);
		git_commit_free(c);
		s->why = NULL;
		for (size_t k = 0; chosen && k < chosen->len; k++)
			if (git_oid_equal(&chosen->ptr[k].id, &series[i]))
				s->why = pg_strdup(chosen->ptr[k].why);
		if (!s->why)
			s->why = pg_strdup(s->prerequisite ? "prerequisite" : "the fix");
		if (!s->subject || !s->why)
			return PG_ENOMEM;
	}
	for (size_t k = 0; k < r->ncandidates; k++)
		for (size_t i = 0; i < n; i++)
			if (git_oid_equal(&r->candidates[k].id, &series[i]))
				r->candidates[k].used = 1;
	return 0;
}

static int search_series(struct bp_ctx *cx, struct attempt *first)
{
	pg_backport_result *r = cx->r;
	unsigned max = cx->o->max_deps;
	git_oid *series = NULL, *trial = NULL;
	size_t n = 1;
	struct attempt cur = { 0 }, best = { 0 };
	cand_vec chosen = PG_VEC_INIT;
	int error = 0;

	if (!(series = calloc(max + 2, sizeof(git_oid))) || !(trial = calloc(max + 2, sizeof(git_oid)))) {
		error = PG_ENOMEM;
		goto out;
	}
	series[0] = r->fix;
	cur = *first;
	memset(first, 0, sizeof(*first));
	if ((error = load_order(cx)) < 0)
		goto out;
	for (;;) {
		cand_vec cands = PG_VEC_INIT;
		size_t best_n = 0;
		int found_clean = 0;
		const struct cand *best_c = NULL;
		const git_oid *failing = &series[cur.ok];

		if (n - 1 >= max)
			break;
		for (size_t i = 0; i < cur.nconflicts && !error; i++)
			error = blame_candidates(cx, &cands, &cur.conflicts[i], series, n);
		if (!error)
			error = annotation_candidates(cx, &cands, failing, series, n);
		if (error < 0) {
			cand_vec_free(&cands);
			goto out;
		}
		if (cands.len)
			qsort(cands.ptr, cands.len, sizeof(*cands.ptr), cand_cmp);
		for (size_t i = 0; i < cands.len; i++)
			if ((error = remember_candidate(r, cx->repo, &cands.ptr[i])) < 0) {
				cand_vec_free(&cands);
				goto out;
			}
		memset(&best, 0, sizeof(best));
		for (size_t i = 0; i < cands.len; i++) {
			struct attempt t;
			size_t tn = n;
			memcpy(trial, series, n * sizeof(git_oid));
			series_insert(trial, &tn, &cands.ptr[i].id, cands.ptr[i].pos, &cx->order);
			if ((error = apply_series(&t, cx, trial, tn)) < 0) {
				attempt_release(&t);
				cand_vec_free(&cands);
				goto out;
			}
			/* progress = clean steps, counting the position of the failure */
			if (t.ok == tn || !best_c || t.ok > best.ok ||
			    (t.ok == best.ok && cands.ptr[i].weight > best_c->weight) ||
			    (t.ok == best.ok && cands.ptr[i].weight == best_c->weight && t.nhunks < best.nhunks)) {
				attempt_release(&best);
				best = t;
				best_c = &cands.ptr[i];
				best_n = tn;
				if (t.ok == tn) {
					found_clean = 1;
					break;
				}
			} else
				attempt_release(&t);
		}
		if (!best_c) {
			cand_vec_free(&cands);
			break; /* nothing left to try: irreducible */
		}
		{
			struct cand keep = *best_c;
			size_t tn = n;
			keep.why = pg_strdup(best_c->why);
			if (!keep.why || pg_vec_push(&chosen, keep) < 0) {
				free(keep.why);
				cand_vec_free(&cands);
				error = PG_ENOMEM;
				goto out;
			}
			series_insert(series, &tn, &keep.id, keep.pos, &cx->order);
			n = tn;
			(void)best_n;
		}
		cand_vec_free(&cands);
		attempt_release(&cur);
		cur = best;
		memset(&best, 0, sizeof(best));
		if (found_clean) {
			r->status = PG_BACKPORT_WITH_DEPS;
			error = set_steps(r, cx->repo, series, n, &cur, &chosen);
			goto out;
		}
	}
	/* irreducible: report the last series tried and what still conflicts */
	r->status = PG_BACKPORT_CONFLICT;
	r->remaining = cur.conflicts;
	r->nremaining = cur.nconflicts;
	cur.conflicts = NULL;
	cur.nconflicts = 0;
	error = set_steps(r, cx->repo, series, n, &cur, &chosen);
out:
	attempt_release(&cur);
	attempt_release(&best);
	cand_vec_free(&chosen);
	free(series);
	free(trial);
	return error;
}

int pg_backport_run(pg_backport_result **out, git_repository *repo, const git_oid *fix,
		    const char *onto_ref, const pg_backport_options *opts)
{
	pg_backport_options defaults = PG_BACKPORT_OPTIONS_INIT;
	struct bp_ctx cx;
	pg_backport_result *r = NULL;
	git_commit *fc = NULL;
	git_tree *fork_tree = NULL, *fpt = NULL, *ft = NULL;
	struct attempt first = { 0 };
	char hex[GIT_OID_HEXSZ + 1];
	pg_buf diff = PG_BUF_INIT;
	int error = 0, rc;

	memset(&cx, 0, sizeof(cx));
	*out = NULL;
	if (!opts)
		opts = &defaults;
	if (opts->version != PG_BACKPORT_OPTIONS_VERSION)
		return pg_error_setc(PG_EINVALID, "backport options version %u is not supported", opts->version);
	cx.repo = repo;
	cx.o = opts;
	if (!(r = calloc(1, sizeof(*r))))
		return pg_error_setc(PG_ENOMEM, "out of memory");
	cx.r = r;
	r->test.exit_code = -1;
	r->fix = *fix;
	oid_hex(hex, fix);
	if (git_commit_lookup(&fc, repo, fix) < 0) {
		git_error_clear();
		error = pg_error_setc(PG_ENOTFOUND, "unknown fix %s: no such commit in the repository", hex);
		goto out;
	}
	if (git_commit_parentcount(fc) != 1) {
		error = pg_error_setc(PG_EINVALID, "fix %s is a %s commit: only single-parent commits can be backported",
				      hex, git_commit_parentcount(fc) ? "merge" : "root");
		goto out;
	}
	if (!(r->fix_subject = pg_backport__subject(fc))) {
		error = PG_ENOMEM;
		goto out;
	}
	if ((error = resolve_onto(&cx, onto_ref)) < 0)
		goto out;
	if ((rc = git_merge_base(&r->fork_point, repo, git_commit_id(cx.head), fix)) == 0) {
		r->has_fork_point = 1;
		if (git_tree_lookup(&fork_tree, repo, &r->fork_point) < 0) {
			git_commit *fk = NULL;
			if (git_commit_lookup(&fk, repo, &r->fork_point) < 0 || git_commit_tree(&fork_tree, fk) < 0) {
				git_commit_free(fk);
				error = git_fail("cannot read the fork point");
				goto out;
			}
			git_commit_free(fk);
		}
		cx.fork_tree = fork_tree;
		fork_tree = NULL;
	} else if (rc != GIT_ENOTFOUND) {
		error = git_fail("cannot find the fork point");
		goto out;
	}
	git_error_clear();

	/* the live-patch verdict of the fix itself */
	if ((error = commit_trees(&fpt, &ft, repo, fc)) < 0 ||
	    (error = pg_backport__diff_text(&diff, repo, fpt, ft)) < 0 ||
	    (error = pg_livepatch_assess(&r->livepatch, pg_buf_cstr(&diff), diff.len)) < 0)
		goto out;

	/* 1. already there? */
	if ((error = load_branch(&cx)) < 0)
		goto out;
	if ((rc = on_branch(&cx, fix, &r->present_how, &r->present_commit, &r->present_evidence)) != 0) {
		if (rc < 0) {
			error = rc;
			goto out;
		}
		r->status = PG_BACKPORT_PRESENT;
		goto out;
	}

	/* 2. the fix alone */
	if ((error = apply_series(&first, &cx, fix, 1)) < 0)
		goto out;
	if (first.ok == 1) {
		if (git_oid_equal(&first.trees[0], git_tree_id(cx.head_tree))) {
			r->status = PG_BACKPORT_PRESENT;
			r->present_how = "tree";
			if (!(r->present_evidence = pg_strdup("applying the fix to the branch head changes nothing: "
							      "its change is already in the files"))) {
				error = PG_ENOMEM;
				goto out;
			}
			goto out;
		}
		r->status = PG_BACKPORT_CLEAN;
		if ((error = set_steps(r, repo, fix, 1, &first, NULL)) < 0)
			goto out;
	} else {
		/* keep the conflicts of the fix alone for the report */
		r->conflicts = first.conflicts;
		r->nconflicts = first.nconflicts;
		first.conflicts = NULL;
		first.nconflicts = 0;
		/* re-run to give the search its own copy of the conflicts */
		attempt_release(&first);
		if ((error = apply_series(&first, &cx, fix, 1)) < 0 || (error = search_series(&cx, &first)) < 0)
			goto out;
	}

	/* 3. write it */
	if (opts->create_branch && (r->status == PG_BACKPORT_CLEAN ||
				    (r->status == PG_BACKPORT_WITH_DEPS && opts->with_deps)))
		if ((error = create_commits(&cx)) < 0)
			goto out;

	/* 4. test it */
	if (opts->test_cmd && (r->status == PG_BACKPORT_CLEAN || r->status == PG_BACKPORT_WITH_DEPS))
		error = pg_backport_test_tree(&r->test, repo, &r->steps[r->nsteps - 1].tree, opts->test_cmd,
					      opts->test_timeout ? opts->test_timeout : 600, opts);
out:
	attempt_release(&first);
	pg_buf_release(&diff);
	git_tree_free(fork_tree);
	git_tree_free(fpt);
	git_tree_free(ft);
	git_commit_free(fc);
	ctx_release(&cx);
	if (error < 0)
		pg_backport_result_free(r);
	else
		*out = r;
	return error;
}
