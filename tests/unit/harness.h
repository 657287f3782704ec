/*
 * harness.h - a tiny unit-test harness (TAP-like output).
 *
 *   TEST(name) { CHECK(x == 1); CHECK_STR(a, "b"); CHECK_OK(pg_foo()); }
 *   int main(void) { RUN(name); return harness_done(); }
 *
 * A failed CHECK prints file:line and the expression, marks the test failed
 * and continues with the next CHECK.  harness_done() prints
 * "N passed, N failed" and returns non-zero if anything failed.
 * SHARED_DATA is the ../shared/data directory (or NULL when absent): tests
 * that need it call SKIP_WITHOUT_SHARED().
 */
#ifndef PG_TEST_HARNESS_H
#define PG_TEST_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "patchgap/common.h"

static int h_pass, h_fail, h_skip, h_cur_failed, h_cur_skipped;

#define TEST(name) static void test_##name(void)
#define CHECK(expr) do { if (!(expr)) { \
	fprintf(stderr, "  %s:%d: CHECK(%s) failed (last error: %s)\n", __FILE__, __LINE__, #expr, pg_error_last()); \
	h_cur_failed = 1; } } while (0)
#define CHECK_OK(expr) do { int h_rc_ = (expr); if (h_rc_ < 0) { \
	fprintf(stderr, "  %s:%d: %s returned %d: %s\n", __FILE__, __LINE__, #expr, h_rc_, pg_error_last()); \
	h_cur_failed = 1; } } while (0)
#define CHECK_STR(a, b) do { const char *h_a_ = (a), *h_b_ = (b); \
	if (!h_a_ || !h_b_ || strcmp(h_a_, h_b_)) { \
	fprintf(stderr, "  %s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #a, \
		h_a_ ? h_a_ : "(null)", h_b_ ? h_b_ : "(null)"); h_cur_failed = 1; } } while (0)
#define CHECK_INT(a, b) do { long long h_a_ = (long long)(a), h_b_ = (long long)(b); if (h_a_ != h_b_) { \
	fprintf(stderr, "  %s:%d: %s == %lld, expected %lld\n", __FILE__, __LINE__, #a, h_a_, h_b_); \
	h_cur_failed = 1; } } while (0)
#define SKIP(why) do { fprintf(stderr, "  skipped: %s\n", why); h_cur_skipped = 1; return; } while (0)
#define RUN(name) do { h_cur_failed = h_cur_skipped = 0; test_##name(); \
	if (h_cur_skipped && !h_cur_failed) { h_skip++; printf("skip %s\n", #name); } \
	else if (h_cur_failed) { h_fail++; printf("not ok %s\n", #name); } \
	else { h_pass++; printf("ok %s\n", #name); } } while (0)

static inline const char *harness_shared_data(void)
{
	static char path[4096];
	const char *env = getenv("PATCHGAP_SHARED_DATA");
	if (env && *env)
		return access(env, R_OK) == 0 ? env : NULL;
#ifdef PG_SOURCE_ROOT
	snprintf(path, sizeof(path), "%s/../shared/data", PG_SOURCE_ROOT);
	if (access(path, R_OK) == 0)
		return path;
#endif
	return NULL;
}
#define SHARED_DATA harness_shared_data()
#define SKIP_WITHOUT_SHARED() do { if (!SHARED_DATA) SKIP("../shared/data not present"); } while (0)

static inline int harness_done(void)
{
	printf("%d passed, %d failed, %d skipped\n", h_pass, h_fail, h_skip);
	return h_fail ? 1 : 0;
}

#endif
