/*
 * map.c - open-addressing hash maps (see map.h for invariants).
 */
#include <stdlib.h>
#include <string.h>
#include "util/map.h"

/* FNV-1a, good enough for path and id strings and cheap to compute. */
static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h ^ (h >> 29);
}

void pg_strmap_release(pg_strmap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->keys[i]);
	free(m->keys);
	free(m->vals);
	m->keys = NULL;
	m->vals = NULL;
	m->cap = m->count = 0;
}

static size_t strmap_find(const pg_strmap *m, const char *key)
{
	size_t mask = m->cap - 1, i = hash_str(key) & mask;
	while (m->keys[i] && strcmp(m->keys[i], key))
		i = (i + 1) & mask;
	return i;
}

static int strmap_resize(pg_strmap *m, size_t ncap)
{
	pg_strmap n = { calloc(ncap, sizeof(char *)), calloc(ncap, sizeof(void *)), ncap, 0 };
	if (!n.keys || !n.vals) {
		free(n.keys);
		free(n.vals);
		return pg_error_setc(PG_ENOMEM, "out of memory growing a map");
	}
	for (size_t i = 0; i < m->cap; i++) {
		if (m->keys[i]) {
			size_t j = strmap_find(&n, m->keys[i]);
			n.keys[j] = m->keys[i];
			n.vals[j] = m->vals[i];
			n.count++;
		}
	}
	free(m->keys);
	free(m->vals);
	*m = n;
	return 0;
}

int pg_strmap_set(pg_strmap *m, const char *key, void *val)
{
	size_t i;
	int error;

	if ((m->count + 1) * 10 > m->cap * 7 &&
	    (error = strmap_resize(m, m->cap ? m->cap * 2 : 16)) < 0)
		return error;
	i = strmap_find(m, key);
	if (!m->keys[i]) {
		if (!(m->keys[i] = strdup(key)))
			return pg_error_setc(PG_ENOMEM, "out of memory");
		m->count++;
	}
	m->vals[i] = val;
	return 0;
}

void *pg_strmap_get(const pg_strmap *m, const char *key, int *found)
{
	size_t i;
	if (!m->cap) {
		if (found)
			*found = 0;
		return NULL;
	}
	i = strmap_find(m, key);
	if (found)
		*found = m->keys[i] != NULL;
	return m->keys[i] ? m->vals[i] : NULL;
}

int pg_strmap_next(const pg_strmap *m, size_t *iter, const char **key, void **val)
{
	while (*iter < m->cap) {
		size_t i = (*iter)++;
		if (m->keys[i]) {
			if (key)
				*key = m->keys[i];
			if (val)
				*val = m->vals[i];
			return 1;
		}
	}
	return 0;
}

void pg_oidmap_release(pg_oidmap *m)
{
	free(m->keys);
	free(m->vals);
	m->keys = NULL;
	m->vals = NULL;
	m->cap = m->count = 0;
}

/* Object ids are SHA-1 output: already uniformly distributed. */
static size_t oid_slot(const pg_oidmap *m, const unsigned char *id)
{
	uint64_t h;
	size_t mask = m->cap - 1, i;
	memcpy(&h, id, sizeof(h));
	i = (size_t)h & mask;
	while (m->vals[i] != PG_OIDMAP_NONE && memcmp(m->keys + i * 20, id, 20))
		i = (i + 1) & mask;
	return i;
}

static int oidmap_resize(pg_oidmap *m, size_t ncap)
{
	pg_oidmap n = { malloc(ncap * 20), malloc(ncap * sizeof(uint32_t)), ncap, 0 };
	if (!n.keys || !n.vals) {
		free(n.keys);
		free(n.vals);
		return pg_error_setc(PG_ENOMEM, "out of memory growing an object map");
	}
	memset(n.vals, 0xff, ncap * sizeof(uint32_t));
	for (size_t i = 0; i < m->cap; i++) {
		if (m->vals[i] != PG_OIDMAP_NONE) {
			size_t j = oid_slot(&n, m->keys + i * 20);
			memcpy(n.keys + j * 20, m->keys + i * 20, 20);
			n.vals[j] = m->vals[i];
			n.count++;
		}
	}
	free(m->keys);
	free(m->vals);
	*m = n;
	return 0;
}

int pg_oidmap_set(pg_oidmap *m, const unsigned char id[20], uint32_t val)
{
	size_t i;
	int error;

	if ((m->count + 1) * 10 > m->cap * 7 &&
	    (error = oidmap_resize(m, m->cap ? m->cap * 2 : 1024)) < 0)
		return error;
	i = oid_slot(m, id);
	if (m->vals[i] == PG_OIDMAP_NONE) {
		memcpy(m->keys + i * 20, id, 20);
		m->count++;
	}
	m->vals[i] = val;
	return 0;
}

uint32_t pg_oidmap_get(const pg_oidmap *m, const unsigned char id[20])
{
	if (!m->cap)
		return PG_OIDMAP_NONE;
	return m->vals[oid_slot(m, id)];
}
