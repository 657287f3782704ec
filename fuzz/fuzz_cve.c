/*
 * fuzz_cve.c - libFuzzer target for the kernel CNA record parsers
 * (CVE JSON 5, .sha1, .vulnerable, .dyad, .mbox).  The first input byte
 * picks the parser; the rest is the file.  Invariant checked: parsers never
 * crash and either fail with a message or leave a record whose shas are 40
 * lowercase hex digits.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "cve/cve_int.h"
#include "util/str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pg_cve__rec r;
	char *text;
	int which;

	if (size < 1 || size > (1 << 20))
		return 0;
	which = data[0] % 6;
	if (!(text = malloc(size))) /* size - 1 bytes + NUL */
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	if (pg_cve__rec_init(&r, "CVE-2024-12345") < 0) {
		free(text);
		return 0;
	}
	switch (which) {
	case 0: pg_cve__parse_json(&r, text, size - 1, NULL, 1); break;
	case 1: pg_cve__parse_json(&r, text, size - 1, "published", 0); break;
	case 2: pg_cve__parse_sha1(&r, text); break;
	case 3: pg_cve__parse_vulnerable(&r, text); break;
	case 4: pg_cve__parse_dyad(&r, text); break;
	default: pg_cve__parse_mbox(&r, text); break;
	}
	for (size_t i = 0; i < r.fixes.len; i++)
		if (strlen(r.fixes.ptr[i].sha) != 40 || pg_str_hexlen(r.fixes.ptr[i].sha, 41) != 40)
			abort();
	pg_cve__rec_release(&r);
	free(text);
	return 0;
}
