/*
 * watch.h - the pipeline running by itself: fetch, ingest, import, classify,
 * re-evaluate what changed, and announce every change through an outbox.
 *
 * One cycle (pg_watch_cycle):
 *  1. fetch each configured [remote] that is due (libgit2: file://, git://,
 *     https) into core.repository, and the [cna] vulns.git into its checkout;
 *     a failing source is retried later with exponential backoff, the others
 *     go on;
 *  2. ingest the tracked branches incrementally (pg_ingest_run), then the
 *     [list] archives (pg_lists_ingest; inboxes with a url fetched first);
 *  3. in ONE transaction: classify the new mainline commits, import the CNA
 *     records whose files changed since the last imported CNA commit,
 *     announce newly flagged patch mails (patch.flagged), re-evaluate
 *     only the (fix or CVE) x branch cells that the new commits,
 *     moved branch tips or changed records can change, and write one row to
 *     `events` per change, with the delivery rows of every sink whose filter
 *     matches (transactional outbox).  A cycle killed at any point leaves the
 *     previous state and is redone identically by the next one;
 *  4. deliver pending events, per sink in event order (webhook, exec,
 *     maildir): at least once, with exponential backoff and jitter; a failing
 *     sink never blocks the others.
 *
 * Event idempotency keys are pure functions of the state change (item,
 * branch, old and new state, branch tip or record hash): re-running a cycle
 * can never announce one change twice with different content.
 *
 * The library never prints: messages go to the log callback.
 */
#ifndef PATCHGAP_WATCH_H
#define PATCHGAP_WATCH_H

#include <stdint.h>
#include <jansson.h>
#include "patchgap/common.h"
#include "patchgap/config.h"
#include "patchgap/store.h"

typedef enum { PG_WATCH_DEBUG, PG_WATCH_INFO, PG_WATCH_WARN, PG_WATCH_ERROR } pg_watch_level;

typedef enum { PG_SINK_WEBHOOK, PG_SINK_EXEC, PG_SINK_MAILDIR } pg_sink_type;

typedef struct pg_watch_remote {
	char *name;        /* owned: [remote "NAME"] */
	char *url;         /* owned */
	char **refspecs;   /* owned: fetch = ..., default mirror of heads and tags */
	size_t nrefspecs;
	int interval;      /* seconds between fetches (default [watch] interval) */
} pg_watch_remote;

typedef struct pg_watch_sink {
	char *name;        /* owned: [sink "NAME"] */
	pg_sink_type type;
	char *url;         /* webhook */
	char *secret;      /* webhook: HMAC-SHA256 key */
	char *command;     /* exec: run by /bin/sh -c, event JSON on stdin */
	char *path;        /* maildir: the Maildir (tmp/ new/ cur/ created) */
	char *mail_to;     /* maildir: To: header */
	int timeout;       /* seconds per delivery attempt (default 10) */
	char **kinds;      /* filter: event kinds or prefixes ending in '.'; none = all */
	size_t nkinds;
	char **branches;   /* filter: branch names; events without a branch pass */
	size_t nbranches;
	double min_priority; /* filter: payload.priority >= this; events without one pass */
} pg_watch_sink;

typedef struct pg_watch_conf {
	const pg_config *cfg;    /* borrowed: the tracked trees */
	pg_watch_remote *remotes;/* owned */
	size_t nremotes;
	char *cna_url;           /* owned: [cna] url, or NULL */
	char *cna_path;          /* owned: checkout of the CNA repository */
	int cna_interval;
	pg_watch_sink *sinks;    /* owned */
	size_t nsinks;
	int interval;            /* [watch] interval: seconds between cycles (default 300) */
	int backoff_max;         /* [watch] backoff-max: cap of retry delays (default 3600) */
	int announce_initial;    /* [watch] announce-initial: events for the first evaluation too */
	int backport;            /* [watch] backport: try each newly open fix on its stable/vendor branch */
	int backport_max;        /* [watch] backport-max: backports per cycle (default 20); the rest wait */
	char *drafts;            /* owned: [watch] drafts: directory of advisory drafts, or NULL */
} pg_watch_conf;

/*
 * Read the [watch], [remote], [cna] and [sink] sections of cfg->path.
 * Every problem (unknown sink type, webhook without secret or with a URL that
 * is not http(s), exec without command...) is PG_EINVALID naming the file,
 * the section and the key.  *out owned (pg_watch_conf_free); keeps cfg borrowed.
 */
int pg_watch_conf_load(pg_watch_conf **out, const pg_config *cfg);
void pg_watch_conf_free(pg_watch_conf *c);
const char *pg_sink_type_name(pg_sink_type t);

typedef struct pg_watch_options {
	unsigned version;
	int force_fetch;       /* fetch every source now, ignoring intervals and backoff */
	int no_deliver;        /* leave events queued */
	/* Log line: level and message (no newline). */
	void (*log)(pg_watch_level level, const char *msg, void *payload);
	/* Polled between steps and deliveries: non-zero = stop soon (SIGTERM). */
	int (*stop)(void *payload);
	void *payload;
} pg_watch_options;

#define PG_WATCH_OPTIONS_VERSION 1
#define PG_WATCH_OPTIONS_INIT { PG_WATCH_OPTIONS_VERSION, 0, 0, NULL, NULL, NULL }

/* What one cycle did, with the wall time of each step in milliseconds. */
typedef struct pg_watch_stats {
	size_t fetched, fetch_failed;     /* sources */
	size_t commits_new;
	size_t classified, flagged;
	size_t classified_diff;           /* of classified: scored with their diff (the diff head) */
	size_t cves_changed;
	size_t branches_evaluated, items_evaluated;
	size_t events;                    /* written by this cycle */
	size_t backports;                 /* [watch] backport runs of this cycle */
	size_t drafts;                    /* advisory drafts written */
	size_t delivered, delivery_failed;/* attempts of this cycle */
	double ms_fetch, ms_ingest, ms_classify, ms_import, ms_reeval, ms_deliver, ms_total;
	size_t mails_new, mails_flagged;  /* [list] archives: mails ingested, flagged patches announced */
	double ms_backport, ms_drafts;     /* [watch] backport runs, draft writes */
} pg_watch_stats;

/*
 * Run one cycle.  Returns 0 when the cycle completed (source or delivery
 * failures are logged, counted and retried later), < 0 when the database or
 * the repository failed (nothing of the evaluation step is stored).
 */
int pg_watch_cycle(pg_watch_stats *out, const pg_watch_conf *wc, pg_store *s, const pg_watch_options *opts);

/* Only step 4: deliver what is due.  *delivered / *failed count attempts. */
int pg_watch_deliver(const pg_watch_conf *wc, pg_store *s, const pg_watch_options *opts,
		     size_t *delivered, size_t *failed);

/*
 * Exclusive lock of one watch per database: <database>.watch.lock holds the
 * holder's pid, host and start time.  A second caller gets PG_ERROR naming
 * them.  *out: the descriptor to keep open (close to release).
 */
int pg_watch_lock(int *out, const char *database);

/* --status: last run per source, queue depth per sink, oldest undelivered event.  *out owned. */
int pg_watch_status(json_t **out, const pg_watch_conf *wc, pg_store *s);

/* ---- the events outbox (events verbs, REST readers) ---------------------- */

typedef struct pg_events_filter {
	const char *kind;      /* exact kind or prefix ending in '.'; NULL = all */
	const char *branch;    /* NULL = all */
	const char *sink;      /* only events with a delivery row for this sink */
	int undelivered;       /* only events with a pending delivery */
	int64_t after_id;      /* id > after_id */
	size_t limit;          /* 0 = no limit */
} pg_events_filter;
#define PG_EVENTS_FILTER_INIT { NULL, NULL, NULL, 0, 0, 0 }

/* Events in id order, each with its deliveries.  *out owned. */
int pg_events_list(json_t **out, pg_store *s, const pg_events_filter *f);
/*
 * The outbox for pollers (GET /api/v1/events): {events: [{id, created (ISO
 * 8601), kind, key, target, branch, config, old_state, new_state, payload
 * (the stored JSON text)}], last} with id > after, at most limit, in id
 * order; last = the last id served, else after.  A database without the
 * table (older, read-only) has no events.  *out owned.
 */
int pg_events_since(json_t **out, pg_store *s, int64_t after, size_t limit);
/* One event by id or idempotency key; PG_ENOTFOUND.  *out owned. */
int pg_events_show(json_t **out, pg_store *s, const char *id_or_key);
/*
 * Queue an event again for one sink (or every sink it was queued for when
 * sink is NULL): state pending, due now.  A sink named in wc that never had
 * the event gets a new delivery row.  *count: delivery rows queued.
 */
int pg_events_redeliver(size_t *count, pg_store *s, const pg_watch_conf *wc, const char *id_or_key, const char *sink);

/* The body every sink receives for one stored event (sorted keys).  *out owned (free). */
int pg_events_body(char **out, pg_store *s, int64_t id);

/* HMAC-SHA256 of data under key as 64 lowercase hex digits (+ NUL). */
int pg_watch_hmac_sha256(char out[65], const char *key, const void *data, size_t len);

#endif
