/*
 * revision.c - document identity and revision history.
 *
 * The content hash is the SHA-1 (libgit2's object hasher) of the model's
 * canonical JSON, which excludes revisions, so it changes exactly when what
 * the advisory says changes.  The ledger (table advisories, store schema
 * module "advise") keeps one row per revision; dates come from the data:
 * a new revision is dated max(data_date, previous revision + 1 s) so that
 * current_release_date always moves forward even when the input carries no
 * newer date.  Reads and the append happen in one transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <git2.h>
#include "advise/advise_int.h"
#include "util/str.h"
#include "util/vec.h"
#include "util/banned.h"

int pg_advise_content_hash(char out[41], const pg_advise_doc *doc)
{
	pg_buf b = PG_BUF_INIT;
	git_oid oid;
	int error;

	if ((error = pg_advise_write_model(&b, doc)) < 0)
		goto out;
	git_libgit2_init();
	if (git_odb_hash(&oid, b.ptr, b.len, GIT_OBJECT_BLOB) < 0)
		error = pg_error_setc(PG_ERROR, "cannot hash advisory '%s'", doc->id);
	else
		git_oid_tostr(out, 41, &oid);
	git_libgit2_shutdown();
out:
	pg_buf_release(&b);
	return error;
}

static int add_revision(pg_advise_doc *doc, int number, int64_t date, const char *summary, const char *hash)
{
	pg_advise_revision *r;
	if (pg_vec__grow((void **)&doc->revisions, &doc->arevisions, sizeof(*doc->revisions), doc->nrevisions + 1) < 0)
		return pg_error_setc(PG_ENOMEM, "out of memory");
	r = &doc->revisions[doc->nrevisions];
	memset(r, 0, sizeof(*r));
	r->number = number;
	r->date = date;
	if (pg_advise_set(&r->summary, summary) < 0 || pg_advise_set(&r->content_hash, hash) < 0) {
		free(r->summary);
		free(r->content_hash);
		return PG_ENOMEM;
	}
	doc->nrevisions++;
	return 0;
}

static void describe(char *buf, size_t size, const pg_advise_doc *doc, int first)
{
	size_t n[4] = { 0 };
	int rejected = 0;
	for (size_t i = 0; i < doc->nvulns; i++) {
		rejected |= doc->vulns[i].rejected;
		for (size_t j = 0; j < doc->vulns[i].nstates; j++)
			n[doc->vulns[i].states[j].status & 3]++;
	}
	snprintf(buf, size, "%s%s: %zu affected, %zu fixed, %zu not affected, %zu under investigation",
		 first ? "Initial version" : "Revised", rejected ? " (rejected)" : "",
		 n[PG_ADVISE_AFFECTED], n[PG_ADVISE_FIXED], n[PG_ADVISE_NOT_AFFECTED], n[PG_ADVISE_UNDER_INVESTIGATION]);
}

static void clear_revisions(pg_advise_doc *doc)
{
	for (size_t i = 0; i < doc->nrevisions; i++) {
		free(doc->revisions[i].summary);
		free(doc->revisions[i].content_hash);
	}
	doc->nrevisions = 0;
}

int pg_advise_doc_finalize(pg_advise_doc *doc, pg_store *store, int record)
{
	char hash[41], summary[256];
	pg_stmt *st = NULL;
	int error, in_txn = 0, last = 0;
	int64_t last_date = 0;
	const char *last_hash = NULL;

	if ((error = pg_advise_doc_normalize(doc)) < 0 || (error = pg_advise_content_hash(hash, doc)) < 0)
		return error;
	clear_revisions(doc);
	if (!store) {
		describe(summary, sizeof(summary), doc, 1);
		if ((error = add_revision(doc, 1, doc->data_date, summary, hash)) < 0)
			return error;
		goto dates;
	}
	if (record) {
		if ((error = pg_store_begin(store)) < 0)
			return error;
		in_txn = 1;
	}
	if ((error = pg_store_prepare(&st, store,
				      "SELECT revision, revision_date, summary, content_hash FROM advisories"
				      " WHERE doc_id = ? ORDER BY revision")) < 0 ||
	    (error = pg_stmt_bind_text(st, 1, doc->id)) < 0)
		goto out;
	while ((error = pg_stmt_step(st)) == 1) {
		last = (int)pg_stmt_int(st, 0);
		last_date = pg_stmt_int(st, 1);
		if ((error = add_revision(doc, last, last_date, pg_stmt_text(st, 2), pg_stmt_text(st, 3))) < 0)
			goto out;
	}
	if (error < 0)
		goto out;
	pg_stmt_free(st);
	st = NULL;
	last_hash = doc->nrevisions ? doc->revisions[doc->nrevisions - 1].content_hash : NULL;
	if (!last_hash || strcmp(last_hash, hash)) {
		int64_t date = doc->data_date;
		if (last && date <= last_date)
			date = last_date + 1;
		describe(summary, sizeof(summary), doc, last == 0);
		if ((error = add_revision(doc, last + 1, date, summary, hash)) < 0)
			goto out;
		if (record) {
			if ((error = pg_store_prepare(&st, store,
						      "INSERT INTO advisories (doc_id, revision, scope, content_hash,"
						      " revision_date, summary) VALUES (?, ?, ?, ?, ?, ?)")) < 0 ||
			    (error = pg_stmt_bind_text(st, 1, doc->id)) < 0 ||
			    (error = pg_stmt_bind_int(st, 2, last + 1)) < 0 ||
			    (error = pg_stmt_bind_text(st, 3, doc->scope ? doc->scope : "")) < 0 ||
			    (error = pg_stmt_bind_text(st, 4, hash)) < 0 ||
			    (error = pg_stmt_bind_int(st, 5, date)) < 0 ||
			    (error = pg_stmt_bind_text(st, 6, summary)) < 0 ||
			    (error = pg_stmt_exec(st)) < 0)
				goto out;
		}
	}
	if (in_txn) {
		in_txn = 0;
		if ((error = pg_store_commit(store)) < 0)
			goto out;
	}
dates:
	doc->initial_date = doc->revisions[0].date;
	doc->current_date = doc->revisions[doc->nrevisions - 1].date;
out:
	pg_stmt_free(st);
	if (in_txn)
		pg_store_rollback(store);
	return error;
}

int pg_advise_latest_revision(pg_store *store, const char *doc_id)
{
	pg_stmt *st = NULL;
	int rev = 0;
	if (!store || pg_store_prepare(&st, store, "SELECT max(revision) FROM advisories WHERE doc_id = ?") < 0)
		return 0;
	pg_stmt_bind_text(st, 1, doc_id);
	if (pg_stmt_step(st) > 0 && !pg_stmt_isnull(st, 0))
		rev = (int)pg_stmt_int(st, 0);
	pg_stmt_free(st);
	return rev;
}
