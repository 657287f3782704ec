/*
 * sha1.h - plain SHA-1 (FIPS 180-4) over bytes.
 *
 * libgit2 exposes only object hashing (git_odb_hash prepends an object
 * header), but git's patch-id is a raw SHA-1 of the diff text, so
 * patchgap needs the bare digest.  Not for security: only to reproduce
 * ids that git itself computes with SHA-1.
 */
#ifndef PG_UTIL_SHA1_H
#define PG_UTIL_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define PG_SHA1_RAWSZ 20

typedef struct pg_sha1 {
	uint32_t h[5];
	uint64_t total;          /* bytes hashed so far */
	unsigned char block[64];
	size_t used;             /* bytes buffered in block */
} pg_sha1;

void pg_sha1_init(pg_sha1 *c);
void pg_sha1_update(pg_sha1 *c, const void *data, size_t len);
/* Write the digest and re-initialise c so it can be reused. */
void pg_sha1_final(unsigned char out[PG_SHA1_RAWSZ], pg_sha1 *c);

#endif
