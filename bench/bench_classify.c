/*
 * bench_classify.c - throughput of the security-fix classifier.
 *
 *   bench_classify [FILE.jsonl.gz] [ROUNDS] [--message-only]
 *
 * Loads subject, message, files and diff of every record of FILE (default
 * ../shared/data/lore-patches.jsonl.gz relative to the source root) and
 * measures, in thread CPU time, best round of ROUNDS (default 10):
 *   1. message + files: feature extraction and stage-1 + stage-2 scoring
 *      without the diff (what `classify` does on ingested commits);
 *   2. diff features alone (extraction with the diff minus extraction without);
 *   3. the full pg_cls_classify() (features, score, bug class, priority and
 *      its reasons JSON) on message + files.
 * The goal is >= 200,000 commits/s for (1) on one core.  Not run by the tests.
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

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : PG_SOURCE_ROOT "/../shared/data/lore-patches.jsonl.gz";
	int rounds = argc > 2 ? atoi(argv[2]) : 10, rc, only_first = argc > 3 && !strcmp(argv[3], "--message-only");
	rec *v = NULL;
	size_t n = 0, alloc = 0, mbytes = 0, dbytes = 0;
	pg_jsonl *r = NULL;
	json_t *o;
	pg_cls_model *m = NULL;
	pg_cls_features f;
	double best[3] = { 1e30, 1e30, 1e30 }, sink = 0;

	if (rounds < 1)
		rounds = 1;
	if (pg_cls_model_load_default(&m) < 0 || pg_jsonl_open(&r, path, 0) < 0) {
		fprintf(stderr, "bench_classify: %s\n", pg_error_last());
		return 1;
	}
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
	pg_cls_features_init(&f);
	for (int round = 0; round < rounds; round++) {
		double t0 = now(), t1, t2, t3;
		for (size_t i = 0; i < n; i++) {
			pg_cls_input in = PG_CLS_INPUT_INIT;
			in.subject = v[i].subject;
			in.message = v[i].message;
			in.files = (const char *const *)v[i].files;
			in.nfiles = v[i].nfiles;
			pg_cls_features_extract(&f, &in, PG_CLS_FEAT_NO_DIFF);
			sink += pg_cls__z(m, pg_cls__z1(m, &f), &f, 0);
		}
		t1 = now();
		if (only_first) {
			if (t1 - t0 < best[0])
				best[0] = t1 - t0;
			continue;
		}
		for (size_t i = 0; i < n; i++) {
			pg_cls_input in = PG_CLS_INPUT_INIT;
			in.subject = v[i].subject;
			in.message = v[i].message;
			in.files = (const char *const *)v[i].files;
			in.nfiles = v[i].nfiles;
			in.diff = v[i].diff;
			pg_cls_features_extract(&f, &in, 0);
			sink += pg_cls__z(m, pg_cls__z1(m, &f), &f, 1);
		}
		t2 = now();
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
		t3 = now();
		if (t1 - t0 < best[0])
			best[0] = t1 - t0;
		if ((t2 - t1) - (t1 - t0) < best[1])
			best[1] = (t2 - t1) - (t1 - t0);
		if (t3 - t2 < best[2])
			best[2] = t3 - t2;
	}
	printf("%zu records (messages %.1f MB, diffs %.1f MB), best of %d rounds, one core:\n", n, mbytes / 1e6,
	       dbytes / 1e6, rounds);
	printf("  message + files features and score: %8.0f commits/s (%.2f us/commit)\n", n / best[0], 1e6 * best[0] / n);
	if (!only_first) {
		printf("  diff features alone:                %8.0f diffs/s   (%.1f MB/s)\n", n / best[1], dbytes / 1e6 / best[1]);
		printf("  full classify (+class, priority):   %8.0f commits/s\n", n / best[2]);
	}
	fprintf(stderr, "(checksum %g)\n", sink);
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
	pg_cls_model_free(m);
	return 0;
}
