/*
 * query.c - read the cve tables back: one record in full (show) or a
 * filtered list.  Output is jansson values so the CLI and the web front end
 * format the same data; key order is fixed by the caller's JSON_SORT_KEYS.
 * Fix commits are joined with commits.sha at query time to say whether the
 * ingested history has them.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "patchgap/cve.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/str.h"
#include "util/banned.h"

static json_t *text_or_null(pg_stmt *st, int col)
{
	const char *v = pg_stmt_text(st, col);
	return v ? json_string(v) : json_null();
}

/* Append one object per row of sql (bound to id) with the given column keys. */
static int rows_to_array(json_t *arr, pg_store *s, const char *sql, const char *id,
			 const char *const *keys, int nkeys)
{
	pg_stmt *st = NULL;
	int error, rc;

	if ((error = pg_store_prepare(&st, s, sql)) < 0)
		return error;
	if ((error = pg_stmt_bind_text(st, 1, id)) < 0)
		goto out;
	while ((rc = pg_stmt_step(st)) > 0) {
		json_t *o;
		if (nkeys == 1) {
			o = text_or_null(st, 0);
		} else {
			o = json_object();
			for (int i = 0; o && i < nkeys; i++) {
				if (!strcmp(keys[i], "in_history"))
					json_object_set_new(o, keys[i], json_boolean(!pg_stmt_isnull(st, i)));
				else
					json_object_set_new(o, keys[i], text_or_null(st, i));
			}
		}
		if (!o || json_array_append_new(arr, o) < 0) {
			error = pg_error_setc(PG_ENOMEM, "out of memory");
			goto out;
		}
	}
	error = rc;
out:
	pg_stmt_free(st);
	return error;
}

static const char *const fix_keys[] = { "sha", "source", "in_history", "subject" };
static const char *const intro_keys[] = { "sha", "source", "version" };
static const char *const range_keys[] = { "vuln_version", "vuln_sha", "fix_version", "fix_sha", "source" };
static const char *const ver_keys[] = { "default_status", "version", "less_than", "less_than_or_equal",
					"status", "version_type" };
static const char *const one_key[] = { "value" };

int pg_cve_show(json_t **out, pg_store *s, const char *id)
{
	pg_stmt *st = NULL;
	json_t *o = NULL, *a;
	int error, rc;

	*out = NULL;
	if (!pg_cve_id_valid(id))
		return pg_error_setc(PG_EINVALID, "'%s' is not a CVE id (want CVE-YYYY-NNNN)", id);
	if ((error = pg_store_prepare(&st, s,
			"SELECT id, state, title, description, published, updated, cvss_score, cvss_vector,"
			" cvss_severity, cvss_version, rejected_reason, dyad_version, layout, source_path,"
			" content_hash FROM cves WHERE id = ?")) < 0)
		return error;
	if ((error = pg_stmt_bind_text(st, 1, id)) < 0 || (rc = pg_stmt_step(st)) < 0) {
		error = error < 0 ? error : rc;
		goto out;
	}
	if (rc == 0) {
		error = pg_error_setc(PG_ENOTFOUND, "unknown CVE '%s' (not imported: see 'patchgap cve import')", id);
		goto out;
	}
	if (!(o = json_object())) {
		error = pg_error_setc(PG_ENOMEM, "out of memory");
		goto out;
	}
	json_object_set_new(o, "id", text_or_null(st, 0));
	json_object_set_new(o, "state", text_or_null(st, 1));
	json_object_set_new(o, "title", text_or_null(st, 2));
	json_object_set_new(o, "description", text_or_null(st, 3));
	json_object_set_new(o, "published", text_or_null(st, 4));
	json_object_set_new(o, "updated", text_or_null(st, 5));
	if (pg_stmt_isnull(st, 6)) {
		json_object_set_new(o, "cvss", json_null());
	} else {
		json_t *c = json_object();
		json_object_set_new(c, "score", json_real(pg_stmt_double(st, 6)));
		json_object_set_new(c, "vector", text_or_null(st, 7));
		json_object_set_new(c, "severity", text_or_null(st, 8));
		json_object_set_new(c, "version", text_or_null(st, 9));
		json_object_set_new(o, "cvss", c);
	}
	json_object_set_new(o, "rejected_reason", text_or_null(st, 10));
	json_object_set_new(o, "dyad_version", text_or_null(st, 11));
	json_object_set_new(o, "layout", text_or_null(st, 12));
	json_object_set_new(o, "source_path", text_or_null(st, 13));
	json_object_set_new(o, "content_hash", text_or_null(st, 14));
	pg_stmt_free(st);
	st = NULL;

#define SUB(key, sql, keys) \
	do { \
		json_object_set_new(o, key, a = json_array()); \
		if ((error = rows_to_array(a, s, sql, id, keys, (int)(sizeof(keys) / sizeof(keys[0])))) < 0) \
			goto out; \
	} while (0)
	SUB("fixes", "SELECT f.sha, f.source, c.sha, c.subject FROM cve_fixes f LEFT JOIN commits c ON c.sha = f.sha"
		     " WHERE f.cve_id = ? ORDER BY CASE f.source WHEN 'sha1' THEN 0 WHEN 'dyad' THEN 1"
		     " WHEN 'json' THEN 2 ELSE 3 END, f.sha", fix_keys);
	SUB("introducers", "SELECT sha, source, version FROM cve_introducers WHERE cve_id = ? ORDER BY source, sha",
	    intro_keys);
	SUB("ranges", "SELECT vuln_version, vuln_sha, fix_version, fix_sha, source FROM cve_ranges"
		      " WHERE cve_id = ? ORDER BY seq", range_keys);
	SUB("versions", "SELECT default_status, version, less_than, less_than_or_equal, status, version_type"
			" FROM cve_versions WHERE cve_id = ? ORDER BY seq", ver_keys);
	SUB("files", "SELECT path FROM cve_files WHERE cve_id = ? ORDER BY seq", one_key);
	SUB("references", "SELECT url FROM cve_references WHERE cve_id = ? ORDER BY seq", one_key);
#undef SUB
	*out = o;
	o = NULL;
out:
	pg_stmt_free(st);
	json_decref(o);
	return error;
}

int pg_cve_list(json_t **out, pg_store *s, const pg_cve_filter *f)
{
	pg_buf sql = PG_BUF_INIT;
	pg_stmt *st = NULL;
	json_t *arr = NULL;
	char since[32], lo[41], hi[42];
	int error = 0, rc, idx = 0;

	*out = NULL;
	if (f->state && strcmp(f->state, "published") && strcmp(f->state, "rejected"))
		return pg_error_setc(PG_EINVALID, "state '%s' is not 'published' or 'rejected'", f->state);
	if (f->since) {
		int64_t t;
		if ((error = pg_time_parse(&t, f->since)) < 0)
			return error;
		pg_time_iso8601(since, sizeof(since), t);
	}
	if (f->fixed_by) {
		size_t n = strlen(f->fixed_by);
		if (n < 4 || n > 40 || pg_str_hexlen(f->fixed_by, 41) != n)
			return pg_error_setc(PG_EINVALID, "'%s' is not a commit id (4 to 40 hex digits)", f->fixed_by);
		/* prefix match as a range so the sha index is used: [prefix, prefix + 'g') */
		snprintf(lo, sizeof(lo), "%s", f->fixed_by);
		pg_str_lower(lo);
		snprintf(hi, sizeof(hi), "%sg", lo);
	}
	if ((error = pg_buf_puts(&sql, "SELECT id, state, title, published, updated, cvss_score, cvss_severity"
				       " FROM cves WHERE 1 = 1")) < 0 ||
	    (f->state && (error = pg_buf_puts(&sql, " AND state = ?")) < 0) ||
	    (f->since && (error = pg_buf_puts(&sql, " AND published >= ?")) < 0) ||
	    (f->fixed_by && (error = pg_buf_puts(&sql, " AND id IN (SELECT cve_id FROM cve_fixes"
							" WHERE sha >= ? AND sha < ?)")) < 0) ||
	    (error = pg_buf_puts(&sql, " ORDER BY year, num, id")) < 0)
		goto out;
	if ((error = pg_store_prepare(&st, s, sql.ptr)) < 0)
		goto out;
	if ((f->state && (error = pg_stmt_bind_text(st, ++idx, f->state)) < 0) ||
	    (f->since && (error = pg_stmt_bind_text(st, ++idx, since)) < 0) ||
	    (f->fixed_by && ((error = pg_stmt_bind_text(st, ++idx, lo)) < 0 ||
			     (error = pg_stmt_bind_text(st, ++idx, hi)) < 0)))
		goto out;
	if (!(arr = json_array())) {
		error = pg_error_setc(PG_ENOMEM, "out of memory");
		goto out;
	}
	while ((rc = pg_stmt_step(st)) > 0) {
		json_t *o = json_object();
		if (!o || json_array_append_new(arr, o) < 0) {
			error = pg_error_setc(PG_ENOMEM, "out of memory");
			goto out;
		}
		json_object_set_new(o, "id", text_or_null(st, 0));
		json_object_set_new(o, "state", text_or_null(st, 1));
		json_object_set_new(o, "title", text_or_null(st, 2));
		json_object_set_new(o, "published", text_or_null(st, 3));
		json_object_set_new(o, "updated", text_or_null(st, 4));
		json_object_set_new(o, "cvss_score", pg_stmt_isnull(st, 5) ? json_null() : json_real(pg_stmt_double(st, 5)));
		json_object_set_new(o, "cvss_severity", text_or_null(st, 6));
	}
	if ((error = rc) < 0)
		goto out;
	*out = arr;
	arr = NULL;
out:
	json_decref(arr);
	pg_stmt_free(st);
	pg_buf_release(&sql);
	return error;
}

int pg_cve_fixed_between(json_t *ids, pg_store *s, int64_t since, int64_t until)
{
	pg_stmt *st = NULL;
	int error, rc;
	if ((error = pg_store_prepare(&st, s,
				      "SELECT v.id, min(c.committer_time) FROM cves v JOIN cve_fixes f ON f.cve_id = v.id"
				      " JOIN commits c ON c.sha = f.sha WHERE v.state = 'published'"
				      " GROUP BY v.id ORDER BY v.year, v.num, v.id")) < 0)
		return error;
	while ((rc = pg_stmt_step(st)) > 0) {
		int64_t t = pg_stmt_int(st, 1);
		if ((!since || t >= since) && (!until || t <= until))
			json_array_append_new(ids, pg_json_string(pg_stmt_text(st, 0)));
	}
	pg_stmt_free(st);
	return rc < 0 ? rc : 0;
}

int pg_cve_published(char **out, pg_store *s, const char *id)
{
	pg_stmt *st = NULL;
	int error, rc;
	*out = NULL;
	if ((error = pg_store_prepare(&st, s, "SELECT published FROM cves WHERE id = ?")) < 0)
		return error;
	pg_stmt_bind_text(st, 1, id);
	if ((rc = pg_stmt_step(st)) > 0 && pg_stmt_text(st, 0) && !(*out = strdup(pg_stmt_text(st, 0))))
		rc = pg_error_setc(PG_ENOMEM, "out of memory");
	pg_stmt_free(st);
	return rc < 0 ? rc : 0;
}
