/*
 * bench_classify.c - throughput of the security-fix classifier.
 *
 *   bench_classify [FILE.jsonl.gz] [ROUNDS] [--message-only]
 *
 * Loads subject, message, files and diff of every record of FILE (default
 * ../shared/data/lore-patches.jsonl.gz relative to the source root) and
 * measures, in thread CPU time, each of ROUNDS rounds (default 10):
 *   0. a baseline over the same bytes as (1): `wc -w` (count the words of
 *      subject, message and paths), so a figure can be compared across
 *      machines and loads: extraction time / wc -w time is the ratio printed;
 *   1. message + files: feature extraction and stage-1 + stage-2 scoring
 *      without the diff (what `classify` does on ingested commits);
 *   2. diff features alone (extraction with the diff and the diff head's
 *      stacked baseline logit, minus extraction without), against its own
 *      `wc -w` baseline over the diffs;
 *   3. the full pg_cls_classify() (features, score, bug class, priority and
 *      its reasons JSON) on message + files.
 * Prints the median and the best round of each.  The goal is >= 200,000
 * commits/s for (1) on one core.  Not run by the tests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include "patchgap/classify.h"
#include "classify/classify_int.h"
#include "util/jsonl.h"
#include "util/banned.h"

typedef struct {
	char *subject, *message, *diff;
	char **files;
	size_t nfiles, bytes;
} rec;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *dup(const char *s) { return s ? strdup(s) : NULL; }

/* `wc -w`: words are runs of non-blank bytes (the baseline: one branchy pass over the bytes) */
static size_t wc_w(const char *s)
{
	size_t w = 0;
	int in = 0;
	if (!s)
		return 0;
	for (; *s; s++) {
		int sp = *s == ' ' || *s == '\n' || *s == '\t' || *s == '\r' || *s == '\f' || *s == '\v';
		w += !sp && !in;
		in = !sp;
	}
	return w;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* median and best (smallest) of v[0..n), n >= 1; sorts v */
static void stats(double *v, int n, double *median, double *best)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	*best = v[0];
	*median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

enum { T_WC, T_MSG, T_WC_DIFF, T_DIFF, T_FULL, T__N };

int main(int argc, char **argv)
{
	const char *path = argc > 1 && *argv[1] ? argv[1] : PG_SOURCE_ROOT "/../shared/data/lore-patches.jsonl.gz";
	int rounds = argc > 2 ? atoi(argv[2]) : 10, rc, only_first = argc > 3 && !strcmp(argv[3], "--message-only");
	rec *v = NULL;
	size_t n = 0, alloc = 0, mbytes = 0, dbytes = 0, words = 0;
	pg_jsonl *r = NULL;
	json_t *o;
	pg_cls_model *m = NULL;
	pg_cls_features f;
	double *t[T__N], med[T__N], best[T__N], sink = 0;

	if (rounds < 1)
		rounds = 1;
	if (pg_cls_model_load_default(&m) < 0 || pg_jsonl_open(&r, path, 0) < 0) {
		fprintf(stderr, "bench_classify: %s\n", pg_error_last());
		return 1;
	}
	for (int k = 0; k < T__N; k++)
		if (!(t[k] = calloc((size_t)rounds, sizeof(double))))
			return 1;
	while ((rc = pg_jsonl_next(r, &o)) > 0) {
		json_t *fa = json_object_get(o, "files"), *e;
		size_t i;
		if (n == alloc) {
			alloc = alloc ? alloc * 2 : 1024;
			if (!(v = realloc(v, alloc * sizeof(*v))))
				return 1;
		}
		memset(&v[n], 0, sizeof(v[n]));
		v[n].subject = dup(json_string_value(json_object_get(o, "clean_subject")) ?
				   json_string_value(json_object_get(o, "clean_subject")) :
				   json_string_value(json_object_get(o, "subject")));
		v[n].message = dup(json_string_value(json_object_get(o, "message")));
		v[n].diff = dup(json_string_value(json_object_get(o, "diff")));
		v[n].files = calloc(json_array_size(fa) + 1, sizeof(char *));
		json_array_foreach(fa, i, e) v[n].files[v[n].nfiles++] = dup(json_string_value(e));
		mbytes += v[n].message ? strlen(v[n].message) : 0;
		dbytes += v[n].diff ? strlen(v[n].diff) : 0;
		n++;
		json_decref(o);
	}
	pg_jsonl_free(r);
	if (rc < 0 || !n) {
		fprintf(stderr, "bench_classify: %s\n", rc < 0 ? pg_error_last() : "no records");
		return 1;
	}
	pg_cls_features_init(&f);
	for (int round = 0; round < rounds; round++) {
		double t0 = now(), t1, t2, t3, t4, t5;
		words = 0;
		for (size_t i = 0; i < n; i++) {
			words += wc_w(v[i].subject) + wc_w(v[i].message);
			for (size_t k = 0; k < v[i].nfiles; k++)
				words += wc_w(v[i].files[k]);
		}
		t1 = now();
		for (size_t i = 0; i < n; i++) {
			pg_cls_input in = PG_CLS_INPUT_INIT;
			in.subject = v[i].subject;
			in.message = v[i].message;
			in.files = (const char *const *)v[i].files;
			in.nfiles = v[i].nfiles;
			pg_cls_features_extract(&f, &in, PG_CLS_FEAT_NO_DIFF);
			sink += pg_cls__z(m, pg_cls__z1(m, &f), &f, 0);
		}
		t2 = now();
		t[T_WC][round] = t1 - t0;
		t[T_MSG][round] = t2 - t1;
		if (only_first)
			continue;
		for (size_t i = 0; i < n; i++)
			words += wc_w(v[i].diff);
		t3 = now();
		for (size_t i = 0; i < n; i++) {
			pg_cls_input in = PG_CLS_INPUT_INIT;
			in.subject = v[i].subject;
			in.message = v[i].message;
			in.files = (const char *const *)v[i].files;
			in.nfiles = v[i].nfiles;
			in.diff = v[i].diff;
			pg_cls_features_extract(&f, &in, 0);
			pg_cls__stack_baseline(&f, m, &in, 1);
			sink += pg_cls__z(m, pg_cls__z1(m, &f), &f, 1);
		}
		t4 = now();
		for (size_t i = 0; i < n; i++) {
			pg_cls_input in = PG_CLS_INPUT_INIT;
			pg_cls_result res;
			in.subject = v[i].subject;
			in.message = v[i].message;
			in.files = (const char *const *)v[i].files;
			in.nfiles = v[i].nfiles;
			if (pg_cls_classify(&res, m, &in) == 0)
				sink += res.priority;
			pg_cls_result_release(&res);
		}
		t5 = now();
		t[T_WC_DIFF][round] = t3 - t2;
		t[T_DIFF][round] = (t4 - t3) - (t2 - t1); /* with the diff minus without */
		t[T_FULL][round] = t5 - t4;
	}
	for (int k = 0; k < T__N; k++)
		stats(t[k], rounds, &med[k], &best[k]);
	printf("%zu records (messages %.1f MB, diffs %.1f MB), %d rounds, one core, thread CPU time, median (best):\n", n,
	       mbytes / 1e6, dbytes / 1e6, rounds);
	/* wc -w reads the subjects and paths too; the rate is quoted over the messages, the bulk */
	printf("  message + files features and score: %8.0f commits/s (%.0f), %.2f us/commit; %.1f x the time of wc -w over the same bytes (wc -w: %.0f MB/s)\n",
	       n / med[T_MSG], n / best[T_MSG], 1e6 * med[T_MSG] / n, med[T_MSG] / med[T_WC],
	       (mbytes / 1e6) / med[T_WC]);
	if (!only_first) {
		printf("  diff features alone:                %8.0f diffs/s   (%.0f), %.1f MB/s; %.1f x the time of wc -w over the diffs\n",
		       n / med[T_DIFF], n / best[T_DIFF], dbytes / 1e6 / med[T_DIFF], med[T_DIFF] / med[T_WC_DIFF]);
		printf("  full classify (+class, priority):   %8.0f commits/s (%.0f)\n", n / med[T_FULL], n / best[T_FULL]);
	fflush(stdout);
	}
	fprintf(stderr, "(checksum %g, %zu words)\n", sink, words);
	pg_cls_features_release(&f);
	for (size_t i = 0; i < n; i++) {
		free(v[i].subject);
		free(v[i].message);
		free(v[i].diff);
		for (size_t k = 0; k < v[i].nfiles; k++)
			free(v[i].files[k]);
		free(v[i].files);
	}
	free(v);
	for (int k = 0; k < T__N; k++)
		free(t[k]);
	pg_cls_model_free(m);
	return 0;
}
