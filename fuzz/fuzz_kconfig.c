/*
 * fuzz_kconfig.c - libFuzzer target for the build-awareness parsers: the
 * .config reader, the Kbuild/make reader (the input served as the tree's
 * top-level Kbuild and arch Makefile), and the #if evaluator over a C file.
 * The first input byte picks the parser.  Invariant: no crash, no leak;
 * every call either fails with a message or returns a verdict.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "patchgap/kconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz_tree {
	const char *text;
	size_t len;
};

static int fz_read(pg_buf *out, const char *path, void *payload)
{
	struct fz_tree *t = payload;
	if (strcmp(path, "Kbuild") && strcmp(path, "Makefile") && strcmp(path, "arch/x86/Makefile"))
		return PG_ENOTFOUND;
	return pg_buf_put(out, t->text, t->len);
}

static const char fz_config[] = "CONFIG_X86=y\nCONFIG_X86_64=y\nCONFIG_A=y\nCONFIG_B=m\n# CONFIG_C is not set\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pg_kconfig *cfg = NULL;
	const char *text = (const char *)data + 1;
	size_t len;

	if (size < 1 || size > (1 << 20))
		return 0;
	len = size - 1;
	switch (data[0] % 3) {
	case 0:
		if (pg_kconfig_parse(&cfg, text, len, "fuzz.config") == 0)
			(void)pg_kconfig_get(cfg, "CONFIG_A");
		break;
	case 1: {
		struct fz_tree t = { text, len };
		pg_ktree tree = { fz_read, &t, NULL };
		pg_kbuild *kb = NULL;
		pg_kbuild_verdict v;
		if (pg_kconfig_parse(&cfg, fz_config, sizeof(fz_config) - 1, "fixed.config") == 0 &&
		    pg_kbuild_eval(&kb, &tree, cfg) == 0) {
			memset(&v, 0, sizeof(v));
			if (pg_kbuild_file(&v, kb, "kernel/fork.c") == 0)
				pg_kbuild_verdict_release(&v);
		}
		pg_kbuild_free(kb);
		break;
	}
	default: {
		pg_kline_range ranges[2] = { { 1, 3 }, { 5, 10 } };
		pg_kcond_result res[2];
		memset(res, 0, sizeof(res));
		if (pg_kconfig_parse(&cfg, fz_config, sizeof(fz_config) - 1, "fixed.config") == 0 &&
		    pg_kconfig_hunks(res, cfg, "fuzz.c", text, len, ranges, 2, PG_KBUILD_POSSIBLE) == 0) {
			pg_kcond_result_release(&res[0]);
			pg_kcond_result_release(&res[1]);
		}
		break;
	}
	}
	pg_kconfig_free(cfg);
	return 0;
}
