/*
 * vec.h - typed growable arrays (git's ALLOC_GROW idea, as a struct).
 *
 *   PG_VEC(int) v = PG_VEC_INIT;
 *   if (pg_vec_push(&v, 42) < 0) goto out;
 *   ... v.ptr[i] for i < v.len ...
 *   pg_vec_release(&v);
 *
 * Invariant: len <= alloc; ptr is owned by the vector.
 */
#ifndef PG_UTIL_VEC_H
#define PG_UTIL_VEC_H

#include <stdlib.h>
#include "patchgap/common.h"

#define PG_VEC(T) struct { T *ptr; size_t len, alloc; }
#define PG_VEC_INIT { NULL, 0, 0 }

/* Grow storage of elements of size esz to hold at least n; 0 or PG_ENOMEM. */
int pg_vec__grow(void **ptr, size_t *alloc, size_t esz, size_t n);

#define pg_vec_reserve(v, n) \
	pg_vec__grow((void **)&(v)->ptr, &(v)->alloc, sizeof(*(v)->ptr), (n))

#define pg_vec_push(v, x) \
	(pg_vec_reserve((v), (v)->len + 1) < 0 ? PG_ENOMEM : ((v)->ptr[(v)->len++] = (x), 0))

#define pg_vec_release(v) do { free((v)->ptr); (v)->ptr = NULL; (v)->len = (v)->alloc = 0; } while (0)

#endif
