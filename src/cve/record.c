/*
 * record.c - parse the files of one kernel CNA record into a pg_cve__rec.
 *
 * The formats are the CNA's: CVE JSON 5 as bippy writes it (containers.cna
 * with title, descriptions, affected[] git ranges and semver versions,
 * references, metrics; REJECTED records with rejectedReasons), and the
 * vulns.git side files (.sha1, .vulnerable, .dyad, .mbox).  Parsers are
 * strict about what later stages rely on (ids, shas, dyad lines) and lenient
 * about the rest (unknown members are ignored), so a CNA tooling change that
 * adds fields does not make records unreadable.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "cve/cve_int.h"
#include "util/buf.h"
#include "util/str.h"
#include "util/banned.h"

int pg_cve_id_valid(const char *id)
{
	size_t n;
	if (!id || strncmp(id, "CVE-", 4))
		return 0;
	for (n = 0; isdigit((unsigned char)id[4 + n]); n++)
		;
	if (n != 4 || id[8] != '-')
		return 0;
	for (n = 0; isdigit((unsigned char)id[9 + n]); n++)
		;
	return n >= 4 && n <= 19 && id[9 + n] == '\0';
}

int pg_cve__rec_init(pg_cve__rec *r, const char *id)
{
	memset(r, 0, sizeof(*r));
	if (!pg_cve_id_valid(id))
		return pg_error_setc(PG_EINVALID, "'%s' is not a CVE id (want CVE-YYYY-NNNN)", id);
	snprintf(r->id, sizeof(r->id), "%s", id);
	r->year = atoi(id + 4);
	r->num = strtoll(id + 9, NULL, 10);
	r->state = "published";
	return 0;
}

void pg_cve__rec_release(pg_cve__rec *r)
{
	size_t i;
	free(r->title);
	free(r->description);
	free(r->published);
	free(r->updated);
	free(r->rejected_reason);
	free(r->cvss_vector);
	free(r->cvss_severity);
	free(r->cvss_version);
	free(r->dyad_version);
	free(r->assigner);
	for (i = 0; i < r->fixes.len; i++)
		free(r->fixes.ptr[i].version);
	for (i = 0; i < r->introducers.len; i++)
		free(r->introducers.ptr[i].version);
	for (i = 0; i < r->ranges.len; i++) {
		free(r->ranges.ptr[i].vuln_version);
		free(r->ranges.ptr[i].vuln_sha);
		free(r->ranges.ptr[i].fix_version);
		free(r->ranges.ptr[i].fix_sha);
	}
	for (i = 0; i < r->versions.len; i++) {
		struct pg_cve__version *v = &r->versions.ptr[i];
		free(v->default_status);
		free(v->version);
		free(v->less_than);
		free(v->less_than_or_equal);
		free(v->status);
		free(v->version_type);
	}
	for (i = 0; i < r->files.len; i++)
		free(r->files.ptr[i]);
	for (i = 0; i < r->refs.len; i++)
		free(r->refs.ptr[i]);
	pg_vec_release(&r->fixes);
	pg_vec_release(&r->introducers);
	pg_vec_release(&r->ranges);
	pg_vec_release(&r->versions);
	pg_vec_release(&r->files);
	pg_vec_release(&r->refs);
	memset(r, 0, sizeof(*r));
}

/* strdup of a possibly-NULL string; *ok cleared on allocation failure. */
static char *dup_opt(const char *s, int *ok)
{
	char *d;
	if (!s)
		return NULL;
	if (!(d = pg_strdup(s)))
		*ok = 0;
	return d;
}

static int set_str(char **dst, const char *s)
{
	char *d = NULL;
	if (s && !(d = pg_strdup(s)))
		return PG_ENOMEM;
	free(*dst);
	*dst = d;
	return 0;
}

int pg_cve__add_fix(pg_cve__rec *r, const char *sha, const char *source)
{
	struct pg_cve__sha f = { { 0 }, source, NULL };
	for (size_t i = 0; i < r->fixes.len; i++)
		if (!strcmp(r->fixes.ptr[i].sha, sha))
			return 0;
	snprintf(f.sha, sizeof(f.sha), "%s", sha);
	pg_str_lower(f.sha);
	return pg_vec_push(&r->fixes, f) < 0 ? pg_error_setc(PG_ENOMEM, "out of memory") : 0;
}

int pg_cve__add_introducer(pg_cve__rec *r, const char *sha, const char *source, const char *version)
{
	struct pg_cve__sha f = { { 0 }, source, NULL };
	int ok = 1;
	for (size_t i = 0; i < r->introducers.len; i++)
		if (!strcmp(r->introducers.ptr[i].sha, sha) && !strcmp(r->introducers.ptr[i].source, source))
			return 0;
	snprintf(f.sha, sizeof(f.sha), "%s", sha);
	pg_str_lower(f.sha);
	f.version = dup_opt(version, &ok);
	if (!ok || pg_vec_push(&r->introducers, f) < 0) {
		free(f.version);
		return pg_error_setc(PG_ENOMEM, "out of memory");
	}
	return 0;
}

/* Kernel release as dyad writes it: 6.1, 6.1.7, 2.6.32.71, 6.2-rc3. */
static int version_valid(const char *s)
{
	int parts = 0;
	for (;;) {
		size_t n = 0;
		while (isdigit((unsigned char)s[n]))
			n++;
		if (!n)
			return 0;
		parts++;
		s += n;
		if (*s != '.')
			break;
		s++;
	}
	if (!strncmp(s, "-rc", 3)) {
		s += 3;
		if (!isdigit((unsigned char)*s))
			return 0;
		while (isdigit((unsigned char)*s))
			s++;
	}
	return parts >= 2 && *s == '\0';
}

/*
 * Call fn for each line (NUL-terminated copy, trailing CR/space trimmed) with
 * its 1-based number; stops at the first error.
 */
static int each_line(const char *text, int (*fn)(pg_cve__rec *, char *, unsigned, void *),
		     pg_cve__rec *r, void *payload)
{
	unsigned lineno = 0;
	int error = 0;
	char *copy = pg_strdup(text), *p, *nl;

	if (!copy)
		return PG_ENOMEM;
	for (p = copy; *p && !error; p = nl ? nl + 1 : p + strlen(p)) {
		size_t n;
		nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		n = strlen(p);
		while (n && isspace((unsigned char)p[n - 1]))
			p[--n] = '\0';
		lineno++;
		error = fn(r, p, lineno, payload);
		if (!nl)
			break;
	}
	free(copy);
	return error;
}

static int sha_line(pg_cve__rec *r, char *line, unsigned lineno, void *payload)
{
	const char *kind = payload;
	char *s = pg_str_trim(line);
	size_t n = strlen(s), hex = pg_str_hexlen(s, 41);
	if (!*s || strspn(s, "0") == n)
		return 0;   /* blank, or the null id the CNA writes for "no commit" */
	if (!strcmp(kind, "sha1")) {
		if (!pg_str_is_sha(s))
			return pg_error_setc(PG_EINVALID, "line %u: '%.60s' is not a 40-hex commit id", lineno, s);
		return pg_cve__add_fix(r, s, "sha1");
	}
	/* .vulnerable is hand-written: the CNA has published abbreviated ids there */
	if (hex != n || n < 7 || n > 40)
		return pg_error_setc(PG_EINVALID, "line %u: '%.60s' is not a commit id (7 to 40 hex digits)", lineno, s);
	return pg_cve__add_introducer(r, s, "vulnerable", NULL);
}

int pg_cve__parse_sha1(pg_cve__rec *r, const char *text)
{
	return each_line(text, sha_line, r, (void *)"sha1");
}

int pg_cve__parse_vulnerable(pg_cve__rec *r, const char *text)
{
	return each_line(text, sha_line, r, (void *)"vulnerable");
}

static int add_range(pg_cve__rec *r, const char *vv, const char *vs, const char *fv, const char *fs,
		     const char *source)
{
	struct pg_cve__range g = { NULL, NULL, NULL, NULL, source };
	int ok = 1;
	g.vuln_version = dup_opt(vv, &ok);
	g.vuln_sha = dup_opt(vs, &ok);
	g.fix_version = dup_opt(fv, &ok);
	g.fix_sha = dup_opt(fs, &ok);
	if (ok) {
		pg_str_lower(g.vuln_sha);
		pg_str_lower(g.fix_sha);
	}
	if (!ok || pg_vec_push(&r->ranges, g) < 0) {
		free(g.vuln_version);
		free(g.vuln_sha);
		free(g.fix_version);
		free(g.fix_sha);
		return pg_error_setc(PG_ENOMEM, "out of memory");
	}
	return 0;
}

static const char override_prefix[] = "Setting original vulnerable kernel to be kernel ";

static int dyad_line(pg_cve__rec *r, char *line, unsigned lineno, void *payload)
{
	char *f[4], *p = pg_str_trim(line), *save = p, orig[160];
	int n = 0, error;

	(void)payload;
	if (!*p)
		return 0;
	if (*p == '#') {
		/* header comments: "# dyad version: X", "# \tgetting ... for git id X",
		 * "# \tSetting original vulnerable kernel to be kernel V and git id X" */
		p = pg_str_trim(p + 1);
		if (pg_str_starts_with(p, "dyad version:"))
			return set_str(&r->dyad_version, pg_str_trim(p + strlen("dyad version:")));
		if (pg_str_starts_with(p, override_prefix)) {
			char *ver = p + strlen(override_prefix), *and = strstr(ver, " and git id ");
			char *sha;
			if (!and)
				return pg_error_setc(PG_EINVALID, "line %u: malformed vulnerable override comment '%.80s'",
						     lineno, save);
			*and = '\0';
			sha = pg_str_trim(and + strlen(" and git id "));
			if (!version_valid(ver) || !pg_str_is_sha(sha))
				return pg_error_setc(PG_EINVALID, "line %u: malformed vulnerable override comment "
						     "(version '%.20s', git id '%.60s')", lineno, ver, sha);
			return pg_cve__add_introducer(r, sha, "dyad_override", ver);
		}
		return 0;
	}
	snprintf(orig, sizeof(orig), "%s", p);   /* for the message: p is split in place */
	for (f[n++] = p; *p; p++) {
		if (*p != ':')
			continue;
		if (n == 4) {
			n = 5;
			break;
		}
		*p = '\0';
		f[n++] = p + 1;
	}
	if (n != 4)
		return pg_error_setc(PG_EINVALID, "line %u: '%.120s' is not vuln_version:vuln_sha:fix_version:fix_sha",
				     lineno, orig);
	for (int i = 0; i < 4; i++)
		f[i] = pg_str_trim(f[i]);
	if ((strcmp(f[0], "0") && !version_valid(f[0])) || (strcmp(f[2], "0") && !version_valid(f[2])))
		return pg_error_setc(PG_EINVALID, "line %u: bad kernel version in dyad line ('%.20s', '%.20s')",
				     lineno, f[0], f[2]);
	if ((strcmp(f[1], "0") && !pg_str_is_sha(f[1])) || (strcmp(f[3], "0") && !pg_str_is_sha(f[3])))
		return pg_error_setc(PG_EINVALID, "line %u: bad commit id in dyad line ('%.60s', '%.60s')",
				     lineno, f[1], f[3]);
	if ((error = add_range(r, f[0], f[1], f[2], f[3], "dyad")) < 0)
		return error;
	return strcmp(f[3], "0") ? pg_cve__add_fix(r, f[3], "dyad") : 0;
}

int pg_cve__parse_dyad(pg_cve__rec *r, const char *text)
{
	return each_line(text, dyad_line, r, NULL);
}

static int mbox_line(pg_cve__rec *r, char *line, unsigned lineno, void *payload)
{
	int *done = payload;
	char *p;
	(void)lineno;
	if (*done)
		return 0;
	if (!*line) {           /* end of the mail header */
		*done = 1;
		return 0;
	}
	if (!pg_str_starts_with_ci(line, "Subject:"))
		return 0;
	*done = 1;
	p = pg_str_trim(line + 8);
	if (pg_str_starts_with(p, r->id) && p[strlen(r->id)] == ':')
		p = pg_str_trim(p + strlen(r->id) + 1);
	return *p ? set_str(&r->title, p) : 0;
}

int pg_cve__parse_mbox(pg_cve__rec *r, const char *text)
{
	int done = 0;
	if (r->title)
		return 0;
	return each_line(text, mbox_line, r, &done);
}

/* ---- CVE JSON 5 ---- */

static const char *jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static int is_linux(json_t *aff)
{
	const char *p = jstr(aff, "product");
	return p && !strcmp(p, "Linux");
}

static int norm_date(char **dst, const char *s, const char *member)
{
	int64_t t;
	char buf[32];
	if (!s)
		return 0;
	if (pg_time_parse(&t, s) < 0)
		return pg_error_setc(PG_EINVALID, "cveMetadata.%s '%.40s' is not an ISO 8601 date", member, s);
	pg_time_iso8601(buf, sizeof(buf), t);
	return set_str(dst, buf);
}

static int parse_metrics(pg_cve__rec *r, json_t *metrics)
{
	static const char *const keys[] = { "cvssV3_1", "cvssV3_0", "cvssV4_0", "cvssV2_0" };
	size_t i;
	json_t *m;

	/* prefer the newest CVSS v3, the kernel CNA's choice; then v4, v2 */
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		json_array_foreach(metrics, i, m) {
			json_t *c = json_object_get(m, keys[k]), *score;
			int error;
			if (!json_is_object(c))
				continue;
			score = json_object_get(c, "baseScore");
			if (!json_is_number(score))
				return pg_error_setc(PG_EINVALID, "metrics[%zu].%s.baseScore is not a number", i, keys[k]);
			r->has_cvss = 1;
			r->cvss_score = json_number_value(score);
			if ((error = set_str(&r->cvss_vector, jstr(c, "vectorString"))) < 0 ||
			    (error = set_str(&r->cvss_severity, jstr(c, "baseSeverity"))) < 0 ||
			    (error = set_str(&r->cvss_version, jstr(c, "version"))) < 0)
				return error;
			return 0;
		}
	}
	return 0;
}

static int push_str(pg_cve__rec *r, int files, const char *s)
{
	char *d;
	if (files)
		for (size_t i = 0; i < r->files.len; i++)
			if (!strcmp(r->files.ptr[i], s))
				return 0;
	if (!(d = pg_strdup(s)))
		return PG_ENOMEM;
	if ((files ? pg_vec_push(&r->files, d) : pg_vec_push(&r->refs, d)) < 0) {
		free(d);
		return pg_error_setc(PG_ENOMEM, "out of memory");
	}
	return 0;
}

static int parse_affected(pg_cve__rec *r, json_t *affected, int want_ranges)
{
	size_t i, j;
	json_t *a, *v;
	int error;

	json_array_foreach(affected, i, a) {
		const char *ds = jstr(a, "defaultStatus");
		if (!is_linux(a))
			continue;
		json_array_foreach(json_object_get(a, "programFiles"), j, v)
			if (json_is_string(v) && (error = push_str(r, 1, json_string_value(v))) < 0)
				return error;
		json_array_foreach(json_object_get(a, "versions"), j, v) {
			const char *type = jstr(v, "versionType"), *ver = jstr(v, "version");
			const char *lt = jstr(v, "lessThan"), *status = jstr(v, "status");
			if (!ver || !status)
				return pg_error_setc(PG_EINVALID, "affected[%zu].versions[%zu] lacks version or status", i, j);
			if (type && !strcmp(type, "git")) {
				if (!pg_str_is_sha(ver) || (lt && !pg_str_is_sha(lt)))
					return pg_error_setc(PG_EINVALID, "affected[%zu].versions[%zu]: git range "
							     "'%.60s'..'%.60s' is not a pair of 40-hex commit ids",
							     i, j, ver, lt ? lt : "");
				if (strcmp(status, "affected"))
					continue;
				if (want_ranges && (error = add_range(r, NULL, ver, NULL, lt ? lt : "0", "json")) < 0)
					return error;
				if (lt && (error = pg_cve__add_fix(r, lt, "json")) < 0)
					return error;
			} else {
				struct pg_cve__version e = { 0 };
				int ok = 1;
				e.default_status = dup_opt(ds, &ok);
				e.version = dup_opt(ver, &ok);
				e.less_than = dup_opt(lt, &ok);
				e.less_than_or_equal = dup_opt(jstr(v, "lessThanOrEqual"), &ok);
				e.status = dup_opt(status, &ok);
				e.version_type = dup_opt(type, &ok);
				if (!ok || pg_vec_push(&r->versions, e) < 0) {
					free(e.default_status);
					free(e.version);
					free(e.less_than);
					free(e.less_than_or_equal);
					free(e.status);
					free(e.version_type);
					return pg_error_setc(PG_ENOMEM, "out of memory");
				}
			}
		}
	}
	return 0;
}

static const char stable_url[] = "https://git.kernel.org/stable/c/";

int pg_cve__parse_json(pg_cve__rec *r, const char *text, size_t len, const char *dir_state, int want_ranges)
{
	json_error_t jerr;
	json_t *root, *meta, *cna, *v;
	const char *id, *state;
	size_t i;
	int error = 0;

	if (!(root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr)))
		return pg_error_setc(PG_EINVALID, "invalid JSON at line %d column %d: %s", jerr.line, jerr.column,
				     jerr.text);
	meta = json_object_get(root, "cveMetadata");
	cna = json_object_get(json_object_get(root, "containers"), "cna");
	if (!json_is_object(meta) || !(id = jstr(meta, "cveId"))) {
		error = pg_error_setc(PG_EINVALID, "no cveMetadata.cveId: not a CVE JSON 5 record");
		goto out;
	}
	if (strcmp(id, r->id)) {
		error = pg_error_setc(PG_EINVALID, "cveMetadata.cveId '%.40s' does not match the file name (%s)", id, r->id);
		goto out;
	}
	if (!json_is_object(cna)) {
		error = pg_error_setc(PG_EINVALID, "no containers.cna object");
		goto out;
	}
	state = jstr(meta, "state");
	if (!state || (strcmp(state, "PUBLISHED") && strcmp(state, "REJECTED"))) {
		error = pg_error_setc(PG_EINVALID, "cveMetadata.state '%.20s' is not PUBLISHED or REJECTED",
				      state ? state : "(missing)");
		goto out;
	}
	r->state = dir_state ? dir_state : !strcmp(state, "REJECTED") ? "rejected" : "published";
	if ((error = set_str(&r->assigner, jstr(meta, "assignerOrgId"))) < 0)
		goto out;
	if ((error = norm_date(&r->published, jstr(meta, "datePublished"), "datePublished")) < 0 ||
	    (error = norm_date(&r->updated, jstr(meta, "dateUpdated"), "dateUpdated")) < 0)
		goto out;
	if ((v = json_object_get(cna, "title")) && json_is_string(v) &&
	    (error = set_str(&r->title, json_string_value(v))) < 0)
		goto out;
	json_array_foreach(json_object_get(cna, "descriptions"), i, v) {
		const char *lang = jstr(v, "lang");
		if (jstr(v, "value") && (!r->description || (lang && pg_str_starts_with(lang, "en")))) {
			if ((error = set_str(&r->description, jstr(v, "value"))) < 0)
				goto out;
			if (lang && pg_str_starts_with(lang, "en"))
				break;
		}
	}
	json_array_foreach(json_object_get(cna, "rejectedReasons"), i, v) {
		if (jstr(v, "value")) {
			if ((error = set_str(&r->rejected_reason, jstr(v, "value"))) < 0)
				goto out;
			break;
		}
	}
	if ((error = parse_metrics(r, json_object_get(cna, "metrics"))) < 0 ||
	    (error = parse_affected(r, json_object_get(cna, "affected"), want_ranges)) < 0)
		goto out;
	json_array_foreach(json_object_get(cna, "references"), i, v) {
		const char *url = jstr(v, "url");
		if (!url)
			continue;
		if ((error = push_str(r, 0, url)) < 0)
			goto out;
		/* stable commit URLs name fixing commits (bippy writes one per fixed branch) */
		if (pg_str_starts_with(url, stable_url) && pg_str_is_sha(url + strlen(stable_url)) &&
		    (error = pg_cve__add_fix(r, url + strlen(stable_url), "reference")) < 0)
			goto out;
	}
out:
	json_decref(root);
	return error;
}
