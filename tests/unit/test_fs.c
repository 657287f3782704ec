/*
 * test_fs.c - file names made from ids stay one safe path component, are
 * distinct for distinct ids, and atomic writes never follow a planted file.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "harness.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/str.h"

/* the name for id (len bytes) + ext, checked against the invariants of fs.h */
static char *name_of(const char *id, size_t len, const char *ext)
{
	pg_buf b = PG_BUF_INIT;
	char *s;
	if (pg_fs_safe_name(&b, id, len, ext) < 0) {
		pg_buf_release(&b);
		return NULL;
	}
	s = strdup(pg_buf_cstr(&b));
	pg_buf_release(&b);
	return s;
}

static int is_safe(const char *s)
{
	if (!s || !*s || s[0] == '.' || strlen(s) > PG_FS_NAME_MAX || strchr(s, '/'))
		return 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p >= 0x7f)
			return 0;
	return 1;
}

TEST(safe_name_plain_ids_unchanged)
{
	char *s = name_of("PGAP-CVE-2024-26581", 19, ".csaf.json");
	CHECK_STR(s, "PGAP-CVE-2024-26581.csaf.json");
	free(s);
	s = name_of("linux-6.1.y", 11, NULL);
	CHECK_STR(s, "linux-6.1.y");
	free(s);
}

TEST(safe_name_hostile)
{
	static const struct { const char *id; size_t len; const char *want; } cases[] = {
		{ "vendor/acme-6.1", 15, "vendor%2Facme-6.1" },
		{ "../../X", 7, "%2E.%2F..%2FX" },
		{ "..", 2, "%2E." },
		{ ".", 1, "%2E" },
		{ ".hidden", 7, "%2Ehidden" },
		{ "a\nBcc: x", 8, "a%0ABcc%3A%20x" },
		{ "nul\0byte", 8, "nul%00byte" },
		{ "100%", 4, "100%25" },
		{ "\xc3\xa9", 2, "%C3%A9" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *s = name_of(cases[i].id, cases[i].len, ".json");
		char want[64];
		snprintf(want, sizeof(want), "%s.json", cases[i].want);
		CHECK_STR(s, want);
		CHECK(is_safe(s));
		free(s);
	}
	CHECK(name_of("", 0, ".json") == NULL);
}

TEST(safe_name_long_ids_distinct_and_bounded)
{
	char a[5000], b[5000];
	char *sa, *sb, *sc;
	memset(a, 'x', sizeof(a));
	memcpy(b, a, sizeof(b));
	b[4999] = 'y';
	sa = name_of(a, sizeof(a), ".mbox");
	sb = name_of(b, sizeof(b), ".mbox");
	memset(a, '/', sizeof(a)); /* every byte escaped: three times longer */
	sc = name_of(a, sizeof(a), ".mbox");
	CHECK(is_safe(sa) && is_safe(sb) && is_safe(sc));
	CHECK(sa && sb && strcmp(sa, sb) != 0);
	CHECK(sa && strlen(sa) <= PG_FS_NAME_MAX && !strcmp(sa + strlen(sa) - 5, ".mbox"));
	if (sc) {
		const char *tilde = strchr(sc, '~');
		CHECK(tilde && (tilde - sc) % 3 == 0);
	}
	free(sa);
	free(sb);
	free(sc);
}

TEST(write_atomic_never_follows_a_planted_file)
{
	char dir[] = "/tmp/pg-test-fs.XXXXXX", path[512], tmp[600], victim[600], buf[64];
	FILE *f;
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/out.json", dir);
	snprintf(tmp, sizeof(tmp), "%s/.out.json.tmp.%ld", dir, (long)getpid()); /* the hidden temporary name */
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	f = fopen(victim, "w");
	CHECK(f != NULL);
	if (f) {
		fputs("precious", f);
		fclose(f);
	}
	CHECK(symlink(victim, tmp) == 0);
	CHECK(pg_fs_write_file_atomic(path, "evil", 4) < 0);
	f = fopen(victim, "r");
	CHECK(f && fgets(buf, sizeof(buf), f) && !strcmp(buf, "precious"));
	if (f)
		fclose(f);
	CHECK(access(path, F_OK) != 0);
	CHECK(unlink(tmp) == 0); /* the planted link is left alone */
	CHECK_OK(pg_fs_write_atomic(dir, "out.json", "good", 4));
	f = fopen(path, "r");
	CHECK(f && fgets(buf, sizeof(buf), f) && !strcmp(buf, "good"));
	if (f)
		fclose(f);
	CHECK(access(tmp, F_OK) != 0);
	CHECK(pg_fs_write_atomic(dir, "../escape", "x", 1) < 0);
	CHECK(pg_fs_write_atomic(dir, "..", "x", 1) < 0);
	unlink(path);
	unlink(victim);
	rmdir(dir);
}

/* what a killed writer leaves is hidden, and pg_fs_clear_tmp removes only that */
TEST(clear_tmp_removes_only_left_temporaries)
{
	static const char *const keep[] = { "CVE-1.model.json", "x.tmp.123", ".x.tmp.", ".x.tmp.12a", ".hidden" };
	char dir[] = "/tmp/pg-test-fs.XXXXXX", p[600];
	size_t removed = 99;
	FILE *f;
	CHECK(mkdtemp(dir) != NULL);
	for (size_t i = 0; i < sizeof(keep) / sizeof(*keep); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, keep[i]);
		f = fopen(p, "w");
		CHECK(f != NULL);
		if (f)
			fclose(f);
	}
	snprintf(p, sizeof(p), "%s/.CVE-2.model.json.tmp.4242", dir);
	f = fopen(p, "w");
	CHECK(f != NULL);
	if (f)
		fclose(f);
	pg_fs_clear_tmp(dir, 3600, &removed); /* too young: kept */
	CHECK(removed == 0 && access(p, F_OK) == 0);
	pg_fs_clear_tmp(dir, 0, &removed);
	CHECK(removed == 1 && access(p, F_OK) != 0);
	for (size_t i = 0; i < sizeof(keep) / sizeof(*keep); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, keep[i]);
		CHECK(access(p, F_OK) == 0);
		unlink(p);
	}
	pg_fs_clear_tmp("/nonexistent/pg-test", 0, &removed);
	CHECK(removed == 0);
	rmdir(dir);
}

TEST(error_messages_show_no_control_bytes)
{
	char s[] = "a\x1b[31mred\nBcc: x\x7f";
	pg_error_set("cannot parse '%s'", "a\x1b[2J\r\nforged line");
	CHECK(!strpbrk(pg_error_last(), "\x1b\r\n"));
	CHECK_STR(pg_error_last(), "cannot parse 'a?[2J??forged line'");
	pg_error_prefix("file '%s'", "x\ny");
	CHECK_STR(pg_error_last(), "file 'x?y': cannot parse 'a?[2J??forged line'");
	CHECK_STR(pg_str_sanitize(s), "a?[31mred?Bcc: x?");
}

int main(void)
{
	RUN(safe_name_plain_ids_unchanged);
	RUN(safe_name_hostile);
	RUN(safe_name_long_ids_distinct_and_bounded);
	RUN(write_atomic_never_follows_a_planted_file);
	RUN(clear_tmp_removes_only_left_temporaries);
	RUN(error_messages_show_no_control_bytes);
	return harness_done();
}
