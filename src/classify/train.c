/*
 * train.c - `patchgap train`: rebuild the classifier from ../shared/data.
 *
 * Split by time: every record dated on or after the cutoff is held out, and
 * so is every record (of any source) whose subject equals a held-out lore
 * subject, so no version of a held-out fix is seen in training.  The held-out
 * set is lore (both files, every list; kernel project) from the cutoff on;
 * tools/make-eval-set.py writes the same records as JSON Lines for
 * `patchgap eval`.  The lore mails of the months before the cutoff (from
 * calib_from) are the calibration split: held out of both stages the same
 * way, they fit the isotonic calibration and the operating points (the
 * threshold reaching each recall with 95 % confidence and the precision seen
 * there); then both stages are refitted with the split as training data too,
 * keeping that calibration and those operating points.
 *
 * The bag-of-words baseline is fitted on the same training records with the
 * same weights, class balance and optimizer as stage 1.
 *
 * Stage 1 (text + paths) learns from every source, on text normalized the
 * same way (trailers stripped).  Stage 2 learns trailer and diff evidence only
 * from lore-patches, the one source that keeps trailers and diffs and is
 * labelled by the CNA, on out-of-fold stage-1 logits (2 folds grouped by
 * subject).  Trailer weights are projected to >= 0.
 *
 * Deterministic: fixed-seed shuffles (splitmix64), fixed iteration order,
 * no threads; the same data and seed give a byte-identical model file.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "classify/classify_int.h"
#include "patchgap/trailer.h"
#include "util/jsonl.h"
#include "util/map.h"
#include "util/vec.h"
#include "util/str.h"
#include "util/banned.h"

enum src { SRC_CVE, SRC_LORE, SRC_PATCHDB, SRC_DEBIAN, SRC_REVIEW, SRC_CALIB, SRC_TEST, SRC__COUNT };
static const char *const src_names[] = { "kernel-cves", "lore", "patchdb-linux", "debian-6.1-subjects",
					 "kernel-review-candidates", "lore (calibration)", "lore (held out)" };

#define MAX_LISTS 32

/*
 * Whether the trainer feeds the two Fixes:-target features to stage 2.  Off:
 * with them, the leave-one-list-out means did not move (PR-AUC 0.756 both,
 * P@R90 at 7 % 0.389 against 0.390; doc/model.md, "What we tried"), so the
 * committed model is fitted without them and their weights are 0.  The
 * stand-in below, the database lookup and the scoring stay, so turning this
 * on is one retrain.
 */
#define TRAIN_FIXES_TARGET 0

/*
 * Whether the trainer feeds the function history (earlier CVEs naming a
 * function the mail names) to stage 2.  Off, as TRAIN_FIXES_TARGET: with it,
 * the leave-one-list-out mean PR-AUC fell (seed 1: 0.778 against 0.784,
 * seed 2: 0.772 against 0.780; name+file pairs instead of names, seed 1:
 * 0.779; doc/model.md, "What we tried").  The table, the database lookup
 * and the scoring stay, so turning this on is one retrain.
 */
#define TRAIN_FUNC_HISTORY 0

struct ex {
	size_t off;          /* into the index pool */
	uint32_t n;
	int8_t label;
	uint8_t src;
	int8_t fold;         /* lore train: 0/1; others -1 */
	uint8_t has_diff;
	uint8_t list;        /* lore: 1 + index into trainer.lists; 0 for other sources */
	float dense[PG_CLS_NDENSE];
	float weight;
	size_t boff;         /* baseline indices, into the baseline pool */
	uint32_t bn;
};

/* One (file, CVE) pair of the kernel-cves records, for the file-history feature. */
/*
 * Where a Fixes: target stood, from the mails alone: a subject's postings on
 * the lore lists, and its stable backports (lore mails marked as backports,
 * Debian 6.1 changelog entries) with their stable line (major * 1000 + minor).
 */
struct posted { uint64_t subject; int64_t t; uint32_t line; };
typedef PG_VEC(struct posted) posted_vec;

struct trainer {
	const pg_cls_train_opts *o;
	PG_VEC(struct ex) ex;
	PG_VEC(uint32_t) pool, bpool;
	pg_strmap test_keys;         /* subjects of the calibration and held-out lore mails */
	pg_cls_features f;
	size_t count[SRC__COUNT][2];
	char cutoff[32], calib_from[32], lore_from[32];
	int64_t cutoff_t, calib_t, lore_t;
	uint64_t rng;
	char lists[MAX_LISTS][48];   /* lore list names, in order of first appearance */
	size_t nlists;
	int cur_list;                /* list of the record being added (1-based, 0 none) */
	int exclude;                 /* list left out of every fit (1-based, 0 none) */
	int refit;                   /* 1: the calibration split is training data too (final refit) */
	PG_VEC(pg_cls_hist_pair) hist; /* (file, CVE subject) pairs, sorted by (path, t) */
	PG_VEC(pg_cls_hist_pair) fhist; /* (function, CVE subject) pairs, pg_cls__fn_history_finish()ed */
	size_t fhist_records;        /* kernel-cves records read into fhist */
	posted_vec posted;           /* lore postings, sorted by (subject, t) */
	posted_vec stable;           /* stable backports, sorted by (subject, t) */
};

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void progress(struct trainer *t, const char *fmt, ...) PG_PRINTF(2, 3);
static void progress(struct trainer *t, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	if (!t->o->progress)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	t->o->progress(msg, t->o->payload);
}

static const char *jstr(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static size_t jarr_size(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_array(v) ? json_array_size(v) : 0;
}

/* Collect string elements of an array (borrowed) into a small vector. */
static size_t jstrings(json_t *o, const char *k, const char **out, size_t max)
{
	json_t *v = json_object_get(o, k), *e;
	size_t i, n = 0;
	if (!json_is_array(v))
		return 0;
	json_array_foreach(v, i, e) if (n < max && json_is_string(e)) out[n++] = json_string_value(e);
	return n;
}

static int before_cutoff(struct trainer *t, const char *date)
{
	int64_t ts;
	if (!date || pg_time_parse(&ts, date) < 0)
		return 0;
	return ts < t->cutoff_t;
}

/* 0: not held out; 1: a calibration subject; 2: a held-out (test) subject. */
static int is_test_subject(struct trainer *t, const char *subject)
{
	char *k = pg_cls__subject_key(subject);
	int found = 0;
	void *v = NULL;
	if (k) {
		v = pg_strmap_get(&t->test_keys, k, &found);
		free(k);
	}
	return found ? (int)(intptr_t)v : 0;
}

static uint32_t subject_fold(const char *subject)
{
	char *k = pg_cls__subject_key(subject);
	uint64_t h = k ? pg_cls__fnv64(k, strlen(k), 0) : 0;
	free(k);
	return (uint32_t)((h >> 7) & 1);
}

static int add_example(struct trainer *t, const pg_cls_input *in, int label, enum src src, int fold, float weight)
{
	struct ex e;
	int error;
	if (weight <= 0)
		return 0;

	if ((error = pg_cls_features_extract(&t->f, in, 0)) < 0)
		return error;
	memset(&e, 0, sizeof(e));
	e.off = t->pool.len;
	e.n = (uint32_t)t->f.n;
	e.label = (int8_t)label;
	e.src = (uint8_t)src;
	e.fold = (int8_t)fold;
	e.has_diff = in->diff && *in->diff;
	e.weight = weight;
	e.list = (uint8_t)t->cur_list;
	memcpy(e.dense, t->f.dense, sizeof(e.dense));
	if (!TRAIN_FIXES_TARGET)
		for (size_t k = 0; k < PG_CLS_NDENSE; k++)
			if (!strncmp(pg_cls_dense_name(k), "history:fixes_target_", 21))
				e.dense[k] = 0;
	if (!TRAIN_FUNC_HISTORY)
		for (size_t k = 0; k < PG_CLS_NDENSE; k++)
			if (!strcmp(pg_cls_dense_name(k), "history:earlier_cves_same_function"))
				e.dense[k] = 0;
	if ((error = pg_vec_reserve(&t->pool, t->pool.len + t->f.n)) < 0)
		return error;
	memcpy(t->pool.ptr + t->pool.len, t->f.idx, t->f.n * sizeof(uint32_t));
	t->pool.len += t->f.n;
	if ((error = pg_cls__bow_extract(&t->f, in)) < 0)
		return error;
	e.boff = t->bpool.len;
	e.bn = (uint32_t)t->f.n;
	if ((error = pg_vec_reserve(&t->bpool, t->bpool.len + t->f.n)) < 0)
		return error;
	memcpy(t->bpool.ptr + t->bpool.len, t->f.idx, t->f.n * sizeof(uint32_t));
	t->bpool.len += t->f.n;
	if ((error = pg_vec_push(&t->ex, e)) < 0)
		return error;
	t->count[src][label]++;
	return 0;
}

typedef int (*record_fn)(struct trainer *t, json_t *o);

static int each_record(struct trainer *t, const char *file, record_fn fn, int optional)
{
	pg_jsonl *r = NULL;
	char path[4096];
	json_t *o = NULL;
	int error, rc;

	snprintf(path, sizeof(path), "%s/%s", t->o->data_dir, file);
	if (optional && access(path, F_OK) != 0)
		return 0;
	if ((error = pg_jsonl_open(&r, path, 0)) < 0)
		return error;
	while ((rc = pg_jsonl_next(r, &o)) > 0) {
		error = fn(t, o);
		json_decref(o);
		if (error < 0)
			break;
	}
	if (rc < 0)
		error = rc;
	pg_jsonl_free(r);
	return error;
}

/* ---- file history: CVEs published before a mail that touched its files ---- */

static uint64_t subject_hash(const char *subject)
{
	char *k = pg_cls__subject_key(subject);
	uint64_t h = k ? pg_cls__fnv64(k, strlen(k), 0) : 0;
	free(k);
	return h;
}

static int hist_record(struct trainer *t, json_t *o)
{
	const char *state = jstr(o, "state"), *subj = jstr(o, "subject"), *added = jstr(o, "first_added");
	const char *files[64];
	uint64_t fn[PG_CLS_FUNCS_MAX];
	size_t n;
	int64_t ts;
	int error;

	if (!state || strcmp(state, "published") || !subj || !added || pg_time_parse(&ts, added) < 0)
		return 0;
	n = jstrings(o, "program_files", files, 64);
	for (size_t i = 0; i < n; i++) {
		pg_cls_hist_pair h = { pg_cls__fnv64(files[i], strlen(files[i]), 0), ts, subject_hash(subj) };
		if ((error = pg_vec_push(&t->hist, h)) < 0)
			return error;
	}
	/* the functions its description (the fix's commit message) names */
	n = pg_cls__functions(fn, PG_CLS_FUNCS_MAX, jstr(o, "message"), 0, NULL, 0);
	t->fhist_records++;
	for (size_t i = 0; i < n; i++) {
		pg_cls_hist_pair h = { fn[i], ts, subject_hash(subj) };
		if ((error = pg_vec_push(&t->fhist, h)) < 0)
			return error;
	}
	return 0;
}

static int cmp_hist(const void *pa, const void *pb)
{
	const pg_cls_hist_pair *a = pa, *b = pb;
	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	return a->t < b->t ? -1 : a->t > b->t;
}

/*
 * The most CVEs first added before ts that named one of the functions the
 * mail names, not counting a CVE of this very fix (same subject).
 */
static int function_count(const struct trainer *t, const char *message, const char *diff, int64_t ts,
			  const char *subject)
{
	uint64_t fn[PG_CLS_FUNCS_MAX], own = subject_hash(subject);
	size_t nfn = pg_cls__functions(fn, PG_CLS_FUNCS_MAX, message, 0, diff, 0);
	return pg_cls__hist_count(t->fhist.ptr, t->fhist.len, fn, nfn, ts, &own, 1);
}

/*
 * The most CVEs first added before ts that any one of the files had, not
 * counting a CVE of this very fix (same subject): no look-ahead, no label.
 */
static int history_count(const struct trainer *t, const char *const *files, size_t nfiles, int64_t ts,
			 const char *subject)
{
	uint64_t own = subject_hash(subject), keys[64];
	size_t n = nfiles < 64 ? nfiles : 64; /* lore_record reads at most 64 files */

	for (size_t i = 0; i < n; i++)
		keys[i] = pg_cls__fnv64(files[i], strlen(files[i]), 0);
	return pg_cls__hist_count(t->hist.ptr, t->hist.len, keys, n, ts, &own, 1);
}

/* ---- Fixes: targets: released or not, in how many stable lines ---- */

/*
 * A target first posted on the lists less than this before the fix is taken
 * to be in no release yet: a merge window and its rc cycle take 9-10 weeks,
 * so a commit posted under 90 days ago has rarely reached a release.
 */
#define FIXES_RECENT_DAYS 90

static int cmp_posted(const void *pa, const void *pb)
{
	const struct posted *a = pa, *b = pb;
	if (a->subject != b->subject)
		return a->subject < b->subject ? -1 : 1;
	if (a->t != b->t)
		return a->t < b->t ? -1 : 1;
	return a->line < b->line ? -1 : a->line > b->line;
}

static size_t posted_first(const posted_vec *v, uint64_t subject)
{
	size_t lo = 0, hi = v->len;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v->ptr[mid].subject < subject)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* "5.10", "5.10.y", "v4.19.x", "6.1.12": the line 5010, 4019, 6001; 0 when none */
static int stable_line(uint32_t *out, const char *version)
{
	char *end;
	long major, minor;
	if (!version)
		return 0;
	if (*version == 'v')
		version++;
	major = strtol(version, &end, 10);
	if (end == version || *end != '.' || major <= 1 || major > 99)
		return 0;
	version = end + 1;
	minor = strtol(version, &end, 10);
	if (end == version || minor < 0 || minor > 999)
		return 0;
	*out = (uint32_t)major * 1000u + (uint32_t)minor;
	return 1;
}

static int add_posted(posted_vec *v, const char *subject, int64_t t, uint32_t line)
{
	struct posted p = { subject_hash(subject), t, line };
	return pg_vec_push(v, p);
}

/* Every lore mail is a posting of its subject; a stable backport also puts it in a line. */
static int lore_posting(struct trainer *t, json_t *o)
{
	const char *subj = jstr(o, "clean_subject"), *date = jstr(o, "date"), *first = jstr(o, "first_date");
	json_t *sv = json_object_get(o, "stable_version");
	char vbuf[32];
	int64_t ts, ft;
	uint32_t line;
	int error;

	if (!subj || !*subj || !date || pg_time_parse(&ts, date) < 0)
		return 0;
	/* first_date: the earliest mail of the same patch, dropped as a duplicate */
	if (first && pg_time_parse(&ft, first) == 0 && ft < ts)
		ts = ft;
	if ((error = add_posted(&t->posted, subj, ts, 0)) < 0)
		return error;
	if (!json_is_true(json_object_get(o, "stable_backport")))
		return 0;
	if (json_is_string(sv))
		snprintf(vbuf, sizeof(vbuf), "%s", json_string_value(sv));
	else if (json_is_number(sv))
		snprintf(vbuf, sizeof(vbuf), "%g", json_number_value(sv));
	else
		return 0;
	if (pg_time_parse(&ts, date) < 0 || !stable_line(&line, vbuf))
		return 0;
	return add_posted(&t->stable, subj, ts, line);
}

static int debian_posting(struct trainer *t, json_t *o)
{
	const char *subj = jstr(o, "subject"), *date = jstr(o, "debian_date");
	int64_t ts;
	if (!subj || !*subj || !date || pg_time_parse(&ts, date) < 0)
		return 0;
	return add_posted(&t->stable, subj, ts, 6001); /* the 6.1 changelog */
}

/*
 * The stand-in for the repository's releases in the lore data, known at the
 * mail's date ts: recent = every target of its Fixes: trailers with a subject
 * was first posted less than FIXES_RECENT_DAYS before (a target never posted
 * on these lists is older than the archive or from elsewhere: released);
 * stable lines = the most distinct lines with a backport of one target
 * posted or listed before ts.  pg_cls_history_fixes() gives the same two
 * figures from the database.
 */
static void fixes_targets(const struct trainer *t, const char *message, int64_t ts, int *recent, int *lines)
{
	pg_trailers tr = PG_TRAILERS_INIT;
	int targets = 0, released = 0;

	*recent = *lines = -1;
	if (!message || pg_trailers_parse(&tr, message, strlen(message)) < 0) {
		pg_error_clear();
		pg_trailers_release(&tr);
		return;
	}
	*lines = 0;
	for (size_t i = 0; i < tr.n; i++) {
		uint32_t seen[64];
		size_t nseen = 0, j;
		uint64_t h;
		if (tr.v[i].kind != PG_TR_FIXES)
			continue;
		targets++;
		if (!tr.v[i].ref_subject || !*tr.v[i].ref_subject) {
			released = 1;
			continue;
		}
		h = subject_hash(tr.v[i].ref_subject);
		j = posted_first(&t->posted, h);
		if (j == t->posted.len || t->posted.ptr[j].subject != h || t->posted.ptr[j].t >= ts ||
		    ts - t->posted.ptr[j].t >= (int64_t)FIXES_RECENT_DAYS * 86400)
			released = 1;
		for (j = posted_first(&t->stable, h); j < t->stable.len && t->stable.ptr[j].subject == h &&
		     t->stable.ptr[j].t < ts; j++) {
			size_t k;
			for (k = 0; k < nseen && seen[k] != t->stable.ptr[j].line; k++)
				;
			if (k == nseen && nseen < 64)
				seen[nseen++] = t->stable.ptr[j].line;
		}
		if ((int)nseen > *lines)
			*lines = (int)nseen;
	}
	pg_trailers_release(&tr);
	if (!targets) {
		*recent = *lines = -1;
		return;
	}
	/* a backport already in a stable line means a release */
	*recent = !released && *lines == 0;
}

/* ---- sources ---- */

static int lore_test_keys(struct trainer *t, json_t *o)
{
	const char *proj = jstr(o, "project"), *date = jstr(o, "date"), *subj = jstr(o, "clean_subject");
	char *k;
	int error;
	int64_t ts;
	if ((error = lore_posting(t, o)) < 0)
		return error;
	if (!proj || strcmp(proj, "kernel") || !subj || !date || pg_time_parse(&ts, date) < 0 || ts < t->calib_t)
		return 0;
	if (!(k = pg_cls__subject_key(subj)))
		return PG_ENOMEM;
	/* a subject of both splits is a test subject (the stricter hold-out) */
	if (is_test_subject(t, subj) == 2) {
		free(k);
		return 0;
	}
	error = pg_strmap_set(&t->test_keys, k, (void *)(intptr_t)(ts >= t->cutoff_t ? 2 : 1));
	free(k);
	return error;
}

/*
 * Source weights in stage 1.  lore-patches is the closest to the real feed;
 * the subject-only sources (debian-6.1-subjects, kernel-review-candidates)
 * are read but weighted 0: with any weight (tried 0.1 and 0.5) they lowered
 * the held-out PR-AUC (0.45 -> 0.38..0.44), as subject-only records teach
 * "short text" rather than content.  doc/model.md has the figures.
 */
#define W_LORE 3.0f
#define W_SUBJECT_ONLY 0.0f

/*
 * Lore mails older than the calibration start by more than this many months
 * are not read.  Their labels follow an earlier practice of the CNA: with
 * 2023-01 .. 2024-03 in training, the leave-one-list-out mean PR-AUC was
 * 0.761, without it 0.784 (2024-01 .. 2024-03 kept: 0.782); and the model
 * trained on every list scored each list's held-out mails worse (0.753) than
 * the models that had never read that list (doc/model.md, "Which lore mails
 * train").
 */
#define LORE_TRAIN_MONTHS 3

static int lore_record(struct trainer *t, json_t *o)
{
	const char *files[64];
	const char *proj = jstr(o, "project"), *subj = jstr(o, "clean_subject"), *date = jstr(o, "date");
	pg_cls_input in = PG_CLS_INPUT_INIT;
	json_t *lab = json_object_get(o, "label");
	const char *list = jstr(o, "list");
	int64_t ts;
	enum src src;
	size_t li;
	int error, held;

	if (!proj || strcmp(proj, "kernel") || !subj || !date || pg_time_parse(&ts, date) < 0)
		return 0;
	held = is_test_subject(t, subj);
	/* older versions of a held-out fix go with it, as tools/make-eval-set.py writes them */
	src = ts >= t->cutoff_t || held == 2 ? SRC_TEST : ts >= t->calib_t || held == 1 ? SRC_CALIB : SRC_LORE;
	/* older labels follow an earlier practice of the CNA (LORE_TRAIN_MONTHS) */
	if (src == SRC_LORE && ts < t->lore_t)
		return 0;
	if (!list)
		list = "?";
	for (li = 0; li < t->nlists && strcmp(t->lists[li], list); li++)
		;
	if (li == t->nlists) {
		if (t->nlists == MAX_LISTS)
			return pg_error_setc(PG_EINVALID, "lore data: more than %d lists", MAX_LISTS);
		snprintf(t->lists[t->nlists++], sizeof(t->lists[0]), "%s", list);
	}
	t->cur_list = (int)li + 1;
	/* the raw subject: its [PATCH nf v2] tags are patch-mail evidence */
	in.subject = jstr(o, "subject") ? jstr(o, "subject") : subj;
	in.message = jstr(o, "message");
	in.diff = jstr(o, "diff");
	in.nfiles = jstrings(o, "files", files, 64);
	in.files = files;
	in.history_cves = history_count(t, files, in.nfiles, ts, subj);
	in.history_functions = function_count(t, in.message, in.diff, ts, subj);
	fixes_targets(t, in.message, ts, &in.fixes_target_recent, &in.fixes_target_stable_lines);
	error = add_example(t, &in, json_integer_value(lab) == 1, src, src != SRC_TEST ? (int)subject_fold(subj) : -1,
			    src != SRC_TEST ? W_LORE : 1.0f);
	t->cur_list = 0;
	return error;
}

static int cve_record(struct trainer *t, json_t *o)
{
	const char *files[64];
	const char *state = jstr(o, "state"), *subj = jstr(o, "subject");
	pg_cls_input in = PG_CLS_INPUT_INIT;

	if (!state || strcmp(state, "published") || !subj || !before_cutoff(t, jstr(o, "first_added")) ||
	    is_test_subject(t, subj))
		return 0;
	in.subject = subj;
	in.message = jstr(o, "message");
	in.nfiles = jstrings(o, "program_files", files, 64);
	in.files = files;
	return add_example(t, &in, 1, SRC_CVE, -1, 1.0f);
}

static int patchdb_record(struct trainer *t, json_t *o)
{
	const char *files[64];
	const char *subj = jstr(o, "subject");
	pg_cls_input in = PG_CLS_INPUT_INIT;

	if (json_is_true(json_object_get(o, "label_conflict")) || !subj || is_test_subject(t, subj))
		return 0;
	in.subject = subj;
	in.message = jstr(o, "message");
	in.diff = jstr(o, "diff");
	in.nfiles = jstrings(o, "files", files, 64);
	in.files = files;
	/*
	 * no file or function history: its commits (2005-2019) all predate the
	 * first kernel-cves record (2024-02), so without look-ahead both are 0
	 */
	/* older era and a broader notion of "security": half weight */
	return add_example(t, &in, json_integer_value(json_object_get(o, "label")) == 1, SRC_PATCHDB, -1, 0.5f);
}

static int debian_record(struct trainer *t, json_t *o)
{
	const char *subj = jstr(o, "subject");
	pg_cls_input in = PG_CLS_INPUT_INIT;
	int label;

	if (!subj || !before_cutoff(t, jstr(o, "debian_date")) || is_test_subject(t, subj))
		return 0;
	label = json_integer_value(json_object_get(o, "label")) == 1 || jarr_size(o, "vulns_cve_ids") > 0;
	in.subject = subj;
	return add_example(t, &in, label, SRC_DEBIAN, -1, W_SUBJECT_ONLY);
}

static int review_record(struct trainer *t, json_t *o)
{
	const char *subj = jstr(o, "subject"), *src = jstr(o, "source"), *list = jstr(o, "list");
	pg_cls_input in = PG_CLS_INPUT_INIT;
	pg_kver v, lim = { 6, 13, 0, 0 };

	/* stable review lists of releases before 6.13 (January 2025) */
	if (!subj || !src || strcmp(src, "stable_review") || !list || pg_kver_parse(&v, list) < 0 ||
	    pg_kver_cmp(&v, &lim) >= 0 || is_test_subject(t, subj))
		return 0;
	in.subject = subj;
	return add_example(t, &in, jarr_size(o, "matched_cves") > 0, SRC_REVIEW, -1, W_SUBJECT_ONLY);
}

/* ---- stage 1 and baseline: AdaGrad logistic regression over hashed binary features ---- */

/* 1 if e is a lore training record (stage 2, out-of-fold logits) of the current fit. */
static int is_lore_train(const struct trainer *t, const struct ex *e)
{
	return e->src == SRC_LORE || (t->refit && e->src == SRC_CALIB);
}

/* 1 if e is a training record of the current fit (fold: lore fold left out, -1 none). */
static int in_fit(const struct trainer *t, const struct ex *e, int exclude_fold)
{
	if (e->src == SRC_TEST || (e->src == SRC_CALIB && !t->refit))
		return 0;
	if (t->exclude && e->list == t->exclude)
		return 0;
	return !(is_lore_train(t, e) && e->fold == exclude_fold);
}

static const uint32_t *ex_idx(const struct trainer *t, const struct ex *e, int base, uint32_t *n)
{
	*n = base ? e->bn : e->n;
	return base ? t->bpool.ptr + e->boff : t->pool.ptr + e->off;
}

static void train_lr(struct trainer *t, float *w, double *b1, int exclude_fold, int base)
{
	double *g2 = calloc(PG_CLS_DIM, sizeof(double)), gb = 1e-8, pos = 0, neg = 0;
	size_t *order = malloc((t->ex.len + 1) * sizeof(size_t)), n = 0;
	uint64_t rng = t->o->seed;
	const double lr = 0.08, l2 = 2e-6;
	int epochs = t->o->epochs > 0 ? t->o->epochs : 6;

	memset(w, 0, PG_CLS_DIM * sizeof(float));
	*b1 = 0;
	if (!g2 || !order)
		goto out;
	for (size_t i = 0; i < t->ex.len; i++) {
		struct ex *e = &t->ex.ptr[i];
		if (!in_fit(t, e, exclude_fold))
			continue;
		order[n++] = i;
		if (e->label)
			pos += e->weight;
		else
			neg += e->weight;
	}
	if (!pos || !neg)
		goto out;
	for (int ep = 0; ep < epochs; ep++) {
		for (size_t i = n; i > 1; i--) {
			size_t j = (size_t)(splitmix(&rng) % i), tmp = order[i - 1];
			order[i - 1] = order[j];
			order[j] = tmp;
		}
		for (size_t k = 0; k < n; k++) {
			struct ex *e = &t->ex.ptr[order[k]];
			uint32_t en;
			const uint32_t *idx = ex_idx(t, e, base, &en);
			double z = *b1, p, g, cw;
			for (uint32_t j = 0; j < en; j++)
				z += w[idx[j]];
			p = pg_cls__sigmoid(z);
			/* balance the classes: each carries half of the total weight */
			cw = e->weight * (e->label ? (pos + neg) / (2 * pos) : (pos + neg) / (2 * neg));
			g = (p - e->label) * cw;
			gb += g * g;
			*b1 -= lr * g / sqrt(gb);
			for (uint32_t j = 0; j < en; j++) {
				uint32_t i2 = idx[j];
				double gi = g + l2 * w[i2] * (double)n / 1000.0;
				g2[i2] += gi * gi;
				w[i2] -= (float)(lr * gi / sqrt(g2[i2] + 1e-8));
			}
		}
	}
out:
	free(g2);
	free(order);
}

static double z1_of(const float *w, double b1, const struct trainer *t, const struct ex *e)
{
	double z = b1;
	const uint32_t *idx = t->pool.ptr + e->off;
	for (uint32_t j = 0; j < e->n; j++)
		z += w[idx[j]];
	return z;
}

static double base_z(const float *w, double b, const struct trainer *t, const struct ex *e)
{
	double z = b;
	const uint32_t *idx = t->bpool.ptr + e->boff;
	for (uint32_t j = 0; j < e->bn; j++)
		z += w[idx[j]];
	return z;
}

static double base_p(const pg_cls_model *m, const struct trainer *t, const struct ex *e)
{
	return pg_cls__sigmoid(base_z(m->bw, m->bb, t, e));
}

/* Keep at most max_nz weights (largest |w|), quantized. */
static void prune_quantize(float *w, size_t max_nz)
{
	uint32_t hist[4096] = { 0 };
	size_t nz = 0, keep = 0;
	long cut = 1;

	for (uint32_t i = 0; i < PG_CLS_DIM; i++) {
		long q = lround(w[i] / PG_CLS_QUANT);
		w[i] = (float)(q * PG_CLS_QUANT);
		if (q) {
			long a = labs(q);
			hist[a > 4095 ? 4095 : a]++;
			nz++;
		}
	}
	if (nz > max_nz) {
		for (long a = 4095; a >= 1; a--) {
			if (keep + hist[a] > max_nz) {
				cut = a + 1;
				break;
			}
			keep += hist[a];
		}
		for (uint32_t i = 0; i < PG_CLS_DIM; i++)
			if (labs(lround(w[i] / PG_CLS_QUANT)) < cut)
				w[i] = 0;
	}
}

/* ---- stage 2: small dense logistic regression on lore ---- */

struct s2ex { double z1; const float *dense; int y; };

static void train_head(pg_cls_head *h, const struct s2ex *v, size_t n, int use_diff)
{
	enum { P_A, P_AN, P_B, P_V, K = PG_CLS_NDENSE + 3 };
	double p[K] = { 0 }, m[K] = { 0 }, g[K];
	const double lr = 0.5, mom = 0.9, l2 = 1e-3;

	p[P_A] = 1;
	for (int it = 0; it < 1500 && n; it++) {
		memset(g, 0, sizeof(g));
		for (size_t i = 0; i < n; i++) {
			double zn = v[i].z1 < 0 ? v[i].z1 : 0, z = p[P_A] * v[i].z1 + p[P_AN] * zn + p[P_B], d;
			for (int k = 0; k < PG_CLS_NDENSE; k++)
				z += p[k + P_V] * v[i].dense[k];
			d = pg_cls__sigmoid(z) - v[i].y;
			g[P_A] += d * v[i].z1;
			g[P_AN] += d * zn;
			g[P_B] += d;
			for (int k = 0; k < PG_CLS_NDENSE; k++)
				g[k + P_V] += d * v[i].dense[k];
		}
		for (int k = 0; k < K; k++) {
			g[k] = g[k] / (double)n + (k >= P_V ? l2 * p[k] : 0);
			if (k == P_A || k == P_AN)
				g[k] *= 0.1; /* z1 has a large scale */
			m[k] = mom * m[k] - lr * g[k];
			p[k] += m[k];
			if (k >= P_V) {
				size_t d = (size_t)(k - P_V);
				int used = pg_cls_dense_is_trailer(d) || pg_cls__dense_is_subsys(d) ||
					   (use_diff && strcmp(pg_cls_dense_name(d), "unused"));
				if (!used || (pg_cls_dense_is_trailer(d) && p[k] < 0)) {
					p[k] = 0;
					m[k] = 0;
				}
			}
		}
		/* the slope stays positive on both sides of 0 */
		if (p[P_A] + p[P_AN] < 0.01)
			p[P_AN] = 0.01 - p[P_A];
	}
	h->a = round(p[P_A] * 1e6) / 1e6;
	h->an = round(p[P_AN] * 1e6) / 1e6;
	h->b = round(p[P_B] * 1e6) / 1e6;
	for (int k = 0; k < PG_CLS_NDENSE; k++)
		h->v[k] = round(p[k + P_V] * 1e6) / 1e6;
}

/* The dense vector head h sees: without a diff only trailers and subsystem priors. */
static void head_dense(float *d, const float *dense, int h)
{
	memcpy(d, dense, PG_CLS_NDENSE * sizeof(float));
	if (h == 1)
		for (int k = PG_CLS_DENSE_TRAILERS; k < PG_CLS_NDENSE; k++)
			if (!pg_cls__dense_is_subsys((size_t)k) && !pg_cls_dense_is_trailer((size_t)k))
				d[k] = 0;
}

static double head_z(const pg_cls_head *h, double z1, const float *dense)
{
	double z = pg_cls__slope(h, z1) * z1 + h->b;
	for (int k = 0; k < PG_CLS_NDENSE; k++)
		z += h->v[k] * dense[k];
	return z;
}

static int fit_heads(struct trainer *t, pg_cls_model *m, const double *oof)
{
	struct s2ex *v = NULL;
	int error = 0;
	size_t n = 0;

	if (!(v = calloc(t->ex.len + 1, sizeof(*v)))) {
		error = pg_error_setc(PG_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < t->ex.len; i++) {
		struct ex *e = &t->ex.ptr[i];
		if (!is_lore_train(t, e) || !in_fit(t, e, -1))
			continue;
		v[n].z1 = oof[i];
		v[n].dense = e->dense;
		v[n].y = e->label;
		n++;
	}
	for (int h = 0; h < 2; h++)
		train_head(&m->head[h], v, n, h == 0);
out:
	free(v);
	return error;
}

/* ---- calibration and operating points (on the calibration split) ---- */

struct scored { double s; int y; };

static int cmp_asc(const void *pa, const void *pb)
{
	const struct scored *a = pa, *b = pb;
	return a->s < b->s ? -1 : a->s > b->s;
}

/*
 * Isotonic regression (pool adjacent violators) of the labels on the raw
 * scores, over consecutive bins of at least n/200 (>= 20) records so the map
 * stays smooth and has at most ~200 points; points rounded to the file's
 * precision, x and y strictly ascending.
 */
static void fit_isotonic(pg_cls_head *h, struct scored *v, size_t n)
{
	double bx[PG_CLS_CALIB_MAX + 8], by[PG_CLS_CALIB_MAX + 8], bw[PG_CLS_CALIB_MAX + 8];
	size_t nb = 0, bin = n / 200 > 20 ? n / 200 : 20;

	h->ncal = 0;
	if (n < 2 * bin)
		return;
	qsort(v, n, sizeof(*v), cmp_asc);
	for (size_t i = 0; i < n;) {
		size_t j = i + bin < n ? i + bin : n;
		double sx = 0, sy = 0;
		if (n - j < bin)
			j = n; /* the last bin takes the remainder */
		while (j < n && v[j].s == v[j - 1].s)
			j++; /* ties stay in one bin */
		for (size_t k = i; k < j; k++) {
			sx += v[k].s;
			sy += v[k].y;
		}
		bx[nb] = sx / (double)(j - i);
		by[nb] = sy / (double)(j - i);
		bw[nb] = (double)(j - i);
		nb++;
		/* pool while the new block does not rise above the previous one */
		while (nb > 1 && by[nb - 2] >= by[nb - 1]) {
			double w = bw[nb - 2] + bw[nb - 1];
			bx[nb - 2] = (bx[nb - 2] * bw[nb - 2] + bx[nb - 1] * bw[nb - 1]) / w;
			by[nb - 2] = (by[nb - 2] * bw[nb - 2] + by[nb - 1] * bw[nb - 1]) / w;
			bw[nb - 2] = w;
			nb--;
		}
		if (nb >= PG_CLS_CALIB_MAX)
			break;
		i = j;
	}
	for (size_t k = 0; k < nb; k++) {
		double x = round(bx[k] * 1e6) / 1e6, y = round(by[k] * 1e6) / 1e6;
		if (h->ncal && (x <= h->cal_x[h->ncal - 1] || y <= h->cal_y[h->ncal - 1]))
			continue;
		if (y <= 0 && k + 1 < nb)
			continue; /* (0, 0) is implied */
		h->cal_x[h->ncal] = x;
		h->cal_y[h->ncal] = y;
		h->ncal++;
	}
}

static int cmp_desc(const void *pa, const void *pb) { return -cmp_asc(pa, pb); }

/*
 * One-sided 95 % Wilson lower bound of a recall of tp out of pos positives.
 * The calibration split has a few hundred positives: a cut that catches 90 %
 * of them may catch 87 % of the next ones by chance alone.
 */
static double recall_lower_bound(size_t tp, size_t pos)
{
	const double z = 1.645;
	double n = (double)pos, p = (double)tp / n, z2 = z * z;
	return (p + z2 / (2 * n) - z * sqrt(p * (1 - p) / n + z2 / (4 * n * n))) / (1 + z2 / n);
}

/*
 * Operating points for recall 0.05, 0.06, ... 1.00: the highest threshold on
 * the calibrated scores whose cut reaches the recall with 95 % confidence
 * (the Wilson lower bound of its recall on the calibration split is at least
 * the target; the cut that catches every positive when no cut's bound
 * reaches it), and the precision there.  Thresholds are rounded down to the
 * file's precision so the cut is kept.
 */
static void fit_ops(pg_cls_head *h, struct scored *v, size_t n)
{
	size_t pos = 0, tp = 0, fp = 0, i = 0;
	int r = 5;

	h->nops = 0;
	for (size_t k = 0; k < n; k++)
		pos += (size_t)v[k].y;
	if (!pos)
		return;
	qsort(v, n, sizeof(*v), cmp_desc);
	while (i < n && r <= 100) {
		size_t j = i;
		while (j < n && v[j].s == v[i].s) {
			v[j].y ? tp++ : fp++;
			j++;
		}
		while (r <= 100 && (recall_lower_bound(tp, pos) >= r / 100.0 - 1e-9 || tp == pos)) {
			pg_cls_operating_point *op = &h->ops[h->nops++];
			op->recall = r / 100.0;
			op->threshold = floor(v[i].s * 1e6) / 1e6;
			op->precision = round((double)tp / (double)(tp + fp) * 1e4) / 1e4;
			r++;
		}
		i = j;
	}
}

static int calibrate(struct trainer *t, pg_cls_model *m)
{
	struct scored *v = calloc(t->ex.len + 1, sizeof(*v));
	pg_cls_operating_point op;
	size_t n;

	if (!v)
		return pg_error_setc(PG_ENOMEM, "out of memory");
	for (int h = 0; h < 2; h++) {
		pg_cls_head *hd = &m->head[h];
		n = 0;
		for (size_t i = 0; i < t->ex.len; i++) {
			struct ex *e = &t->ex.ptr[i];
			float d[PG_CLS_NDENSE];
			if (e->src != SRC_CALIB || (t->exclude && e->list == t->exclude))
				continue;
			head_dense(d, e->dense, h);
			v[n].s = pg_cls__sigmoid(head_z(hd, z1_of(m->w, m->b1, t, e), d));
			v[n].y = e->label;
			n++;
		}
		fit_isotonic(hd, v, n);
		for (size_t i = 0; i < n; i++)
			v[i].s = pg_cls__calibrate(hd, v[i].s);
		fit_ops(hd, v, n);
		hd->threshold = 0.5;
		if (pg_cls_model_operating_point(&op, m, !h, PG_CLS_DEFAULT_RECALL) == 0)
			hd->threshold = op.threshold;
	}
	free(v);
	return 0;
}

/*
 * The baseline on the current training records, and its logit as the diff
 * head's stacking feature: out of fold (the same 2 folds as stage 1) for the
 * lore training records, from the baseline on everything for the others.
 * Without the out-of-fold logits stage 2 would learn the baseline's fit to
 * its own training mails.
 */
static void fit_baseline(struct trainer *t, pg_cls_model *m, float *wf)
{
	const char *what = t->refit ? "refit with the calibration split: " : "";
	double bf;

	for (int fold = 0; fold < 2; fold++) {
		progress(t, "%sbaseline (hashed bag of words), fold %d of 2", what, fold + 1);
		train_lr(t, wf, &bf, fold, 1);
		prune_quantize(wf, 60000);
		for (size_t i = 0; i < t->ex.len; i++) {
			struct ex *e = &t->ex.ptr[i];
			if (is_lore_train(t, e) && e->fold == fold)
				e->dense[PG_CLS_DENSE_BASELINE] = (float)(PG_CLS_BASELINE_SCALE * base_z(wf, bf, t, e));
		}
	}
	progress(t, "%sbaseline (hashed bag of words), all training data", what);
	train_lr(t, m->bw, &m->bb, -1, 1);
	prune_quantize(m->bw, 60000);
	m->bb = round(m->bb * 1e6) / 1e6;
	for (size_t i = 0; i < t->ex.len; i++) {
		struct ex *e = &t->ex.ptr[i];
		if (!is_lore_train(t, e))
			e->dense[PG_CLS_DENSE_BASELINE] = (float)(PG_CLS_BASELINE_SCALE * base_z(m->bw, m->bb, t, e));
	}
}

/*
 * Both stages on the current training records: the baseline and its
 * stacking feature (above), out-of-fold stage-1 logits of the lore training
 * records (2 folds), stage 1 on everything, stage 2 on the out-of-fold
 * logits.  wf and oof are scratch space.
 */
static int fit_stages(struct trainer *t, pg_cls_model *m, float *wf, double *oof)
{
	const char *what = t->refit ? "refit with the calibration split: " : "";
	double b1f;

	fit_baseline(t, m, wf);
	for (int fold = 0; fold < 2; fold++) {
		progress(t, "%sstage 1, fold %d of 2", what, fold + 1);
		train_lr(t, wf, &b1f, fold, 0);
		prune_quantize(wf, 120000);
		for (size_t i = 0; i < t->ex.len; i++)
			if (is_lore_train(t, &t->ex.ptr[i]) && t->ex.ptr[i].fold == fold)
				oof[i] = z1_of(wf, b1f, t, &t->ex.ptr[i]);
	}
	progress(t, "%sstage 1, all training data", what);
	train_lr(t, m->w, &m->b1, -1, 0);
	prune_quantize(m->w, 120000);
	m->b1 = round(m->b1 * 1e6) / 1e6;
	progress(t, "%sstage 2 (trailer and diff evidence, lore only)", what);
	return fit_heads(t, m, oof);
}

/*
 * Fit everything (both stages, calibration, baseline) on the training
 * records, leaving out t->exclude's list.
 */
static int fit_all(struct trainer *t, pg_cls_model *m)
{
	float *wf = NULL;
	double *oof = NULL;
	int error = 0;

	if (!(wf = malloc(PG_CLS_DIM * sizeof(float))) || !(oof = calloc(t->ex.len + 1, sizeof(double))) ||
	    (!m->bw && !(m->bw = calloc(PG_CLS_DIM, sizeof(float))))) {
		error = pg_error_setc(PG_ENOMEM, "out of memory");
		goto out;
	}
	if ((error = fit_stages(t, m, wf, oof)) < 0)
		goto out;
	progress(t, "calibration and operating points (lore from %s to %s)", t->calib_from, t->cutoff);
	if ((error = calibrate(t, m)) < 0)
		goto out;
	/*
	 * Refit both stages on the training records and the calibration split,
	 * the most recent mails before the cutoff (2024-H2 has 47 % more lore
	 * positives than all of 2023-01 .. 2024-06), keeping the calibration and
	 * operating points fitted above on the split while it was held out.  On
	 * split A this raised recall at the default threshold 0.822 -> 0.872 and
	 * P@R90 0.409 -> 0.455 (doc/model.md).  The baseline is fitted on the
	 * same records.
	 */
	t->refit = 1;
	error = fit_stages(t, m, wf, oof); /* the baseline of the refit is the model file's */
out:
	t->refit = 0;
	free(wf);
	free(oof);
	return error;
}

/* Model and baseline scores of the held-out records (of list `only`, 1-based; 0 = all). */
static size_t score_test(const struct trainer *t, const pg_cls_model *m, int only, double *s, double *sb, int *y,
			 int *hd)
{
	size_t n = 0;
	for (size_t i = 0; i < t->ex.len; i++) {
		const struct ex *e = &t->ex.ptr[i];
		if (e->src != SRC_TEST || (only && e->list != only))
			continue;
		/* the held-out records are mails with diffs: head 0 */
		s[n] = pg_cls__calibrate(&m->head[0], pg_cls__sigmoid(head_z(&m->head[0], z1_of(m->w, m->b1, t, e), e->dense)));
		sb[n] = base_p(m, t, e);
		y[n] = e->label;
		if (hd)
			hd[n] = 1;
		n++;
	}
	return n;
}

/* Best precision at recall >= 0.90 with the negatives re-weighted to a 7 % base rate. */
static double p_at_r90_rate(const double *s, const int *y, size_t n, double rate)
{
	struct scored *v = malloc((n + 1) * sizeof(*v));
	size_t pos = 0, neg, tp = 0, fp = 0;
	double best = 0;

	if (!v)
		return 0;
	for (size_t i = 0; i < n; i++) {
		v[i].s = s[i];
		v[i].y = y[i];
		pos += (size_t)y[i];
	}
	neg = n - pos;
	qsort(v, n, sizeof(*v), cmp_desc);
	for (size_t i = 0; i < n && pos && neg;) {
		size_t j = i;
		while (j < n && v[j].s == v[i].s) {
			v[j].y ? tp++ : fp++;
			j++;
		}
		if ((double)tp >= 0.90 * (double)pos - 1e-9) {
			double tpr = (double)tp / (double)pos, fpr = (double)fp / (double)neg;
			double p = rate * tpr / (rate * tpr + (1 - rate) * fpr);
			if (p > best)
				best = p;
		}
		i = j;
	}
	free(v);
	return best;
}

/* Held-out figures of both models, for the progress report. */
static void report_test(struct trainer *t, const pg_cls_model *m, const char *what)
{
	double *s = calloc(t->ex.len + 1, sizeof(double)), *sb = calloc(t->ex.len + 1, sizeof(double));
	int *y = calloc(t->ex.len + 1, sizeof(int));
	size_t n;
	pg_cls_metrics mt, mb;

	if (!s || !y || !sb)
		goto out;
	n = score_test(t, m, 0, s, sb, y, NULL);
	if (n && pg_cls_metrics_compute(&mt, s, y, n, m->head[0].threshold) == 0 &&
	    pg_cls_metrics_compute(&mb, sb, y, n, 0.5) == 0) {
		progress(t, "%s: held-out lore n=%zu pos=%zu at the default threshold %.4f: P=%.3f R=%.3f; PR-AUC=%.3f P@R90=%.3f",
			 what, mt.n, mt.positives, mt.threshold, mt.precision, mt.recall, mt.pr_auc, mt.p_at_r90);
		progress(t, "  baseline (bag of words): PR-AUC=%.3f P@R90=%.3f", mb.pr_auc, mb.p_at_r90);
	}
out:
	free(s);
	free(sb);
	free(y);
}

/* Read every source into t (features extracted once). */
static int load_data(struct trainer *t, const pg_cls_train_opts *opts)
{
	int64_t cf;
	int error;

	memset(t, 0, sizeof(*t));
	t->o = opts;
	pg_cls_features_init(&t->f);
	snprintf(t->cutoff, sizeof(t->cutoff), "%s", opts->cutoff ? opts->cutoff : "2025-01-01");
	if (pg_time_parse(&t->cutoff_t, t->cutoff) < 0)
		return pg_error_setc(PG_EINVALID, "bad cutoff date '%s' (want YYYY-MM-DD)", t->cutoff);
	if (opts->calib_from) {
		snprintf(t->calib_from, sizeof(t->calib_from), "%s", opts->calib_from);
		if (pg_time_parse(&t->calib_t, t->calib_from) < 0 || t->calib_t >= t->cutoff_t)
			return pg_error_setc(PG_EINVALID, "bad calibration start '%s' (want YYYY-MM-DD before the cutoff %s)",
					     t->calib_from, t->cutoff);
	} else {
		/* the six months before the cutoff, from the first of a month */
		time_t c;
		struct tm tm;
		cf = t->cutoff_t - (int64_t)183 * 86400;
		c = (time_t)cf;
		gmtime_r(&c, &tm);
		snprintf(t->calib_from, sizeof(t->calib_from), "%04d-%02d-01", tm.tm_year + 1900, tm.tm_mon + 1);
		if (pg_time_parse(&t->calib_t, t->calib_from) < 0)
			return pg_error_setc(PG_EINVALID, "bad cutoff date '%s'", t->cutoff);
	}
	if (opts->lore_from) {
		snprintf(t->lore_from, sizeof(t->lore_from), "%s", opts->lore_from);
		if (pg_time_parse(&t->lore_t, t->lore_from) < 0 || t->lore_t >= t->calib_t)
			return pg_error_setc(PG_EINVALID, "bad lore start '%s' (want YYYY-MM-DD before the calibration start %s)",
					     t->lore_from, t->calib_from);
	} else {
		/* the first of the month LORE_TRAIN_MONTHS before the calibration start's month */
		time_t c = (time_t)t->calib_t;
		struct tm tm;
		int mon;
		gmtime_r(&c, &tm);
		mon = (tm.tm_year + 1900) * 12 + tm.tm_mon - LORE_TRAIN_MONTHS;
		snprintf(t->lore_from, sizeof(t->lore_from), "%04d-%02d-01", mon / 12, mon % 12 + 1);
		if (pg_time_parse(&t->lore_t, t->lore_from) < 0)
			return pg_error_setc(PG_EINVALID, "bad calibration start '%s'", t->calib_from);
	}
	progress(t, "reading the file history of kernel-cves");
	if ((error = each_record(t, "kernel-cves.jsonl.gz", hist_record, 0)) < 0)
		return error;
	if (t->hist.len)
		qsort(t->hist.ptr, t->hist.len, sizeof(*t->hist.ptr), cmp_hist);
	t->fhist.len = pg_cls__fn_history_finish(t->fhist.ptr, t->fhist.len, t->fhist_records);
	progress(t, "reading held-out subjects (lore from %s)", t->calib_from);
	if ((error = each_record(t, "lore-patches.jsonl.gz", lore_test_keys, 0)) < 0 ||
	    (error = each_record(t, "lore-patches-more.jsonl.gz", lore_test_keys, 1)) < 0 ||
	    (error = each_record(t, "debian-6.1-subjects.jsonl.gz", debian_posting, 1)) < 0)
		return error;
	if (t->posted.len)
		qsort(t->posted.ptr, t->posted.len, sizeof(*t->posted.ptr), cmp_posted);
	if (t->stable.len)
		qsort(t->stable.ptr, t->stable.len, sizeof(*t->stable.ptr), cmp_posted);
	progress(t, "reading lore-patches and lore-patches-more (training mails from %s)", t->lore_from);
	if ((error = each_record(t, "lore-patches.jsonl.gz", lore_record, 0)) < 0 ||
	    (error = each_record(t, "lore-patches-more.jsonl.gz", lore_record, 1)) < 0)
		return error;
	progress(t, "reading kernel-cves");
	if ((error = each_record(t, "kernel-cves.jsonl.gz", cve_record, 0)) < 0)
		return error;
	progress(t, "reading patchdb-linux");
	if ((error = each_record(t, "patchdb-linux.jsonl.gz", patchdb_record, 0)) < 0)
		return error;
	if (W_SUBJECT_ONLY > 0) {
		progress(t, "reading debian-6.1-subjects");
		if ((error = each_record(t, "debian-6.1-subjects.jsonl.gz", debian_record, 0)) < 0)
			return error;
		progress(t, "reading kernel-review-candidates");
		if ((error = each_record(t, "kernel-review-candidates.jsonl.gz", review_record, 0)) < 0)
			return error;
	}
	for (int s = 0; s < SRC__COUNT; s++)
		progress(t, "  %-28s %6zu positive %6zu negative", src_names[s], t->count[s][1], t->count[s][0]);
	if (!t->count[SRC_LORE][1] || !t->count[SRC_LORE][0] || !t->count[SRC_CVE][1])
		return pg_error_setc(PG_EINVALID, "no training positives and negatives found in '%s'", opts->data_dir);
	return 0;
}

static void trainer_release(struct trainer *t)
{
	pg_vec_release(&t->ex);
	pg_vec_release(&t->pool);
	pg_vec_release(&t->bpool);
	pg_vec_release(&t->hist);
	pg_vec_release(&t->fhist);
	pg_vec_release(&t->posted);
	pg_vec_release(&t->stable);
	pg_strmap_release(&t->test_keys);
	pg_cls_features_release(&t->f);
}

int pg_cls_train(pg_cls_model **out, const pg_cls_train_opts *opts)
{
	struct trainer t;
	pg_cls_model *m = NULL, *parsed = NULL;
	pg_buf text = PG_BUF_INIT, meta = PG_BUF_INIT;
	int error = 0;

	*out = NULL;
	if ((error = load_data(&t, opts)) < 0)
		goto out;
	if ((error = pg_cls__model_alloc(&m)) < 0 || (error = fit_all(&t, m)) < 0)
		goto out;
	if ((error = pg_buf_printf(&meta, "meta cutoff %s\nmeta calibration %s\nmeta lore-from %s\nmeta seed %llu\nmeta epochs %d\n",
				   t.cutoff, t.calib_from, t.lore_from, (unsigned long long)opts->seed,
				   opts->epochs > 0 ? opts->epochs : 6)) < 0)
		goto out;
	for (int s = 0; s < SRC__COUNT; s++)
		if ((error = pg_buf_printf(&meta, "meta data %s %zu+ %zu-\n", src_names[s], t.count[s][1], t.count[s][0])) < 0)
			goto out;
	m->meta = pg_buf_detach(&meta);
	/* round-trip through the file format so the returned model is exactly what a load gives */
	if ((error = pg_cls__model_write(&text, m)) < 0 ||
	    (error = pg_cls_model_parse(&parsed, text.ptr, text.len, "trained model")) < 0)
		goto out;
	report_test(&t, parsed, "model");
	*out = parsed;
	parsed = NULL;
out:
	pg_buf_release(&text);
	pg_buf_release(&meta);
	pg_cls_model_free(m);
	pg_cls_model_free(parsed);
	trainer_release(&t);
	return error;
}

int pg_cls_train_lolo(pg_cls_lolo_row **rows, size_t *nrows, const pg_cls_train_opts *opts)
{
	struct trainer t;
	pg_cls_model *m = NULL;
	pg_cls_lolo_row *r = NULL, *mean;
	double *s = NULL, *sb = NULL;
	int *y = NULL, error = 0;
	size_t nr = 0;

	*rows = NULL;
	*nrows = 0;
	if ((error = load_data(&t, opts)) < 0)
		goto out;
	if (!(r = calloc(t.nlists + 1, sizeof(*r))) || !(s = calloc(t.ex.len + 1, sizeof(double))) ||
	    !(sb = calloc(t.ex.len + 1, sizeof(double))) || !(y = calloc(t.ex.len + 1, sizeof(int)))) {
		error = pg_error_setc(PG_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t l = 0; l < t.nlists; l++) {
		pg_cls_metrics mt, mb;
		size_t n, pos = 0;

		t.exclude = (int)l + 1;
		for (size_t i = 0; i < t.ex.len; i++)
			if (t.ex.ptr[i].src == SRC_TEST && t.ex.ptr[i].list == t.exclude)
				pos += (size_t)t.ex.ptr[i].label;
		if (!pos)
			continue; /* nothing to rank */
		progress(&t, "leaving out %s (%zu of %zu lists)", t.lists[l], l + 1, t.nlists);
		pg_cls_model_free(m);
		m = NULL;
		if ((error = pg_cls__model_alloc(&m)) < 0 || (error = fit_all(&t, m)) < 0)
			goto out;
		n = score_test(&t, m, t.exclude, s, sb, y, NULL);
		if ((error = pg_cls_metrics_compute(&mt, s, y, n, m->head[0].threshold)) < 0 ||
		    (error = pg_cls_metrics_compute(&mb, sb, y, n, 0.5)) < 0)
			goto out;
		snprintf(r[nr].list, sizeof(r[nr].list), "%s", t.lists[l]);
		r[nr].n = n;
		r[nr].positives = mt.positives;
		r[nr].pr_auc = mt.pr_auc;
		r[nr].p_at_r90 = mt.p_at_r90;
		r[nr].p_at_r90_7 = p_at_r90_rate(s, y, n, 0.07);
		r[nr].recall_at_default = mt.recall;
		r[nr].precision_at_default = mt.precision;
		r[nr].base_pr_auc = mb.pr_auc;
		r[nr].base_p_at_r90 = mb.p_at_r90;
		r[nr].base_p_at_r90_7 = p_at_r90_rate(sb, y, n, 0.07);
		progress(&t, "  %s: n=%zu pos=%zu PR-AUC %.3f (baseline %.3f) P@R90 %.3f (baseline %.3f)", r[nr].list, n,
			 mt.positives, mt.pr_auc, mb.pr_auc, mt.p_at_r90, mb.p_at_r90);
		nr++;
	}
	/* the mean over lists (each list counts once, whatever its size) */
	mean = &r[nr];
	snprintf(mean->list, sizeof(mean->list), "mean");
	for (size_t i = 0; i < nr; i++) {
		mean->n += r[i].n;
		mean->positives += r[i].positives;
		mean->pr_auc += r[i].pr_auc / (double)nr;
		mean->p_at_r90 += r[i].p_at_r90 / (double)nr;
		mean->p_at_r90_7 += r[i].p_at_r90_7 / (double)nr;
		mean->recall_at_default += r[i].recall_at_default / (double)nr;
		mean->precision_at_default += r[i].precision_at_default / (double)nr;
		mean->base_pr_auc += r[i].base_pr_auc / (double)nr;
		mean->base_p_at_r90 += r[i].base_p_at_r90 / (double)nr;
		mean->base_p_at_r90_7 += r[i].base_p_at_r90_7 / (double)nr;
	}
	if (nr)
		nr++;
out:
	free(s);
	free(sb);
	free(y);
	pg_cls_model_free(m);
	trainer_release(&t);
	if (error < 0) {
		free(r);
	} else {
		*rows = r;
		*nrows = nr;
	}
	return error;
}
