/* Unit tests for src/util: buffers, maps, versions, times. */
#include <string.h>
#include "harness.h"
#include "util/buf.h"
#include "util/map.h"
#include "util/str.h"
#include "util/vec.h"
#include "util/sha1.h"

TEST(buf_limit)
{
	pg_buf b;
	pg_buf_init(&b, 8);
	CHECK_OK(pg_buf_puts(&b, "12345678"));
	CHECK(pg_buf_putc(&b, 'x') == PG_EINVALID);
	CHECK_STR(pg_buf_cstr(&b), "12345678");
	pg_buf_release(&b);
}

TEST(buf_json)
{
	pg_buf b = PG_BUF_INIT;
	CHECK_OK(pg_buf_put_json_str(&b, "a\"b\\c\n\x01"));
	CHECK_STR(b.ptr, "\"a\\\"b\\\\c\\n\\u0001\"");
	pg_buf_release(&b);
}

TEST(strmap)
{
	pg_strmap m = PG_STRMAP_INIT;
	char key[32];
	int found;
	for (int i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		CHECK_OK(pg_strmap_set(&m, key, (void *)(intptr_t)(i + 1)));
	}
	CHECK_INT(m.count, 1000);
	CHECK((intptr_t)pg_strmap_get(&m, "k777", &found) == 778 && found);
	CHECK(pg_strmap_get(&m, "nope", &found) == NULL && !found);
	pg_strmap_release(&m);
}

TEST(oidmap)
{
	pg_oidmap m = PG_OIDMAP_INIT;
	unsigned char id[20];
	for (uint32_t i = 0; i < 5000; i++) {
		memset(id, 0, sizeof(id));
		memcpy(id, &i, sizeof(i));
		id[19] = (unsigned char)i;
		CHECK_OK(pg_oidmap_set(&m, id, i));
	}
	memset(id, 0, sizeof(id));
	{ uint32_t k = 4321; memcpy(id, &k, 4); id[19] = (unsigned char)k; }
	CHECK_INT(pg_oidmap_get(&m, id), 4321);
	id[5] = 1;
	CHECK(pg_oidmap_get(&m, id) == PG_OIDMAP_NONE);
	pg_oidmap_release(&m);
}

TEST(vec)
{
	PG_VEC(int) v = PG_VEC_INIT;
	for (int i = 0; i < 100; i++)
		CHECK_OK(pg_vec_push(&v, i * 2));
	CHECK_INT(v.len, 100);
	CHECK_INT(v.ptr[99], 198);
	pg_vec_release(&v);
}

TEST(kver)
{
	pg_kver a, b;
	char buf[32];
	static const char *order[] = { "v4.19", "5.4-rc1", "5.4-rc7", "v5.4", "5.4.1", "5.4.10", "5.10-rc1", "6.1" };
	for (size_t i = 0; i + 1 < sizeof(order) / sizeof(*order); i++) {
		CHECK_OK(pg_kver_parse(&a, order[i]));
		CHECK_OK(pg_kver_parse(&b, order[i + 1]));
		CHECK(pg_kver_cmp(&a, &b) < 0);
		CHECK(pg_kver_cmp(&b, &a) > 0);
	}
	CHECK_OK(pg_kver_parse(&a, "v6.2-rc3"));
	pg_kver_format(buf, sizeof(buf), &a);
	CHECK_STR(buf, "6.2-rc3");
	CHECK(pg_kver_parse(&a, "6") == PG_EINVALID);
	CHECK(pg_kver_parse(&a, "6.1.y") == PG_EINVALID);
	CHECK(pg_kver_parse(&a, "6.1-rc0") == PG_EINVALID);
	CHECK(pg_kver_parse(&a, "") == PG_EINVALID);
}

TEST(time)
{
	int64_t t;
	char buf[32];
	CHECK_OK(pg_time_parse(&t, "2024-02-29"));
	pg_time_iso8601(buf, sizeof(buf), t);
	CHECK_STR(buf, "2024-02-29T00:00:00Z");
	CHECK_OK(pg_time_parse(&t, "2024-03-01T12:00:00+02:00"));
	pg_time_iso8601(buf, sizeof(buf), t);
	CHECK_STR(buf, "2024-03-01T10:00:00Z");
	CHECK(pg_time_parse(&t, "yesterday") == PG_EINVALID);
	CHECK(pg_time_parse(&t, "2024-13-01") == PG_EINVALID);
}

TEST(hex)
{
	CHECK(pg_str_is_sha("0123456789abcdef0123456789abcdef01234567"));
	CHECK(!pg_str_is_sha("0123456789abcdef0123456789abcdef0123456"));
	CHECK(!pg_str_is_sha("0123456789abcdef0123456789abcdef012345678"));
	CHECK_INT(pg_str_hexlen("abc12g", 40), 5);
}

TEST(sha1)
{
	static const struct { const char *in; const char *hex; } cases[] = {
		{ "", "da39a3ee5e6b4b0d3255bfef95601890afd80709" },
		{ "abc", "a9993e364706816aba3e25717850c26c9cd0d89d" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "84983e441c3bd26ebaae4aa1f95129e5e54670f1" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		pg_sha1 c;
		unsigned char d[20];
		char hex[41];
		pg_sha1_init(&c);
		/* feed byte by byte to exercise block buffering */
		for (const char *p = cases[i].in; *p; p++)
			pg_sha1_update(&c, p, 1);
		pg_sha1_final(d, &c);
		for (int j = 0; j < 20; j++)
			snprintf(hex + 2 * j, 3, "%02x", d[j]);
		CHECK_STR(hex, cases[i].hex);
	}
	{ /* one million 'a' */
		pg_sha1 c;
		unsigned char d[20];
		char buf[1000], hex[41];
		memset(buf, 'a', sizeof(buf));
		pg_sha1_init(&c);
		for (int i = 0; i < 1000; i++)
			pg_sha1_update(&c, buf, sizeof(buf));
		pg_sha1_final(d, &c);
		for (int j = 0; j < 20; j++)
			snprintf(hex + 2 * j, 3, "%02x", d[j]);
		CHECK_STR(hex, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
	}
}

int main(void)
{
	RUN(buf_limit);
	RUN(buf_json);
	RUN(strmap);
	RUN(oidmap);
	RUN(vec);
	RUN(sha1);
	RUN(kver);
	RUN(time);
	RUN(hex);
	return harness_done();
}
