/*
 * classify_int.h - internals shared by the files of src/classify/.
 *
 * Invariants: a model always has PG_CLS_DIM stage-1 weights (zeros where the
 * file stores none) and two stage-2 heads, [0] used when a diff is present,
 * [1] when it is not.  Feature indices are < PG_CLS_DIM.
 */
#ifndef PG_CLASSIFY_INT_H
#define PG_CLASSIFY_INT_H

#include <stdint.h>
#include <stdio.h>
#include <jansson.h>
#include "patchgap/classify.h"
#include "util/buf.h"

#define PG_CLS_MODEL_MAGIC "patchgap-classify-model"
#define PG_CLS_MODEL_FORMAT 2      /* 2 adds calibration, operating points, baseline; 1 still loads */
#define PG_CLS_QUANT 0.001
/* dense features [0, PG_CLS_DENSE_TRAILERS) are trailer evidence, the rest diff evidence */
#define PG_CLS_DENSE_TRAILERS 8
/*
 * Dense feature of the diff head: the bag-of-words baseline's logit times
 * PG_CLS_BASELINE_SCALE (stacking; out-of-fold in training).  The scorer sets
 * it (pg_cls__stack_baseline), since it needs the model's baseline weights.
 */
#define PG_CLS_DENSE_BASELINE 50
#define PG_CLS_BASELINE_SCALE 0.25

#define PG_CLS_CALIB_MAX 256
#define PG_CLS_OPS_MAX 128

typedef struct pg_cls_head {
	double a, an, b;             /* z = (a + an [z1 < 0]) z1 + b + sum v_k x_k */
	double v[PG_CLS_NDENSE];
	double threshold;            /* on p_security (calibrated): the default operating point */
	/*
	 * Isotonic calibration: raw sigmoid(z) -> P(security), linear between the
	 * points (x ascending, y strictly ascending; (0,0) and (1,1) implied at
	 * the ends).  ncal == 0: identity (format 1 models).
	 */
	size_t ncal;
	double cal_x[PG_CLS_CALIB_MAX], cal_y[PG_CLS_CALIB_MAX];
	/* operating points on the calibration split, recall ascending */
	size_t nops;
	pg_cls_operating_point ops[PG_CLS_OPS_MAX];
} pg_cls_head;

struct pg_cls_model {
	float *w;                    /* PG_CLS_DIM stage-1 weights */
	double b1;
	pg_cls_head head[2];         /* [0] diff present, [1] no diff */
	char version[32];
	char *meta;                  /* owned: "key value\n" lines kept verbatim (cutoff, seed, data) */
	float *bw;                   /* owned: PG_CLS_DIM baseline weights, NULL when the file has none */
	double bb;                   /* baseline intercept */
	uint64_t checksum;
};

/* Called for every stage-1 feature emitted (before de-duplication). */
typedef void (*pg_cls__name_cb)(uint32_t idx, const char *ns, const char *text, size_t len, void *payload);

int pg_cls__extract(pg_cls_features *f, const pg_cls_input *in, unsigned flags,
		    pg_cls__name_cb cb, void *payload);
/* Stage-1 logit of extracted features. */
double pg_cls__z1(const pg_cls_model *m, const pg_cls_features *f);
/* Slope applied to the stage-1 logit (piecewise: steeper or flatter below 0). */
double pg_cls__slope(const pg_cls_head *h, double z1);
/* Final logit; has_diff selects the head. */
double pg_cls__z(const pg_cls_model *m, double z1, const pg_cls_features *f, int has_diff);
/* Set f's baseline feature for the diff head (0 when the head does not use it). */
int pg_cls__stack_baseline(pg_cls_features *f, const pg_cls_model *m, const pg_cls_input *in, int has_diff);
double pg_cls__sigmoid(double z);
/* 1 if dense feature k is a subsystem prior (from the paths; used by both heads). */
int pg_cls__dense_is_subsys(size_t k);
/* Bug class from the lexicon hits (and diff features), PG_CLS_NONE if no hint. */
pg_cls_bug_class pg_cls__bug_class(const pg_cls_features *f);
/* Priority and reasons (fills r->priority, level, reasons_json). */
int pg_cls__priority(pg_cls_result *r, const pg_cls_features *f, const pg_cls_input *in);

/* Calibrated probability of a raw sigmoid(z) under head h. */
double pg_cls__calibrate(const pg_cls_head *h, double raw);

/*
 * Baseline: plain hashed bag of words (subject and normalized message words,
 * each distinct index once), logistic regression.  Indices < PG_CLS_DIM.
 */
int pg_cls__bow_extract(pg_cls_features *f, const pg_cls_input *in);

uint64_t pg_cls__fnv64(const void *p, size_t n, uint64_t h);

/* Most function names read from one input (the rest are ignored). */
#define PG_CLS_FUNCS_MAX 64
/*
 * Hashes (pg_cls__fnv64 of the name) of the distinct functions an input
 * names: its diff's hunk headings, then "name(" mentions in message; at most
 * max, returns how many.  A length of 0 means strlen; either text may be NULL.
 */
size_t pg_cls__functions(uint64_t *out, size_t max, const char *message, size_t mlen, const char *diff, size_t dlen);
/*
 * A function named by more than 1/PG_CLS_FUNC_COMMON_SHARE of the CVE records
 * is a general helper or an English word before a parenthesis, not evidence
 * about the code: the function history drops it.  Only past
 * PG_CLS_FUNC_COMMON_MIN records, so that a database with a few records
 * (where 1 % is under one) keeps its names.
 */
#define PG_CLS_FUNC_COMMON_SHARE 100
#define PG_CLS_FUNC_COMMON_MIN 10
/*
 * One (key, CVE) pair of a history: key is a function name's or a file
 * path's hash, t when the CVE was published, who the CVE (its subject's hash
 * in training, its id's in the database).
 */
typedef struct pg_cls_hist_pair { uint64_t key; int64_t t; uint64_t who; } pg_cls_hist_pair;
/*
 * Sort v[0..n) by (fn, t) and drop the functions more than
 * 1/PG_CLS_FUNC_COMMON_SHARE of the `records` (and PG_CLS_FUNC_COMMON_MIN)
 * name (a record names a function once); returns the new length.
 */
size_t pg_cls__fn_history_finish(pg_cls_hist_pair *v, size_t n, size_t records);
/*
 * Over v[0..n) sorted by (key, t): the most pairs with t < ts of any one of
 * keys[0..nkeys), pairs whose who is one of own[0..nown) not counted (capped
 * at 1000000).  The function history and the trainer's file history.
 */
int pg_cls__hist_count(const pg_cls_hist_pair *v, size_t n, const uint64_t *keys, size_t nkeys, int64_t ts,
		       const uint64_t *own, size_t nown);
int pg_cls__model_alloc(pg_cls_model **out);
/* Serialize into b (deterministic). */
int pg_cls__model_write(pg_buf *b, const pg_cls_model *m);

/* Normalized subject: lowercase, whitespace folded, [PATCH ...] removed; caller frees. */
char *pg_cls__subject_key(const char *subject);
/* Strip "[PATCH ...]"-style prefixes and Android "UPSTREAM:" tags; returns a pointer into s. */
const char *pg_cls__skip_subject_prefixes(const char *s);

#endif
