/*
 * history.c - evidence from the history in the database: how many CVEs,
 * published before a commit, touched the files it touches or named its
 * functions.
 *
 * A file with earlier CVEs is code the CNA has already judged exposed; the
 * count is the most of any one touched file.  No look-ahead: only CVEs
 * published before the commit's committer time count, and a CVE that names
 * the commit itself as its fix never does (that would be the label).  The
 * trainer computes the same figure from kernel-cves (first_added, program_files,
 * subject), tools/make-eval-set.py writes it as "history_cves".
 *
 * The function history is the same count over the functions the commit
 * names (its diff's hunk headings and "name(" mentions in its message,
 * functions.c) and those each CVE description names.  The descriptions and
 * cve_fixes are read once per handle, and only when a commit naming a
 * function is scored, into sorted tables: SQL cannot find a name in a
 * description without scanning them all.  A function more than 1 % of the
 * published records name is dropped, as the trainer does.
 *
 * The CNA records are optional (`patchgap cve import`): without their tables
 * the history is unknown (-1) and the feature is 0.
 *
 * Where a Fixes: target stood when the fix was committed: a fix of a commit
 * in no release yet fixes a bug no user ran, and the CNA assigns no CVE to
 * it.  From the ingest tables: the resolved `fixes` relations of the commit,
 * the target's first mainline tag (released once a non-rc tag of that line
 * and version or later is older than the fix), and the stable branches
 * carrying a backport of the target (an `upstream` relation naming it) in a
 * release tagged before the fix.  No look-ahead: only tags older than the
 * fix's committer time count.  The trainer's stand-in from the lore mails
 * is described in train.c.
 */
#include <stdlib.h>
#include <string.h>
#include "classify/classify_int.h"
#include "patchgap/store.h"
#include "util/str.h"
#include "util/vec.h"
#include "util/banned.h"

struct fix_cve { uint64_t sha, cve; }; /* hashes of a cve_fixes row's sha and cve_id */

struct pg_cls_history {
	pg_store *s;     /* borrowed */
	pg_stmt *q;      /* file history; NULL without the CNA tables */
	pg_stmt *fixes;  /* Fixes: targets; NULL without the ingest tables */
	int fn_loaded;   /* fns and fixes read (or found unreadable) */
	PG_VEC(pg_cls_hist_pair) fns;   /* sorted by (fn, t), common names dropped */
	PG_VEC(struct fix_cve) fixes_of; /* sorted by sha: the CVEs naming a commit as their fix */
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
		pg_error_clear(); /* no CNA tables in this database: file history unknown */
		h->q = NULL;
	}
	h->s = s;
	if (pg_store_prepare(&h->fixes, s,
			     "SELECT CASE WHEN EXISTS (SELECT 1 FROM commits t JOIN tags g ON g.name = t.mainline_release"
			     "   JOIN tags r ON r.line = g.line AND r.rc = 0"
			     "    AND (r.major > g.major OR (r.major = g.major AND r.minor >= g.minor))"
			     "   WHERE t.sha = x.target_sha AND r.tag_time < ?)"
			     "  OR EXISTS (SELECT 1 FROM commits t JOIN branch_commits bc ON bc.commit_id = t.id"
			     "   JOIN tags g ON g.name = bc.release WHERE t.sha = x.target_sha AND g.rc = 0 AND g.tag_time < ?)"
			     "  THEN 1 ELSE 0 END,"
			     " (SELECT count(DISTINCT bc.branch_id) FROM relations u"
			     "   JOIN branch_commits bc ON bc.commit_id = u.commit_id"
			     "   JOIN branches b ON b.id = bc.branch_id JOIN tags g ON g.name = bc.release"
			     "   WHERE u.target_sha = x.target_sha AND u.kind = 'upstream' AND b.kind = 'stable'"
			     "    AND g.tag_time < ?),"
			     /* without recorded release tags nothing says a target was released: unknown */
			     " CASE WHEN EXISTS (SELECT 1 FROM tags) THEN 1 ELSE 0 END"
			     " FROM relations x JOIN commits c ON c.id = x.commit_id"
			     " WHERE c.sha = ? AND x.kind = 'fixes' AND x.target_sha IS NOT NULL") < 0) {
		pg_error_clear(); /* no ingest tables: where targets stood is unknown */
		h->fixes = NULL;
	}
	if (!h->q && !h->fixes) {
		free(h);
		return 0;
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
	if (!h || !h->q)
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

int pg_cls_history_fixes(int *recent, int *stable_lines, pg_cls_history *h, const char *sha, int64_t when)
{
	int rc, error, targets = 0, released = 0, lines = 0;

	*recent = *stable_lines = -1;
	if (!h || !h->fixes)
		return 0;
	if ((error = pg_stmt_bind_int(h->fixes, 1, when)) < 0 || (error = pg_stmt_bind_int(h->fixes, 2, when)) < 0 ||
	    (error = pg_stmt_bind_int(h->fixes, 3, when)) < 0 || (error = pg_stmt_bind_text(h->fixes, 4, sha)) < 0)
		return error;
	while ((rc = pg_stmt_step(h->fixes)) > 0) {
		int64_t n = pg_stmt_int(h->fixes, 1);
		if (!pg_stmt_int(h->fixes, 2))
			continue;
		targets++;
		/* a backport in a stable release is a release too */
		released |= pg_stmt_int(h->fixes, 0) != 0 || n > 0;
		if (n > lines)
			lines = n > 1000 ? 1000 : (int)n;
	}
	if ((error = pg_stmt_reset(h->fixes)) < 0)
		return error;
	if (rc < 0)
		return rc;
	if (targets) {
		*recent = !released;
		*stable_lines = lines;
	}
	return 0;
}

static int cmp_fix(const void *pa, const void *pb)
{
	const struct fix_cve *a = pa, *b = pb;
	return a->sha < b->sha ? -1 : a->sha > b->sha;
}

/*
 * Read every published description's functions into h->fns and the fixing
 * commits into h->fixes_of, once: a query per commit for its own CVEs cost
 * more than the rest of the lookup.
 */
static int load_functions(pg_cls_history *h)
{
	pg_stmt *q = NULL;
	size_t records = 0;
	int rc, error = 0;

	h->fn_loaded = 1;
	if ((error = pg_store_prepare(&q, h->s, "SELECT sha, cve_id FROM cve_fixes")) < 0)
		goto out;
	while ((rc = pg_stmt_step(q)) > 0) {
		const char *sha = pg_stmt_text(q, 0), *cve = pg_stmt_text(q, 1);
		struct fix_cve e;
		if (!sha || !cve)
			continue;
		e.sha = pg_cls__fnv64(sha, strlen(sha), 0);
		e.cve = pg_cls__fnv64(cve, strlen(cve), 0);
		if ((error = pg_vec_push(&h->fixes_of, e)) < 0)
			goto out;
	}
	if (rc < 0) {
		error = rc;
		goto out;
	}
	if (h->fixes_of.len)
		qsort(h->fixes_of.ptr, h->fixes_of.len, sizeof(*h->fixes_of.ptr), cmp_fix);
	pg_stmt_free(q);
	q = NULL;
	if ((error = pg_store_prepare(&q, h->s,
				      "SELECT id, published, description FROM cves WHERE state = 'published' "
				      "AND published IS NOT NULL AND description IS NOT NULL")) < 0)
		goto out;
	while ((rc = pg_stmt_step(q)) > 0) {
		uint64_t fn[PG_CLS_FUNCS_MAX], id;
		const char *cve = pg_stmt_text(q, 0), *desc = pg_stmt_text(q, 2);
		int64_t t;
		size_t n;
		if (!cve || !desc || pg_time_parse(&t, pg_stmt_text(q, 1)) < 0) {
			pg_error_clear();
			continue;
		}
		records++;
		id = pg_cls__fnv64(cve, strlen(cve), 0);
		n = pg_cls__functions(fn, PG_CLS_FUNCS_MAX, desc, 0, NULL, 0);
		for (size_t k = 0; k < n; k++) {
			pg_cls_hist_pair e = { fn[k], t, id };
			if ((error = pg_vec_push(&h->fns, e)) < 0)
				goto out;
		}
	}
	if (rc < 0) {
		error = rc;
		goto out;
	}
	h->fns.len = pg_cls__fn_history_finish(h->fns.ptr, h->fns.len, records);
out:
	pg_stmt_free(q);
	return error;
}

int pg_cls_history_functions(int *out, pg_cls_history *h, const char *sha, int64_t when, const char *message,
			     const char *diff, size_t diff_len)
{
	uint64_t fn[PG_CLS_FUNCS_MAX], own[16], key;
	size_t nfn, nown = 0, lo = 0, hi;
	int error;

	*out = -1;
	if (!h || !h->q)
		return 0;
	*out = 0;
	if (!(nfn = pg_cls__functions(fn, PG_CLS_FUNCS_MAX, message, 0, diff, diff_len)))
		return 0;
	if (!h->fn_loaded && (error = load_functions(h)) < 0)
		return error;
	if (!h->fns.len)
		return 0;
	/* a CVE of this very fix is the label, not history */
	key = pg_cls__fnv64(sha, strlen(sha), 0);
	hi = h->fixes_of.len;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (h->fixes_of.ptr[mid].sha < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < h->fixes_of.len && h->fixes_of.ptr[lo].sha == key && nown < 16; lo++)
		own[nown++] = h->fixes_of.ptr[lo].cve;
	*out = pg_cls__hist_count(h->fns.ptr, h->fns.len, fn, nfn, when, own, nown);
	return 0;
}

void pg_cls_history_free(pg_cls_history *h)
{
	if (!h)
		return;
	pg_vec_release(&h->fns);
	pg_vec_release(&h->fixes_of);
	pg_stmt_free(h->q);
	pg_stmt_free(h->fixes);
	free(h);
}
