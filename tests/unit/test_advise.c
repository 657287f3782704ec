/*
 * Unit tests for src/advise: the model (normalisation and validation), the
 * CNA loader on real kernel-cves records, the writers' structure, byte
 * stability, the revision ledger, the JSON model round trip, and the
 * patch-gap report statistics on hand-computed sets.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include <zlib.h>
#include "harness.h"
#include "patchgap/advise.h"
#include "patchgap/store.h"
#include "util/buf.h"
#include "util/str.h"

static char tmpdir[256];
static char cves_path[4096];

static const char *cves(void)
{
	if (!SHARED_DATA)
		return NULL;
	snprintf(cves_path, sizeof(cves_path), "%s/kernel-cves.jsonl.gz", SHARED_DATA);
	return access(cves_path, R_OK) == 0 ? cves_path : NULL;
}

/* The raw record of id, read independently of the loader. */
static json_t *raw_record(const char *id)
{
	gzFile f = gzopen(cves(), "rb");
	static char line[1 << 22];
	char needle[64];
	json_t *r = NULL;
	snprintf(needle, sizeof(needle), "{\"id\":\"%s\"", id);
	while (f && gzgets(f, line, sizeof(line)))
		if (!strncmp(line, needle, strlen(needle))) {
			r = json_loads(line, 0, NULL);
			break;
		}
	if (f)
		gzclose(f);
	return r;
}

static const pg_advise_state *state_of(const pg_advise_doc *d, const char *product)
{
	for (size_t i = 0; i < d->vulns[0].nstates; i++)
		if (!strcmp(d->vulns[0].states[i].product, product))
			return &d->vulns[0].states[i];
	return NULL;
}

static json_t *render(const pg_advise_doc *d, pg_advise_format f)
{
	pg_buf b = PG_BUF_INIT;
	json_t *j = NULL;
	if (pg_advise_write(&b, f, d, 0) == 0)
		j = json_loads(pg_buf_cstr(&b), 0, NULL);
	pg_buf_release(&b);
	return j;
}

/* A small in-memory model: two branches, one build. */
static pg_advise_doc *small_model(void)
{
	pg_advise_doc *d = NULL;
	pg_advise_vuln *v;
	pg_advise_state *s;
	pg_advise_product *p;
	if (pg_advise_doc_new(&d, "PGAP-TEST-1") < 0)
		return NULL;
	d->data_date = 1700000000;
	pg_advise_doc_add_product(&p, d, "vendor-x", "vendor-6.1", PG_ADVISE_VENDOR, NULL);
	pg_advise_set(&p->repo, "https://example.org/vendor.git");
	pg_advise_doc_add_product(&p, d, "vendor-x+arm64", "vendor-6.1", PG_ADVISE_VENDOR, "arm64");
	pg_advise_set(&p->repo, "https://example.org/vendor.git");
	pg_advise_doc_add_product(&p, d, "linux-6.1.y", "6.1", PG_ADVISE_STABLE, NULL);
	p->has_tags = 1;
	pg_advise_doc_add_vuln(&v, d, "PGSA-0123456789ab");
	pg_advise_set(&v->title, "net: fix a silent use-after-free");
	pg_advise_set(&v->cwe, "CWE-416");
	pg_advise_strs_add(&v->fix_commits, "0123456789abcdef0123456789abcdef01234567");
	pg_advise_strs_add(&v->program_files, "net/core/dev.c");
	pg_advise_strs_add(&v->program_files, "net/core/dev.c");
	pg_advise_vuln_add_state(&s, v, "linux-6.1.y", PG_ADVISE_FIXED);
	pg_advise_set(&s->vuln_version, "6.1.10");
	pg_advise_set(&s->vuln_sha, "1111111111111111111111111111111111111111");
	pg_advise_set(&s->fix_version, "6.1.20");
	pg_advise_set(&s->fix_sha, "2222222222222222222222222222222222222222");
	pg_advise_vuln_add_state(&s, v, "vendor-x", PG_ADVISE_AFFECTED);
	pg_advise_set(&s->vuln_sha, "1111111111111111111111111111111111111111");
	pg_advise_set(&s->remediation, "backport needed: 2222222222222222222222222222222222222222");
	pg_advise_vuln_add_state(&s, v, "vendor-x+arm64", PG_ADVISE_NOT_AFFECTED);
	pg_advise_set(&s->justification, PG_ADVISE_J_NOT_IN_EXECUTE_PATH);
	pg_advise_set(&s->evidence, "CONFIG_NET_FOO is not set in the arm64 .config");
	return d;
}

TEST(model_normalize)
{
	pg_advise_doc *d = small_model();
	pg_advise_state *s;
	CHECK(d != NULL);
	CHECK_OK(pg_advise_doc_normalize(d));
	/* stable before vendor; whole branch before its build; states follow products */
	CHECK_STR(d->products[0].id, "linux-6.1.y");
	CHECK_STR(d->products[1].id, "vendor-x");
	CHECK_STR(d->products[2].id, "vendor-x+arm64");
	CHECK_STR(d->vulns[0].states[0].product, "linux-6.1.y");
	CHECK_STR(d->vulns[0].states[2].product, "vendor-x+arm64");
	CHECK_INT(d->vulns[0].program_files.n, 1); /* deduplicated */
	/* invalid: a state for an unknown product */
	CHECK_OK(pg_advise_vuln_add_state(&s, &d->vulns[0], "nope", PG_ADVISE_FIXED));
	CHECK(pg_advise_doc_normalize(d) == PG_EINVALID);
	CHECK(strstr(pg_error_last(), "unknown product 'nope'") != NULL);
	pg_advise_doc_free(d);
	/* invalid: abbreviated commit id */
	d = small_model();
	pg_advise_set(&d->vulns[0].states[0].fix_sha, "22222222");
	CHECK(pg_advise_doc_normalize(d) == PG_EINVALID);
	CHECK(strstr(pg_error_last(), "'22222222'") != NULL);
	pg_advise_doc_free(d);
}

TEST(model_json_roundtrip_and_errors)
{
	pg_advise_doc *d = small_model(), *d2 = NULL;
	pg_buf a = PG_BUF_INIT, b = PG_BUF_INIT;
	CHECK_OK(pg_advise_doc_normalize(d));
	CHECK_OK(pg_advise_write_model(&a, d));
	CHECK_OK(pg_advise_load_json(&d2, pg_buf_cstr(&a), "m.json"));
	if (d2)
		CHECK_OK(pg_advise_write_model(&b, d2));
	CHECK_STR(pg_buf_cstr(&b), pg_buf_cstr(&a));
	pg_advise_doc_free(d2);
	d2 = NULL;
	CHECK(pg_advise_load_json(&d2, "{\"id\": \"X\", \"products\": [{\"id\": \"p\"}], \"vulnerabilities\": "
				  "[{\"id\": \"V\", \"states\": [{\"product\": \"p\", \"status\": \"broken\"}]}]}",
				  "bad.json") == PG_EINVALID);
	CHECK(strstr(pg_error_last(), "bad.json") && strstr(pg_error_last(), "'broken'"));
	CHECK(pg_advise_load_json(&d2, "{\"products\": []}", "noid.json") == PG_EINVALID);
	CHECK(strstr(pg_error_last(), "noid.json") && strstr(pg_error_last(), "'id'"));
	CHECK(pg_advise_load_json(&d2, "[1,", "trunc.json") == PG_EINVALID);
	CHECK(strstr(pg_error_last(), "trunc.json") != NULL);
	CHECK(d2 == NULL);
	pg_buf_release(&a);
	pg_buf_release(&b);
	pg_advise_doc_free(d);
}

TEST(writers_on_small_model)
{
	pg_advise_doc *d = small_model();
	json_t *j;
	pg_buf b = PG_BUF_INIT;
	CHECK_OK(pg_advise_doc_finalize(d, NULL, 0));
	CHECK_INT(d->nrevisions, 1);
	CHECK_INT(d->current_date, 1700000000);
	/* no CVE id: no CVE JSON 5 record */
	CHECK(pg_advise_write_cve5(&b, d, 0) == PG_EINVALID);
	/* CSAF: statuses, flag with justification, build in the tree */
	j = render(d, PG_ADVISE_CSAF);
	CHECK(j != NULL);
	if (j) {
		json_t *v = json_array_get(json_object_get(j, "vulnerabilities"), 0);
		json_t *ps = json_object_get(v, "product_status");
		CHECK_STR(json_string_value(json_array_get(json_object_get(ps, "fixed"), 0)), "linux-6.1.y");
		CHECK_STR(json_string_value(json_array_get(json_object_get(ps, "known_affected"), 0)), "vendor-x");
		CHECK_STR(json_string_value(json_array_get(json_object_get(ps, "known_not_affected"), 0)), "vendor-x+arm64");
		CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(v, "flags"), 0), "label")),
			  PG_ADVISE_J_NOT_IN_EXECUTE_PATH);
		CHECK(strstr(json_string_value(json_object_get(json_array_get(json_object_get(v, "threats"), 0), "details")),
			     "CONFIG_NET_FOO") != NULL);
		CHECK_STR(json_string_value(json_object_get(json_object_get(v, "cwe"), "id")), "CWE-416");
		CHECK_STR(json_string_value(json_object_get(json_object_get(json_object_get(j, "document"), "tracking"), "id")),
			  "PGAP-TEST-1");
		json_decref(j);
	}
	/* OSV: the vendor entry's GIT range is on the vendor repo and unfixed */
	j = render(d, PG_ADVISE_OSV);
	CHECK(j != NULL);
	if (j) {
		json_t *aff = json_object_get(j, "affected"), *e, *r;
		size_t i;
		int seen_vendor = 0;
		CHECK_STR(json_string_value(json_object_get(j, "id")), "x_PGAP-TEST-1");
		CHECK_INT(json_array_size(aff), 2); /* fixed + affected; not_affected goes to database_specific */
		json_array_foreach(aff, i, e) {
			r = json_array_get(json_object_get(e, "ranges"), 0);
			if (!strcmp(json_string_value(json_object_get(json_object_get(e, "package"), "ecosystem")),
				    "Linux:vendor-6.1")) {
				seen_vendor = 1;
				CHECK_STR(json_string_value(json_object_get(r, "repo")), "https://example.org/vendor.git");
				CHECK_INT(json_array_size(json_object_get(r, "events")), 1);
			}
		}
		CHECK(seen_vendor);
		json_decref(j);
	}
	pg_buf_reset(&b);
	CHECK_OK(pg_advise_write_text(&b, d));
	CHECK(strstr(pg_buf_cstr(&b), "vendor-6.1 (arm64): not affected (vulnerable_code_not_in_execute_path)") != NULL);
	pg_buf_release(&b);
	pg_advise_doc_free(d);
}

TEST(cna_stable_introduced_and_unfixed)
{
	pg_advise_doc *d = NULL;
	const pg_advise_state *s;
	if (!cves())
		SKIP("../shared/data/kernel-cves.jsonl.gz not present");
	CHECK_OK(pg_advise_load_cna_file(&d, cves(), "CVE-2025-21629", NULL));
	if (!d)
		return;
	CHECK_STR(d->id, "PGAP-CVE-2025-21629");
	CHECK_STR(d->products[0].id, "linux-mainline");
	/* stable-introduced bug: 6.1.116 -> 6.1.124 */
	CHECK((s = state_of(d, "linux-6.1.y")) != NULL);
	if (s) {
		CHECK_INT(s->status, PG_ADVISE_FIXED);
		CHECK_STR(s->vuln_version, "6.1.116");
		CHECK_STR(s->fix_version, "6.1.124");
		CHECK_STR(s->fix_sha, "ac9cfef69565021c9e1022a493a9c40b03e2caf9");
	}
	/* never fixed on 5.4: affected, backport needed */
	CHECK((s = state_of(d, "linux-5.4.y")) != NULL);
	if (s) {
		CHECK_INT(s->status, PG_ADVISE_AFFECTED);
		CHECK(s->fix_sha == NULL);
		CHECK(s->remediation && strstr(s->remediation, "backport needed") &&
		      strstr(s->remediation, "68e068cabd2c6c533ef934c2e5151609cf6ecc6d"));
	}
	CHECK((s = state_of(d, "linux-mainline")) && s->status == PG_ADVISE_FIXED && !strcmp(s->fix_version, "6.13"));
	CHECK_INT(d->vulns[0].nstates, 9);
	pg_advise_doc_free(d);
	d = NULL;
	/* a branch the CNA does not list, older than the bug: not affected */
	CHECK_OK(pg_advise_load_cna_file(&d, cves(), "CVE-2025-21629", "linux-4.4.y"));
	if (d) {
		CHECK_STR(d->id, "PGAP-CVE-2025-21629-4.4");
		CHECK_INT(d->nproducts, 1);
		CHECK((s = state_of(d, "linux-4.4.y")) && s->status == PG_ADVISE_NOT_AFFECTED &&
		      !strcmp(s->justification, PG_ADVISE_J_CODE_NOT_PRESENT));
	}
	pg_advise_doc_free(d);
	d = NULL;
	CHECK(pg_advise_load_cna_file(&d, cves(), "CVE-1999-0001", NULL) == PG_ENOTFOUND);
	CHECK(strstr(pg_error_last(), "CVE-1999-0001") != NULL);
}

TEST(cna_same_release_is_not_affected)
{
	pg_advise_doc *d = NULL;
	const pg_advise_state *s;
	if (!cves())
		SKIP("../shared/data/kernel-cves.jsonl.gz not present");
	CHECK_OK(pg_advise_load_cna_file(&d, cves(), "CVE-2021-46905", NULL));
	if (!d)
		return;
	CHECK((s = state_of(d, "linux-4.4.y")) && s->status == PG_ADVISE_NOT_AFFECTED);
	CHECK((s = state_of(d, "linux-4.19.y")) && s->status == PG_ADVISE_FIXED && !strcmp(s->vuln_version, "4.19.187"));
	pg_advise_doc_free(d);
}

TEST(cna_rejected)
{
	pg_advise_doc *d = NULL;
	json_t *j;
	if (!cves())
		SKIP("../shared/data/kernel-cves.jsonl.gz not present");
	CHECK_OK(pg_advise_load_cna_file(&d, cves(), "CVE-2019-25161", NULL));
	if (!d)
		return;
	CHECK(d->vulns[0].rejected);
	CHECK(strstr(d->vulns[0].rejection_reason, "CVE-2019-19082") != NULL);
	CHECK_OK(pg_advise_doc_finalize(d, NULL, 0));
	j = render(d, PG_ADVISE_CVE5);
	CHECK_STR(json_string_value(json_object_get(json_object_get(j, "cveMetadata"), "state")), "REJECTED");
	CHECK(json_array_size(json_object_get(json_object_get(json_object_get(j, "containers"), "cna"), "rejectedReasons")) == 1);
	json_decref(j);
	j = render(d, PG_ADVISE_OSV);
	CHECK(json_is_string(json_object_get(j, "withdrawn")));
	json_decref(j);
	pg_advise_doc_free(d);
}

/* OSV GIT events and CVE5 git ranges equal the dyad pairs of the record. */
static void check_ranges_match_dyad(const char *id)
{
	json_t *rec = raw_record(id), *dy, *line, *osv, *cve, *aff, *e;
	pg_advise_doc *d = NULL;
	size_t i, k, want = 0, got = 0, cve_git = 0;

	CHECK(rec != NULL);
	if (!rec)
		return;
	CHECK_OK(pg_advise_load_cna_record(&d, rec, NULL));
	CHECK_OK(pg_advise_doc_finalize(d, NULL, 0));
	osv = render(d, PG_ADVISE_OSV);
	cve = render(d, PG_ADVISE_CVE5);
	dy = json_object_get(rec, "dyad");
	aff = json_object_get(osv, "affected");
	json_array_foreach(dy, i, line) {
		const char *vs = json_string_value(json_object_get(line, "vuln_sha"));
		const char *fs = json_string_value(json_object_get(line, "fix_sha"));
		const char *vv = json_string_value(json_object_get(line, "vuln_version"));
		const char *fv = json_string_value(json_object_get(line, "fix_version"));
		int found = 0;
		if (!strcmp(vv, fv))
			continue; /* introduced and fixed in one release: not affected */
		want++;
		json_array_foreach(aff, k, e) {
			json_t *r = json_array_get(json_object_get(e, "ranges"), 0), *ev = json_object_get(r, "events");
			const char *in = json_string_value(json_object_get(json_array_get(ev, 0), "introduced"));
			const char *fx = json_string_value(json_object_get(json_array_get(ev, 1), "fixed"));
			if (strcmp(json_string_value(json_object_get(r, "type")), "GIT"))
				continue;
			if (in && !strcmp(in, vs) && (!strcmp(fs, "0") ? fx == NULL : fx && !strcmp(fx, fs)))
				found = 1;
		}
		CHECK(found);
		got += found;
	}
	CHECK_INT(got, want);
	CHECK_INT(json_array_size(aff), want);
	/* CVE5: the git block has one range per affected line */
	json_array_foreach(json_object_get(json_object_get(json_object_get(cve, "containers"), "cna"), "affected"), i, e) {
		json_t *ver;
		json_array_foreach(json_object_get(e, "versions"), k, ver)
			cve_git += json_string_value(json_object_get(ver, "versionType")) &&
				   !strcmp(json_string_value(json_object_get(ver, "versionType")), "git");
	}
	CHECK_INT(cve_git, want);
	json_decref(osv);
	json_decref(cve);
	json_decref(rec);
	pg_advise_doc_free(d);
}

TEST(ranges_equal_dyad_pairs)
{
	if (!cves())
		SKIP("../shared/data/kernel-cves.jsonl.gz not present");
	check_ranges_match_dyad("CVE-2025-21629");
	check_ranges_match_dyad("CVE-2021-46905");
	check_ranges_match_dyad("CVE-2019-25160");
	check_ranges_match_dyad("CVE-2020-36785");
}

TEST(byte_stable)
{
	pg_advise_doc *a = NULL, *b = NULL;
	if (!cves())
		SKIP("../shared/data/kernel-cves.jsonl.gz not present");
	CHECK_OK(pg_advise_load_cna_file(&a, cves(), "CVE-2025-21629", NULL));
	CHECK_OK(pg_advise_load_cna_file(&b, cves(), "CVE-2025-21629", NULL));
	if (!a || !b)
		goto out;
	CHECK_OK(pg_advise_doc_finalize(a, NULL, 0));
	CHECK_OK(pg_advise_doc_finalize(b, NULL, 0));
	for (int f = 0; f < PG_ADVISE_NFORMATS; f++) {
		pg_buf x = PG_BUF_INIT, y = PG_BUF_INIT;
		CHECK_OK(pg_advise_write(&x, (pg_advise_format)f, a, 0));
		CHECK_OK(pg_advise_write(&y, (pg_advise_format)f, b, 0));
		CHECK(x.len > 100 && x.len == y.len && !memcmp(x.ptr, y.ptr, x.len));
		pg_buf_release(&x);
		pg_buf_release(&y);
	}
out:
	pg_advise_doc_free(a);
	pg_advise_doc_free(b);
}

TEST(revisions)
{
	pg_store *s = NULL;
	pg_advise_doc *d = small_model();
	char db[512];
	pg_buf one = PG_BUF_INIT, again = PG_BUF_INIT, two = PG_BUF_INIT;
	json_t *j;

	snprintf(db, sizeof(db), "%s/adv.db", tmpdir);
	CHECK_OK(pg_store_open(&s, db, PG_STORE_CREATE));
	if (!s)
		return;
	CHECK_OK(pg_advise_doc_finalize(d, s, 1));
	CHECK_INT(d->nrevisions, 1);
	CHECK_OK(pg_advise_write_csaf(&one, d));
	pg_advise_doc_free(d);
	/* unchanged: same history, same bytes */
	d = small_model();
	CHECK_OK(pg_advise_doc_finalize(d, s, 1));
	CHECK_INT(d->nrevisions, 1);
	CHECK_OK(pg_advise_write_csaf(&again, d));
	CHECK_STR(pg_buf_cstr(&again), pg_buf_cstr(&one));
	pg_advise_doc_free(d);
	/* changed (the vendor branch got the fix), same data date: revision 2, one second later */
	d = small_model();
	d->vulns[0].states[1].status = PG_ADVISE_FIXED;
	pg_advise_set(&d->vulns[0].states[1].fix_sha, "3333333333333333333333333333333333333333");
	CHECK_OK(pg_advise_doc_finalize(d, s, 1));
	CHECK_INT(d->nrevisions, 2);
	CHECK_INT(d->revisions[1].number, 2);
	CHECK_INT(d->initial_date, 1700000000);
	CHECK_INT(d->current_date, 1700000001);
	CHECK_OK(pg_advise_write_csaf(&two, d));
	j = json_loads(pg_buf_cstr(&two), 0, NULL);
	{
		json_t *t = json_object_get(json_object_get(j, "document"), "tracking");
		CHECK_STR(json_string_value(json_object_get(t, "id")), "PGAP-TEST-1");
		CHECK_STR(json_string_value(json_object_get(t, "version")), "2");
		CHECK_INT(json_array_size(json_object_get(t, "revision_history")), 2);
		CHECK_STR(json_string_value(json_object_get(t, "current_release_date")), "2023-11-14T22:13:21Z");
		CHECK_STR(json_string_value(json_object_get(t, "initial_release_date")), "2023-11-14T22:13:20Z");
	}
	json_decref(j);
	pg_advise_doc_free(d);
	/* read-only finalize of the original content does not write a revision 3 */
	d = small_model();
	CHECK_OK(pg_advise_doc_finalize(d, s, 0));
	CHECK_INT(d->nrevisions, 3);
	pg_advise_doc_free(d);
	d = small_model();
	d->vulns[0].states[1].status = PG_ADVISE_FIXED;
	pg_advise_set(&d->vulns[0].states[1].fix_sha, "3333333333333333333333333333333333333333");
	CHECK_OK(pg_advise_doc_finalize(d, s, 1));
	CHECK_INT(d->nrevisions, 2);
	pg_advise_doc_free(d);
	pg_buf_release(&one);
	pg_buf_release(&again);
	pg_buf_release(&two);
	pg_store_free(s);
}

TEST(report_stats_hand_computed)
{
	pg_report_stats st;
	double one[] = { 5 }, five[] = { 10, 2, 4, 1, 3 }, four[] = { 4, 1, 3, 2 };
	CHECK_OK(pg_report_stats_compute(&st, NULL, 0));
	CHECK_INT(st.n, 0);
	CHECK_OK(pg_report_stats_compute(&st, one, 1));
	CHECK(st.median == 5 && st.p90 == 5 && st.mean == 5);
	CHECK_OK(pg_report_stats_compute(&st, five, 5));
	/* sorted 1 2 3 4 10: median 3; p90 at h = 3.6: 4 + 0.6 * (10 - 4) = 7.6; mean 4 */
	CHECK(st.median == 3 && fabs(st.p90 - 7.6) < 1e-9 && st.mean == 4 && st.min == 1 && st.max == 10);
	CHECK_OK(pg_report_stats_compute(&st, four, 4));
	/* sorted 1 2 3 4: median 2.5; p90 at h = 2.7: 3 + 0.7 = 3.7 */
	CHECK(fabs(st.median - 2.5) < 1e-9 && fabs(st.p90 - 3.7) < 1e-9);
}

#define D(days) ((int64_t)1704067200 + (int64_t)(days) * 86400) /* 2024-01-01 + days */

TEST(report_compute_hand_computed)
{
	pg_report_input in = { 0 };
	pg_report r;
	pg_report_fix *f;
	pg_buf b = PG_BUF_INIT;
	/* branch A: windows 1, 2, 3, 4, 10 days; one open fix upstream at day 20 */
	static const int win[] = { 1, 2, 3, 4, 10 };
	for (int i = 0; i < 5; i++) {
		char id[32];
		snprintf(id, sizeof(id), "CVE-2024-%04d", i + 1);
		CHECK_OK(pg_report_input_add(&f, &in, id, "A"));
		f->upstream_date = D(i);
		f->branch_date = D(i + win[i]);
		pg_advise_set(&f->priority, i < 2 ? "high" : "low");
		pg_advise_set(&f->subsystem, "net");
		if (i == 0) {
			f->classifier_date = D(0);
			f->cve_date = D(30); /* flagged 30 days before the CVE */
		}
		if (i == 1)
			f->branch_tag_date = D(1 + 2 + 5);
	}
	CHECK_OK(pg_report_input_add(&f, &in, "CVE-2024-0099", "A"));
	f->upstream_date = D(20);
	pg_advise_set(&f->priority, "high");
	/* branch B: one fix in 7 days; its date (day 50) is the latest: as_of */
	CHECK_OK(pg_report_input_add(&f, &in, "CVE-2024-0001", "B"));
	f->upstream_date = D(43);
	f->branch_date = D(50);
	CHECK_OK(pg_report_compute(&r, &in));
	CHECK_INT(r.as_of, D(50));
	CHECK_INT(r.nclosed, 6);
	CHECK_INT(r.nopen, 1);
	CHECK(r.open_age.n == 1 && r.open_age.median == 30);
	/* windows 1 2 3 4 7 10: median 3.5, p90 at h = 4.5: 7 + 0.5 * 3 = 8.5 */
	CHECK(fabs(r.window.median - 3.5) < 1e-9 && fabs(r.window.p90 - 8.5) < 1e-9);
	CHECK(r.tag_window.n == 1 && r.tag_window.median == 7); /* day 8 - day 1 */
	CHECK(r.nlead == 1 && r.lead.median == 30);
	for (size_t i = 0; i < r.ngroups; i++) {
		const pg_report_group *g = &r.groups[i];
		if (!strcmp(g->dimension, "priority") && !strcmp(g->key, "high"))
			CHECK(g->window.n == 2 && g->window.median == 1.5 && g->open == 1);
		if (!strcmp(g->dimension, "priority") && !strcmp(g->key, "(unknown)"))
			CHECK(g->window.n == 1 && g->window.median == 7);
		if (!strcmp(g->dimension, "branch") && !strcmp(g->key, "A"))
			CHECK(g->window.n == 5 && g->window.median == 3 && fabs(g->window.p90 - 7.6) < 1e-9);
	}
	CHECK_OK(pg_report_write_html(&b, &r));
	CHECK(strstr(pg_buf_cstr(&b), "<svg") != NULL);
	CHECK(strstr(pg_buf_cstr(&b), "http") == NULL); /* standalone: no external URL at all */
	pg_buf_reset(&b);
	CHECK_OK(pg_report_write_text(&b, &r));
	CHECK(strstr(pg_buf_cstr(&b), "CVE-2024-0099    A              upstream 2024-01-21  open 30.0 days") != NULL);
	pg_buf_release(&b);
	pg_report_release(&r);
	pg_report_input_release(&in);
}

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/pg-test-advise-XXXXXX");
	if (!mkdtemp(tmpdir))
		return 1;
	RUN(model_normalize);
	RUN(model_json_roundtrip_and_errors);
	RUN(writers_on_small_model);
	RUN(cna_stable_introduced_and_unfixed);
	RUN(cna_same_release_is_not_affected);
	RUN(cna_rejected);
	RUN(ranges_equal_dyad_pairs);
	RUN(byte_stable);
	RUN(revisions);
	RUN(report_stats_hand_computed);
	RUN(report_compute_hand_computed);
	{
		char cmd[512];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", tmpdir);
	}
	return harness_done();
}
