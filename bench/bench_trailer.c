/*
 * bench_trailer.c - throughput of pg_trailers_parse() on real messages.
 *
 *   bench_trailer [FILE.jsonl.gz] [ROUNDS]
 *
 * Loads every `message` of FILE (default ../shared/data/lore-patches.jsonl.gz
 * relative to the source root) into memory, parses all of them ROUNDS times
 * (default 20), and prints messages/s and MB/s of the best round and of all
 * rounds, in thread CPU time (the best round is the least disturbed by other
 * load on the machine).  Each message's trailers are released before the
 * next, as ingest does.  Not run by the tests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include "patchgap/trailer.h"
#include "util/jsonl.h"
#include "util/banned.h"

typedef struct {
	char *s;
	size_t len;
} msg;

/* CPU time of this thread: on a loaded machine wall time mostly measures the others. */
static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : PG_SOURCE_ROOT "/../shared/data/lore-patches.jsonl.gz";
	int rounds = argc > 2 ? atoi(argv[2]) : 20;
	msg *m = NULL;
	size_t n = 0, alloc = 0, bytes = 0, trailers = 0;
	pg_jsonl *r = NULL;
	json_t *rec;
	pg_trailers t = PG_TRAILERS_INIT;
	double best = 1e30, total = 0;
	int rc, status = 1;

	if (rounds < 1)
		rounds = 1;
	if (pg_jsonl_open(&r, path, 0) < 0) {
		fprintf(stderr, "bench_trailer: %s\n", pg_error_last());
		return 1;
	}
	while ((rc = pg_jsonl_next(r, &rec)) > 0) {
		const char *s = json_string_value(json_object_get(rec, "message"));
		if (s) {
			if (n == alloc) {
				alloc = alloc ? 2 * alloc : 1024;
				m = realloc(m, alloc * sizeof(*m));
				if (!m)
					goto out;
			}
			m[n].len = strlen(s);
			m[n].s = malloc(m[n].len ? m[n].len : 1);
			if (!m[n].s)
				goto out;
			memcpy(m[n].s, s, m[n].len);
			bytes += m[n].len;
			n++;
		}
		json_decref(rec);
	}
	if (rc < 0) {
		fprintf(stderr, "bench_trailer: %s\n", pg_error_last());
		goto out;
	}
	for (int round = 0; round < rounds; round++) {
		double t0 = now(), dt;
		for (size_t i = 0; i < n; i++) {
			if (pg_trailers_parse(&t, m[i].s, m[i].len) < 0) {
				fprintf(stderr, "bench_trailer: message %zu: %s\n", i, pg_error_last());
				goto out;
			}
			if (round == 0)
				trailers += t.n;
			pg_trailers_release(&t);
		}
		dt = now() - t0;
		total += dt;
		if (dt < best)
			best = dt;
	}
	printf("%zu messages (%.1f MB, %zu trailers) x %d rounds\n", n, bytes / 1e6, trailers, rounds);
	printf("best round: %.0f messages/s, %.1f MB/s (%.3f us/message)\n", n / best, bytes / best / 1e6,
	       best / (double)n * 1e6);
	printf("all rounds: %.0f messages/s\n", (double)n * rounds / total);
	status = 0;
out:
	for (size_t i = 0; i < n; i++)
		free(m[i].s);
	free(m);
	pg_jsonl_free(r);
	return status;
}
