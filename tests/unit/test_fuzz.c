/*
 * test_fuzz.c - run the libFuzzer entry points of fuzz/ over a fixed,
 * deterministic corpus (valid samples, their truncations and bit flips,
 * seeded random bytes) in the ordinary test build, so that ASan/UBSan check
 * the parsers in CI even where libFuzzer is not built.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"

#define LLVMFuzzerTestOneInput fuzz_cve_one
#include "../../fuzz/fuzz_cve.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_kconfig_one
#include "../../fuzz/fuzz_kconfig.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_odb_one
#include "../../fuzz/fuzz_odb.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_decision_one
#include "../../fuzz/fuzz_decision.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_sql_one
#include "../../fuzz/fuzz_sql.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_functions_one
#include "../../fuzz/fuzz_functions.c"
#undef LLVMFuzzerTestOneInput

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint32_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

typedef int (*entry_fn)(const uint8_t *, size_t);

/* Each sample with every selector byte, truncated at every 7th length and with 50 bit flips. */
static size_t run_corpus(entry_fn fn, const char *const *samples, size_t nsamples, unsigned selectors)
{
	size_t runs = 0;
	uint8_t buf[8192];
	for (size_t s = 0; s < nsamples; s++) {
		size_t len = strlen(samples[s]);
		if (len + 1 > sizeof(buf))
			continue;
		for (unsigned sel = 0; sel < selectors; sel++) {
			buf[0] = (uint8_t)sel;
			memcpy(buf + 1, samples[s], len);
			for (size_t cut = 0; cut <= len; cut += 7, runs++)
				fn(buf, cut + 1);
			fn(buf, len + 1);
			for (int k = 0; k < 50; k++, runs++) {
				size_t at = 1 + next_rand() % len;
				uint8_t old = buf[at];
				buf[at] ^= (uint8_t)(1u << (next_rand() % 8));
				fn(buf, len + 1);
				buf[at] = old;
			}
		}
	}
	for (int k = 0; k < 1500; k++, runs++) {
		size_t len = 1 + next_rand() % 600;
		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)next_rand();
		fn(buf, len);
	}
	return runs;
}

static const char *const cve_samples[] = {
	"{\"dataType\":\"CVE_RECORD\",\"dataVersion\":\"5.1\",\"cveMetadata\":{\"cveId\":\"CVE-2024-12345\","
	"\"state\":\"PUBLISHED\",\"assignerOrgId\":\"416baaa9-dc9f-4396-8d5f-8c081fb06d67\"},\"containers\":{\"cna\":"
	"{\"title\":\"net: fix use-after-free\",\"descriptions\":[{\"lang\":\"en\",\"value\":\"x\"}],\"affected\":[{"
	"\"product\":\"Linux\",\"vendor\":\"Linux\",\"defaultStatus\":\"unaffected\",\"programFiles\":[\"net/a.c\"],"
	"\"versions\":[{\"version\":\"1da177e4c3f41524e886b7f1b8a0c1fc7321cac2\",\"lessThan\":"
	"\"0123456789abcdef0123456789abcdef01234567\",\"status\":\"affected\",\"versionType\":\"git\"},"
	"{\"version\":\"6.1\",\"status\":\"affected\"}]}],\"references\":[{\"url\":\"https://git.kernel.org/stable/c/"
	"0123456789abcdef0123456789abcdef01234567\"}]}}}",
	"0123456789abcdef0123456789abcdef01234567\nfedcba9876543210fedcba9876543210fedcba98\n",
	"# dyad version: 1.2.0\n# Setting original vulnerable kernel to be kernel 4.12 and git id "
	"a49d25364dfb9f8a64037488a39ab1f56c5fa419\n4.12:a49d25364dfb9f8a64037488a39ab1f56c5fa419:5.10.37:"
	"d218c7a0284f6b92a7b82d2e19706e18663b4193\n6.1:0:0:0\n",
	"From bippy Mon Sep 17 00:00:00 2001\nSubject: CVE-2024-12345: net: fix use-after-free\n\nDescription\n",
};

static const char *const kconfig_samples[] = {
	"CONFIG_A=y\nCONFIG_B=m\n# CONFIG_C is not set\nCONFIG_S=\"str\"\nCONFIG_H=0x10\n",
	"obj-y += kernel/\nobj-$(CONFIG_A) += a.o\nfoo-y := x.o y.o\nobj-$(CONFIG_B) += foo.o\n"
	"ifdef CONFIG_C\nobj-y += c/\nelse\nlib-y += l.o\nendif\nifeq ($(CONFIG_A),y)\nsubdir-y += s\nendif\n"
	"define X\nobj-y += d.o\nendef\n$(eval $(X))\nobj-$(CONFIG_A) += $(patsubst %.c,%.o,$(wildcard *.c)) \\\n  z.o\n",
	"obj-y += /\nobj-$(CONFIG_A) += / a/ /b/\n", /* found by fuzz_kconfig: an empty directory name */
	"int a(void)\n{\n#ifdef CONFIG_A\n\treturn 1;\n#elif IS_ENABLED(CONFIG_B) && !defined(CONFIG_C)\n"
	"\treturn 2;\n#else\n\treturn 3;\n#endif\n}\n#if 0\n#endif\n",
};

TEST(cve_parsers_survive_junk)
{
	size_t n = run_corpus(fuzz_cve_one, cve_samples, sizeof(cve_samples) / sizeof(*cve_samples), 6);
	CHECK(n > 1000);
}

TEST(kconfig_parsers_survive_junk)
{
	size_t n = run_corpus(fuzz_kconfig_one, kconfig_samples, sizeof(kconfig_samples) / sizeof(*kconfig_samples), 3);
	CHECK(n > 1000);
}

/* Commits (selector even) and deltas (odd: 2-byte base length, base, delta; written with \x escapes). */
static const char *const odb_samples[] = {
	"tree 0123456789abcdef0123456789abcdef01234567\nparent 89abcdef0123456789abcdef0123456789abcdef\n"
	"author A U Thor <a@example.org> 1700000000 +0100\ncommitter C <c@example.org> 1700000100 +0000\n"
	"gpgsig -----BEGIN-----\n abc\n -----END-----\n\nnet: fix a leak\n  in two lines\n\nBody text.\n",
	"tree 0123456789abcdef0123456789abcdef01234567\nauthor <> 1\nauthor B <b> 2\ncommitter  x  < y > -3 +0000\n\n\n\n s",
	"\x01\x0ahello worl\x0a\x0e\x91\x01\x05\x03 it\x90\x04",
	"\x01\x04" "abcd\x04\x10\x80\x01\x90\x10\x7f\x05" "abcde",
};

TEST(odb_parsers_survive_junk)
{
	size_t n = run_corpus(fuzz_odb_one, odb_samples, sizeof(odb_samples) / sizeof(*odb_samples), 2);
	CHECK(n > 1000);
}

static const char *const decision_samples[] = {
	"{\"target\": \"CVE-2025-21629\", \"branch\": \"linux-6.1.y\", \"state\": \"not_affected\","
	" \"justification\": \"code_not_present\", \"note\": \"not built\\n\\tat all\", \"config\": null}",
	"{\"target\": \"1a2b3c4d\", \"branch\": \"v\", \"state\": \"will_not_fix\", \"note\": \"EOL \\u0000 x\"}",
	"{\"target\": 1, \"extra\": [1, {\"a\": null}], \"target\": \"dup\"}",
	"[\"not\", \"an\", \"object\"]",
};

TEST(decision_body_survives_junk)
{
	size_t n = run_corpus(fuzz_decision_one, decision_samples, sizeof(decision_samples) / sizeof(*decision_samples), 1);
	CHECK(n > 1000);
}

static const char *const sql_samples[] = {
	"CREATE TABLE t (id INTEGER PRIMARY KEY, x REAL, s TEXT DEFAULT 'INTEGER ?');",
	"SELECT a FROM t WHERE b = ? AND c = '?''?' AND \"we?rd\" = ? -- ? comment\n AND d = ?",
	"INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
	"'unterminated ? \"also ?",
};

TEST(sql_rewriter_survives_junk)
{
	size_t n = run_corpus(fuzz_sql_one, sql_samples, sizeof(sql_samples) / sizeof(*sql_samples), 1);
	CHECK(n > 1000);
}

/* selector bits: 1 diff, 2 explicit length, the rest the cap (see fuzz_functions.c) */
static const char *const functions_samples[] = {
	"@@ -10,6 +10,8 @@ static int foo_bar(struct x *y)\n+\tif (!y)\n@@ -40 +42 @@ int Sock::do_thing (int a) const\n"
	"@@ -50,2 +52,2 @@ SYSCALL_DEFINE3(open, a, b)\n@@ -60 +60 @@ struct x = {\n@@ -70 +70 @@\n@@ -1 +1 @@ (\n",
	"There are two out-of-bounds accesses, one in cipso_v4_map_lvl_valid(), the other in\n"
	"netlbl_bitmap_walk().  kfree(p), foo(), 123abc(), ((((, a_b_c_d(e_f_g_h(i_j_k_l())))",
	"@@ -1,2 +1,2 @@ aaaa(\n@@ -3 +3 @@ bbbb (\n@@ -5 +5 @@\t\tcccc\t(\n@@ -7 +7 @@ (dddd(\n",
};

TEST(function_names_survive_junk)
{
	size_t n = run_corpus(fuzz_functions_one, functions_samples, sizeof(functions_samples) / sizeof(*functions_samples),
			      256);
	CHECK(n > 10000);
}

TEST(sql_rewriter_spells_postgresql)
{
	pg_buf b = PG_BUF_INIT;
	int n = 0;
	CHECK(pg_store__pgsql_rewrite(&b, sql_samples[0], &n) == 0);
	CHECK_STR(b.ptr, "CREATE TABLE t (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
		  " x DOUBLE PRECISION, s TEXT DEFAULT 'INTEGER ?');");
	CHECK(n == 0);
	pg_buf_reset(&b);
	CHECK(pg_store__pgsql_rewrite(&b, sql_samples[1], &n) == 0);
	CHECK_STR(b.ptr, "SELECT a FROM t WHERE b = $1 AND c = '?''?' AND \"we?rd\" = $2 -- ? comment\n AND d = $3");
	CHECK(n == 3);
	pg_buf_reset(&b);
	CHECK(pg_store__pgsql_rewrite(&b, "SELECT x FROM job_results WHERE job_id INTEGER NOT NULL PRIMARY KEY", &n) == 0);
	CHECK(strstr(b.ptr, "IDENTITY") == NULL);
	pg_buf_release(&b);
}

int main(void)
{
	RUN(cve_parsers_survive_junk);
	RUN(function_names_survive_junk);
	RUN(kconfig_parsers_survive_junk);
	RUN(odb_parsers_survive_junk);
	RUN(decision_body_survives_junk);
	RUN(sql_rewriter_survives_junk);
	RUN(sql_rewriter_spells_postgresql);
	return harness_done();
}
