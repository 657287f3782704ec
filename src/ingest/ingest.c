/*
 * ingest.c - the incremental ingest run (see include/patchgap/ingest.h for
 * the phases and invariants).
 *
 * Memory: one 24-byte slot per known commit (pg_oidmap) plus, per release
 * line, one slot per commit first contained in a release tag found new in
 * this run.  Nothing else grows with the history.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <git2.h>
#include "patchgap/ingest.h"
#include "patchgap/trailer.h"
#include "ingest/ingest_int.h"
#include "util/cgraph.h"
#include "util/clock.h"
#include "util/odb.h"
#include "util/map.h"
#include "util/str.h"
#include "util/banned.h"

/* A release line: mainline (vX.Y, vX.Y-rcN) or one stable series (vX.Y.N). */
struct line {
	char series[32];          /* "" for mainline, else "6.1" */
	PG_VEC(struct tag) tags;  /* every tag of the line, version order */
	pg_oidmap first;          /* commit -> index in tags, for new tags only */
	int any_new;
};

struct tag {
	char *name;               /* owned: "v6.1.7" */
	pg_kver ver;
	git_oid commit;
	int is_new;               /* not yet processed by an earlier run */
	int set_target;           /* stored, but without this ref target */
	int64_t time;             /* commit time */
	char target[GIT_OID_HEXSZ + 1]; /* what the ref points at: tag object or commit */
};

struct branch {
	const pg_branch_conf *conf;
	int64_t id;
	git_oid head;
	git_oid old_head;
	int has_old, rewritten;
	struct line *line;        /* stable series line (stable/vendor) or NULL */
	const char *series;       /* borrowed */
	PG_VEC(git_oid) walk;     /* new commits to visit, newest first (list_branch) */
};

#define TREE_MEMO 4096 /* power of two */

struct rawid {
	unsigned char id[20];
};

struct ingest {
	const pg_config *cfg;
	pg_store *store;
	const pg_ingest_options *opts;
	pg_ingest_stats *stats;
	git_repository *repo;
	pg_oidmap known;          /* sha -> commits.id: this run's, and stored ones looked up */
	int all_known;            /* known holds every stored commit (else ask known_id) */
	pg_stmt *sel_known;
	PG_VEC(struct rawid) sorted_known; /* ids stored before this run, sorted */
	PG_VEC(struct rawid) new_ids;      /* ids stored by this run, in walk order */
	unsigned char *all_ids;    /* bulk runs: every stored id and every id to be stored, sorted */
	size_t n_all_ids;
	uint32_t next_id;
	uint32_t first_new_id;     /* commits.id of this run's first commit: higher ids are this run's */
	struct line mainline;
	PG_VEC(struct line *) series;
	PG_VEC(struct branch) branches;
	size_t in_batch;
	pg_stmt *ins_commit, *ins_file, *ins_trailer, *ins_rel, *ins_bc, *set_mainline, *upd_rel, *unreach;
	pg_queue *q;               /* writer thread for the walk phase (see store.h) */
	pg_buf commit_raw, parent_raw;
	pg_odb_commit commit, parent;
	struct tree_memo {
		git_oid commit, tree;
		int valid;
	} memo[TREE_MEMO];         /* trees of recently parsed commits: most parents were just stored */
	pg_ingest__files files;
	pg_ingest__differ differ;   /* pack reader + tree buffers, reused for every commit */
	pg_cgraph *cgraph;         /* the repository's commit-graph, or NULL: parents without reading commits */
	pg_buf tmp;
	double phase_t0;           /* PATCHGAP_INGEST_STATS: start of the current phase, 0 = off */
};

static void warn(struct ingest *in, const char *fmt, ...) PG_PRINTF(2, 3);
static void warn(struct ingest *in, const char *fmt, ...)
{
	pg_buf b = PG_BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	pg_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	in->stats->warnings++;
	if (in->opts->warn)
		in->opts->warn(pg_buf_cstr(&b), in->opts->payload);
	pg_buf_release(&b);
}

static void progress(struct ingest *in, const char *phase, size_t done, size_t total)
{
	if (in->opts->progress)
		in->opts->progress(phase, done, total, in->opts->payload);
}

/* PATCHGAP_INGEST_STATS=1: wall time of each phase on stderr, to see what
 * limits a run (full ingest, +N commits, nothing new) without a profiler. */
static void phase_done(struct ingest *in, const char *name)
{
	double t;
	if (!in->phase_t0)
		return;
	t = pg_clock_now();
	fprintf(stderr, "ingest: %-18s %8.3f s\n", name, t - in->phase_t0);
	in->phase_t0 = t;
}

static int git_fail(const char *what)
{
	const git_error *e = git_error_last();
	return pg_error_set("%s: %s", what, e && e->message ? e->message : "unknown libgit2 error");
}

static void line_release(struct line *l)
{
	for (size_t i = 0; i < l->tags.len; i++)
		free(l->tags.ptr[i].name);
	pg_vec_release(&l->tags);
	pg_oidmap_release(&l->first);
}

static struct line *line_for_series(struct ingest *in, const char *series)
{
	for (size_t i = 0; i < in->series.len; i++)
		if (!strcmp(in->series.ptr[i]->series, series))
			return in->series.ptr[i];
	return NULL;
}

/* ---- phase 0: load what earlier runs stored ---------------------------- */

/* Next row id; the id map itself is filled by lookup_known once the walk lists are known. */
static int load_known(struct ingest *in)
{
	pg_stmt *st = NULL;
	int error, rc;

	if ((error = pg_store_prepare(&st, in->store, "SELECT max(id) FROM commits")) < 0)
		return error;
	in->next_id = 1;
	if ((rc = pg_stmt_step(st)) > 0 && !pg_stmt_isnull(st, 0))
		in->next_id = (uint32_t)pg_stmt_int(st, 0) + 1;
	error = rc < 0 ? rc : 0;
	pg_stmt_free(st);
	return error;
}

/* Every stored id into the map, in sha order (so sorted_known comes for free). */
static int load_all_known(struct ingest *in)
{
	pg_stmt *st = NULL;
	int error = 0, rc;
	git_oid id;

	if ((error = pg_store_prepare(&st, in->store, "SELECT id, sha FROM commits ORDER BY sha")) < 0)
		return error;
	while ((rc = pg_stmt_step(st)) > 0) {
		uint32_t cid = (uint32_t)pg_stmt_int(st, 0);
		if (git_oid_fromstr(&id, pg_stmt_text(st, 1)) < 0) {
			error = pg_error_setc(PG_EINVALID, "database '%s' holds a malformed commit id '%s'",
					      pg_store_path(in->store), pg_stmt_text(st, 1));
			break;
		}
		if ((error = pg_oidmap_set(&in->known, id.id, cid)) < 0 ||
		    (error = pg_vec_push(&in->sorted_known, *(struct rawid *)id.id)) < 0)
			break;
	}
	if (rc < 0)
		error = rc;
	pg_stmt_free(st);
	in->all_known = error == 0;
	return error;
}

/* Row id of a stored commit, from the map or (when not everything is loaded) the sha index. */
static int known_id(struct ingest *in, const git_oid *id, uint32_t *out)
{
	char hex[GIT_OID_HEXSZ + 1];
	int rc;

	*out = pg_oidmap_get(&in->known, id->id);
	if (*out != PG_OIDMAP_NONE || in->all_known)
		return 0;
	if (!in->sel_known && (rc = pg_store_prepare(&in->sel_known, in->store,
						   "SELECT id FROM commits WHERE sha = ?")) < 0)
		return rc;
	git_oid_tostr(hex, sizeof(hex), id);
	pg_stmt_bind_text(in->sel_known, 1, hex);
	if ((rc = pg_stmt_step(in->sel_known)) > 0) {
		*out = (uint32_t)pg_stmt_int(in->sel_known, 0);
		rc = pg_oidmap_set(&in->known, id->id, *out);
	}
	pg_stmt_reset(in->sel_known);
	return rc < 0 ? rc : 0;
}

/*
 * Which walked commits are stored already.  An incremental run walks few
 * commits: one indexed lookup each (a kernel database holds 1.4M ids,
 * loading them all would cost an incremental run ~1-2 s).  A big walk
 * loads every id once instead.
 */
#define LOOKUP_MAX 50000

static int lookup_known(struct ingest *in)
{
	size_t walked = 0;
	int error = 0;

	for (size_t i = 0; i < in->branches.len; i++)
		walked += in->branches.ptr[i].walk.len;
	if (in->next_id == 1) {
		in->all_known = 1; /* nothing stored yet */
		return 0;
	}
	{
		/* testing knob: both paths must give the same database (t1000) */
		const char *env = getenv("PATCHGAP_INGEST_LOOKUP_MAX");
		size_t max = env && *env ? (size_t)strtoul(env, NULL, 10) : LOOKUP_MAX;
		if (walked > max)
			return load_all_known(in);
	}
	for (size_t i = 0; i < in->branches.len && !error; i++) {
		struct branch *b = &in->branches.ptr[i];
		for (size_t k = 0; k < b->walk.len && !error; k++) {
			uint32_t cid;
			error = known_id(in, &b->walk.ptr[k], &cid);
		}
	}
	return error;
}

static int resolve_ref(git_oid *out, git_repository *repo, const char *ref)
{
	git_reference *r = NULL;
	git_object *obj = NULL;
	int error = 0;

	if (git_reference_lookup(&r, repo, ref) < 0 && git_reference_dwim(&r, repo, ref) < 0)
		return pg_error_setc(PG_ENOTFOUND, "ref '%s' not found in repository '%s'", ref,
				     git_repository_path(repo));
	if (git_reference_peel(&obj, r, GIT_OBJECT_COMMIT) < 0)
		error = pg_error_setc(PG_EINVALID, "ref '%s' does not point to a commit", ref);
	else
		git_oid_cpy(out, git_object_id(obj));
	git_object_free(obj);
	git_reference_free(r);
	return error;
}

/* Upsert the configured branches; their ids are stable across runs. */
static int load_branches(struct ingest *in)
{
	pg_stmt *sel = NULL, *ins = NULL;
	int error = 0, rc;

	if ((error = pg_store_prepare(&sel, in->store, "SELECT id, head_sha FROM branches WHERE name = ?")) < 0 ||
	    (error = pg_store_prepare(&ins, in->store,
				      "INSERT INTO branches(id, name, kind, ref, config_path) "
				      "VALUES ((SELECT coalesce(max(id), 0) + 1 FROM branches), ?, ?, ?, ?)")) < 0)
		goto out;
	for (size_t i = 0; i < in->cfg->nbranches; i++) {
		struct branch b;
		const pg_branch_conf *bc = &in->cfg->branches[i];

		memset(&b, 0, sizeof(b));
		b.conf = bc;
		if ((error = resolve_ref(&b.head, in->repo, bc->ref)) < 0) {
			pg_error_prefix("branch '%s'", bc->name);
			goto out;
		}
		b.series = bc->series;
		if (!b.series && bc->base) {
			const pg_branch_conf *base = pg_config_branch(in->cfg, bc->base);
			b.series = base ? base->series : NULL;
		}
		pg_stmt_bind_text(sel, 1, bc->name);
		if ((rc = pg_stmt_step(sel)) < 0) {
			error = rc;
			goto out;
		}
		if (rc == 0) {
			pg_stmt_reset(sel);
			pg_stmt_bind_text(ins, 1, bc->name);
			pg_stmt_bind_text(ins, 2, pg_branch_kind_name(bc->kind));
			pg_stmt_bind_text(ins, 3, bc->ref);
			pg_stmt_bind_text(ins, 4, bc->kconfig);
			if ((error = pg_stmt_exec(ins)) < 0)
				goto out;
			pg_stmt_bind_text(sel, 1, bc->name);
			if ((rc = pg_stmt_step(sel)) <= 0) {
				error = rc < 0 ? rc : pg_error_set("branch '%s' vanished from the database", bc->name);
				goto out;
			}
		}
		b.id = pg_stmt_int(sel, 0);
		if (pg_stmt_text(sel, 1) && git_oid_fromstr(&b.old_head, pg_stmt_text(sel, 1)) == 0)
			b.has_old = 1;
		pg_stmt_reset(sel);
		if (b.has_old && !git_oid_equal(&b.old_head, &b.head)) {
			int desc = git_graph_descendant_of(in->repo, &b.head, &b.old_head);
			if (desc != 1) {
				b.rewritten = 1;
				in->stats->branches_rewritten++;
				warn(in, "branch '%s' was rewritten (force-pushed): commits no longer on it are kept and marked unreachable",
				     bc->name);
			}
		}
		if ((error = pg_vec_push(&in->branches, b)) < 0)
			goto out;
	}
out:
	pg_stmt_free(sel);
	pg_stmt_free(ins);
	return error;
}

/* ---- phase 1: release tags -------------------------------------------- */

static int cmp_tag(const void *a, const void *b)
{
	return pg_kver_cmp(&((const struct tag *)a)->ver, &((const struct tag *)b)->ver);
}

/* a tag as the last run stored it */
struct done_tag {
	char sha[GIT_OID_HEXSZ + 1];
	char target[GIT_OID_HEXSZ + 1]; /* the ref's own target ("" before migration 4) */
	int64_t time;
};

static int collect_tags(struct ingest *in)
{
	git_reference_iterator *it = NULL;
	git_reference *ref = NULL;
	pg_strmap done = PG_STRMAP_INIT;
	pg_stmt *st = NULL;
	int error = 0, rc;

	/* series lines for every stable/vendor branch with a series */
	for (size_t i = 0; i < in->branches.len; i++) {
		struct branch *b = &in->branches.ptr[i];
		struct line *l;
		if (!b->series)
			continue;
		if (!(l = line_for_series(in, b->series))) {
			if (!(l = calloc(1, sizeof(*l))) ||
			    (error = pg_vec_push(&in->series, l)) < 0) {
				free(l);
				return error ? error : pg_error_setc(PG_ENOMEM, "out of memory");
			}
			snprintf(l->series, sizeof(l->series), "%s", b->series);
		}
		b->line = l;
	}
	/* tags already processed: name -> done_tag */
	if ((error = pg_store_prepare(&st, in->store, "SELECT name, sha, tag_time, target FROM tags")) < 0)
		return error;
	while ((rc = pg_stmt_step(st)) > 0) {
		struct done_tag *d = calloc(1, sizeof(*d));
		if (!d) {
			error = pg_error_setc(PG_ENOMEM, "out of memory");
			goto out;
		}
		snprintf(d->sha, sizeof(d->sha), "%s", pg_stmt_text(st, 1));
		snprintf(d->target, sizeof(d->target), "%s", pg_stmt_text(st, 3) ? pg_stmt_text(st, 3) : "");
		d->time = pg_stmt_int(st, 2);
		if ((error = pg_strmap_set(&done, pg_stmt_text(st, 0), d)) < 0) {
			free(d);
			goto out;
		}
	}
	if (rc < 0 && (error = rc) < 0)
		goto out;

	/*
	 * One pass over the tag refs.  A tag whose ref still points where it
	 * did last run is taken from the database: peeling every tag through
	 * libgit2 was most of a run with nothing new (1,600 tags: 0.2 s).
	 */
	if (git_reference_iterator_glob_new(&it, in->repo, "refs/tags/v*") < 0) {
		error = git_fail("cannot list tags");
		goto out;
	}
	while ((rc = git_reference_next(&ref, it)) == 0) {
		struct tag t;
		struct line *l = NULL;
		const char *name = git_reference_name(ref) + strlen("refs/tags/");
		const git_oid *target = git_reference_target(ref);
		const struct done_tag *prev;
		char key[32], hex[GIT_OID_HEXSZ + 1];

		memset(&t, 0, sizeof(t));
		if (pg_kver_parse(&t.ver, name) < 0)
			goto next; /* not a release tag (v2.6.11-tree, vfoo) */
		if (t.ver.patch == 0)
			l = &in->mainline;
		else {
			snprintf(key, sizeof(key), "%d.%d", t.ver.major, t.ver.minor);
			if (!(l = line_for_series(in, key)))
				goto next; /* a series nobody tracks */
		}
		prev = pg_strmap_get(&done, name, NULL);
		if (target)
			git_oid_tostr(t.target, sizeof(t.target), target);
		if (prev && target && !strcmp(prev->target, t.target) &&
		    git_oid_fromstr(&t.commit, prev->sha) == 0) {
			t.time = prev->time;
		} else {
			git_object *obj = NULL;
			if (git_reference_peel(&obj, ref, GIT_OBJECT_COMMIT) < 0) {
				warn(in, "tag '%s' does not point to a readable commit; ignored", name);
				goto next;
			}
			git_oid_cpy(&t.commit, git_object_id(obj));
			t.time = git_commit_time((git_commit *)obj);
			git_object_free(obj);
			git_oid_tostr(hex, sizeof(hex), &t.commit);
			t.is_new = !prev || strcmp(prev->sha, hex);
			/* same commit, target not yet recorded (or a re-created tag object) */
			t.set_target = !t.is_new;
		}
		if (!(t.name = pg_strdup(name))) {
			error = pg_error_setc(PG_ENOMEM, "out of memory");
			goto out;
		}
		if ((error = pg_vec_push(&l->tags, t)) < 0) {
			free(t.name);
			goto out;
		}
	next:
		git_reference_free(ref);
		ref = NULL;
	}
	if (rc != GIT_ITEROVER) {
		error = git_fail("cannot list tags");
		goto out;
	}
	{
		/* Version order; a new tag older than a processed one (or a moved
		 * tag) invalidates the line's mapping: redo the whole line. */
		struct line *lines[1 + 256];
		size_t nl = 0;
		lines[nl++] = &in->mainline;
		for (size_t i = 0; i < in->series.len && nl < sizeof(lines) / sizeof(*lines); i++)
			lines[nl++] = in->series.ptr[i];
		for (size_t k = 0; k < nl; k++) {
			struct line *l = lines[k];
			int seen_new = 0, redo = 0;
			if (l->tags.len)
				qsort(l->tags.ptr, l->tags.len, sizeof(struct tag), cmp_tag);
			for (size_t i = 0; i < l->tags.len; i++) {
				if (l->tags.ptr[i].is_new)
					seen_new = 1;
				else if (seen_new)
					redo = 1;
				if (l->tags.ptr[i].is_new && pg_strmap_get(&done, l->tags.ptr[i].name, NULL))
					redo = 1; /* moved tag */
			}
			if (redo)
				for (size_t i = 0; i < l->tags.len; i++)
					l->tags.ptr[i].is_new = 1;
			l->any_new = seen_new;
		}
	}
out:
	{
		size_t i = 0;
		void *v;
		while (pg_strmap_next(&done, &i, NULL, &v))
			free(v);
	}
	pg_strmap_release(&done);
	pg_stmt_free(st);
	git_reference_free(ref);
	git_reference_iterator_free(it);
	return error;
}

/* map_line: in the walk's set, first tag not yet known (never a tag index) */
#define FIRST_PENDING (PG_OIDMAP_NONE - 1)

/*
 * For every new tag of line l, the commits it is the first tag of the line
 * to contain.  One walk per line lists the commits reachable from a new
 * tag and from no old tag (nor the series' base), children before parents;
 * a commit's first tag is the lowest over its children's and its own, so
 * one pass pushes it down from children to parents.  (A walk per tag that
 * hid every earlier tag re-read the history for each tag: 5.7 s on a
 * 291k-commit history with 1,600 tags.)
 *
 * Exact because old tags all come before new ones in version order
 * (collect_tags redoes the whole line otherwise), and every commit on a
 * path from a new tag to a commit of the set is itself in the set.
 */
/* A parent in the set gets the child's first tag v when that is lower. */
static int lower_first(struct line *l, const unsigned char *parent, uint32_t v)
{
	uint32_t pv = pg_oidmap_get(&l->first, parent);
	if (pv == PG_OIDMAP_NONE || (pv != FIRST_PENDING && pv <= v))
		return 0; /* outside the set, or already as low */
	return pg_oidmap_set(&l->first, parent, v);
}

static int map_line(struct ingest *in, struct line *l, const git_oid *base)
{
	git_revwalk *w = NULL;
	PG_VEC(git_oid) order = PG_VEC_INIT;
	git_oid id;
	size_t nnew = 0;
	int error = 0, rc;

	for (size_t i = 0; i < l->tags.len; i++)
		nnew += l->tags.ptr[i].is_new;
	if (!nnew)
		return 0;
	if (git_revwalk_new(&w, in->repo) < 0)
		goto git_error;
	git_revwalk_sorting(w, GIT_SORT_TOPOLOGICAL);
	for (size_t i = 0; i < l->tags.len; i++) {
		const struct tag *t = &l->tags.ptr[i];
		if ((t->is_new ? git_revwalk_push(w, &t->commit) : git_revwalk_hide(w, &t->commit)) < 0)
			goto git_error;
	}
	if (base && git_revwalk_hide(w, base) < 0)
		goto git_error;
	progress(in, l->series[0] ? "mapping stable releases" : "mapping releases", 0, 0);
	while ((rc = git_revwalk_next(&id, w)) == 0)
		if ((error = pg_vec_push(&order, id)) < 0 ||
		    (error = pg_oidmap_set(&l->first, id.id, FIRST_PENDING)) < 0)
			goto out;
	if (rc != GIT_ITEROVER) {
		/* a partial mapping would store wrong first releases for good */
		error = pg_error_setc(PG_ERROR, "repository '%s' is incomplete: walking the release tags of %s stopped early: %s",
				      in->cfg->repository, l->series[0] ? l->series : "mainline",
				      git_error_last() ? git_error_last()->message : "unknown error");
		goto out;
	}
	/* each new tag's own commit, lowest tag first (several tags may share one) */
	for (size_t i = l->tags.len; i-- > 0;) {
		const struct tag *t = &l->tags.ptr[i];
		if (t->is_new && pg_oidmap_get(&l->first, t->commit.id) != PG_OIDMAP_NONE &&
		    (error = pg_oidmap_set(&l->first, t->commit.id, (uint32_t)i)) < 0)
			goto out;
		in->stats->tags_new += t->is_new;
	}
	for (size_t k = 0; k < order.len; k++) {
		uint32_t v = pg_oidmap_get(&l->first, order.ptr[k].id), pos, ppos[PG_CGRAPH_MAX_PARENTS];
		const unsigned char *parents[PG_CGRAPH_MAX_PARENTS];
		git_object_t type;
		size_t np;

		if ((k & 0xfff) == 0)
			progress(in, l->series[0] ? "mapping stable releases" : "mapping releases", k, order.len);
		if (v == FIRST_PENDING)
			continue; /* unreachable from a new tag: cannot happen in a readable history */
		if (in->cgraph && pg_cgraph_find(in->cgraph, order.ptr[k].id, &pos) == 0 &&
		    pg_cgraph_parents(in->cgraph, pos, ppos, &np) == 0) {
			for (size_t p = 0; p < np; p++)
				parents[p] = pg_cgraph_id(in->cgraph, ppos[p]);
		} else {
			/* not in the graph (newer, or no graph): read the commit */
			if ((error = pg_odb_read(in->differ.odb, &order.ptr[k], &type, &in->parent_raw)) < 0 ||
			    type != GIT_OBJECT_COMMIT ||
			    (error = pg_odb_parse_commit(&in->parent, in->parent_raw.ptr, in->parent_raw.len)) < 0) {
				char hex[GIT_OID_HEXSZ + 1], why[256];
				if (error == PG_ENOMEM || error == PG_EIO)
					goto out;
				git_oid_tostr(hex, sizeof(hex), &order.ptr[k]);
				snprintf(why, sizeof(why), "%s", error < 0 ? pg_error_last() : "not a commit");
				error = pg_error_setc(PG_ERROR, "repository '%s' is incomplete: commit %s cannot be read (%s);"
						      " the releases of its ancestors cannot be mapped", in->cfg->repository, hex, why);
				goto out;
			}
			np = 0;
			for (size_t p = 0; p < in->parent.nparents && !error; p++)
				error = lower_first(l, in->parent.parents[p].id, v);
		}
		for (size_t p = 0; p < np && !error; p++)
			error = lower_first(l, parents[p], v);
		if (error < 0)
			goto out;
	}
	progress(in, l->series[0] ? "mapping stable releases" : "mapping releases", order.len, order.len);
	goto out;
git_error:
	error = git_fail("cannot walk release tags");
out:
	git_revwalk_free(w);
	pg_vec_release(&order);
	return error;
}

static const git_oid *series_base(struct ingest *in, const char *series)
{
	char name[40];
	snprintf(name, sizeof(name), "v%s", series);
	for (size_t i = 0; i < in->mainline.tags.len; i++)
		if (!strcmp(in->mainline.tags.ptr[i].name, name))
			return &in->mainline.tags.ptr[i].commit;
	return NULL;
}

/* ---- phase 2: commits --------------------------------------------------- */

static const char *rel_kind(pg_trailer_kind k)
{
	switch (k) {
	case PG_TR_FIXES: return "fixes";
	case PG_TR_UPSTREAM:
	case PG_TR_CHERRY_PICK: return "upstream";
	case PG_TR_REVERT: return "reverts";
	case PG_TR_DEPENDS_ON: return "depends";
	default: return NULL;
	}
}

static int prepare_statements(struct ingest *in)
{
	int error;
	if ((error = pg_store_prepare(&in->ins_commit, in->store,
		"INSERT INTO commits(id, sha, author, author_email, author_time, committer_time, parents, nparents,"
		" subject, message, files_changed, insertions, deletions, diff_state, mainline_release, on_mainline, reachable)"
		" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)")) < 0 ||
	    (error = pg_store_prepare(&in->ins_file, in->store,
		"INSERT INTO commit_files(commit_id, path, status, added, deleted) VALUES (?, ?, ?, ?, ?)"
		" ON CONFLICT (commit_id, path) DO NOTHING")) < 0 ||
	    (error = pg_store_prepare(&in->ins_trailer, in->store,
		"INSERT INTO trailers(commit_id, seq, kind, raw, value, ref_id, ref_subject, hint, malformed)"
		" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) < 0 ||
	    (error = pg_store_prepare(&in->ins_rel, in->store,
		"INSERT INTO relations(commit_id, kind, ref_id, target_sha, state, candidates)"
		" VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (commit_id, kind, ref_id) DO NOTHING")) < 0 ||
	    (error = pg_store_prepare(&in->ins_bc, in->store,
		"INSERT INTO branch_commits(branch_id, commit_id, release, reachable) VALUES (?, ?, ?, 1)"
		" ON CONFLICT (branch_id, commit_id) DO UPDATE SET reachable = 1,"
		" release = coalesce(excluded.release, branch_commits.release)")) < 0 ||
	    (error = pg_store_prepare(&in->set_mainline, in->store,
		"UPDATE commits SET on_mainline = 1, reachable = 1,"
		" mainline_release = coalesce(?, mainline_release) WHERE id = ?")) < 0 ||
	    (error = pg_store_prepare(&in->unreach, in->store,
		"UPDATE branch_commits SET reachable = 0 WHERE branch_id = ?")) < 0)
		return error;
	return 0;
}

/*
 * The secondary indexes of the ingest tables, exactly as the ingest
 * migration in src/store/schema.c declares them (SQLite stores them without
 * "IF NOT EXISTS", so the database afterwards is identical).  Maintaining
 * them row by row during a bulk load costs more than building them once at
 * the end: with the writer thread the inserts are the bottleneck of a full
 * ingest, and random inserts into indexes that outgrow the page cache get
 * slower as the history grows.  So a run that inserts at least
 * BULK_MIN_COMMITS and more commits than the database holds drops them and
 * the final transaction creates them again.  A run killed in between leaves
 * them dropped (queries stay correct, only slower); the next run's final
 * transaction restores them.
 */
static const char *const bulk_indexes[][2] = {
	{ "commits_subject", "CREATE INDEX IF NOT EXISTS commits_subject ON commits(subject)" },
	{ "commit_files_path", "CREATE INDEX IF NOT EXISTS commit_files_path ON commit_files(path)" },
	{ "relations_target", "CREATE INDEX IF NOT EXISTS relations_target ON relations(target_sha, kind)" },
	{ "branch_commits_commit", "CREATE INDEX IF NOT EXISTS branch_commits_commit ON branch_commits(commit_id)" },
};

#define BULK_MIN_COMMITS 1000

static int drop_indexes(struct ingest *in)
{
	char sql[128];
	int error;
	size_t fresh = 0;

	for (size_t i = 0; i < in->branches.len; i++) {
		const struct branch *b = &in->branches.ptr[i];
		for (size_t k = 0; k < b->walk.len; k++)
			fresh += pg_oidmap_get(&in->known, b->walk.ptr[k].id) == PG_OIDMAP_NONE;
	}
	/* stable commits are walked by several branches: fresh overcounts a little, harmlessly */
	if (fresh < BULK_MIN_COMMITS || fresh < (size_t)in->next_id - 1)
		return 0;
	for (size_t i = 0; i < sizeof(bulk_indexes) / sizeof(bulk_indexes[0]); i++) {
		snprintf(sql, sizeof(sql), "DROP INDEX IF EXISTS %s", bulk_indexes[i][0]);
		if ((error = pg_store_exec(in->store, sql)) < 0)
			return error;
	}
	return 0;
}

static int create_indexes(struct ingest *in)
{
	int error;
	for (size_t i = 0; i < sizeof(bulk_indexes) / sizeof(bulk_indexes[0]); i++)
		if ((error = pg_store_exec(in->store, bulk_indexes[i][1])) < 0)
			return error;
	return 0;
}

static int batch_tick(struct ingest *in)
{
	if (++in->in_batch < in->opts->batch)
		return 0;
	in->in_batch = 0;
	return pg_queue_commit(in->q);
}

static size_t prefix_candidates(const unsigned char *sorted, size_t n, const char *ref, pg_buf *cand);

/*
 * One relation row.  A bulk run knows every id the database will hold once
 * it is done (all_ids), so it stores the relation resolved; other runs
 * store it 'pending' for resolve_relations.
 */
static int queue_relation(struct ingest *in, uint32_t cid, const char *kind, const char *ref)
{
	pg_queue_bind_int(in->q, 1, cid);
	pg_queue_bind_text(in->q, 2, kind);
	pg_queue_bind_text(in->q, 3, ref);
	if (in->all_ids) {
		size_t count = prefix_candidates(in->all_ids, in->n_all_ids, ref, &in->tmp);
		in->stats->relations_resolved += count == 1;
		pg_queue_bind_text(in->q, 4, count == 1 ? pg_buf_cstr(&in->tmp) : NULL);
		pg_queue_bind_text(in->q, 5, count == 1 ? "resolved" : count ? "ambiguous" : "unresolved");
		pg_queue_bind_text(in->q, 6, count > 1 ? pg_buf_cstr(&in->tmp) : NULL);
	} else {
		pg_queue_bind_text(in->q, 4, NULL);
		pg_queue_bind_text(in->q, 5, "pending");
		pg_queue_bind_text(in->q, 6, NULL);
	}
	return pg_queue_exec(in->q, in->ins_rel);
}

static int store_trailers(struct ingest *in, uint32_t cid, const char *msg)
{
	pg_trailers tr = PG_TRAILERS_INIT;
	int error;

	if ((error = pg_trailers_parse(&tr, msg, strlen(msg))) < 0) {
		warn(in, "commit #%u: trailers not parsed: %s", cid, pg_error_last());
		return 0;
	}
	for (size_t i = 0; i < tr.n && !error; i++) {
		const pg_trailer *t = &tr.v[i];
		const char *rk = rel_kind(t->kind);
		pg_queue_bind_int(in->q, 1, cid);
		pg_queue_bind_int(in->q, 2, (int64_t)i);
		pg_queue_bind_text(in->q, 3, pg_trailer_kind_name(t->kind));
		pg_queue_bind_text(in->q, 4, t->raw ? t->raw : "");
		pg_queue_bind_text(in->q, 5, t->value);
		pg_queue_bind_text(in->q, 6, t->ref_id);
		pg_queue_bind_text(in->q, 7, t->ref_subject);
		pg_queue_bind_text(in->q, 8, t->hint);
		pg_queue_bind_int(in->q, 9, t->malformed);
		if ((error = pg_queue_exec(in->q, in->ins_trailer)) < 0)
			break;
		if (rk && t->ref_id && !t->malformed) {
			/* the same id twice ("Fixes:" repeated) is one relation row */
			size_t j;
			for (j = 0; j < i; j++)
				if (tr.v[j].ref_id && !tr.v[j].malformed && rel_kind(tr.v[j].kind) &&
				    !strcmp(rel_kind(tr.v[j].kind), rk) && !strcmp(tr.v[j].ref_id, t->ref_id))
					break;
			if (j == i)
				error = queue_relation(in, cid, rk, t->ref_id);
		} else if (t->kind == PG_TR_FIXES && t->malformed && t->value) {
			/*
			 * A too-short id ("Fixes: 819955") is malformed, yet when it
			 * is unique in the history it still names the introducer:
			 * try it, the resolver marks it ambiguous otherwise.
			 */
			size_t n = pg_str_hexlen(t->value, 41);
			char ref[41];
			if (n >= 6 && n <= 40 && (t->value[n] == '\0' || t->value[n] == ' ')) {
				memcpy(ref, t->value, n);
				ref[n] = '\0';
				pg_str_lower(ref);
				error = queue_relation(in, cid, rk, ref);
			}
		}
	}
	pg_trailers_release(&tr);
	return error;
}

/* The tree of commit id: from the memo of recently parsed commits, else read and parsed. */
static int tree_of(struct ingest *in, const git_oid *id, git_oid *tree)
{
	struct tree_memo *m = &in->memo[(id->id[0] | id->id[1] << 8) & (TREE_MEMO - 1)];
	git_object_t type;
	int error;

	if (m->valid && git_oid_equal(&m->commit, id)) {
		*tree = m->tree;
		return 0;
	}
	if ((error = pg_odb_read(in->differ.odb, id, &type, &in->parent_raw)) < 0)
		return error;
	if (type != GIT_OBJECT_COMMIT || pg_odb_parse_commit(&in->parent, in->parent_raw.ptr, in->parent_raw.len) < 0)
		return PG_ENOTFOUND;
	*tree = in->parent.tree;
	return 0;
}

/*
 * The touched files of parsed commit c (hex) into in->files, with line
 * counts when the run takes a diffstat.  An object that cannot be read is
 * named in missing: a tree (the commit's, its parent's, or one below)
 * leaves the list empty, since a partial comparison would be wrong, not
 * short; a blob leaves its file without line counts.  The commit is then
 * stored as incomplete (diff_state "missing <id>") and re-read by every
 * later run until the object is there (heal_incomplete).
 */
static int commit_files(struct ingest *in, const pg_odb_commit *c, const char *hex, char *missing)
{
	git_oid old_tree;
	int has_old_tree = 0, error = 0;

	missing[0] = '\0';
	pg_ingest__files_clear(&in->files);
	if (c->nparents) {
		if ((error = tree_of(in, &c->parents[0], &old_tree)) == 0)
			has_old_tree = 1;
		else if (error == PG_ENOTFOUND || error == PG_EINVALID)
			git_oid_tostr(missing, GIT_OID_HEXSZ + 1, &c->parents[0]);
		else
			return error;
		error = 0;
	}
	if (!missing[0] &&
	    (error = pg_ingest__tree_diff(&in->files, &in->differ, has_old_tree ? &old_tree : NULL, &c->tree,
					  missing)) < 0) {
		if (error != PG_ENOTFOUND || !missing[0])
			return error;
		error = 0;
	}
	if (missing[0])
		pg_ingest__files_clear(&in->files);
	else if (in->opts->diffstat && (error = pg_ingest__line_stats(&in->files, &in->differ, missing)) < 0)
		return error;
	if (missing[0])
		warn(in, "commit %s: object %s is missing or corrupt; its %s is incomplete (stored as such, read again by the next run)",
		     hex, missing, in->files.len ? "diffstat" : "file list");
	return 0;
}

static int insert_commit(struct ingest *in, const git_oid *id, const char *mainline_release, int on_mainline,
			 uint32_t *out_id)
{
	pg_odb_commit *c = &in->commit;
	char hex[GIT_OID_HEXSZ + 1], missing[GIT_OID_HEXSZ + 1] = "";
	git_object_t type = GIT_OBJECT_INVALID;
	unsigned added = 0, deleted = 0;
	uint32_t cid;
	int error = 0;

	git_oid_tostr(hex, sizeof(hex), id);
	if ((error = pg_odb_read(in->differ.odb, id, &type, &in->commit_raw)) < 0 || type != GIT_OBJECT_COMMIT ||
	    (error = pg_odb_parse_commit(c, in->commit_raw.ptr, in->commit_raw.len)) < 0) {
		/*
		 * Skipping it would store a history with a hole that no later
		 * run fills: the branch head moves past it.  Fail instead; the
		 * heads stay where the last complete run left them.
		 */
		char why[256];
		if (error == PG_ENOMEM || error == PG_EIO)
			return error;
		*out_id = PG_OIDMAP_NONE;
		snprintf(why, sizeof(why), "%s", error < 0 ? pg_error_last() : "not a commit"); /* not formatted into itself */
		return pg_error_setc(PG_ERROR, "repository '%s' is incomplete: commit %s cannot be read (%s);"
				     " no branch head was moved, a run on the repaired repository reads it",
				     in->cfg->repository, hex, why);
	}
	{
		struct tree_memo *m = &in->memo[(id->id[0] | id->id[1] << 8) & (TREE_MEMO - 1)];
		m->commit = *id, m->tree = c->tree, m->valid = 1;
	}
	cid = in->next_id++;
	pg_buf_reset(&in->tmp);
	for (size_t i = 0; i < c->nparents; i++) {
		char ph[GIT_OID_HEXSZ + 1];
		git_oid_tostr(ph, sizeof(ph), &c->parents[i]);
		pg_buf_printf(&in->tmp, "%s%s", i ? " " : "", ph);
	}
	if ((error = commit_files(in, c, hex, missing)) < 0)
		goto out;
	for (size_t i = 0; i < in->files.len; i++) {
		added += in->files.ptr[i].added;
		deleted += in->files.ptr[i].deleted;
	}
	pg_stmt *st = in->ins_commit;
	pg_queue_bind_int(in->q, 1, cid);
	pg_queue_bind_text(in->q, 2, hex);
	pg_queue_bind_textn(in->q, 3, c->author_name, c->author_name_len);
	pg_queue_bind_textn(in->q, 4, c->author_email, c->author_email_len);
	pg_queue_bind_int(in->q, 5, c->author_time);
	pg_queue_bind_int(in->q, 6, c->committer_time);
	pg_queue_bind_text(in->q, 7, pg_buf_cstr(&in->tmp));
	pg_queue_bind_int(in->q, 8, (int64_t)c->nparents);
	pg_queue_bind_text(in->q, 9, pg_buf_cstr(&c->summary));
	pg_queue_bind_textn(in->q, 10, c->message, c->message_len);
	pg_queue_bind_int(in->q, 11, (int64_t)in->files.len);
	pg_queue_bind_int(in->q, 12, added);
	pg_queue_bind_int(in->q, 13, deleted);
	pg_buf_reset(&in->tmp);
	if (missing[0])
		pg_buf_printf(&in->tmp, "missing %s", missing);
	pg_queue_bind_text(in->q, 14, missing[0] ? in->tmp.ptr : "ok");
	in->stats->commits_incomplete += missing[0] != '\0';
	pg_queue_bind_text(in->q, 15, mainline_release);
	pg_queue_bind_int(in->q, 16, on_mainline);
	if ((error = pg_queue_exec(in->q, st)) < 0)
		goto out;
	for (size_t i = 0; i < in->files.len; i++) {
		const pg_ingest__file *f = &in->files.ptr[i];
		char status[2] = { f->status, 0 };
		pg_queue_bind_int(in->q, 1, cid);
		pg_queue_bind_text(in->q, 2, f->path);
		pg_queue_bind_text(in->q, 3, status);
		pg_queue_bind_int(in->q, 4, f->added);
		pg_queue_bind_int(in->q, 5, f->deleted);
		if ((error = pg_queue_exec(in->q, in->ins_file)) < 0)
			goto out;
	}
	in->stats->files_new += in->files.len;
	/* c->message is NUL-terminated: it ends at the object's end or at its first NUL */
	if ((error = store_trailers(in, cid, c->message)) < 0)
		goto out;
	if ((error = pg_oidmap_set(&in->known, id->id, cid)) < 0 ||
	    (error = pg_vec_push(&in->new_ids, *(const struct rawid *)id->id)) < 0)
		goto out;
	in->stats->commits_new++;
	*out_id = cid;
out:
	return error;
}

static const char *release_of(struct line *l, const git_oid *id)
{
	uint32_t t;
	if (!l)
		return NULL;
	t = pg_oidmap_get(&l->first, id->id);
	return t >= l->tags.len ? NULL : l->tags.ptr[t].name; /* none, or FIRST_PENDING */
}

/* The commits a run visits on branch b: new since its stored head, down to its fork from mainline. */
static int list_branch(struct ingest *in, struct branch *b)
{
	git_revwalk *w = NULL;
	const git_oid *base = NULL;
	git_oid mb, id, mhead;
	int is_main = b->conf->kind == PG_BRANCH_MAINLINE, error = 0, rc;

	if (git_revwalk_new(&w, in->repo) < 0 || git_revwalk_push(w, &b->head) < 0) {
		error = git_fail("cannot walk history");
		goto out;
	}
	git_revwalk_sorting(w, GIT_SORT_TOPOLOGICAL);
	if (b->has_old && !b->rewritten && git_revwalk_hide(w, &b->old_head) < 0) {
		error = git_fail("cannot walk history");
		goto out;
	}
	if (!is_main) {
		/* Stop at the fork from mainline: the series' base tag, else the merge base. */
		if (b->series && (base = series_base(in, b->series)))
			;
		else if (git_oid_cpy(&mhead, &in->branches.ptr[0].head) == 0 &&
			 git_merge_base(&mb, in->repo, &b->head, &mhead) == 0)
			base = &mb;
		if (base && git_revwalk_hide(w, base) < 0) {
			error = git_fail("cannot walk history");
			goto out;
		}
	}
	while ((rc = git_revwalk_next(&id, w)) == 0)
		if ((error = pg_vec_push(&b->walk, id)) < 0)
			goto out;
	if (rc != GIT_ITEROVER)
		error = pg_error_setc(PG_ERROR, "repository '%s' is incomplete: walking branch '%s' stopped early: %s;"
				      " nothing was stored, a run on the repaired repository walks it again",
				      in->cfg->repository, b->conf->name,
				      git_error_last() ? git_error_last()->message : "unknown error");
out:
	git_revwalk_free(w);
	return error;
}

/* Store branch b's listed commits (through the queue). */
static int walk_branch(struct ingest *in, struct branch *b)
{
	int is_main = b->conf->kind == PG_BRANCH_MAINLINE, error = 0;
	size_t n = b->walk.len;

	if (b->rewritten) {
		pg_queue_bind_int(in->q, 1, b->id);
		if ((error = pg_queue_exec(in->q, in->unreach)) < 0)
			goto out;
	}
	/* oldest first: parents get smaller ids than their children */
	for (size_t k = n; k-- > 0;) {
		const git_oid *cur = &b->walk.ptr[k];
		uint32_t cid = pg_oidmap_get(&in->known, cur->id); /* lookup_known ran: no DB here */
		const char *mrel = release_of(&in->mainline, cur);

		if ((n - k) % 1000 == 0)
			progress(in, b->conf->name, n - k, n);
		if (cid == PG_OIDMAP_NONE) {
			if ((error = insert_commit(in, cur, mrel, is_main, &cid)) < 0)
				goto out;
			if (cid == PG_OIDMAP_NONE)
				continue;
		} else if (is_main) {
			pg_queue_bind_text(in->q, 1, mrel);
			pg_queue_bind_int(in->q, 2, cid);
			if ((error = pg_queue_exec(in->q, in->set_mainline)) < 0)
				goto out;
		}
		if (!is_main) {
			pg_queue_bind_int(in->q, 1, b->id);
			pg_queue_bind_int(in->q, 2, cid);
			pg_queue_bind_text(in->q, 3, release_of(b->line, cur));
			if ((error = pg_queue_exec(in->q, in->ins_bc)) < 0)
				goto out;
		}
		if ((error = batch_tick(in)) < 0)
			goto out;
	}
	progress(in, b->conf->name, n, n);
out:
	return error;
}

/* Commits that got a release from a tag processed in this run but were stored by an earlier run. */
static int update_releases(struct ingest *in)
{
	pg_stmt *um = NULL, *us = NULL;
	int error;

	if ((error = pg_store_prepare(&um, in->store,
				      "UPDATE commits SET mainline_release = ? WHERE id = ?"
				      " AND (mainline_release IS NULL OR mainline_release <> ?)")) < 0 ||
	    (error = pg_store_prepare(&us, in->store,
				      "UPDATE branch_commits SET release = ? WHERE commit_id = ? AND branch_id = ?"
				      " AND (release IS NULL OR release <> ?)")) < 0)
		goto out;
	for (size_t s = 0; s <= in->series.len; s++) {
		struct line *l = s ? in->series.ptr[s - 1] : &in->mainline;
		for (size_t i = 0; i < l->first.cap; i++) {
			uint32_t t = l->first.vals[i], cid;
			const char *name;
			if (t >= l->tags.len)
				continue; /* empty slot, or FIRST_PENDING */
			{
				git_oid fid;
				memcpy(fid.id, l->first.keys + i * 20, 20);
				if ((error = known_id(in, &fid, &cid)) < 0)
					goto out;
			}
			/* this run's commits were stored with their releases (walk_branch) */
			if (cid == PG_OIDMAP_NONE || cid >= in->first_new_id)
				continue;
			name = l->tags.ptr[t].name;
			if (!s) {
				pg_stmt_bind_text(um, 1, name);
				pg_stmt_bind_int(um, 2, cid);
				pg_stmt_bind_text(um, 3, name);
				if ((error = pg_stmt_exec(um)) < 0)
					goto out;
				continue;
			}
			for (size_t k = 0; k < in->branches.len; k++) {
				if (in->branches.ptr[k].line != l)
					continue;
				pg_stmt_bind_text(us, 1, name);
				pg_stmt_bind_int(us, 2, cid);
				pg_stmt_bind_int(us, 3, in->branches.ptr[k].id);
				pg_stmt_bind_text(us, 4, name);
				if ((error = pg_stmt_exec(us)) < 0)
					goto out;
			}
		}
	}
out:
	pg_stmt_free(um);
	pg_stmt_free(us);
	return error;
}

/* ---- phase 3: resolve ids ---------------------------------------------- */

static int cmp_oid20(const void *a, const void *b)
{
	return memcmp(a, b, 20);
}

/* Merge two sorted runs of 20-byte ids into a new array, each id once. */
static int merge_ids(const unsigned char *x, size_t a, const unsigned char *y, size_t b,
		     unsigned char **out, size_t *n)
{
	size_t i = 0, j = 0, k = 0;
	unsigned char *v = malloc((a + b ? a + b : 1) * 20);
	if (!v)
		return pg_error_setc(PG_ENOMEM, "out of memory");
	while (i < a || j < b) {
		const unsigned char *next = i < a && (j >= b || memcmp(x + 20 * i, y + 20 * j, 20) <= 0)
					    ? x + 20 * i++ : y + 20 * j++;
		if (k && !memcmp(v + 20 * (k - 1), next, 20))
			continue; /* in both, or listed by several branches */
		memcpy(v + 20 * k++, next, 20);
	}
	*out = v;
	*n = k;
	return 0;
}

/*
 * The sorted list of every stored id: the ids of earlier runs come sorted
 * from the sha index (load_known), this run's are sorted and merged in;
 * a full sort of a kernel's 1.4M ids would cost an incremental run ~0.4 s.
 */
static int sorted_ids(struct ingest *in, unsigned char **out, size_t *n)
{
	if (in->new_ids.len)
		qsort(in->new_ids.ptr, in->new_ids.len, 20, cmp_oid20);
	return merge_ids(in->sorted_known.len ? in->sorted_known.ptr[0].id : NULL, in->sorted_known.len,
			 in->new_ids.len ? in->new_ids.ptr[0].id : NULL, in->new_ids.len, out, n);
}

/* The ids an abbreviated id stands for: [lo, hi], both 20 bytes. */
static void prefix_bounds(const char *ref, unsigned char lo[20], unsigned char hi[20])
{
	memset(lo, 0, 20);
	memset(hi, 0xff, 20);
	for (size_t d = 0; ref[d] && d < 40; d++) {
		int v = ref[d] <= '9' ? ref[d] - '0' : (ref[d] | 0x20) - 'a' + 10;
		if (d & 1) {
			lo[d / 2] = (unsigned char)((lo[d / 2] & 0xf0) | v);
			hi[d / 2] = (unsigned char)((hi[d / 2] & 0xf0) | v);
		} else {
			lo[d / 2] = (unsigned char)(v << 4);
			hi[d / 2] = (unsigned char)((v << 4) | 0x0f);
		}
	}
}

/* First index of sorted (n ids of 20 bytes) not below key. */
static size_t lower_bound20(const unsigned char *sorted, size_t n, const unsigned char *key)
{
	size_t lo_i = 0, hi_i = n;
	while (lo_i < hi_i) {
		size_t mid = (lo_i + hi_i) / 2;
		if (memcmp(sorted + mid * 20, key, 20) < 0)
			lo_i = mid + 1;
		else
			hi_i = mid;
	}
	return lo_i;
}

/* The ids of sorted (n ids of 20 bytes) that abbreviated id ref stands for, in hex, space-separated, into cand. */
static size_t prefix_candidates(const unsigned char *sorted, size_t n, const char *ref, pg_buf *cand)
{
	unsigned char lo[20], hi[20];
	char hex[GIT_OID_HEXSZ + 1];
	size_t count = 0;

	pg_buf_reset(cand);
	prefix_bounds(ref, lo, hi);
	for (size_t i = lower_bound20(sorted, n, lo); i < n && memcmp(sorted + i * 20, hi, 20) <= 0; i++) {
		git_oid o;
		memcpy(o.id, sorted + i * 20, 20);
		git_oid_tostr(hex, sizeof(hex), &o);
		pg_buf_printf(cand, "%s%s", count ? " " : "", hex);
		count++;
	}
	return count;
}

/*
 * Bulk runs: every id stored before (sorted_known) and every id listed for
 * this run, sorted and unique, so that relations are stored resolved by
 * the walk itself (queue_relation) instead of updated row by row at the end
 * (169k UPDATEs: 1.6 s on a 291k-commit history).
 */
static int build_all_ids(struct ingest *in)
{
	size_t n = 0, k = 0;
	unsigned char *fresh;
	int error;

	for (size_t b = 0; b < in->branches.len; b++)
		n += in->branches.ptr[b].walk.len;
	if (!(fresh = malloc(n ? n * 20 : 1)))
		return pg_error_setc(PG_ENOMEM, "out of memory");
	for (size_t b = 0; b < in->branches.len; b++) {
		const struct branch *br = &in->branches.ptr[b];
		for (size_t w = 0; w < br->walk.len; w++)
			if (pg_oidmap_get(&in->known, br->walk.ptr[w].id) == PG_OIDMAP_NONE)
				memcpy(fresh + 20 * k++, br->walk.ptr[w].id, 20);
	}
	qsort(fresh, k, 20, cmp_oid20);
	error = merge_ids(in->sorted_known.len ? in->sorted_known.ptr[0].id : NULL, in->sorted_known.len,
			  fresh, k, &in->all_ids, &in->n_all_ids);
	free(fresh);
	return error;
}

static int resolve_relations(struct ingest *in)
{
	unsigned char *sorted = NULL;
	size_t n = 0;
	pg_stmt *sel = NULL, *upd = NULL, *range = NULL;
	pg_buf cand = PG_BUF_INIT;
	int error = 0, rc;

	/*
	 * Without new commits an unresolved or ambiguous id cannot change:
	 * only relations left pending (by an interrupted run) are resolved.
	 * "state <> 'resolved'" in every query lets SQLite use the partial
	 * index relations_open (it matches the index's WHERE term literally);
	 * no ORDER BY: SQLite would then scan the whole primary key instead
	 * (169k relations on 291k commits: 0.25 s of a +1,000-commit run).
	 */
	if ((error = pg_store_prepare(&sel, in->store, in->new_ids.len
				      ? "SELECT commit_id, kind, ref_id, state FROM relations WHERE state <> 'resolved'"
				      : "SELECT commit_id, kind, ref_id, state FROM relations WHERE state <> 'resolved' AND state = 'pending'")) < 0 ||
	    (error = pg_store_prepare(&upd, in->store,
				      "UPDATE relations SET target_sha = ?, state = ?, candidates = ?"
				      " WHERE commit_id = ? AND kind = ? AND ref_id = ?")) < 0)
		goto out;
	/* Collect first: updating while a SELECT is open on the same table is not portable. */
	{
		struct pend { int64_t cid; char kind[16]; char ref[41]; };
		PG_VEC(struct pend) pend = PG_VEC_INIT;

		/*
		 * Commits are never deleted, so an unresolved or ambiguous id
		 * can only change when one of this run's ids matches it: the
		 * others are not looked up or rewritten (on the kernel, open
		 * relations number in the thousands, an incremental run's
		 * commits in the hundreds).
		 */
		const unsigned char *nid = in->new_ids.len ? in->new_ids.ptr[0].id : NULL;
		if (in->new_ids.len)
			qsort(in->new_ids.ptr, in->new_ids.len, 20, cmp_oid20);
		while ((rc = pg_stmt_step(sel)) > 0) {
			struct pend p;
			p.cid = pg_stmt_int(sel, 0);
			snprintf(p.kind, sizeof(p.kind), "%s", pg_stmt_text(sel, 1));
			snprintf(p.ref, sizeof(p.ref), "%s", pg_stmt_text(sel, 2));
			if (strcmp(pg_stmt_text(sel, 3), "pending")) {
				unsigned char lo[20], hi[20];
				size_t i;
				prefix_bounds(p.ref, lo, hi);
				i = lower_bound20(nid, in->new_ids.len, lo);
				if (i >= in->new_ids.len || memcmp(nid + 20 * i, hi, 20) > 0)
					continue; /* no new candidate: the stored outcome stands */
			}
			if ((error = pg_vec_push(&pend, p)) < 0)
				break;
		}
		if (rc < 0)
			error = rc;
		pg_stmt_reset(sel);
		if (!error && pend.len && in->all_known)
			error = sorted_ids(in, &sorted, &n);
		else if (!error && pend.len)
			error = pg_store_prepare(&range, in->store,
						 "SELECT sha FROM commits WHERE sha >= ? AND sha <= ? ORDER BY sha");
		for (size_t k = 0; !error && k < pend.len; k++) {
			struct pend *p = &pend.ptr[k];
			size_t len = strlen(p->ref), count;
			const char *state;

			if (!in->all_known) {
				/* the same range through the sha index: [prefix 000..., prefix fff...] */
				char lo_hex[41], hi_hex[41];
				for (size_t d = 0; d < 40; d++) {
					char ch = d < len ? (char)(p->ref[d] | 0x20) : 0;
					lo_hex[d] = d < len ? ch : '0';
					hi_hex[d] = d < len ? ch : 'f';
				}
				lo_hex[40] = hi_hex[40] = '\0';
				count = 0;
				pg_buf_reset(&cand);
				pg_stmt_bind_text(range, 1, lo_hex);
				pg_stmt_bind_text(range, 2, hi_hex);
				while ((rc = pg_stmt_step(range)) > 0) {
					pg_buf_printf(&cand, "%s%s", count ? " " : "", pg_stmt_text(range, 0));
					count++;
				}
				pg_stmt_reset(range);
				if (rc < 0) {
					error = rc;
					break;
				}
				goto decided;
			}
			count = prefix_candidates(sorted, n, p->ref, &cand);
decided:
			if (count == 1) {
				state = "resolved";
				in->stats->relations_resolved++;
			} else {
				state = count > 1 ? "ambiguous" : "unresolved";
			}
			pg_stmt_bind_text(upd, 1, count == 1 ? cand.ptr : NULL);
			pg_stmt_bind_text(upd, 2, state);
			pg_stmt_bind_text(upd, 3, count > 1 ? cand.ptr : NULL);
			pg_stmt_bind_int(upd, 4, p->cid);
			pg_stmt_bind_text(upd, 5, p->kind);
			pg_stmt_bind_text(upd, 6, p->ref);
			error = pg_stmt_exec(upd);
		}
		pg_vec_release(&pend);
	}
	/* what is left unresolved now, whether or not this run looked at it again */
	pg_stmt_free(sel);
	sel = NULL;
	if (!error && (error = pg_store_prepare(&sel, in->store,
						"SELECT state, count(*) FROM relations WHERE state <> 'resolved'"
						" AND state IN ('unresolved', 'ambiguous')"
						" GROUP BY state")) == 0) {
		while ((rc = pg_stmt_step(sel)) > 0) {
			size_t c = (size_t)pg_stmt_int(sel, 1);
			if (!strcmp(pg_stmt_text(sel, 0), "ambiguous"))
				in->stats->relations_ambiguous = c;
			else
				in->stats->relations_unresolved = c;
		}
		if (rc < 0)
			error = rc;
	}
out:
	pg_buf_release(&cand);
	pg_stmt_free(sel);
	pg_stmt_free(upd);
	pg_stmt_free(range);
	free(sorted);
	return error;
}

/* ---- phase 3b: commits stored as incomplete ---------------------------- */

struct incomplete {
	int64_t id;
	git_oid sha;
	int has_files;
};

/*
 * Commits an earlier run stored without their file list or diffstat
 * (diff_state "missing <id>": an object was missing or corrupt) are read
 * again; once every object is there their rows are replaced, so a restored
 * tree or blob heals the database without a full re-ingest.  The partial
 * index commits_incomplete keeps this free when nothing is incomplete.  A
 * run without diffstat only retries commits that have no file list.
 */
static int heal_incomplete(struct ingest *in)
{
	PG_VEC(struct incomplete) todo = PG_VEC_INIT;
	pg_stmt *sel = NULL, *del = NULL, *ins = NULL, *upd = NULL;
	char hex[GIT_OID_HEXSZ + 1], missing[GIT_OID_HEXSZ + 1], first_missing[GIT_OID_HEXSZ + 1] = "";
	size_t still = 0;
	int error = 0, rc;

	/* "diff_state <> 'ok'" literally: what lets SQLite use the partial index */
	if ((error = pg_store_prepare(&sel, in->store,
				      "SELECT id, sha, files_changed FROM commits WHERE diff_state <> 'ok' AND id < ?")) < 0)
		goto out;
	pg_stmt_bind_int(sel, 1, in->first_new_id);
	/* collected first: the loop below updates the rows the index lists */
	while ((rc = pg_stmt_step(sel)) > 0) {
		struct incomplete c = { pg_stmt_int(sel, 0), { { 0 } }, pg_stmt_int(sel, 2) > 0 };
		if (!pg_stmt_text(sel, 1) || git_oid_fromstr(&c.sha, pg_stmt_text(sel, 1)) < 0)
			continue;
		if (c.has_files && !in->opts->diffstat)
			continue;
		if ((error = pg_vec_push(&todo, c)) < 0)
			goto out;
	}
	if ((error = rc) < 0 || !todo.len)
		goto out;
	if ((error = pg_store_prepare(&del, in->store, "DELETE FROM commit_files WHERE commit_id = ?")) < 0 ||
	    (error = pg_store_prepare(&ins, in->store,
				      "INSERT INTO commit_files(commit_id, path, status, added, deleted) VALUES (?, ?, ?, ?, ?)"
				      " ON CONFLICT (commit_id, path) DO NOTHING")) < 0 ||
	    (error = pg_store_prepare(&upd, in->store,
				      "UPDATE commits SET files_changed = ?, insertions = ?, deletions = ?, diff_state = ?"
				      " WHERE id = ?")) < 0)
		goto out;
	for (size_t k = 0; k < todo.len; k++) {
		const struct incomplete *ic = &todo.ptr[k];
		git_object_t type = GIT_OBJECT_INVALID;
		unsigned added = 0, deleted = 0;

		git_oid_tostr(hex, sizeof(hex), &ic->sha);
		if ((error = pg_odb_read(in->differ.odb, &ic->sha, &type, &in->commit_raw)) < 0 ||
		    type != GIT_OBJECT_COMMIT ||
		    (error = pg_odb_parse_commit(&in->commit, in->commit_raw.ptr, in->commit_raw.len)) < 0) {
			if (error == PG_ENOMEM || error == PG_EIO)
				goto out;
			error = 0;
			if (!still++)
				snprintf(first_missing, sizeof(first_missing), "%s", hex);
			continue;
		}
		/* commit_files warns about what is still missing, naming the commit */
		if ((error = commit_files(in, &in->commit, hex, missing)) < 0)
			goto out;
		if (missing[0]) {
			still++;
			if (in->files.len == 0 || ic->has_files)
				continue; /* nothing better than what is stored */
		}
		for (size_t i = 0; i < in->files.len; i++) {
			added += in->files.ptr[i].added;
			deleted += in->files.ptr[i].deleted;
		}
		pg_stmt_bind_int(del, 1, ic->id);
		if ((error = pg_stmt_exec(del)) < 0)
			goto out;
		for (size_t i = 0; i < in->files.len; i++) {
			const pg_ingest__file *f = &in->files.ptr[i];
			char status[2] = { f->status, 0 };
			pg_stmt_bind_int(ins, 1, ic->id);
			pg_stmt_bind_text(ins, 2, f->path);
			pg_stmt_bind_text(ins, 3, status);
			pg_stmt_bind_int(ins, 4, f->added);
			pg_stmt_bind_int(ins, 5, f->deleted);
			if ((error = pg_stmt_exec(ins)) < 0)
				goto out;
		}
		pg_buf_reset(&in->tmp);
		if (missing[0])
			pg_buf_printf(&in->tmp, "missing %s", missing);
		pg_stmt_bind_int(upd, 1, (int64_t)in->files.len);
		pg_stmt_bind_int(upd, 2, added);
		pg_stmt_bind_int(upd, 3, deleted);
		pg_stmt_bind_text(upd, 4, missing[0] ? pg_buf_cstr(&in->tmp) : "ok");
		pg_stmt_bind_int(upd, 5, ic->id);
		if ((error = pg_stmt_exec(upd)) < 0)
			goto out;
		in->stats->commits_healed += !missing[0];
	}
	if (first_missing[0])
		warn(in, "%zu commits stored as incomplete still cannot be read, e.g. %s", still, first_missing);
out:
	in->stats->commits_incomplete += still;
	pg_stmt_free(sel);
	pg_stmt_free(del);
	pg_stmt_free(ins);
	pg_stmt_free(upd);
	pg_vec_release(&todo);
	return error;
}

/* ---- phase 4: heads, tags, reachability -------------------------------- */

static int finish(struct ingest *in)
{
	pg_stmt *hb = NULL, *tg = NULL, *tt = NULL, *rch = NULL, *cnt = NULL;
	int error;
	char hex[GIT_OID_HEXSZ + 1];

	if ((error = pg_store_prepare(&hb, in->store,
				      "UPDATE branches SET head_sha = ?, base_tag = ?, kind = ?, ref = ?, config_path = ? WHERE id = ?")) < 0 ||
	    (error = pg_store_prepare(&tg, in->store,
				      "INSERT INTO tags(name, sha, line, major, minor, patch, rc, tag_time, target)"
				      " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
				      " ON CONFLICT (name) DO UPDATE SET sha = excluded.sha, line = excluded.line,"
				      " tag_time = excluded.tag_time, target = excluded.target")) < 0 ||
	    (error = pg_store_prepare(&tt, in->store, "UPDATE tags SET target = ? WHERE name = ?")) < 0 ||
	    (error = pg_store_prepare(&rch, in->store,
				      "UPDATE commits SET reachable = CASE WHEN on_mainline = 1 OR EXISTS ("
				      "  SELECT 1 FROM branch_commits bc WHERE bc.commit_id = commits.id AND bc.reachable = 1)"
				      " THEN 1 ELSE 0 END"
				      " WHERE id IN (SELECT commit_id FROM branch_commits WHERE branch_id = ?)")) < 0 ||
	    /* ids are dense (1..n, rows never deleted): max is the count without a table scan */
	    (error = pg_store_prepare(&cnt, in->store, "SELECT coalesce(max(id), 0) FROM commits")) < 0)
		goto out;
	for (size_t i = 0; i < in->branches.len; i++) {
		struct branch *b = &in->branches.ptr[i];
		char base[40] = "";
		if (b->series)
			snprintf(base, sizeof(base), "v%s", b->series);
		git_oid_tostr(hex, sizeof(hex), &b->head);
		pg_stmt_bind_text(hb, 1, hex);
		pg_stmt_bind_text(hb, 2, base[0] ? base : NULL);
		pg_stmt_bind_text(hb, 3, pg_branch_kind_name(b->conf->kind));
		pg_stmt_bind_text(hb, 4, b->conf->ref);
		pg_stmt_bind_text(hb, 5, b->conf->kconfig);
		pg_stmt_bind_int(hb, 6, b->id);
		if ((error = pg_stmt_exec(hb)) < 0)
			goto out;
		if (b->rewritten) {
			int64_t before = pg_store_changes(in->store);
			(void)before;
			pg_stmt_bind_int(rch, 1, b->id);
			if ((error = pg_stmt_exec(rch)) < 0)
				goto out;
		}
	}
	for (size_t s = 0; s <= in->series.len; s++) {
		struct line *l = s ? in->series.ptr[s - 1] : &in->mainline;
		for (size_t i = 0; i < l->tags.len; i++) {
			struct tag *t = &l->tags.ptr[i];
			if (!t->is_new) {
				if (!t->set_target)
					continue;
				pg_stmt_bind_text(tt, 1, t->target);
				pg_stmt_bind_text(tt, 2, t->name);
				if ((error = pg_stmt_exec(tt)) < 0)
					goto out;
				continue;
			}
			git_oid_tostr(hex, sizeof(hex), &t->commit);
			pg_stmt_bind_text(tg, 1, t->name);
			pg_stmt_bind_text(tg, 2, hex);
			pg_stmt_bind_text(tg, 3, l->series[0] ? l->series : "mainline");
			pg_stmt_bind_int(tg, 4, t->ver.major);
			pg_stmt_bind_int(tg, 5, t->ver.minor);
			pg_stmt_bind_int(tg, 6, t->ver.patch);
			pg_stmt_bind_int(tg, 7, t->ver.rc);
			pg_stmt_bind_int(tg, 8, t->time);
			pg_stmt_bind_text(tg, 9, t->target);
			if ((error = pg_stmt_exec(tg)) < 0)
				goto out;
		}
	}
	if ((error = pg_stmt_step(cnt)) > 0) {
		in->stats->commits_total = (size_t)pg_stmt_int(cnt, 0);
		error = 0;
	}
out:
	pg_stmt_free(hb);
	pg_stmt_free(tg);
	pg_stmt_free(tt);
	pg_stmt_free(rch);
	pg_stmt_free(cnt);
	return error;
}

static int count_unreachable(struct ingest *in)
{
	pg_stmt *st = NULL;
	int error;
	if ((error = pg_store_prepare(&st, in->store, "SELECT count(*) FROM commits WHERE reachable = 0")) < 0)
		return error;
	if ((error = pg_stmt_step(st)) > 0) {
		in->stats->commits_unreachable = (size_t)pg_stmt_int(st, 0);
		error = 0;
	}
	pg_stmt_free(st);
	return error;
}

static int open_cgraph(struct ingest *in)
{
	git_buf dir = GIT_BUF_INIT;
	const char *why = NULL;
	int error = 0;

	if (git_repository_item_path(&dir, in->repo, GIT_REPOSITORY_ITEM_OBJECTS) < 0)
		return git_fail("cannot locate the object directory");
	error = pg_cgraph_open(&in->cgraph, dir.ptr, &why);
	if (!error && why)
		warn(in, "%s/info/commit-graph is not used: %s", dir.ptr, why);
	git_buf_dispose(&dir);
	return error;
}

int pg_ingest_run(pg_ingest_stats *out, const pg_config *cfg, pg_store *store, const pg_ingest_options *opts)
{
	static const pg_ingest_options defaults = PG_INGEST_OPTIONS_INIT;
	pg_ingest_options o = opts ? *opts : defaults;
	struct ingest in;
	int error = 0, in_txn = 0;

	memset(out, 0, sizeof(*out));
	memset(&in, 0, sizeof(in));
	if (!o.batch)
		o.batch = defaults.batch;
	in.cfg = cfg;
	in.store = store;
	in.opts = &o;
	in.stats = out;
	pg_buf_init(&in.tmp, 0);

	if ((error = pg_store_lock(store, "ingest")) < 0)
		return error;
	git_libgit2_init();
	/* a trusted local scan: hash verification costs 1.4-2x (measured) */
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0);
	/*
	 * Trees, blobs and commits are read through util/odb (own pack reader,
	 * bounded delta-base cache); libgit2 only walks revisions and resolves
	 * tags, so its object cache keeps the default size.
	 */
	if (git_repository_open_ext(&in.repo, cfg->repository, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0) {
		error = pg_error_setc(PG_ENOTFOUND, "'%s' is not a git repository (core.repository in '%s')",
				      cfg->repository, cfg->path);
		goto out;
	}
	if (getenv("PATCHGAP_INGEST_STATS"))
		in.phase_t0 = pg_clock_now();
	if ((error = pg_ingest__differ_init(&in.differ, in.repo)) < 0 || (error = open_cgraph(&in)) < 0)
		goto out;
	if ((error = load_known(&in)) < 0 || (error = load_branches(&in)) < 0)
		goto out;
	in.first_new_id = in.next_id;
	phase_done(&in, "open, branches");
	if ((error = collect_tags(&in)) < 0)
		goto out;
	phase_done(&in, "tags");
	if ((error = map_line(&in, &in.mainline, NULL)) < 0)
		goto out;
	for (size_t i = 0; i < in.series.len; i++)
		if ((error = map_line(&in, in.series.ptr[i], series_base(&in, in.series.ptr[i]->series))) < 0)
			goto out;
	phase_done(&in, "release mapping");
	if ((error = prepare_statements(&in)) < 0 || (error = pg_store_begin(store)) < 0)
		goto out;
	in_txn = 1;
	for (size_t i = 0; i < in.branches.len; i++)
		if ((error = list_branch(&in, &in.branches.ptr[i])) < 0)
			goto out;
	phase_done(&in, "list branches");
	{
		size_t walked = 0;
		for (size_t i = 0; i < in.branches.len; i++)
			walked += in.branches.ptr[i].walk.len;
		if (!in.cgraph && walked >= 10000)
			warn(&in, "'%s' has no commit-graph: `git -c commitGraph.generationVersion=1 commit-graph write --reachable`"
			     " makes long walks several times faster (libgit2 1.5 reads only generation-1 graphs)",
			     cfg->repository);
	}
	if ((error = lookup_known(&in)) < 0 || (error = drop_indexes(&in)) < 0 ||
	    (in.all_known && (error = build_all_ids(&in)) < 0))
		goto out;
	phase_done(&in, "lookup known");
	/* the walk writes through the queue: reading git and writing rows overlap */
	if ((error = pg_queue_open(&in.q, store)) < 0)
		goto out;
	for (size_t i = 0; i < in.branches.len; i++)
		if ((error = walk_branch(&in, &in.branches.ptr[i])) < 0)
			goto out;
	error = pg_queue_close(in.q);
	in.q = NULL;
	if (error < 0 || (error = pg_store_commit(store)) < 0)
		goto out;
	in_txn = 0;
	phase_done(&in, "walk, write");
	/* final transaction: everything that marks the run as done */
	if ((error = pg_store_begin(store)) < 0)
		goto out;
	in_txn = 1;
	progress(&in, "resolving ids", 0, 0);
	if ((error = create_indexes(&in)) < 0)
		goto out;
	phase_done(&in, "create indexes");
	if ((error = update_releases(&in)) < 0)
		goto out;
	phase_done(&in, "update releases");
	if ((error = resolve_relations(&in)) < 0)
		goto out;
	phase_done(&in, "resolve relations");
	if ((error = heal_incomplete(&in)) < 0)
		goto out;
	phase_done(&in, "incomplete commits");
	if ((error = finish(&in)) < 0 || (error = count_unreachable(&in)) < 0)
		goto out;
	phase_done(&in, "finish");
	error = pg_store_commit(store);
	in_txn = 0;
	phase_done(&in, "commit");
out:
	if (in.q) {
		/* an error: stop the writer (whatever it reports) before rolling back */
		pg_queue_close(in.q);
		in.q = NULL;
	}
	if (in_txn)
		pg_store_rollback(store);
	pg_stmt_free(in.unreach);
	pg_stmt_free(in.ins_commit);
	pg_stmt_free(in.ins_file);
	pg_stmt_free(in.ins_trailer);
	pg_stmt_free(in.ins_rel);
	pg_stmt_free(in.ins_bc);
	pg_stmt_free(in.set_mainline);
	pg_stmt_free(in.upd_rel);
	pg_ingest__files_clear(&in.files);
	pg_vec_release(&in.files);
	pg_ingest__differ_release(&in.differ);
	pg_buf_release(&in.commit_raw);
	pg_buf_release(&in.parent_raw);
	pg_odb_commit_release(&in.commit);
	pg_odb_commit_release(&in.parent);
	line_release(&in.mainline);
	for (size_t i = 0; i < in.series.len; i++) {
		line_release(in.series.ptr[i]);
		free(in.series.ptr[i]);
	}
	pg_vec_release(&in.series);
	for (size_t i = 0; i < in.branches.len; i++)
		pg_vec_release(&in.branches.ptr[i].walk);
	pg_vec_release(&in.branches);
	pg_stmt_free(in.sel_known);
	pg_oidmap_release(&in.known);
	pg_vec_release(&in.sorted_known);
	free(in.all_ids);
	pg_cgraph_free(in.cgraph);
	pg_vec_release(&in.new_ids);
	pg_buf_release(&in.tmp);
	git_repository_free(in.repo);
	git_libgit2_shutdown();
	return error;
}
