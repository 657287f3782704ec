/*
 * sha1.c - straightforward SHA-1, byte-order independent (big-endian
 * words assembled by shifts), so it behaves the same on every host.
 */
#include <string.h>
#include "util/sha1.h"
#include "util/banned.h"

#define ROL(x, n) (((x) << (n)) | ((x) >> (32 - (n))))

static void sha1_block(pg_sha1 *c, const unsigned char *p)
{
	uint32_t w[80], a, b, d, e, cc, t;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
	for (; i < 80; i++)
		w[i] = ROL(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	a = c->h[0], b = c->h[1], cc = c->h[2], d = c->h[3], e = c->h[4];
	for (i = 0; i < 80; i++) {
		uint32_t f, k;
		if (i < 20)
			f = (b & cc) | (~b & d), k = 0x5A827999u;
		else if (i < 40)
			f = b ^ cc ^ d, k = 0x6ED9EBA1u;
		else if (i < 60)
			f = (b & cc) | (b & d) | (cc & d), k = 0x8F1BBCDCu;
		else
			f = b ^ cc ^ d, k = 0xCA62C1D6u;
		t = ROL(a, 5) + f + e + k + w[i];
		e = d, d = cc, cc = ROL(b, 30), b = a, a = t;
	}
	c->h[0] += a, c->h[1] += b, c->h[2] += cc, c->h[3] += d, c->h[4] += e;
}

void pg_sha1_init(pg_sha1 *c)
{
	c->h[0] = 0x67452301u;
	c->h[1] = 0xEFCDAB89u;
	c->h[2] = 0x98BADCFEu;
	c->h[3] = 0x10325476u;
	c->h[4] = 0xC3D2E1F0u;
	c->total = 0;
	c->used = 0;
}

void pg_sha1_update(pg_sha1 *c, const void *data, size_t len)
{
	const unsigned char *p = data;

	c->total += len;
	while (len) {
		size_t n = 64 - c->used;
		if (n > len)
			n = len;
		memcpy(c->block + c->used, p, n);
		c->used += n, p += n, len -= n;
		if (c->used == 64) {
			sha1_block(c, c->block);
			c->used = 0;
		}
	}
}

void pg_sha1_final(unsigned char out[PG_SHA1_RAWSZ], pg_sha1 *c)
{
	uint64_t bits = c->total * 8;
	unsigned char pad = 0x80, zero = 0, len[8];
	int i;

	pg_sha1_update(c, &pad, 1);
	while (c->used != 56)
		pg_sha1_update(c, &zero, 1);
	for (i = 0; i < 8; i++)
		len[i] = (unsigned char)(bits >> (56 - 8 * i));
	pg_sha1_update(c, len, 8);
	for (i = 0; i < 5; i++) {
		out[4 * i] = (unsigned char)(c->h[i] >> 24);
		out[4 * i + 1] = (unsigned char)(c->h[i] >> 16);
		out[4 * i + 2] = (unsigned char)(c->h[i] >> 8);
		out[4 * i + 3] = (unsigned char)c->h[i];
	}
	pg_sha1_init(c);
}
