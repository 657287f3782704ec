/*
 * Unit tests for src/cve: the record parsers (.dyad, .sha1, .vulnerable,
 * .mbox, CVE JSON 5) and pg_cve_import/show/list on a small vulns.git layout
 * written here.  The real records are exercised by tests/integration/t300x.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "harness.h"
#include "patchgap/cve.h"
#include "patchgap/store.h"
#include "cve/cve_int.h"

#define SA "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SB "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define SC "cccccccccccccccccccccccccccccccccccccccc"

static char tmpdir[256];

static void write_file(const char *rel, const char *text)
{
	char p[512];
	FILE *f;
	snprintf(p, sizeof(p), "%s/%s", tmpdir, rel);
	f = fopen(p, "w");
	if (!f) {
		fprintf(stderr, "cannot write %s\n", p);
		exit(2);
	}
	fputs(text, f);
	fclose(f);
}

TEST(ids)
{
	CHECK(pg_cve_id_valid("CVE-2024-1234"));
	CHECK(pg_cve_id_valid("CVE-2021-47659"));
	CHECK(!pg_cve_id_valid("CVE-2024-123"));
	CHECK(!pg_cve_id_valid("CVE-24-12345"));
	CHECK(!pg_cve_id_valid("CVE-2024-1234x"));
	CHECK(!pg_cve_id_valid("cve-2024-1234"));
	CHECK(!pg_cve_id_valid(NULL));
}

TEST(dyad)
{
	pg_cve__rec r;
	CHECK_OK(pg_cve__rec_init(&r, "CVE-2024-1000"));
	CHECK_OK(pg_cve__parse_dyad(&r,
		"# dyad version: 1.2.0\n"
		"# \tgetting vulnerable:fixed pairs for git id " SB "\n"
		"# \tSetting original vulnerable kernel to be kernel 4.19.246 and git id " SC "\n"
		"4.19.246:" SC ":4.19.306:" SA "\n"
		"2.6.32.71:" SC ":0:0\n"
		"0:0:6.8:" SB "\r\n"
		"\n"));
	CHECK_STR(r.dyad_version, "1.2.0");
	CHECK_INT(r.ranges.len, 3);
	CHECK_STR(r.ranges.ptr[0].vuln_version, "4.19.246");
	CHECK_STR(r.ranges.ptr[0].fix_sha, SA);
	CHECK_STR(r.ranges.ptr[1].vuln_version, "2.6.32.71");
	CHECK_STR(r.ranges.ptr[1].fix_sha, "0");
	CHECK_STR(r.ranges.ptr[2].vuln_sha, "0");
	CHECK_STR(r.ranges.ptr[2].fix_sha, SB);
	CHECK_INT(r.fixes.len, 2);          /* the "0" fix is not a commit */
	CHECK_STR(r.fixes.ptr[0].source, "dyad");
	CHECK_INT(r.introducers.len, 1);
	CHECK_STR(r.introducers.ptr[0].sha, SC);
	CHECK_STR(r.introducers.ptr[0].source, "dyad_override");
	CHECK_STR(r.introducers.ptr[0].version, "4.19.246");
	pg_cve__rec_release(&r);

	static const char *const bad[] = {
		"6.1:" SA ":6.2\n",                    /* three fields */
		"6.1:" SA ":6.2:" SB ":x\n",           /* five */
		"6.1:" SA ":6.2:zzzz\n",               /* not a sha */
		"6.1:" SA ":6.2:" SB "a\n",            /* 41 hex */
		"six:" SA ":6.2:" SB "\n",             /* not a version */
		"6.:" SA ":6.2:" SB "\n",
		"# \tSetting original vulnerable kernel to be kernel 5.4 and git id 1234\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_OK(pg_cve__rec_init(&r, "CVE-2024-1000"));
		CHECK(pg_cve__parse_dyad(&r, bad[i]) == PG_EINVALID);
		CHECK(strstr(pg_error_last(), "line 1") != NULL);
		pg_cve__rec_release(&r);
	}
}

TEST(sha1_and_vulnerable)
{
	pg_cve__rec r;
	CHECK_OK(pg_cve__rec_init(&r, "CVE-2024-1000"));
	CHECK_OK(pg_cve__parse_sha1(&r, SA "\n\n" "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB\n" SA "\n000000000\n"));
	CHECK_INT(r.fixes.len, 2);
	CHECK_STR(r.fixes.ptr[1].sha, SB);  /* lowercased, duplicates dropped, zero id ignored */
	CHECK(pg_cve__parse_sha1(&r, SA "\n1e18ec3e9d46\n") == PG_EINVALID);
	CHECK(strstr(pg_error_last(), "line 2: '1e18ec3e9d46'") != NULL);
	/* .vulnerable is hand-written: abbreviated ids are kept, non-hex is not */
	CHECK_OK(pg_cve__parse_vulnerable(&r, "1e18ec3e9d46\n" SC "\n"));
	CHECK_INT(r.introducers.len, 2);
	CHECK_STR(r.introducers.ptr[0].sha, "1e18ec3e9d46");
	CHECK(pg_cve__parse_vulnerable(&r, "v6.1\n") == PG_EINVALID);
	CHECK(pg_cve__parse_vulnerable(&r, "abc\n") == PG_EINVALID);
	pg_cve__rec_release(&r);
}

TEST(mbox)
{
	pg_cve__rec r;
	CHECK_OK(pg_cve__rec_init(&r, "CVE-2024-1000"));
	CHECK_OK(pg_cve__parse_mbox(&r, "From bippy-1.2.0 Mon Sep 17 00:00:00 2001\nFrom: x\n"
				       "Subject: CVE-2024-1000: net: fix a leak\n\nSubject: not this\n"));
	CHECK_STR(r.title, "net: fix a leak");
	CHECK_OK(pg_cve__parse_mbox(&r, "Subject: CVE-2024-1000: other\n"));   /* keeps the first title */
	CHECK_STR(r.title, "net: fix a leak");
	pg_cve__rec_release(&r);
}

static const char record_json[] =
	"{\"containers\": {\"cna\": {\"providerMetadata\": {\"orgId\": \"x\"},"
	" \"title\": \"net: fix\","
	" \"descriptions\": [{\"lang\": \"de\", \"value\": \"nein\"}, {\"lang\": \"en\", \"value\": \"the text\"}],"
	" \"metrics\": [{\"cvssV3_1\": {\"version\": \"3.1\", \"vectorString\": \"CVSS:3.1/AV:N\","
	"   \"baseScore\": 9.8, \"baseSeverity\": \"CRITICAL\"}}],"
	" \"affected\": [{\"product\": \"Linux\", \"vendor\": \"Linux\", \"defaultStatus\": \"unaffected\","
	"   \"programFiles\": [\"net/a.c\", \"net/b.c\"],"
	"   \"versions\": [{\"version\": \"" SA "\", \"lessThan\": \"" SB "\", \"status\": \"affected\", \"versionType\": \"git\"},"
	"                {\"version\": \"" SA "\", \"status\": \"affected\", \"versionType\": \"git\"},"
	"                {\"version\": \"6.1.116\", \"lessThan\": \"6.1.124\", \"status\": \"affected\", \"versionType\": \"semver\"}]},"
	"  {\"product\": \"Linux\", \"defaultStatus\": \"affected\", \"programFiles\": [\"net/a.c\"],"
	"   \"versions\": [{\"version\": \"6.13\", \"lessThanOrEqual\": \"*\", \"status\": \"unaffected\","
	"                  \"versionType\": \"original_commit_for_fix\"}]},"
	"  {\"product\": \"Other\", \"programFiles\": [\"x.c\"], \"versions\": []}],"
	" \"references\": [{\"url\": \"https://git.kernel.org/stable/c/" SC "\"}, {\"url\": \"https://example.org/x\"}]}},"
	" \"cveMetadata\": {\"cveId\": \"CVE-2024-1000\", \"state\": \"PUBLISHED\","
	"   \"datePublished\": \"2024-03-01T10:00:00.000Z\", \"dateUpdated\": \"2024-03-02T12:00:00+02:00\"},"
	" \"dataType\": \"CVE_RECORD\", \"dataVersion\": \"5.1.1\"}";

TEST(json)
{
	pg_cve__rec r;
	CHECK_OK(pg_cve__rec_init(&r, "CVE-2024-1000"));
	CHECK_OK(pg_cve__parse_json(&r, record_json, strlen(record_json), NULL, 1));
	CHECK_STR(r.state, "published");
	CHECK_STR(r.title, "net: fix");
	CHECK_STR(r.description, "the text");
	CHECK_STR(r.published, "2024-03-01T10:00:00Z");
	CHECK_STR(r.updated, "2024-03-02T10:00:00Z");
	CHECK(r.has_cvss && r.cvss_score > 9.79 && r.cvss_score < 9.81);
	CHECK_STR(r.cvss_severity, "CRITICAL");
	CHECK_INT(r.files.len, 2);       /* union over the Linux blocks, no duplicate, not "Other" */
	CHECK_INT(r.ranges.len, 2);
	CHECK_STR(r.ranges.ptr[0].fix_sha, SB);
	CHECK_STR(r.ranges.ptr[1].fix_sha, "0");
	CHECK(r.ranges.ptr[0].vuln_version == NULL);
	CHECK_INT(r.versions.len, 2);
	CHECK_STR(r.versions.ptr[0].default_status, "unaffected");
	CHECK_STR(r.versions.ptr[1].less_than_or_equal, "*");
	CHECK_INT(r.fixes.len, 2);       /* the lessThan and the stable URL */
	CHECK_STR(r.fixes.ptr[0].source, "json");
	CHECK_STR(r.fixes.ptr[1].source, "reference");
	CHECK_INT(r.refs.len, 2);
	pg_cve__rec_release(&r);

	/* the directory's state wins (vulns.git rejected/ with an old published JSON) */
	CHECK_OK(pg_cve__rec_init(&r, "CVE-2024-1000"));
	CHECK_OK(pg_cve__parse_json(&r, record_json, strlen(record_json), "rejected", 0));
	CHECK_STR(r.state, "rejected");
	CHECK_INT(r.ranges.len, 0);
	pg_cve__rec_release(&r);

	/* wrong id, truncated, not a record, bad state, bad date */
	CHECK_OK(pg_cve__rec_init(&r, "CVE-2024-1001"));
	CHECK(pg_cve__parse_json(&r, record_json, strlen(record_json), NULL, 1) == PG_EINVALID);
	CHECK(strstr(pg_error_last(), "'CVE-2024-1000' does not match the file name") != NULL);
	pg_cve__rec_release(&r);
	CHECK_OK(pg_cve__rec_init(&r, "CVE-2024-1000"));
	CHECK(pg_cve__parse_json(&r, record_json, 100, NULL, 1) == PG_EINVALID);
	CHECK(strstr(pg_error_last(), "invalid JSON") != NULL);
	CHECK(pg_cve__parse_json(&r, "[1, 2]", 6, NULL, 1) == PG_EINVALID);
	CHECK(strstr(pg_error_last(), "no cveMetadata.cveId") != NULL);
	{
		const char *j = "{\"cveMetadata\": {\"cveId\": \"CVE-2024-1000\", \"state\": \"RESERVED\"},"
				" \"containers\": {\"cna\": {}}}";
		CHECK(pg_cve__parse_json(&r, j, strlen(j), NULL, 1) == PG_EINVALID);
		CHECK(strstr(pg_error_last(), "RESERVED") != NULL);
		j = "{\"cveMetadata\": {\"cveId\": \"CVE-2024-1000\", \"state\": \"PUBLISHED\","
		    " \"datePublished\": \"last week\"}, \"containers\": {\"cna\": {}}}";
		CHECK(pg_cve__parse_json(&r, j, strlen(j), NULL, 1) == PG_EINVALID);
		CHECK(strstr(pg_error_last(), "datePublished") != NULL);
	}
	pg_cve__rec_release(&r);
}

struct problems {
	int n;
	char last[1024];
};

static void on_problem(const char *path, const char *reason, void *payload)
{
	struct problems *p = payload;
	p->n++;
	snprintf(p->last, sizeof(p->last), "%s: %s", path, reason);
}

TEST(import_show_list)
{
	char db[512], root[512];
	const char *paths[1];
	pg_store *s = NULL;
	pg_cve_import_stats st;
	struct problems pr = { 0, "" };
	pg_cve_import_opts opts = { on_problem, NULL, &pr };
	pg_cve_filter f = { NULL, NULL, NULL };
	json_t *o = NULL;

	snprintf(db, sizeof(db), "%s/t.db", tmpdir);
	snprintf(root, sizeof(root), "%s/vulns", tmpdir);
	paths[0] = root;
	CHECK(system("mkdir -p \"$TMPROOT/vulns/cve/published/2024\" \"$TMPROOT/vulns/cve/rejected/2023\"") == 0);
	write_file("vulns/cve/published/2024/CVE-2024-1000.json", record_json);
	write_file("vulns/cve/published/2024/CVE-2024-1000.sha1", SC "\n");
	write_file("vulns/cve/published/2024/CVE-2024-1000.dyad", "# dyad version: 1.2.0\n5.10:" SA ":6.1:" SC "\n");
	write_file("vulns/cve/published/2024/CVE-2024-1000.vulnerable", SA "\n");
	write_file("vulns/cve/rejected/2023/CVE-2023-52999.sha1", SB "\n");
	write_file("vulns/cve/rejected/2023/CVE-2023-52999.mbox", "Subject: CVE-2023-52999: old title\n\n");
	write_file("vulns/cve/published/2024/CVE-2024-1001.sha1", "nope\n");

	CHECK_OK(pg_store_open(&s, db, PG_STORE_CREATE));
	CHECK_OK(pg_cve_import(s, paths, 1, &opts, &st));
	CHECK_INT(st.imported, 1);
	CHECK_INT(st.rejected, 1);
	CHECK_INT(st.skipped, 1);
	CHECK_INT(pr.n, 1);
	CHECK(strstr(pr.last, "CVE-2024-1001.sha1: line 1: 'nope'") != NULL);

	CHECK_OK(pg_cve_show(&o, s, "CVE-2024-1000"));
	CHECK_STR(json_string_value(json_object_get(o, "source_path")), "cve/published/2024/CVE-2024-1000.json");
	CHECK_INT(json_array_size(json_object_get(o, "fixes")), 2);   /* SC (sha1) + SB (json) */
	CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(o, "fixes"), 0), "source")), "sha1");
	CHECK_INT(json_array_size(json_object_get(o, "ranges")), 1);  /* from .dyad, not the JSON */
	CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(o, "ranges"), 0), "source")), "dyad");
	json_decref(o);
	o = NULL;
	CHECK_OK(pg_cve_show(&o, s, "CVE-2023-52999"));
	CHECK_STR(json_string_value(json_object_get(o, "state")), "rejected");
	CHECK_STR(json_string_value(json_object_get(o, "title")), "old title");
	json_decref(o);
	o = NULL;
	CHECK(pg_cve_show(&o, s, "CVE-2024-9999") == PG_ENOTFOUND);

	f.fixed_by = "CCCCCCCC";
	CHECK_OK(pg_cve_list(&o, s, &f));
	CHECK_INT(json_array_size(o), 1);
	CHECK_STR(json_string_value(json_object_get(json_array_get(o, 0), "id")), "CVE-2024-1000");
	json_decref(o);
	o = NULL;
	f.fixed_by = NULL;
	f.state = "rejected";
	CHECK_OK(pg_cve_list(&o, s, &f));
	CHECK_INT(json_array_size(o), 1);
	json_decref(o);
	o = NULL;
	f.state = "withdrawn";
	CHECK(pg_cve_list(&o, s, &f) == PG_EINVALID);
	f.state = NULL;
	f.since = "2024-03-01";
	CHECK_OK(pg_cve_list(&o, s, &f));
	CHECK_INT(json_array_size(o), 1);
	json_decref(o);
	o = NULL;
	f.since = "2024-03-02";
	CHECK_OK(pg_cve_list(&o, s, &f));
	CHECK_INT(json_array_size(o), 0);
	json_decref(o);

	/* again: unchanged, and the broken record is still reported */
	pr.n = 0;
	CHECK_OK(pg_cve_import(s, paths, 1, &opts, &st));
	CHECK_INT(st.unchanged, 2);
	CHECK_INT(st.imported + st.updated + st.rejected, 0);
	CHECK_INT(pr.n, 1);
	pg_store_free(s);
}

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/pg-test-cve-XXXXXX");
	if (!mkdtemp(tmpdir))
		return 2;
	setenv("TMPROOT", tmpdir, 1);
	RUN(ids);
	RUN(dyad);
	RUN(sha1_and_vulnerable);
	RUN(mbox);
	RUN(json);
	RUN(import_show_list);
	{
		char cmd[600];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", tmpdir);
	}
	return harness_done();
}
