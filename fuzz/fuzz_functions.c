/*
 * fuzz_functions.c - libFuzzer target for the function-name extractor of the
 * function history (pg_cls__functions).  The first byte selects how the rest
 * is read: bit 0 as a diff (hunk headings) or a message ("name(" mentions),
 * bit 1 with an explicit length or NUL-terminated.  Invariants: never
 * crashes, never reads past the input, returns at most max distinct hashes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "classify/classify_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t fn[PG_CLS_FUNCS_MAX + 1];
	char *s;
	size_t n, len, max;

	if (size < 1 || size > (1 << 20))
		return 0;
	if (!(s = malloc(size)))
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	/* an explicit length reads past NUL bytes (they are not identifier characters); 0 is strlen */
	len = (data[0] & 2) ? size - 1 : 0;
	max = (data[0] >> 2) % (PG_CLS_FUNCS_MAX + 1);
	fn[max] = 0x5a5a5a5a5a5a5a5aull;
	if (data[0] & 1)
		n = pg_cls__functions(fn, max, NULL, 0, s, len);
	else
		n = pg_cls__functions(fn, max, s, len, NULL, 0);
	if (n > max || fn[max] != 0x5a5a5a5a5a5a5a5aull)
		abort();
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (fn[i] == fn[j])
				abort();
	free(s);
	return 0;
}
