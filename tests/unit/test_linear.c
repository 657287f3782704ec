/*
 * test_linear.c - every parser entry point is linear in its input.
 *
 * Each public entry point that reads untrusted text (classify, trailer
 * parsing, diff parsing for patch ids and live-patch verdicts, CNA record
 * parsing, .config and Kbuild makefile reading, mbox splitting) is fed
 * pathological inputs of a few megabytes: no newline at all, one byte per
 * line, millions of trailer-shaped lines, continuation lines, one huge hunk.
 * Its CPU time is compared with reading the same bytes once (a loop over
 * every byte, built with the same flags, so the sanitizer build is compared
 * with itself).  A quadratic walk over these inputs costs thousands of times
 * that pass, a linear one tens; the bound is RATIO_MAX.  Each case also runs
 * at four times the size: the cost may grow at most SCALE_MAX times.
 *
 * The peak memory of a case is bounded too (MEM_FIXED + MEM_PER_BYTE times
 * the input, outside the sanitizer build): a parser that keeps 80 bytes per
 * line turns 16 MiB of newlines into more than a gigabyte.
 *
 * Every case runs in a child process under a CPU-time limit, so a
 * regression to quadratic time fails within seconds instead of hanging the
 * test run (the time of this test is bounded by construction).
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include "harness.h"
#include "patchgap/trailer.h"
#include "patchgap/classify.h"
#include "patchgap/backport.h"
#include "patchgap/kconfig.h"
#include "cve/cve_int.h"
#include "kconfig/make_int.h"

#define RATIO_MAX 400.0 /* parser CPU / one reading pass, same bytes */
#define SCALE_MAX 9.0   /* cost(4n) / cost(n); linear is 4, quadratic 16 */
#define CHILD_CPU_LIMIT 60 /* seconds per case, whatever the build */
/* peak memory of a case: a fixed allowance plus this many times the input */
#define MEM_FIXED ((size_t)96 << 20)
#define MEM_PER_BYTE 24

static size_t base_size;
static pg_cls_model *M;

static double cpu_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Reading the bytes once: what any parser must at least do. */
static volatile uint64_t sink;
static double reading_pass(const char *buf, size_t len)
{
	double best = 1e9;
	for (int rep = 0; rep < 3; rep++) {
		double t0 = cpu_seconds();
		uint64_t h = 0;
		for (size_t i = 0; i < len; i++)
			h = h * 31 + (unsigned char)buf[i] + (buf[i] == '\n');
		sink = h;
		double t = cpu_seconds() - t0;
		if (t < best)
			best = t;
	}
	return best > 1e-4 ? best : 1e-4;
}

/* ---- inputs: a shape repeated up to n bytes (NUL-terminated) ---- */

static char *make(const char *unit, size_t n, const char *prefix)
{
	size_t ul = strlen(unit), pl = prefix ? strlen(prefix) : 0, i = 0;
	char *b = malloc(n + pl + 1);
	if (!b)
		return NULL;
	memcpy(b, prefix ? prefix : "", pl);
	i = pl;
	while (i + ul <= n + pl) {
		memcpy(b + i, unit, ul);
		i += ul;
	}
	b[i] = '\0';
	return b;
}

/* ---- entry points: each parses buf[0, len) and returns < 0 on failure ---- */

typedef int (*parse_fn)(const char *buf, size_t len);

static int p_classify(const char *buf, size_t len)
{
	pg_cls_input in = PG_CLS_INPUT_INIT;
	pg_cls_result r;
	int error;
	in.subject = "net: fix a use-after-free";
	in.message = buf;
	in.message_len = len;
	if ((error = pg_cls_classify(&r, M, &in)) < 0)
		return error;
	pg_cls_result_release(&r);
	return 0;
}

static int p_trailers(const char *buf, size_t len)
{
	pg_trailers t = PG_TRAILERS_INIT;
	int error = pg_trailers_parse(&t, buf, len);
	if (error >= 0)
		pg_trailers_release(&t);
	return error;
}

static int p_subject(const char *buf, size_t len)
{
	char *s = NULL;
	int error = pg_message_subject(&s, buf, len);
	free(s);
	return error;
}

static int p_livepatch(const char *buf, size_t len)
{
	pg_livepatch_verdict *v = NULL;
	int error = pg_livepatch_assess(&v, buf, len);
	pg_livepatch_free(v);
	return error;
}

static int p_patchid(const char *buf, size_t len)
{
	git_oid id;
	size_t next = 0;
	/* every patch of a series, as `git patch-id` reads an mbox */
	while (next < len) {
		size_t at = next, used = 0;
		int error = pg_patchid_text(&id, buf + at, len - at, &used);
		if (error < 0 && error != PG_ENOTFOUND)
			return error;
		if (error == PG_ENOTFOUND || used == 0)
			break;
		next = at + used;
	}
	return 0;
}

static int p_cve_sha1(const char *buf, size_t len)
{
	pg_cve__rec r;
	int error;
	(void)len;
	if ((error = pg_cve__rec_init(&r, "CVE-2024-0001")) < 0)
		return error;
	pg_cve__parse_sha1(&r, buf); /* an error is a valid outcome; time is what counts */
	pg_cve__rec_release(&r);
	return 0;
}

static int p_cve_dyad(const char *buf, size_t len)
{
	pg_cve__rec r;
	int error;
	(void)len;
	if ((error = pg_cve__rec_init(&r, "CVE-2024-0001")) < 0)
		return error;
	pg_cve__parse_dyad(&r, buf);
	pg_cve__rec_release(&r);
	return 0;
}

static int p_cve_json(const char *buf, size_t len)
{
	pg_cve__rec r;
	int error;
	if ((error = pg_cve__rec_init(&r, "CVE-2024-0001")) < 0)
		return error;
	pg_cve__parse_json(&r, buf, len, NULL, 1);
	pg_cve__rec_release(&r);
	return 0;
}

static int p_dotconfig(const char *buf, size_t len)
{
	pg_kconfig *cfg = NULL;
	pg_kconfig_parse(&cfg, buf, len, ".config");
	pg_kconfig_free(cfg);
	return 0;
}

static int p_makefile(const char *buf, size_t len)
{
	pg_kconfig *cfg = NULL;
	pg_mk mk;
	int error;
	if ((error = pg_kconfig_parse(&cfg, "CONFIG_A=y\n", 11, ".config")) < 0)
		return error;
	if ((error = pg_mk_init(&mk, "drivers/x", cfg, NULL, NULL, NULL)) < 0) {
		pg_kconfig_free(cfg);
		return error;
	}
	pg_mk_read_text(&mk, "drivers/x/Makefile", buf, len);
	pg_mk_release(&mk);
	pg_kconfig_free(cfg);
	return 0;
}

static int p_mbox(const char *buf, size_t len)
{
	pg_cls_docs d = PG_CLS_DOCS_INIT;
	int error = pg_cls_parse_mbox(&d, buf, len);
	pg_cls_docs_release(&d);
	return error == PG_EINVALID ? 0 : error;
}

/* ---- the harness: a case in a child under a CPU limit ---- */

struct shape {
	const char *name, *unit, *prefix;
};

/* CPU seconds of fn over buf in a child; < 0 when it failed or ran out. */
static double timed_child(parse_fn fn, const char *buf, size_t len, char *why, size_t whylen,
			  size_t *peak)
{
	struct rusage ru;
	int fds[2], status;
	double t = -1;
	pid_t pid;

	if (pipe(fds) < 0)
		return -1;
	fflush(NULL);
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		struct rlimit rl = { CHILD_CPU_LIMIT, CHILD_CPU_LIMIT + 1 };
		double t0, dt;
		close(fds[0]);
		setrlimit(RLIMIT_CPU, &rl);
		t0 = cpu_seconds();
		if (fn(buf, len) < 0) {
			fprintf(stderr, "  parser error: %s\n", pg_error_last());
			_exit(2);
		}
		dt = cpu_seconds() - t0;
		if (write(fds[1], &dt, sizeof(dt)) != (ssize_t)sizeof(dt))
			_exit(3);
		_exit(0);
	}
	close(fds[1]);
	if (read(fds[0], &t, sizeof(t)) != (ssize_t)sizeof(t))
		t = -1;
	close(fds[0]);
	while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR)
		;
	*peak = (size_t)ru.ru_maxrss * 1024;
	if (WIFSIGNALED(status))
		snprintf(why, whylen, "killed by signal %d (CPU limit %d s: not linear?)", WTERMSIG(status),
			 CHILD_CPU_LIMIT);
	else if (WEXITSTATUS(status))
		snprintf(why, whylen, "exit %d", WEXITSTATUS(status));
	else
		return t > 1e-4 ? t : 1e-4;
	return -1;
}

static void run_cases(const char *entry, parse_fn fn, const struct shape *shapes, size_t nshapes)
{
	for (size_t i = 0; i < nshapes; i++) {
		size_t n1 = base_size, n4 = 4 * base_size;
		char *b1 = make(shapes[i].unit, n1, shapes[i].prefix), *b4 = make(shapes[i].unit, n4, shapes[i].prefix);
		char why[160] = "";
		double t1, t4, r4, ratio, scale;
		size_t peak1 = 0, peak4 = 0, mem_max = MEM_FIXED + MEM_PER_BYTE * 4 * base_size;

		if (!b1 || !b4) {
			free(b1);
			free(b4);
			CHECK(!"out of memory building an input");
			return;
		}
		t1 = timed_child(fn, b1, strlen(b1), why, sizeof(why), &peak1);
		t4 = t1 < 0 ? -1 : timed_child(fn, b4, strlen(b4), why, sizeof(why), &peak4);
		r4 = reading_pass(b4, strlen(b4));
		if (t1 < 0 || t4 < 0) {
			fprintf(stderr, "  %s / %s: %s\n", entry, shapes[i].name, why);
			CHECK(!"parser did not finish");
		} else {
			ratio = t4 / r4;
			/* below 20 ms the scaling figure is noise: only the ratio counts */
			scale = t1 >= 0.02 ? t4 / t1 : 0;
			printf("# %-10s %-14s %6.1f MB: %8.3f s CPU, %6.0fx a reading pass, x%.1f for 4x the input,"
			       " peak RSS %zu MB\n", entry, shapes[i].name, (double)strlen(b4) / 1e6, t4, ratio, scale,
			       peak4 >> 20);
			if (ratio > RATIO_MAX || scale > SCALE_MAX)
				fprintf(stderr, "  %s / %s: %.0fx a reading pass (max %.0f), x%.1f for 4x (max %.0f)\n",
					entry, shapes[i].name, ratio, RATIO_MAX, scale, SCALE_MAX);
			CHECK(ratio <= RATIO_MAX);
			CHECK(scale <= SCALE_MAX);
			if (!getenv("PATCHGAP_SANITIZED")) {
				if (peak4 > mem_max)
					fprintf(stderr, "  %s / %s: peak RSS %zu MB, over %zu MB\n", entry,
						shapes[i].name, peak4 >> 20, mem_max >> 20);
				CHECK(peak4 <= mem_max);
			}
		}
		free(b1);
		free(b4);
	}
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct shape text_shapes[] = {
	{ "no-newline", "abcdefgh ", NULL },
	{ "empty-lines", "\n", NULL },
	{ "short-lines", "x\n", NULL },
	{ "trailer-lines", "Fixes: 0123456789ab (\"net: x\")\n", "net: y\n\n" },
	{ "key-lines", "Reviewed-by: A <a@b>\n", "x\n\n" },
	{ "indented", "    continued\n", "x\n\nFixes: 0123456789ab (\"a\")\n" },
	{ "separators", "---\n", NULL },
	{ "cr-lines", "a\r\n", NULL },
};

static const struct shape diff_shapes[] = {
	{ "no-newline", "+abcdefgh", "diff --git a/x.c b/x.c\n--- a/x.c\n+++ b/x.c\n@@ -1,1 +1,99999999 @@\n" },
	{ "added-lines", "+x\n", "diff --git a/x.c b/x.c\n--- a/x.c\n+++ b/x.c\n@@ -1,1 +1,99999999 @@\n" },
	{ "hunk-headers", "@@ -1 +1 @@\n-a\n+b\n", "diff --git a/x.c b/x.c\n--- a/x.c\n+++ b/x.c\n" },
	{ "many-files", "diff --git a/x.c b/x.c\n--- a/x.c\n+++ b/x.c\n@@ -1 +1 @@\n-a\n+b\n", NULL },
	{ "function-lines", "+static int f(void) {\n+}\n", "diff --git a/x.c b/x.c\n--- a/x.c\n+++ b/x.c\n@@ -1,1 +1,99999999 @@\n" },
};

static const struct shape cve_shapes[] = {
	{ "no-newline", "0123456789abcdef", NULL },
	{ "sha-lines", "0123456789abcdef0123456789abcdef01234567\n", NULL },
	{ "dyad-lines", "6.1:0123456789abcdef0123456789abcdef01234567:6.2:0123456789abcdef0123456789abcdef01234567\n", NULL },
	{ "empty-lines", "\n", NULL },
};

static const struct shape json_shapes[] = {
	{ "long-string", "aaaaaaaaaaaaaaaa", "{\"dataVersion\":\"5.1\",\"x\":\"" },
	{ "array", "1,", "{\"containers\":{\"cna\":{\"affected\":[" },
	{ "escapes", "\\u0041\\n", "{\"x\":\"" },
};

static const struct shape config_shapes[] = {
	{ "no-newline", "CONFIG_A", NULL },
	{ "options", "CONFIG_ABCDEF=y\n", NULL },
	{ "comments", "# CONFIG_X is not set\n", NULL },
};

static const struct shape make_shapes[] = {
	{ "no-newline", "obj-y += a.o ", NULL },
	{ "objects", "obj-$(CONFIG_A) += a.o\n", NULL },
	{ "continuation", "a.o \\\n", "obj-y += " },
	{ "ifdefs", "ifdef CONFIG_A\nobj-y += b.o\nendif\n", NULL },
	{ "comments", "# comment line\n", NULL },
	{ "references", "$(x)", "obj-y += " },
};

static const struct shape mbox_shapes[] = {
	{ "no-newline", "From x", NULL },
	{ "from-lines", "From a@b Mon Jan  1 00:00:00 2024\n", NULL },
	{ "folded-subject", " continued\n", "From a@b Mon Jan  1 00:00:00 2024\nSubject: x\n" },
	{ "headers", "X-A: b\n", "From a@b Mon Jan  1 00:00:00 2024\n" },
	{ "body-lines", "text\n", "From a@b Mon Jan  1 00:00:00 2024\nSubject: [PATCH] x\n\n" },
};

TEST(classify)
{
	if (!M)
		SKIP("no model");
	run_cases("classify", p_classify, text_shapes, N(text_shapes));
}
TEST(trailers) { run_cases("trailers", p_trailers, text_shapes, N(text_shapes)); }
TEST(subject) { run_cases("subject", p_subject, text_shapes, N(text_shapes)); }
TEST(livepatch_diff) { run_cases("livepatch", p_livepatch, diff_shapes, N(diff_shapes)); }
TEST(patch_id_diff) { run_cases("patch-id", p_patchid, diff_shapes, N(diff_shapes)); }
TEST(cve_sha1) { run_cases("cve-sha1", p_cve_sha1, cve_shapes, N(cve_shapes)); }
TEST(cve_dyad) { run_cases("cve-dyad", p_cve_dyad, cve_shapes, N(cve_shapes)); }
TEST(cve_json) { run_cases("cve-json", p_cve_json, json_shapes, N(json_shapes)); }
TEST(dotconfig) { run_cases(".config", p_dotconfig, config_shapes, N(config_shapes)); }
TEST(makefile) { run_cases("Makefile", p_makefile, make_shapes, N(make_shapes)); }
TEST(mbox) { run_cases("mbox", p_mbox, mbox_shapes, N(mbox_shapes)); }

int main(void)
{
	/*
	 * 2 and 8 MB (under the 16 MiB limit of a commit message, so the
	 * parsers do the whole work); 0.5 and 2 MB under the sanitizers.  A
	 * quadratic walk over 8 MB of short lines costs hours, not seconds.
	 */
	base_size = getenv("PATCHGAP_SANITIZED") ? (size_t)1 << 19 : (size_t)2 << 20;
	if (pg_cls_model_load_default(&M) < 0) {
		fprintf(stderr, "  no model: %s\n", pg_error_last());
		M = NULL;
	}
	RUN(classify);
	RUN(trailers);
	RUN(subject);
	RUN(livepatch_diff);
	RUN(patch_id_diff);
	RUN(cve_sha1);
	RUN(cve_dyad);
	RUN(cve_json);
	RUN(dotconfig);
	RUN(makefile);
	RUN(mbox);
	pg_cls_model_free(M);
	return harness_done();
}
