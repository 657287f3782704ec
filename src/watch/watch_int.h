/*
 * watch_int.h - cross-file internals of src/watch.
 */
#ifndef PG_WATCH_INT_H
#define PG_WATCH_INT_H

#include <stdarg.h>
#include <jansson.h>
#include "patchgap/watch.h"

/* One change to announce; strings borrowed. */
typedef struct pg_watch__event {
	const char *kind;       /* fix.flagged, branch.affected, branch.fixed, branch.changed, cve.published... */
	const char *key;        /* idempotency key */
	const char *target;     /* CVE id or commit id */
	const char *branch, *config;
	const char *old_state, *new_state;
	json_t *payload;        /* borrowed; dumped with sorted keys */
	double priority;        /* for sink filters; < 0 = none */
} pg_watch__event;

/*
 * Write one event and the delivery rows of the sinks whose filters accept it,
 * inside the caller's transaction.  An event whose key exists already is left
 * as it is (*inserted = 0): the same change announced by a re-run cycle.
 */
int pg_watch__event_add(int *inserted, pg_store *s, const pg_watch_conf *wc, const pg_watch__event *ev, int64_t now);

/* 0 when the outbox tables exist; PG_ENOTFOUND saying no watch ran on the database. */
int pg_watch__have_outbox(pg_store *s);

/* Log through opts (printf-style). */
void pg_watch__log(const pg_watch_options *opts, pg_watch_level lv, const char *fmt, ...) PG_PRINTF(3, 4);

/*
 * Re-evaluate the cells that can have changed: every branch whose head moved
 * since watch_tips (all of its items), and the items in touched (CVE ids or
 * commit ids) on the branches that did not move.  Writes cells, tips and
 * events in the caller's transaction.  quiet: store without events (first
 * evaluation of a database).
 */
typedef struct pg_watch__strs { char **ptr; size_t len, alloc; } pg_watch__strs;
int pg_watch__strs_add(pg_watch__strs *v, const char *s); /* no duplicates */
void pg_watch__strs_release(pg_watch__strs *v);

int pg_watch__reeval(pg_watch_stats *st, pg_store *s, const pg_watch_conf *wc, const pg_watch__strs *touched,
		     int quiet, int64_t now, const pg_watch_options *opts);

/* Retry delay in seconds after attempts+1 failures: exponential, jittered, capped at cap, >= 1. */
int64_t pg_watch__backoff(int attempts, int cap);

/* Deliver one event body to one sink: 0 delivered; < 0 with the reason in pg_error; *status HTTP or exit status. */
int pg_watch__sink_send(const pg_watch_sink *sk, int64_t event_id, const char *kind, const char *key,
			const char *body, long *status);

/* Sources (cycle.c): is a source due; record an attempt (err NULL = ok) with backoff. */
int pg_watch__source_due(int *due, pg_store *s, const char *name, int interval, int64_t now, int force);
int pg_watch__source_record(pg_store *s, const char *name, const char *kind, const char *url, int64_t now, double ms,
			    const char *err, int backoff_max);
/* Fetch refspecs from url into repo (libgit2, no insteadOf). */
struct git_repository;
int pg_watch__fetch_refspecs(struct git_repository *repo, const char *url, char **refspecs, size_t n);

/*
 * Mailing lists (lists.c).  Before the transaction: fetch the [list] inboxes
 * given by git URL and run `lists ingest` incrementally on every list (its
 * own crash-safe batches), then link commits to mails (pg_lists_link) when
 * new mails or new commits arrived.  In the transaction: one patch.flagged event per
 * patch mail the model flags above the list's mark, and the marks.
 */
int pg_watch__lists_ingest(pg_watch_stats *st, const pg_watch_conf *wc, pg_store *s, int commits_ingested,
			   const pg_watch_options *opts);
int pg_watch__lists_events(pg_watch_stats *st, const pg_watch_conf *wc, pg_store *s, int64_t now,
			   const pg_watch_options *opts);

/* Integer meta values (marks): def when absent. */
int pg_watch__meta_int(int64_t *out, pg_store *s, const char *key, int64_t def);
int pg_watch__meta_set_int(pg_store *s, const char *key, int64_t v);
/* Start of a mark never set: the last event created before now (0 = none). */
int pg_watch__mark_start(int64_t *out, pg_store *s, int64_t now);

/*
 * [watch] backport: for each event after meta 'watch.backport_event' in which
 * a fix became open on a stable or vendor branch, the in-memory backport
 * (pg_backport_run, no ref written) with its live-patch verdict, recorded in
 * backport_runs and announced as a backport.result event; at most
 * backport-max per call, the rest in the next cycles.  Runs inside the
 * caller's transaction, which also advances the mark.
 */
int pg_watch__backport(pg_watch_stats *st, pg_store *s, const pg_watch_conf *wc, int quiet, int64_t now,
		       const pg_watch_options *opts);

/*
 * [watch] drafts: after the cycle's transaction, the advisory model
 * (`advisory --new --out DIR`) of every item named by an event after meta
 * 'watch.drafts_event', written atomically into the directory; the mark
 * advances once all are written.  A write failure is logged and retried by
 * the next cycle; only database errors are returned.
 */
int pg_watch__drafts(pg_watch_stats *st, pg_store *s, const pg_watch_conf *wc, int64_t now,
		     const pg_watch_options *opts);

#endif
