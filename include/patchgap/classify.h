/*
 * classify.h - identify security fixes (including silent ones), name their
 * bug class and rank them, with a small explainable model.
 *
 * The model is a two-stage logistic regression over hashed features:
 *   stage 1  text of the subject and message (trailers and backport
 *            annotations stripped, the same for every source), a bug-class
 *            lexicon, sanitizer/fuzzer evidence and touched paths;
 *   stage 2  z = a * z1 + b + sum(v_k * x_k) over trailer evidence (Fixes:,
 *            Cc: stable, Reported-by:, syzbot, Closes:) and diff features
 *            (added NULL/bounds checks, kfree/put/get, locking, nospec,
 *            copy_*_user, size arithmetic) and, for patch mails, the
 *            subject's [PATCH ...] tags (fix tree, -next tree, RFC, backport).
 *            Trailer weights are learnt only
 *            from sources that keep trailers and are constrained >= 0, so
 *            removing trailers from a message can only lower its score.
 * See doc/model.md (data, split, figures) and doc/internals/classify.md.
 *
 * Ownership: pg_cls_model_load()/pg_cls_train() give the caller a model to
 * free with pg_cls_model_free().  Results own their strings
 * (pg_cls_result_release).  The library never prints.
 */
#ifndef PATCHGAP_CLASSIFY_H
#define PATCHGAP_CLASSIFY_H

#include <stddef.h>
#include <stdint.h>
#include "patchgap/common.h"

#define PG_CLS_HASH_BITS 18
#define PG_CLS_DIM (1u << PG_CLS_HASH_BITS)

/* One commit or patch to classify.  Every pointer is borrowed. */
typedef struct pg_cls_input {
	const char *subject;        /* may be NULL */
	const char *message;        /* body without the subject line; may be NULL */
	size_t message_len;         /* 0 = strlen(message) */
	const char *diff;           /* unified diff or NULL */
	size_t diff_len;            /* 0 = strlen(diff) */
	const char *const *files;   /* touched paths */
	size_t nfiles;
	int config_built;           /* -1 unknown, 0 not built in the branch's .config, 1 built */
	int history_cves;           /* -1 unknown; else the CVEs published before this commit that
				       touched one of its files (the most of any one file) */
	/*
	 * Where the commit a Fixes: trailer names stood when this commit was made
	 * (only read when the message has a Fixes: trailer; of several targets,
	 * the most released one):
	 */
	int fixes_target_recent;    /* -1 unknown; 1 in no release yet (a fix of an unreleased
				       commit gets no CVE), 0 in a release */
	int fixes_target_stable_lines; /* -1 unknown; else how many stable lines carried it */
	int history_functions;      /* -1 unknown; else the CVEs published before this commit that
				       named one of its functions (the most of any one function) */
} pg_cls_input;

#define PG_CLS_INPUT_INIT { NULL, NULL, 0, NULL, 0, NULL, 0, -1, -1, -1, -1, -1 }

typedef enum {
	PG_CLS_NONE = 0,
	PG_CLS_UAF,
	PG_CLS_OOB_WRITE,
	PG_CLS_OOB_READ,
	PG_CLS_OOB,          /* out of bounds, direction unknown */
	PG_CLS_NULL_DEREF,
	PG_CLS_INT_OVERFLOW,
	PG_CLS_RACE,
	PG_CLS_LEAK,         /* memory/refcount leak */
	PG_CLS_UNINIT,       /* uninitialized memory / info leak */
	PG_CLS_DOS,          /* hang, deadlock, infinite loop, crash */
	PG_CLS_PERM,         /* missing permission / capability check */
	PG_CLS_OTHER,
	PG_CLS__COUNT
} pg_cls_bug_class;

/* "uaf", "oob-write", ... ; "none" for PG_CLS_NONE. */
const char *pg_cls_bug_class_name(pg_cls_bug_class c);
/*
 * The classifier's bug class of a text alone (subject and message, no
 * model): the lexicon and tie-breaks pg_cls_classify uses.  *out is
 * PG_CLS_NONE when nothing matches.  Other modules name bug classes with
 * this vocabulary only.
 */
int pg_cls_bug_class_of(pg_cls_bug_class *out, const pg_cls_input *in);

typedef enum { PG_CLS_LOW, PG_CLS_MEDIUM, PG_CLS_HIGH, PG_CLS_URGENT } pg_cls_level;
const char *pg_cls_level_name(pg_cls_level l);

typedef struct pg_cls_model pg_cls_model;

/* Load a model file (text format of doc/internals/classify.md). */
int pg_cls_model_load(pg_cls_model **out, const char *path);
/*
 * Load the committed model: the source tree's data/model/classify.model
 * (compiled in, so the build tree works), else the installed copy.
 */
int pg_cls_model_load_default(pg_cls_model **out);
/* path ? pg_cls_model_load(path) : pg_cls_model_load_default(). */
int pg_cls_model_open(pg_cls_model **out, const char *path);
/* The path pg_cls_model_load_default() would use first (source tree). */
const char *pg_cls_model_default_path(void);
/* Parse a model from memory; name is used in error messages. */
int pg_cls_model_parse(pg_cls_model **out, const char *text, size_t len, const char *name);
/* Serialize (deterministic: the same model gives the same bytes). */
int pg_cls_model_save(const pg_cls_model *m, const char *path);
void pg_cls_model_free(pg_cls_model *m);
/* "classify-<checksum prefix>", stable for a given model file. Borrowed. */
const char *pg_cls_model_version(const pg_cls_model *m);
/* Threshold of the default operating point (head with diff). */
double pg_cls_model_threshold(const pg_cls_model *m);

/*
 * An operating point: the threshold on calibrated P(security) that reached
 * `recall` with 95 % confidence (one-sided Wilson lower bound) on the model's
 * calibration split (a held-out time split), and the precision measured there (0 when the model file has no operating points).
 */
typedef struct pg_cls_operating_point {
	double recall, threshold, precision;
} pg_cls_operating_point;

#define PG_CLS_DEFAULT_RECALL 0.90

/*
 * The operating point for a target recall (0 < recall <= 1): the recorded
 * point with the smallest recall >= the target (the highest one when none
 * reaches it).  has_diff selects the head.  PG_EINVALID for a bad recall.
 * Models without operating points (format 1) give the head's threshold.
 */
int pg_cls_model_operating_point(pg_cls_operating_point *out, const pg_cls_model *m, int has_diff,
				 double recall);

/* 1 if the model file carries the bag-of-words baseline. */
int pg_cls_model_has_baseline(const pg_cls_model *m);
/* The baseline's P(security) of an input (uncalibrated); PG_ENOTFOUND without one. */
int pg_cls_baseline_score(double *out, const pg_cls_model *m, const pg_cls_input *in);

/* Result of classifying one input. */
typedef struct pg_cls_result {
	double p_security;       /* calibrated probability */
	double z1, z;            /* stage-1 and final logits */
	int label;               /* p_security >= the model's threshold */
	pg_cls_bug_class bug_class;
	double priority;         /* 0..100 */
	pg_cls_level level;
	char *reasons_json;      /* owned: JSON array of {"factor","points","why"} */
} pg_cls_result;

int pg_cls_classify(pg_cls_result *out, const pg_cls_model *m, const pg_cls_input *in);
void pg_cls_result_release(pg_cls_result *r);

/* One feature of an explanation. */
typedef struct pg_cls_contrib {
	char *name;       /* owned: "subject:use-after-free", "trailer:fixes", ... */
	int stage;        /* 1 or 2 */
	double value;     /* feature value */
	double weight;    /* model weight (stage 2: already multiplied by a for stage-1 terms) */
	double contrib;   /* contribution to the final logit */
} pg_cls_contrib;

typedef struct pg_cls_explain {
	pg_cls_contrib *v;   /* owned, sorted by |contrib| descending */
	size_t n;
	double bias;         /* contribution of the intercepts */
	pg_cls_result result;
} pg_cls_explain;

int pg_cls_explain_input(pg_cls_explain *out, const pg_cls_model *m, const pg_cls_input *in);
void pg_cls_explain_release(pg_cls_explain *e);

/*
 * Feature extraction (exposed for tests, the benchmark and the trainer).
 * The feature vector holds distinct stage-1 hashed indices (value 1 each)
 * and a dense stage-2 vector of PG_CLS_NDENSE values.
 */
#define PG_CLS_NDENSE 52
typedef struct pg_cls_features {
	uint32_t *idx;        /* owned: distinct stage-1 indices, < PG_CLS_DIM */
	size_t n, alloc;
	float dense[PG_CLS_NDENSE];
	unsigned lexicon[PG_CLS__COUNT]; /* bug-class lexicon hits (subject counts x3) */
	int has_trailers;     /* any trailer line seen */
	int syzbot, reproducer, sanitizer;
	uint64_t *seen;       /* owned: PG_CLS_DIM-bit set used to keep idx distinct */
} pg_cls_features;

enum pg_cls_feat_flags {
	PG_CLS_FEAT_NO_DIFF = 1 << 0,   /* skip the diff (message + files only) */
};
void pg_cls_features_init(pg_cls_features *f);
void pg_cls_features_release(pg_cls_features *f);
int pg_cls_features_extract(pg_cls_features *f, const pg_cls_input *in, unsigned flags);
/* Name of dense feature k ("trailer:fixes", "diff:add_null_check", ...). */
const char *pg_cls_dense_name(size_t k);
/* 1 if dense feature k is trailer evidence (learnt from trailer-keeping sources, >= 0). */
int pg_cls_dense_is_trailer(size_t k);

/*
 * Remove trailers, backport annotations, quoted patch separators and the
 * "---" tail from a message: the normalized text every source is scored on.
 * out receives the text (caller frees).
 */
int pg_cls_normalize_message(char **out, const char *msg, size_t len);

/*
 * The body of a raw commit message (git_commit_message_raw, as ingest stores
 * it in commits.message): what follows the first paragraph (the subject),
 * leading blank lines skipped.  Returns a pointer into raw; "" when none.
 */
const char *pg_cls_message_body(const char *raw);

/* ---- history evidence from the database ---- */
typedef struct pg_cls_history pg_cls_history;
struct pg_store;
/*
 * Prepare the file-history query on an open store (borrowed; must outlive
 * the handle).  *out is NULL, and counts are -1 (unknown), when the database
 * has no imported CNA records.
 */
int pg_cls_history_open(pg_cls_history **out, struct pg_store *s);
/*
 * The most CVEs published before `when` (UNIX time) that touched one of the
 * paths, a CVE naming `sha` as its fix not counted: pg_cls_input.history_cves.
 */
int pg_cls_history_count(int *out, pg_cls_history *h, const char *sha, int64_t when, const char *const *paths,
			 size_t npaths);
/*
 * The most CVEs published before `when` whose description names one of the
 * functions the commit names (its diff's hunk headings, diff may be NULL,
 * diff_len 0 = strlen, and "name(" mentions in message), a CVE naming `sha`
 * as its fix not counted: pg_cls_input.history_functions.  -1 when h is NULL.
 */
int pg_cls_history_functions(int *out, pg_cls_history *h, const char *sha, int64_t when, const char *message,
			     const char *diff, size_t diff_len);
/*
 * Where the targets of the Fixes: trailers of ingested commit `sha` stood
 * at `when` (its committer time), from the resolved relations, the targets'
 * mainline release and the stable branches carrying them (a release counts
 * only when its tag is older than `when`): pg_cls_input.fixes_target_recent
 * (1 when no resolved target was in a release, 0 when one was) and
 * .fixes_target_stable_lines (the most stable branches carrying one target).
 * Both -1 when no target is resolved or h is NULL.
 */
int pg_cls_history_fixes(int *recent, int *stable_lines, pg_cls_history *h, const char *sha, int64_t when);
void pg_cls_history_free(pg_cls_history *h);

/* ---- training ---- */
typedef struct pg_cls_train_opts {
	const char *data_dir;     /* ../shared/data */
	uint64_t seed;            /* default 1 */
	const char *cutoff;       /* ISO date: train on data before it (default 2025-01-01) */
	int epochs;               /* default 6 */
	unsigned sample;          /* keep 1 in `sample` records (by subject hash); 0/1 = all */
	const char *calib_from;   /* ISO date: lore from here to the cutoff is the calibration split
				     (default: cutoff minus 183 days) */
	const char *lore_from;    /* ISO date: lore mails before it are not training data (default: the
				     first of the month three months before the calibration start) */
	void (*progress)(const char *msg, void *payload);
	void *payload;
} pg_cls_train_opts;

int pg_cls_train(pg_cls_model **out, const pg_cls_train_opts *opts);

/* One row of the leave-one-list-out evaluation. */
typedef struct pg_cls_lolo_row {
	char list[48];               /* mailing list left out, "all" for the mean row */
	size_t n, positives;         /* its held-out records (on/after the cutoff) */
	double pr_auc, p_at_r90;     /* the model trained without the list */
	double p_at_r90_7;           /* precision at recall 0.90 re-weighted to a 7 % base rate */
	double recall_at_default, precision_at_default;  /* at the default operating point */
	double base_pr_auc, base_p_at_r90, base_p_at_r90_7; /* the bag-of-words baseline */
} pg_cls_lolo_row;

/*
 * Leave-one-list-out: for every lore list L with held-out records, train
 * (both models, calibration) without any record of L, and score L's records
 * dated on or after the cutoff.  rows: caller frees; the last is the mean.
 */
int pg_cls_train_lolo(pg_cls_lolo_row **rows, size_t *nrows, const pg_cls_train_opts *opts);

/* ---- evaluation ---- */
typedef struct pg_cls_metrics {
	size_t n, positives;
	size_t tp, fp, tn, fn;       /* at the threshold */
	double threshold;
	double precision, recall, f1;
	double pr_auc;               /* average precision */
	double p_at_r90, p_at_r95;   /* best precision with recall >= 0.90 / 0.95 */
	double t_at_r90, t_at_r95;   /* the thresholds achieving them */
} pg_cls_metrics;

/* scores[i] in [0,1], labels[i] 0/1.  Ties are handled as one cut. */
int pg_cls_metrics_compute(pg_cls_metrics *out, const double *scores, const int *labels,
			   size_t n, double threshold);

/* ---- patch / mbox / JSON Lines input ---- */
typedef struct pg_cls_doc {
	char *id;          /* Message-ID, commit id from "From <sha>", or "line N" / "mail N" */
	char *subject;     /* [PATCH ...] prefixes removed */
	char *message;
	char *diff;        /* NULL when none */
	char **files;
	size_t nfiles;
	int label;         /* -1 unless given (JSON Lines "label") */
	int history_cves;  /* -1 unless given (JSON Lines "history_cves") */
	int fixes_target_recent;       /* -1 unless given (JSON Lines "fixes_target_recent") */
	int fixes_target_stable_lines; /* -1 unless given (JSON Lines "fixes_target_stable_lines") */
	int history_functions;         /* -1 unless given (JSON Lines "history_functions") */
} pg_cls_doc;

typedef struct pg_cls_docs {
	pg_cls_doc *v;
	size_t n, alloc;
} pg_cls_docs;

#define PG_CLS_DOCS_INIT { NULL, 0, 0 }

/*
 * Parse a patch file, a git format-patch/mbox stream (several mails), or a
 * bare commit message.  Never fails on content (a mail without a diff is a
 * message-only doc); fails on allocation or input over 256 MiB.
 */
int pg_cls_parse_mbox(pg_cls_docs *out, const char *text, size_t len);
/*
 * Parse JSON Lines: objects with "subject", "message", optional "diff",
 * "files" (array of strings), "label" (0/1), "id".  A malformed line fails
 * with PG_EINVALID naming the line (name: input name for messages).
 */
int pg_cls_parse_jsonl(pg_cls_docs *out, const char *text, size_t len, const char *name);
void pg_cls_docs_release(pg_cls_docs *d);
/*
 * Read path ("-" = stdin): JSON Lines when the first non-blank byte is '{'
 * (or format "jsonl"), else a patch / mbox / message (format "mbox").
 * format may be NULL (auto).  Input over 256 MiB fails with PG_EINVALID.
 */
int pg_cls_read_input(pg_cls_docs *out, const char *path, const char *format);
/* Borrowed view of a doc as classifier input. */
void pg_cls_doc_input(pg_cls_input *in, const pg_cls_doc *d);

/* ---- the classifier against the database (store.c) --------------------- */
#include <jansson.h>

/*
 * An explanation as JSON: {id, subject, model, p_security, label, logit,
 * stage1_logit, intercept, bug_class, priority, level, features_total,
 * features: [{feature, stage, weight, contribution}] (the `top` largest; 0 =
 * all), reasons, head ("diff" when has_diff, else "nodiff"), threshold (that
 * head's, at the default recall)}.  NULL on allocation failure.
 */
json_t *pg_cls_explain_json(const pg_cls_explain *e, const pg_cls_model *m, const char *id, const char *subject,
			    size_t top, int has_diff);
/*
 * Ingested commits are scored with their diff when the repository is at
 * hand (the diff head, its threshold and diff features), else with message
 * and paths (the no-diff head).  The diff is pg_ingest_diff_commit's, cut
 * at PG_CLS_DIFF_MAX bytes: the diff features read every line they are
 * given and have no limit of their own; a kernel fix is a few KiB, and
 * past 1 MiB the size features (over 200 changed lines) have long
 * saturated while the cost keeps growing.  A merge, a commit that changes
 * no file and a commit the repository does not have (a database ingested
 * from another clone) get the no-diff head.
 */
#define PG_CLS_DIFF_MAX ((size_t)1 << 20)
struct git_repository;

/*
 * Explain an ingested commit (id: 4 to 40 hex digits) with the same file
 * history and diff `classify` scores with (repo may be NULL: no diff).
 * *sha and *subject are owned by the caller; release *out.  *has_diff (may
 * be NULL) says whether the diff head scored it.  PG_ENOTFOUND /
 * PG_EAMBIGUOUS from the commit lookup.
 */
int pg_cls_explain_commit(pg_cls_explain *out, char **sha, char **subject, int *has_diff, struct pg_store *s,
			  struct git_repository *repo, const pg_cls_model *m, const char *id);

/* flag[i] = 1 for the `budget` highest p[i] of each day[i] (day NULL: one day), ties to the earlier. */
void pg_cls_flag_budget(unsigned char *flag, const double *p, const int64_t *day, size_t n, size_t budget);

typedef struct pg_cls_store_opts {
	int all;          /* rescore every commit, not only those this model has not scored */
	int built;        /* -1 unknown, 0/1: the touched code is (not) compiled in */
	double threshold; /* flag at p_security >= threshold: the no-diff head's operating point */
	size_t budget;    /* > 0: flag the `budget` highest of each committer day instead */
	/* each stored verdict, in commit order (label not yet set by a budget); non-zero stops */
	int (*cb)(const char *sha, const char *subject, const pg_cls_result *r, int has_diff, void *payload);
	void *payload;
	struct git_repository *repo; /* borrowed, may be NULL: score commits with their diff */
	double threshold_diff;       /* the diff head's operating point (commits scored with a diff) */
} pg_cls_store_opts;

typedef struct pg_cls_store_stats {
	size_t scored, flagged;
	size_t with_diff;   /* scored by the diff head */
	size_t not_in_repo; /* a repository was given but has not got the commit: no-diff head */
	size_t cut;         /* diffs cut at PG_CLS_DIFF_MAX */
} pg_cls_store_stats;

/* Score the ingested commits into the classifications table, in one transaction. */
int pg_cls_store_classify(pg_cls_store_stats *out, struct pg_store *s, const pg_cls_model *m,
			  const pg_cls_store_opts *o);
/*
 * Append to ids the flagged mainline fixes that no CVE names, in commit
 * order, whose commit date is in [since, until] (0 = open).  No classifier
 * table: nothing appended.
 */
int pg_cls_store_flagged_silent(json_t *ids, struct pg_store *s, int64_t since, int64_t until);

#endif
