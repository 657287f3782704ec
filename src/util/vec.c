/*
 * vec.c - out-of-line growth for vec.h.
 */
#include <stdint.h>
#include "util/vec.h"

int pg_vec__grow(void **ptr, size_t *alloc, size_t esz, size_t n)
{
	size_t nalloc;
	void *p;

	if (n <= *alloc)
		return 0;
	nalloc = *alloc ? *alloc : 8;
	while (nalloc < n)
		nalloc = nalloc + nalloc / 2 + 8;
	if (nalloc > SIZE_MAX / esz)
		return pg_error_setc(PG_ENOMEM, "array too large");
	if (!(p = realloc(*ptr, nalloc * esz)))
		return pg_error_setc(PG_ENOMEM, "out of memory growing an array to %zu items", nalloc);
	*ptr = p;
	*alloc = nalloc;
	return 0;
}
