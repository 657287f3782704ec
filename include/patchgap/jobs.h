/*
 * jobs.h - the work queue: jobs that `patchgap worker` processes claim from
 * the database, on any host that reaches it.
 *
 * A job is (kind, args): kind is one of PG_JOB_KINDS, args the arguments of
 * the verb that runs it (a JSON array of strings).  Its key (kind + args
 * unless given) is unique: enqueuing the same work twice is a no-op.
 * States: queued -> running (claimed: a worker holds a lease, renewed by
 * heartbeats) -> done (exactly one row in job_results, written in the same
 * transaction) | queued again (failed, or its lease expired: the worker
 * died) | parked (failed max_attempts times; its last error is kept) |
 * cancelled.  On PostgreSQL claims use SELECT ... FOR UPDATE SKIP LOCKED, so
 * workers never wait for each other; on SQLite the claim transaction is
 * serialised by the database lock (one host, local worker processes).
 *
 * Times are seconds since the epoch, given by the caller (workers on several
 * hosts need synchronised clocks, as leases compare them).
 */
#ifndef PATCHGAP_JOBS_H
#define PATCHGAP_JOBS_H

#include <stdint.h>
#include "patchgap/store.h"

/* kinds, in the order `jobs list` documents them */
#define PG_JOB_KINDS "backport", "hook", "classify", "advisory", "affected"
int pg_job_kind_valid(const char *kind);

typedef struct pg_job {
	int64_t id;
	char *kind;          /* owned */
	char *args;          /* owned: JSON array of strings */
	char *job_key;       /* owned */
	char *state;         /* owned */
	int attempts;        /* claims so far, this one included */
	int max_attempts;
	char *worker;        /* owned: holder or last holder, or NULL */
	int64_t lease_until;
	char *last_error;    /* owned, or NULL */
	int64_t created_at, updated_at;
} pg_job;
void pg_job_release(pg_job *j);

/*
 * Queue a job; *id_out (optional) its id, or 0 when a job with the same
 * key already exists (nothing changed).  key NULL: kind + args.
 */
int pg_jobs_enqueue(pg_store *s, const char *kind, const char *args_json, const char *key,
		    int max_attempts, int64_t now, int64_t *id_out);

/*
 * Claim the oldest claimable job of one of kinds (NULL-terminated; NULL =
 * any): queued, or running with an expired lease (its worker died).
 * Running jobs whose lease expired after max_attempts claims are parked
 * first.  Returns 1 with *out filled (caller releases), 0 when none.
 */
int pg_jobs_claim(pg_job *out, pg_store *s, const char *const *kinds, const char *worker,
		  int lease_seconds, int64_t now);
/* Renew the lease: PG_ENOTFOUND when the job is no longer this worker's. */
int pg_jobs_heartbeat(pg_store *s, int64_t id, const char *worker, int lease_seconds, int64_t now);
/*
 * Store the result and mark the job done, in one transaction, only if the
 * worker still holds it: PG_ENOTFOUND (nothing written) when its lease was
 * lost, cancelled, or another worker already committed a result.
 */
int pg_jobs_complete(pg_store *s, int64_t id, const char *worker, int exit_code,
		     const char *result, int64_t now);
/* The attempt failed: queued again, or parked after max_attempts. */
int pg_jobs_fail(pg_store *s, int64_t id, const char *worker, const char *error, int64_t now);

/* Operator actions.  id 0 with state: every job in that state. *n_out: jobs changed. */
int pg_jobs_retry(pg_store *s, int64_t id, const char *state, int64_t now, int64_t *n_out);
int pg_jobs_cancel(pg_store *s, int64_t id, const char *state, int64_t now, int64_t *n_out);

/* Jobs (state/kind filters optional), oldest first; cb returns < 0 to stop. */
int pg_jobs_list(pg_store *s, const char *state, const char *kind,
		 int (*cb)(const pg_job *j, void *payload), void *payload);
/* The stored result of a done job: *out owned; PG_ENOTFOUND if none. */
int pg_jobs_result(char **out, int *exit_code, pg_store *s, int64_t id);
/* Queued or running jobs of these kinds (NULL: any kind); -1 without a jobs table. */
int pg_jobs_unfinished(pg_store *s, const char *const *kinds);

#endif
