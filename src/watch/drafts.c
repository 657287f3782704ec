/*
 * drafts.c - [watch] drafts: the advisory model of what changed, for a
 * human to review and publish with `patchgap advisory --model FILE`.
 *
 * The documents are those `advisory --new --out DIR` writes (the model JSON,
 * DIR/PGAP-<id>.model.json, same loader and file names), for the items named by
 * the events after the mark 'watch.drafts_event'.  They are written after
 * the cycle's transaction (a file is no part of it), each atomically; the
 * mark advances once every draft is written, so a kill or a full disk makes
 * the next cycle write them again (same content: the documents are a
 * function of the database).  The revision ledger is not touched: drafting
 * is not publishing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include "watch_int.h"
#include "patchgap/advise.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/str.h"
#include "util/banned.h"

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int write_draft(pg_store *s, const char *dir, const char *item)
{
	pg_advise_doc *doc = NULL;
	pg_buf b = PG_BUF_INIT, name = PG_BUF_INIT;
	int error;

	if ((error = pg_advise_load_store(&doc, s, item, NULL)) < 0 ||
	    (error = pg_advise_doc_finalize(doc, s, 0)) < 0 || (error = pg_advise_write_model(&b, doc)) < 0 ||
	    (error = pg_fs_safe_name(&name, doc->id, strlen(doc->id), ".model.json")) < 0)
		goto out;
	error = pg_fs_write_atomic(dir, pg_buf_cstr(&name), b.ptr ? b.ptr : "", b.len);
out:
	pg_advise_doc_free(doc);
	pg_buf_release(&b);
	pg_buf_release(&name);
	return error;
}

int pg_watch__drafts(pg_watch_stats *st, pg_store *s, const pg_watch_conf *wc, int64_t now,
		     const pg_watch_options *opts)
{
	pg_stmt *sel = NULL;
	pg_watch__strs items = { 0 };
	int64_t mark, last;
	double t0 = now_ms();
	size_t stale = 0;
	int error = 0, rc, failed = 0;

	if (!wc->drafts)
		return 0;
	/*
	 * A cycle killed while writing a draft left its hidden temporary file
	 * (util/fs.h); only watch writes here, under its lock.  Every cycle, since
	 * the draft it was writing may have been finished by the cycle after (one
	 * readdir: about a millisecond for 15,000 drafts).
	 */
	pg_fs_clear_tmp(wc->drafts, 0, &stale);
	if (stale)
		pg_watch__log(opts, PG_WATCH_WARN, "drafts: removed %zu temporary files a killed cycle left in '%s'", stale,
			      wc->drafts);
	if ((error = pg_watch__meta_int(&mark, s, "watch.drafts_event", -1)) < 0 ||
	    (mark < 0 && (error = pg_watch__mark_start(&mark, s, now)) < 0))
		goto out;
	last = mark;
	/*
	 * every kind names its item in target: a CVE id or a fix commit; a fix
	 * that a CVE names is that CVE's document (fix.flagged of a CVE's fix)
	 */
	if ((error = pg_store_prepare(&sel, s,
				      "SELECT id, target FROM events WHERE id > ? AND target IS NOT NULL"
				      " AND NOT EXISTS (SELECT 1 FROM cve_fixes f WHERE f.sha = events.target) ORDER BY id")) < 0 ||
	    (error = pg_stmt_bind_int(sel, 1, mark)) < 0)
		goto out;
	while ((rc = pg_stmt_step(sel)) > 0) {
		last = pg_stmt_int(sel, 0);
		if ((error = pg_watch__strs_add(&items, pg_stmt_text(sel, 1))) < 0)
			goto out;
	}
	if (rc < 0) {
		error = rc;
		goto out;
	}
	pg_stmt_free(sel);
	sel = NULL;
	if (last == mark)
		goto out;
	if (mkdir(wc->drafts, 0755) < 0 && errno != EEXIST) {
		pg_watch__log(opts, PG_WATCH_WARN, "drafts: cannot create '%s': %s", wc->drafts, strerror(errno));
		goto out;
	}

	for (size_t i = 0; i < items.len; i++) {
		int e = write_draft(s, wc->drafts, items.ptr[i]);
		if (e == PG_ENOTFOUND) {
			/* e.g. a rejected CVE: no document to draft */
			pg_watch__log(opts, PG_WATCH_DEBUG, "drafts: %s: %s", items.ptr[i], pg_error_last());
			pg_error_clear();
		} else if (e < 0) {
			pg_watch__log(opts, PG_WATCH_WARN, "drafts: %s: %s", items.ptr[i], pg_error_last());
			pg_error_clear();
			failed = 1;
		} else
			st->drafts++;
	}
	if (!failed)
		error = pg_watch__meta_set_int(s, "watch.drafts_event", last);
	if (st->drafts)
		pg_watch__log(opts, PG_WATCH_INFO, "drafts: %zu written to %s", st->drafts, wc->drafts);
out:
	pg_stmt_free(sel);
	pg_watch__strs_release(&items);
	st->ms_drafts = now_ms() - t0;
	return error;
}
