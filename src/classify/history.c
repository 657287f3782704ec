/*
 * history.c - evidence from the history in the database: how many CVEs,
 * published before a commit, touched the files it touches.
 *
 * A file with earlier CVEs is code the CNA has already judged exposed; the
 * count is the most of any one touched file.  No look-ahead: only CVEs
 * published before the commit's committer time count, and a CVE that names
 * the commit itself as its fix never does (that would be the label).  The
 * trainer computes the same figure from kernel-cves (first_added, program_files,
 * subject), tools/make-eval-set.py writes it as "history_cves".
 *
 * The CNA records are optional (`patchgap cve import`): without their tables
 * the history is unknown (-1) and the feature is 0.
 */
#include <stdlib.h>
#include "classify/classify_int.h"
#include "patchgap/store.h"
#include "util/str.h"
#include "util/banned.h"

struct pg_cls_history {
	pg_stmt *q;
};

int pg_cls_history_open(pg_cls_history **out, pg_store *s)
{
	pg_cls_history *h;

	*out = NULL;
	if (!(h = calloc(1, sizeof(*h))))
		return pg_error_setc(PG_ENOMEM, "out of memory");
	if (pg_store_prepare(&h->q, s,
			     "SELECT count(DISTINCT f.cve_id) FROM cve_files f JOIN cves c ON c.id = f.cve_id "
			     "WHERE f.path = ? AND c.state = 'published' AND c.published < ? AND NOT EXISTS "
			     "(SELECT 1 FROM cve_fixes x WHERE x.cve_id = f.cve_id AND x.sha = ?)") < 0) {
		pg_error_clear();
		free(h);
		return 0; /* no CNA tables in this database: history unknown */
	}
	*out = h;
	return 0;
}

int pg_cls_history_count(int *out, pg_cls_history *h, const char *sha, int64_t when, const char *const *paths,
			 size_t npaths)
{
	char iso[40];
	int rc, error;

	*out = -1;
	if (!h)
		return 0;
	pg_time_iso8601(iso, sizeof(iso), when);
	*out = 0;
	for (size_t i = 0; i < npaths; i++) {
		if ((error = pg_stmt_bind_text(h->q, 1, paths[i])) < 0 || (error = pg_stmt_bind_text(h->q, 2, iso)) < 0 ||
		    (error = pg_stmt_bind_text(h->q, 3, sha)) < 0)
			return error;
		if ((rc = pg_stmt_step(h->q)) < 0)
			return rc;
		if (rc > 0 && pg_stmt_int(h->q, 0) > *out)
			*out = pg_stmt_int(h->q, 0) > 1000000 ? 1000000 : (int)pg_stmt_int(h->q, 0);
		if ((error = pg_stmt_reset(h->q)) < 0)
			return error;
	}
	return 0;
}

void pg_cls_history_free(pg_cls_history *h)
{
	if (!h)
		return;
	pg_stmt_free(h->q);
	free(h);
}
