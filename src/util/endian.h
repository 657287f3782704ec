#ifndef PG_UTIL_ENDIAN_H
#define PG_UTIL_ENDIAN_H

#include <stdint.h>

/* Big-endian (network order) integers, as git's pack index and commit-graph store them. */
static inline uint32_t pg_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t pg_be64(const unsigned char *p)
{
	return (uint64_t)pg_be32(p) << 32 | pg_be32(p + 4);
}

/*
 * A git fanout table (256 cumulative counts by first id byte, in .idx and
 * commit-graph files) never decreases; its last entry is the id count.
 */
static inline int pg_fanout_ok(const unsigned char *fanout)
{
	for (int i = 1; i < 256; i++)
		if (pg_be32(fanout + 4 * i) < pg_be32(fanout + 4 * (i - 1)))
			return 0;
	return 1;
}

#endif
