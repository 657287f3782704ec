/*
 * fuzz_patch.c - libFuzzer target for the classifier's input parsers: the
 * patch / mbox / message parser, the JSON Lines parser and feature
 * extraction on whatever they return.
 *
 * Built as a libFuzzer binary with -Dfuzz=true (clang), and also #included
 * by tests/unit/test_classify.c, which feeds it a fixed junk corpus so the
 * normal and ASan test runs exercise the same checks.  Any broken invariant
 * aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "patchgap/classify.h"
#include "util/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_patch_check(int ok)
{
	if (!ok)
		abort();
}

static void fuzz_patch_docs(const pg_cls_docs *d)
{
	pg_cls_features f;
	pg_cls_features_init(&f);
	for (size_t i = 0; i < d->n; i++) {
		const pg_cls_doc *x = &d->v[i];
		pg_cls_input in;
		fuzz_patch_check(x->id && x->subject && x->message);
		fuzz_patch_check(x->label >= -1 && x->label <= 1);
		for (size_t k = 0; k < x->nfiles; k++)
			fuzz_patch_check(x->files[k] != NULL);
		pg_cls_doc_input(&in, x);
		if (pg_cls_features_extract(&f, &in, 0) == 0) {
			for (size_t k = 0; k < f.n; k++)
				fuzz_patch_check(f.idx[k] < PG_CLS_DIM);
			for (size_t k = 0; k < PG_CLS_NDENSE; k++)
				fuzz_patch_check(f.dense[k] >= 0 && f.dense[k] <= 2);
		}
	}
	pg_cls_features_release(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pg_cls_docs d = PG_CLS_DOCS_INIT;
	int rc = pg_cls_parse_mbox(&d, (const char *)data, size);

	fuzz_patch_check(rc == 0 || rc == PG_ENOMEM || rc == PG_EINVALID);
	fuzz_patch_check(rc < 0 || d.n >= 1);
	if (rc == 0)
		fuzz_patch_docs(&d);
	pg_cls_docs_release(&d);
	rc = pg_cls_parse_jsonl(&d, (const char *)data, size, "fuzz");
	fuzz_patch_check(rc == 0 || rc == PG_ENOMEM || rc == PG_EINVALID);
	if (rc == 0)
		fuzz_patch_docs(&d);
	pg_cls_docs_release(&d);
	return 0;
}
