/*
 * events.c - the outbox: events written with the state change they announce,
 * one delivery row per sink that accepts them, and the operator queries
 * (list, show, redeliver).
 *
 * Invariant: an event row is never updated once written, so every delivery
 * of one key carries byte-identical content (pg_events_body is a pure
 * function of the row).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "watch_int.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/str.h"
#include "util/banned.h"

void pg_watch__log(const pg_watch_options *opts, pg_watch_level lv, const char *fmt, ...)
{
	pg_buf b = PG_BUF_INIT;
	va_list ap;
	if (!opts || !opts->log)
		return;
	va_start(ap, fmt);
	pg_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	opts->log(lv, pg_buf_cstr(&b), opts->payload);
	pg_buf_release(&b);
}

static int kind_matches(const char *pattern, const char *kind)
{
	size_t n = strlen(pattern);
	if (n && pattern[n - 1] == '.')
		return !strncmp(pattern, kind, n);
	return !strcmp(pattern, kind);
}

static int sink_accepts(const pg_watch_sink *sk, const pg_watch__event *ev)
{
	int ok = !sk->nkinds;
	for (size_t i = 0; i < sk->nkinds && !ok; i++)
		ok = kind_matches(sk->kinds[i], ev->kind);
	if (!ok)
		return 0;
	if (sk->nbranches && ev->branch) {
		ok = 0;
		for (size_t i = 0; i < sk->nbranches && !ok; i++)
			ok = !strcmp(sk->branches[i], ev->branch);
		if (!ok)
			return 0;
	}
	return ev->priority < 0 || ev->priority >= sk->min_priority;
}

int pg_watch__event_add(int *inserted, pg_store *s, const pg_watch_conf *wc, const pg_watch__event *ev, int64_t now)
{
	pg_stmt *ins = NULL, *del = NULL;
	char *payload = NULL;
	int64_t id;
	int error = 0, rc;

	*inserted = 0;
	if (!(payload = json_dumps(ev->payload, JSON_SORT_KEYS | JSON_COMPACT))) {
		error = pg_error_setc(PG_ENOMEM, "out of memory");
		goto out;
	}
	if ((error = pg_store_prepare(&ins, s,
				      "INSERT INTO events (created, kind, key, target, branch, config, old_state, new_state, payload)"
				      " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING RETURNING id")) < 0 ||
	    (error = pg_stmt_bind_int(ins, 1, now)) < 0 || (error = pg_stmt_bind_text(ins, 2, ev->kind)) < 0 ||
	    (error = pg_stmt_bind_text(ins, 3, ev->key)) < 0 || (error = pg_stmt_bind_text(ins, 4, ev->target)) < 0 ||
	    (error = pg_stmt_bind_text(ins, 5, ev->branch)) < 0 || (error = pg_stmt_bind_text(ins, 6, ev->config)) < 0 ||
	    (error = pg_stmt_bind_text(ins, 7, ev->old_state)) < 0 ||
	    (error = pg_stmt_bind_text(ins, 8, ev->new_state)) < 0 || (error = pg_stmt_bind_text(ins, 9, payload)) < 0)
		goto out;
	if ((rc = pg_stmt_step(ins)) < 0) {
		error = rc;
		goto out;
	}
	if (rc == 0) /* the key exists: this change was announced already */
		goto out;
	id = pg_stmt_int(ins, 0);
	*inserted = 1;
	if ((error = pg_store_prepare(&del, s,
				      "INSERT INTO event_deliveries (sink, event_id, state, attempts, next_attempt)"
				      " VALUES (?, ?, 'pending', 0, 0) ON CONFLICT (sink, event_id) DO NOTHING")) < 0)
		goto out;
	for (size_t i = 0; i < wc->nsinks; i++) {
		if (!sink_accepts(&wc->sinks[i], ev))
			continue;
		if ((error = pg_stmt_bind_text(del, 1, wc->sinks[i].name)) < 0 || (error = pg_stmt_bind_int(del, 2, id)) < 0 ||
		    (error = pg_stmt_exec(del)) < 0)
			goto out;
	}
out:
	pg_stmt_free(ins);
	pg_stmt_free(del);
	free(payload);
	return error;
}

/*
 * Read-only verbs open the database without migrating it: one that no
 * watch has written to lacks the tables, which is "no events", said so.
 */
int pg_watch__have_outbox(pg_store *s)
{
	pg_stmt *st = NULL;
	if (pg_store_prepare(&st, s, "SELECT 1 FROM events, event_deliveries, watch_sources WHERE 1 = 0") < 0)
		return pg_error_setc(PG_ENOTFOUND, "database '%s' has no events: `patchgap watch` has not run on it",
				     pg_store_path(s));
	pg_stmt_free(st);
	return 0;
}

static json_t *text_or_null(pg_stmt *st, int col)
{
	const char *t = pg_stmt_text(st, col);
	return t ? json_string(t) : json_null();
}

#define EVENT_COLS "e.id, e.created, e.kind, e.key, e.target, e.branch, e.config, e.old_state, e.new_state, e.payload"

/* The event as sinks receive it: the row, payload parsed. */
static json_t *event_json(pg_stmt *st)
{
	json_t *o = json_object(), *payload = json_loads(pg_stmt_text(st, 9) ? pg_stmt_text(st, 9) : "{}", 0, NULL);
	pg_json_set(o, "id", json_integer(pg_stmt_int(st, 0)));
	pg_json_set(o, "created", json_integer(pg_stmt_int(st, 1)));
	pg_json_set(o, "kind", text_or_null(st, 2));
	pg_json_set(o, "key", text_or_null(st, 3));
	pg_json_set(o, "target", text_or_null(st, 4));
	pg_json_set(o, "branch", text_or_null(st, 5));
	pg_json_set(o, "config", text_or_null(st, 6));
	pg_json_set(o, "old_state", text_or_null(st, 7));
	pg_json_set(o, "new_state", text_or_null(st, 8));
	pg_json_set(o, "payload", payload ? payload : json_object());
	return o;
}

int pg_events_body(char **out, pg_store *s, int64_t id)
{
	pg_stmt *st = NULL;
	json_t *o = NULL;
	int error = 0, rc;

	*out = NULL;
	if ((error = pg_store_prepare(&st, s, "SELECT " EVENT_COLS " FROM events e WHERE e.id = ?")) < 0 ||
	    (error = pg_stmt_bind_int(st, 1, id)) < 0)
		goto out;
	if ((rc = pg_stmt_step(st)) <= 0) {
		error = rc < 0 ? rc : pg_error_setc(PG_ENOTFOUND, "no event %lld", (long long)id);
		goto out;
	}
	o = event_json(st);
	if (!(*out = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT)))
		error = pg_error_setc(PG_ENOMEM, "out of memory");
out:
	json_decref(o);
	pg_stmt_free(st);
	return error;
}

static int add_deliveries(json_t *ev, pg_stmt *dq, int64_t id)
{
	json_t *arr = json_array();
	int rc;
	pg_stmt_reset(dq);
	pg_stmt_bind_int(dq, 1, id);
	while ((rc = pg_stmt_step(dq)) > 0) {
		json_t *d = json_object();
		pg_json_set(d, "sink", text_or_null(dq, 0));
		pg_json_set(d, "state", text_or_null(dq, 1));
		pg_json_set(d, "attempts", json_integer(pg_stmt_int(dq, 2)));
		pg_json_set(d, "next_attempt", json_integer(pg_stmt_int(dq, 3)));
		pg_json_set(d, "last_error", text_or_null(dq, 4));
		pg_json_set(d, "last_status", pg_stmt_isnull(dq, 5) ? json_null() : json_integer(pg_stmt_int(dq, 5)));
		pg_json_set(d, "delivered_at", pg_stmt_isnull(dq, 6) ? json_null() : json_integer(pg_stmt_int(dq, 6)));
		json_array_append_new(arr, d);
	}
	pg_json_set(ev, "deliveries", arr);
	return rc;
}

#define DELIV_SQL "SELECT sink, state, attempts, next_attempt, last_error, last_status, delivered_at" \
		  " FROM event_deliveries WHERE event_id = ? ORDER BY sink"

int pg_events_list(json_t **out, pg_store *s, const pg_events_filter *f)
{
	pg_stmt *st = NULL, *dq = NULL;
	pg_buf sql = PG_BUF_INIT;
	json_t *arr = json_array();
	size_t kl = f->kind ? strlen(f->kind) : 0;
	int error = 0, rc, idx = 1;

	*out = NULL;
	if ((error = pg_watch__have_outbox(s)) < 0)
		goto out;
	pg_buf_puts(&sql, "SELECT " EVENT_COLS " FROM events e WHERE e.id > ?");
	if (f->kind)
		pg_buf_puts(&sql, kl && f->kind[kl - 1] == '.' ? " AND substr(e.kind, 1, ?) = ?" : " AND e.kind = ?");
	if (f->branch)
		pg_buf_puts(&sql, " AND e.branch = ?");
	if (f->sink || f->undelivered) {
		pg_buf_puts(&sql, " AND EXISTS (SELECT 1 FROM event_deliveries d WHERE d.event_id = e.id");
		if (f->sink)
			pg_buf_puts(&sql, " AND d.sink = ?");
		if (f->undelivered)
			pg_buf_puts(&sql, " AND d.state = 'pending'");
		pg_buf_puts(&sql, ")");
	}
	pg_buf_puts(&sql, " ORDER BY e.id");
	if (f->limit)
		pg_buf_printf(&sql, " LIMIT %zu", f->limit);
	if ((error = pg_store_prepare(&st, s, pg_buf_cstr(&sql))) < 0 || (error = pg_store_prepare(&dq, s, DELIV_SQL)) < 0 ||
	    (error = pg_stmt_bind_int(st, idx++, f->after_id)) < 0)
		goto out;
	if (f->kind && kl && f->kind[kl - 1] == '.' && (error = pg_stmt_bind_int(st, idx++, (int64_t)kl)) < 0)
		goto out;
	if ((f->kind && (error = pg_stmt_bind_text(st, idx++, f->kind)) < 0) ||
	    (f->branch && (error = pg_stmt_bind_text(st, idx++, f->branch)) < 0) ||
	    (f->sink && (error = pg_stmt_bind_text(st, idx++, f->sink)) < 0))
		goto out;
	while ((rc = pg_stmt_step(st)) > 0) {
		json_t *ev = event_json(st);
		json_array_append_new(arr, ev);
		if ((error = add_deliveries(ev, dq, pg_stmt_int(st, 0))) < 0)
			goto out;
	}
	if (rc < 0) {
		error = rc;
		goto out;
	}
	*out = arr;
	arr = NULL;
out:
	json_decref(arr);
	pg_stmt_free(st);
	pg_stmt_free(dq);
	pg_buf_release(&sql);
	return error;
}

/* Event id of a number or an idempotency key. */
static int find_event(int64_t *id, pg_store *s, const char *id_or_key)
{
	pg_stmt *st = NULL;
	int error = 0, rc;
	char *end;
	long long n = strtoll(id_or_key, &end, 10);

	if ((error = pg_store_prepare(&st, s, "SELECT id FROM events WHERE id = ? OR key = ?")) < 0 ||
	    (error = pg_stmt_bind_int(st, 1, *id_or_key && !*end ? n : -1)) < 0 ||
	    (error = pg_stmt_bind_text(st, 2, id_or_key)) < 0)
		goto out;
	if ((rc = pg_stmt_step(st)) <= 0) {
		error = rc < 0 ? rc : pg_error_setc(PG_ENOTFOUND, "no event '%s' (want an event id or key)", id_or_key);
		goto out;
	}
	*id = pg_stmt_int(st, 0);
out:
	pg_stmt_free(st);
	return error;
}

int pg_events_show(json_t **out, pg_store *s, const char *id_or_key)
{
	pg_stmt *st = NULL, *dq = NULL;
	int64_t id = 0;
	int error, rc;

	*out = NULL;
	if ((error = pg_watch__have_outbox(s)) < 0 || (error = find_event(&id, s, id_or_key)) < 0 ||
	    (error = pg_store_prepare(&st, s, "SELECT " EVENT_COLS " FROM events e WHERE e.id = ?")) < 0 ||
	    (error = pg_store_prepare(&dq, s, DELIV_SQL)) < 0 || (error = pg_stmt_bind_int(st, 1, id)) < 0)
		goto out;
	if ((rc = pg_stmt_step(st)) <= 0) {
		error = rc < 0 ? rc : pg_error_setc(PG_ENOTFOUND, "no event '%s'", id_or_key);
		goto out;
	}
	*out = event_json(st);
	if ((error = add_deliveries(*out, dq, id)) < 0) {
		json_decref(*out);
		*out = NULL;
	}
out:
	pg_stmt_free(st);
	pg_stmt_free(dq);
	return error;
}

int pg_events_redeliver(size_t *count, pg_store *s, const pg_watch_conf *wc, const char *id_or_key, const char *sink)
{
	pg_stmt *up = NULL, *ins = NULL;
	int64_t id = 0;
	int error, known = !sink;

	*count = 0;
	for (size_t i = 0; sink && wc && i < wc->nsinks; i++)
		known |= !strcmp(wc->sinks[i].name, sink);
	if ((error = find_event(&id, s, id_or_key)) < 0)
		return error;
	if ((error = pg_store_begin(s)) < 0)
		return error;
	if (sink && known) {
		if ((error = pg_store_prepare(&ins, s,
					      "INSERT INTO event_deliveries (sink, event_id, state, attempts, next_attempt)"
					      " VALUES (?, ?, 'pending', 0, 0) ON CONFLICT (sink, event_id) DO NOTHING")) < 0 ||
		    (error = pg_stmt_bind_text(ins, 1, sink)) < 0 || (error = pg_stmt_bind_int(ins, 2, id)) < 0 ||
		    (error = pg_stmt_exec(ins)) < 0)
			goto fail;
	}
	if ((error = pg_store_prepare(&up, s,
				      sink ? "UPDATE event_deliveries SET state = 'pending', next_attempt = 0, attempts = 0"
					     " WHERE event_id = ? AND sink = ?"
					   : "UPDATE event_deliveries SET state = 'pending', next_attempt = 0, attempts = 0"
					     " WHERE event_id = ?")) < 0 ||
	    (error = pg_stmt_bind_int(up, 1, id)) < 0 || (sink && (error = pg_stmt_bind_text(up, 2, sink)) < 0) ||
	    (error = pg_stmt_exec(up)) < 0)
		goto fail;
	*count = (size_t)pg_store_changes(s);
	if (sink && !*count) {
		error = pg_error_setc(PG_ENOTFOUND, "event '%s' was never queued for sink '%s', which is not configured",
				      id_or_key, sink);
		goto fail;
	}
	pg_stmt_free(up);
	pg_stmt_free(ins);
	return pg_store_commit(s);
fail:
	pg_stmt_free(up);
	pg_stmt_free(ins);
	pg_store_rollback(s);
	return error;
}

int pg_events_since(json_t **out, pg_store *s, int64_t after, size_t limit)
{
	static const char *const cols[] = { "id", "created", "kind", "key", "target", "branch", "config",
					     "old_state", "new_state", "payload" };
	pg_stmt *st = NULL;
	json_t *arr = json_array();
	int rc;

	*out = NULL;
	if (pg_store_prepare(&st, s, "SELECT id, created, kind, key, target, branch, config, old_state, new_state,"
				     " payload FROM events WHERE id > ? ORDER BY id LIMIT ?") < 0) {
		if (!strstr(pg_error_last(), "no such table")) {
			json_decref(arr);
			return PG_ERROR;
		}
		pg_error_clear();
		*out = json_pack("{s:o,s:I}", "events", arr, "last", (json_int_t)after);
		return 0;
	}
	pg_stmt_bind_int(st, 1, after);
	pg_stmt_bind_int(st, 2, (int64_t)limit);
	while ((rc = pg_stmt_step(st)) > 0) {
		json_t *e = json_object();
		char when[40];
		pg_json_set(e, "id", json_integer(pg_stmt_int(st, 0)));
		pg_time_iso8601(when, sizeof(when), pg_stmt_int(st, 1));
		pg_json_set(e, "created", json_string(when));
		for (int c = 2; c < 10; c++)
			pg_json_set(e, cols[c], pg_json_string(pg_stmt_text(st, c)));
		after = pg_stmt_int(st, 0);
		json_array_append_new(arr, e);
	}
	pg_stmt_free(st);
	if (rc < 0) {
		json_decref(arr);
		return rc;
	}
	*out = json_pack("{s:o,s:I}", "events", arr, "last", (json_int_t)after);
	return 0;
}
