/*
 * jobs.c - the work queue in the database (include/patchgap/jobs.h).
 *
 * Invariants:
 *  - every state change is one transaction, and a worker's change applies
 *    only while the row still says it holds the job (state running, worker
 *    = it): a worker whose lease was taken over can write nothing;
 *  - a result is written in the transaction that marks the job done, into
 *    job_results whose primary key is the job id: two workers can never
 *    both commit a result for one job;
 *  - claims lock the row they take: FOR UPDATE SKIP LOCKED on PostgreSQL
 *    (concurrent workers take different jobs without waiting), the
 *    database write lock on SQLite (BEGIN IMMEDIATE).  This is the one
 *    place where the SQL differs by backend.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "patchgap/jobs.h"
#include "util/buf.h"
#include "util/str.h"
#include "util/banned.h"

static const char *const kinds_all[] = { PG_JOB_KINDS, NULL };

int pg_job_kind_valid(const char *kind)
{
	for (size_t i = 0; kinds_all[i]; i++)
		if (!strcmp(kind, kinds_all[i]))
			return 1;
	return 0;
}

void pg_job_release(pg_job *j)
{
	if (!j)
		return;
	free(j->kind);
	free(j->args);
	free(j->job_key);
	free(j->state);
	free(j->worker);
	free(j->last_error);
	memset(j, 0, sizeof(*j));
}

static int row_locks(pg_store *s)
{
	return !strcmp(pg_store_backend(s), "postgresql");
}

int pg_jobs_enqueue(pg_store *s, const char *kind, const char *args_json, const char *key,
		    int max_attempts, int64_t now, int64_t *id_out)
{
	pg_stmt *st = NULL;
	pg_buf k = PG_BUF_INIT;
	int error;

	if (id_out)
		*id_out = 0;
	if (!pg_job_kind_valid(kind))
		return pg_error_setc(PG_EINVALID, "unknown job kind '%s' (backport, hook, classify, advisory, affected)", kind);
	if (max_attempts < 1)
		max_attempts = 1;
	if (!key) {
		if ((error = pg_buf_printf(&k, "%s %s", kind, args_json)) < 0)
			return error;
		key = k.ptr;
	}
	if ((error = pg_store_prepare(&st, s,
				      "INSERT INTO jobs (kind, job_key, args, state, attempts, max_attempts,"
				      " created_at, updated_at) VALUES (?, ?, ?, 'queued', 0, ?, ?, ?)"
				      " ON CONFLICT (job_key) DO NOTHING")) < 0)
		goto out;
	pg_stmt_bind_text(st, 1, kind);
	pg_stmt_bind_text(st, 2, key);
	pg_stmt_bind_text(st, 3, args_json);
	pg_stmt_bind_int(st, 4, max_attempts);
	pg_stmt_bind_int(st, 5, now);
	pg_stmt_bind_int(st, 6, now);
	if ((error = pg_stmt_exec(st)) < 0)
		goto out;
	if (id_out && pg_store_changes(s) > 0)
		*id_out = pg_store_last_id(s);
out:
	pg_stmt_free(st);
	pg_buf_release(&k);
	return error;
}

#define JOB_COLUMNS "id, kind, args, job_key, state, attempts, max_attempts, worker, lease_until," \
		    " last_error, created_at, updated_at"

static int read_job(pg_job *j, pg_stmt *st)
{
	memset(j, 0, sizeof(*j));
	j->id = pg_stmt_int(st, 0);
	j->kind = pg_strdup(pg_stmt_text(st, 1));
	j->args = pg_strdup(pg_stmt_text(st, 2));
	j->job_key = pg_strdup(pg_stmt_text(st, 3));
	j->state = pg_strdup(pg_stmt_text(st, 4));
	j->attempts = (int)pg_stmt_int(st, 5);
	j->max_attempts = (int)pg_stmt_int(st, 6);
	j->worker = pg_stmt_isnull(st, 7) ? NULL : pg_strdup(pg_stmt_text(st, 7));
	j->lease_until = pg_stmt_int(st, 8);
	j->last_error = pg_stmt_isnull(st, 9) ? NULL : pg_strdup(pg_stmt_text(st, 9));
	j->created_at = pg_stmt_int(st, 10);
	j->updated_at = pg_stmt_int(st, 11);
	if (!j->kind || !j->args || !j->job_key || !j->state) {
		pg_job_release(j);
		return pg_error_setc(PG_ENOMEM, "out of memory");
	}
	return 0;
}

int pg_jobs_claim(pg_job *out, pg_store *s, const char *const *kinds, const char *worker,
		  int lease_seconds, int64_t now)
{
	pg_buf sql = PG_BUF_INIT;
	pg_stmt *park = NULL, *sel = NULL, *upd = NULL;
	int error, found = 0, nk = 0;

	memset(out, 0, sizeof(*out));
	if ((error = pg_store_begin(s)) < 0)
		return error;
	/* jobs whose worker died on their last allowed attempt */
	if ((error = pg_store_prepare(&park, s,
				      "UPDATE jobs SET state = 'parked', updated_at = ?,"
				      " last_error = 'lease expired: worker ' || coalesce(worker, '?') ||"
				      " ' stopped heartbeating (attempt ' || attempts || ' of ' || max_attempts || ')'"
				      " WHERE state = 'running' AND lease_until < ? AND attempts >= max_attempts")) < 0)
		goto out;
	pg_stmt_bind_int(park, 1, now);
	pg_stmt_bind_int(park, 2, now);
	if ((error = pg_stmt_exec(park)) < 0)
		goto out;

	pg_buf_puts(&sql, "SELECT " JOB_COLUMNS " FROM jobs WHERE (state = 'queued' OR"
		    " (state = 'running' AND lease_until < ?))");
	if (kinds && kinds[0]) {
		pg_buf_puts(&sql, " AND kind IN (");
		for (nk = 0; kinds[nk]; nk++)
			pg_buf_puts(&sql, nk ? ", ?" : "?");
		pg_buf_puts(&sql, ")");
	}
	pg_buf_puts(&sql, " ORDER BY id LIMIT 1");
	if (row_locks(s))
		pg_buf_puts(&sql, " FOR UPDATE SKIP LOCKED");
	if ((error = pg_store_prepare(&sel, s, sql.ptr)) < 0)
		goto out;
	pg_stmt_bind_int(sel, 1, now);
	for (int i = 0; i < nk; i++)
		pg_stmt_bind_text(sel, i + 2, kinds[i]);
	if ((error = pg_stmt_step(sel)) < 0)
		goto out;
	if (error == 0)
		goto out;
	if ((error = read_job(out, sel)) < 0)
		goto out;
	pg_stmt_reset(sel);
	found = 1;
	if ((error = pg_store_prepare(&upd, s,
				      "UPDATE jobs SET state = 'running', attempts = attempts + 1, worker = ?,"
				      " lease_until = ?, updated_at = ? WHERE id = ?")) < 0)
		goto out;
	pg_stmt_bind_text(upd, 1, worker);
	pg_stmt_bind_int(upd, 2, now + lease_seconds);
	pg_stmt_bind_int(upd, 3, now);
	pg_stmt_bind_int(upd, 4, out->id);
	if ((error = pg_stmt_exec(upd)) < 0)
		goto out;
	out->attempts++;
	free(out->state);
	free(out->worker);
	out->state = pg_strdup("running");
	out->worker = pg_strdup(worker);
	out->lease_until = now + lease_seconds;
out:
	pg_stmt_free(park);
	pg_stmt_free(sel);
	pg_stmt_free(upd);
	pg_buf_release(&sql);
	if (error < 0) {
		pg_store_rollback(s);
		pg_job_release(out);
		return error;
	}
	if ((error = pg_store_commit(s)) < 0) {
		pg_job_release(out);
		return error;
	}
	return found;
}

/* Within a transaction: is the job still running under worker?  Locks the row. */
static int still_ours(pg_store *s, int64_t id, const char *worker)
{
	pg_stmt *st = NULL;
	int error;

	if ((error = pg_store_prepare(&st, s, row_locks(s)
				      ? "SELECT 1 FROM jobs WHERE id = ? AND state = 'running' AND worker = ? FOR UPDATE"
				      : "SELECT 1 FROM jobs WHERE id = ? AND state = 'running' AND worker = ?")) < 0)
		return error;
	pg_stmt_bind_int(st, 1, id);
	pg_stmt_bind_text(st, 2, worker);
	if ((error = pg_stmt_step(st)) == 0)
		error = pg_error_setc(PG_ENOTFOUND, "job %lld is no longer held by worker '%s'"
				      " (lease expired and taken over, or cancelled)", (long long)id, worker);
	else if (error > 0)
		error = 0;
	pg_stmt_free(st);
	return error;
}

int pg_jobs_heartbeat(pg_store *s, int64_t id, const char *worker, int lease_seconds, int64_t now)
{
	pg_stmt *st = NULL;
	int error;

	if ((error = pg_store_prepare(&st, s, "UPDATE jobs SET lease_until = ? WHERE id = ? AND state = 'running' AND worker = ?")) < 0)
		return error;
	pg_stmt_bind_int(st, 1, now + lease_seconds);
	pg_stmt_bind_int(st, 2, id);
	pg_stmt_bind_text(st, 3, worker);
	if ((error = pg_stmt_exec(st)) == 0 && pg_store_changes(s) == 0)
		error = pg_error_setc(PG_ENOTFOUND, "job %lld is no longer held by worker '%s'", (long long)id, worker);
	pg_stmt_free(st);
	return error;
}

int pg_jobs_complete(pg_store *s, int64_t id, const char *worker, int exit_code,
		     const char *result, int64_t now)
{
	pg_stmt *ins = NULL, *upd = NULL;
	int error;

	if ((error = pg_store_begin(s)) < 0)
		return error;
	if ((error = still_ours(s, id, worker)) < 0)
		goto out;
	if ((error = pg_store_prepare(&ins, s,
				      "INSERT INTO job_results (job_id, worker, exit_code, result, finished_at)"
				      " VALUES (?, ?, ?, ?, ?) ON CONFLICT (job_id) DO NOTHING")) < 0)
		goto out;
	pg_stmt_bind_int(ins, 1, id);
	pg_stmt_bind_text(ins, 2, worker);
	pg_stmt_bind_int(ins, 3, exit_code);
	pg_stmt_bind_text(ins, 4, result ? result : "");
	pg_stmt_bind_int(ins, 5, now);
	if ((error = pg_stmt_exec(ins)) < 0)
		goto out;
	if (pg_store_changes(s) == 0) {
		error = pg_error_setc(PG_ENOTFOUND, "job %lld already has a result: this one is discarded", (long long)id);
		goto out;
	}
	if ((error = pg_store_prepare(&upd, s,
				      "UPDATE jobs SET state = 'done', lease_until = NULL, last_error = NULL,"
				      " updated_at = ? WHERE id = ?")) < 0)
		goto out;
	pg_stmt_bind_int(upd, 1, now);
	pg_stmt_bind_int(upd, 2, id);
	error = pg_stmt_exec(upd);
out:
	pg_stmt_free(ins);
	pg_stmt_free(upd);
	if (error < 0) {
		pg_store_rollback(s);
		return error;
	}
	return pg_store_commit(s);
}

int pg_jobs_fail(pg_store *s, int64_t id, const char *worker, const char *msg, int64_t now)
{
	pg_stmt *st = NULL;
	int error;

	if ((error = pg_store_begin(s)) < 0)
		return error;
	if ((error = still_ours(s, id, worker)) < 0)
		goto out;
	if ((error = pg_store_prepare(&st, s,
				      "UPDATE jobs SET state = CASE WHEN attempts >= max_attempts THEN 'parked' ELSE 'queued' END,"
				      " lease_until = NULL, last_error = ?, updated_at = ? WHERE id = ?")) < 0)
		goto out;
	pg_stmt_bind_text(st, 1, msg);
	pg_stmt_bind_int(st, 2, now);
	pg_stmt_bind_int(st, 3, id);
	error = pg_stmt_exec(st);
out:
	pg_stmt_free(st);
	if (error < 0) {
		pg_store_rollback(s);
		return error;
	}
	return pg_store_commit(s);
}

static int operator_update(pg_store *s, const char *set, const char *allowed, int64_t id,
			   const char *state, int64_t now, int64_t *n_out)
{
	pg_buf sql = PG_BUF_INIT;
	pg_stmt *st = NULL;
	int error;

	*n_out = 0;
	pg_buf_printf(&sql, "UPDATE jobs SET %s, updated_at = ? WHERE state IN (%s) AND %s", set, allowed,
		      id ? "id = ?" : "state = ?");
	if ((error = pg_store_prepare(&st, s, sql.ptr)) < 0)
		goto out;
	pg_stmt_bind_int(st, 1, now);
	if (id)
		pg_stmt_bind_int(st, 2, id);
	else
		pg_stmt_bind_text(st, 2, state);
	if ((error = pg_stmt_exec(st)) == 0)
		*n_out = pg_store_changes(s);
out:
	pg_stmt_free(st);
	pg_buf_release(&sql);
	return error;
}

int pg_jobs_retry(pg_store *s, int64_t id, const char *state, int64_t now, int64_t *n_out)
{
	return operator_update(s, "state = 'queued', attempts = 0, lease_until = NULL",
			       "'parked', 'cancelled'", id, state, now, n_out);
}

int pg_jobs_cancel(pg_store *s, int64_t id, const char *state, int64_t now, int64_t *n_out)
{
	return operator_update(s, "state = 'cancelled', lease_until = NULL",
			       "'queued', 'running', 'parked'", id, state, now, n_out);
}

int pg_jobs_list(pg_store *s, const char *state, const char *kind,
		 int (*cb)(const pg_job *j, void *payload), void *payload)
{
	pg_stmt *st = NULL;
	pg_job j;
	int error, rc;

	if ((error = pg_store_prepare(&st, s, "SELECT " JOB_COLUMNS " FROM jobs"
				      " WHERE (CAST(? AS TEXT) IS NULL OR state = ?) AND (CAST(? AS TEXT) IS NULL OR kind = ?) ORDER BY id")) < 0)
		return error;
	pg_stmt_bind_text(st, 1, state);
	pg_stmt_bind_text(st, 2, state);
	pg_stmt_bind_text(st, 3, kind);
	pg_stmt_bind_text(st, 4, kind);
	while ((rc = pg_stmt_step(st)) > 0) {
		if ((error = read_job(&j, st)) < 0)
			break;
		error = cb(&j, payload);
		pg_job_release(&j);
		if (error < 0)
			break;
	}
	if (rc < 0)
		error = rc;
	pg_stmt_free(st);
	return error;
}

int pg_jobs_result(char **out, int *exit_code, pg_store *s, int64_t id)
{
	pg_stmt *st = NULL;
	int error;

	*out = NULL;
	if ((error = pg_store_prepare(&st, s, "SELECT result, exit_code FROM job_results WHERE job_id = ?")) < 0)
		return error;
	pg_stmt_bind_int(st, 1, id);
	if ((error = pg_stmt_step(st)) == 0)
		error = pg_error_setc(PG_ENOTFOUND, "job %lld has no result", (long long)id);
	else if (error > 0) {
		*exit_code = (int)pg_stmt_int(st, 1);
		error = (*out = pg_strdup(pg_stmt_text(st, 0))) ? 0 : pg_error_setc(PG_ENOMEM, "out of memory");
	}
	pg_stmt_free(st);
	return error;
}

int pg_jobs_unfinished(pg_store *s, const char *const *kinds)
{
	pg_stmt *st = NULL;
	int n = 0;
	if (pg_store_prepare(&st, s, "SELECT kind FROM jobs WHERE state IN ('queued', 'running')") < 0)
		return -1;
	while (pg_stmt_step(st) > 0) {
		const char *k = pg_stmt_text(st, 0);
		int match = !kinds;
		for (size_t i = 0; kinds && kinds[i]; i++)
			match |= !strcmp(kinds[i], k);
		n += match;
	}
	pg_stmt_free(st);
	return n;
}
