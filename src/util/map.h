/*
 * map.h - open-addressing hash maps.
 *
 * pg_strmap: NUL-terminated string key -> void * value.  Keys are copied
 * (owned by the map); values are borrowed (the map never frees them).
 *
 * pg_oidmap: 20-byte object id -> uint32_t value.  Keys are stored inline,
 * 24 bytes per slot, because ingest keeps millions of them in memory: a
 * kernel history is ~1.4M commits, so the map must stay compact.
 *
 * Both: linear probing, load factor <= 0.7, no deletion (patchgap's indexes
 * only grow during one run; a rebuild is cheaper than tombstones).
 */
#ifndef PG_UTIL_MAP_H
#define PG_UTIL_MAP_H

#include <stddef.h>
#include <stdint.h>
#include "patchgap/common.h"

typedef struct pg_strmap {
	char **keys;     /* owned; NULL = empty slot */
	void **vals;     /* borrowed */
	size_t cap;      /* power of two, or 0 */
	size_t count;
} pg_strmap;

#define PG_STRMAP_INIT { NULL, NULL, 0, 0 }

void pg_strmap_release(pg_strmap *m);
/* Insert or replace; 0 or PG_ENOMEM. */
int pg_strmap_set(pg_strmap *m, const char *key, void *val);
/* Borrowed value or NULL. found (optional) says whether the key exists. */
void *pg_strmap_get(const pg_strmap *m, const char *key, int *found);
/* Iterate: for (size_t i = 0; pg_strmap_next(m, &i, &k, &v); ) */
int pg_strmap_next(const pg_strmap *m, size_t *iter, const char **key, void **val);

typedef struct pg_oidmap {
	unsigned char *keys; /* cap * 20 bytes */
	uint32_t *vals;      /* cap entries; slot empty when vals[i] == UINT32_MAX */
	size_t cap;
	size_t count;
} pg_oidmap;

#define PG_OIDMAP_INIT { NULL, NULL, 0, 0 }
#define PG_OIDMAP_NONE UINT32_MAX

void pg_oidmap_release(pg_oidmap *m);
/* val must not be PG_OIDMAP_NONE. */
int pg_oidmap_set(pg_oidmap *m, const unsigned char id[20], uint32_t val);
/* Value or PG_OIDMAP_NONE. */
uint32_t pg_oidmap_get(const pg_oidmap *m, const unsigned char id[20]);

#endif
