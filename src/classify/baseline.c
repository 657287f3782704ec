/*
 * baseline.c - the plain bag-of-words features of the baseline model.
 *
 * The baseline is what any team would try first: a logistic regression over
 * the hashed words of the subject and of the message, nothing else (no word
 * pairs, no lexicon, no paths, no trailers, no diff).  `patchgap train` fits
 * it on the same records as the model and `patchgap eval` prints both, so a
 * feature or model change can be judged against it.
 *
 * The message is normalized like the model's (trailers and the "---" tail
 * dropped): kernel-cves messages have no trailers, so a baseline that saw
 * them would learn "no Signed-off-by: means security fix".
 *
 * Invariants: indices are < PG_CLS_DIM and distinct; the cost is linear in
 * the text (at most PG_CLS_BOW_WORDS words per field are hashed).
 */
#include <stdlib.h>
#include <string.h>
#include "classify/classify_int.h"
#include "util/banned.h"

#define PG_CLS_BOW_WORDS 600

static int bow_emit(pg_cls_features *f, uint32_t i)
{
	uint64_t *w = &f->seen[i >> 6], bit = 1ull << (i & 63);

	if (*w & bit)
		return 0;
	if (f->n == f->alloc) {
		size_t na = f->alloc ? f->alloc * 2 : 512;
		uint32_t *p = realloc(f->idx, na * sizeof(*p));
		if (!p)
			return pg_error_setc(PG_ENOMEM, "out of memory extracting baseline features");
		f->idx = p;
		f->alloc = na;
	}
	f->idx[f->n++] = i;
	*w |= bit;
	return 0;
}

static int is_word(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* Hash the words of [s, s+len) under a one-byte namespace (subject and body differ). */
static int bow_text(pg_cls_features *f, const char *s, size_t len, char ns)
{
	size_t i = 0, words = 0;
	int error;

	while (i < len && words < PG_CLS_BOW_WORDS) {
		size_t j;
		uint64_t h;
		while (i < len && !is_word((unsigned char)s[i]))
			i++;
		for (j = i; j < len && is_word((unsigned char)s[j]); j++)
			;
		if (j - i >= 2 && j - i <= 48) {
			h = pg_cls__fnv64(&ns, 1, 0);
			for (size_t k = i; k < j; k++) {
				char c = s[k] >= 'A' && s[k] <= 'Z' ? (char)(s[k] + 32) : s[k];
				h = pg_cls__fnv64(&c, 1, h);
			}
			if ((error = bow_emit(f, (uint32_t)(h ^ (h >> 32)) & (PG_CLS_DIM - 1))) < 0)
				return error;
			words++;
		}
		i = j;
	}
	return 0;
}

int pg_cls__bow_extract(pg_cls_features *f, const pg_cls_input *in)
{
	char *norm = NULL;
	const char *subj = in->subject ? pg_cls__skip_subject_prefixes(in->subject) : "";
	int error = 0;

	if (!f->seen && !(f->seen = calloc(PG_CLS_DIM / 64, sizeof(uint64_t))))
		return pg_error_setc(PG_ENOMEM, "out of memory extracting baseline features");
	for (size_t i = 0; i < f->n; i++)
		f->seen[f->idx[i] >> 6] &= ~(1ull << (f->idx[i] & 63));
	f->n = 0;
	memset(f->dense, 0, sizeof(f->dense));
	if ((error = bow_text(f, subj, strlen(subj), 's')) < 0)
		goto out;
	if (in->message) {
		size_t len = in->message_len ? in->message_len : strlen(in->message);
		if ((error = pg_cls_normalize_message(&norm, in->message, len)) < 0)
			goto out;
		error = bow_text(f, norm, strlen(norm), 'b');
	}
out:
	free(norm);
	return error;
}
