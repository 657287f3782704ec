/*
 * decision.c - the append-only ledger of triage decisions.
 *
 * A row is never updated or deleted: the latest row for (target, branch,
 * config) is the one in force, the older ones are its history.  Targets
 * are stored normalised (CVE ids upper case, commits as full 40-hex ids)
 * so that a decision recorded by CVE id and one recorded by fix commit
 * can both be found from either side.  Ids are max(id) + 1 inside the
 * writing transaction (portable; SQLite serialises writers).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "patchgap/triage.h"
#include "triage/triage_int.h"
#include "patchgap/cve.h"
#include "patchgap/ingest.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/str.h"
#include "util/banned.h"

static int bad(const char **bad_field, const char *field, int code, const char *msg, const char *value)
{
	if (bad_field)
		*bad_field = field;
	if (value)
		return pg_error_setc(code, "field '%s': %s: '%.80s'", field, msg, value);
	return pg_error_setc(code, "field '%s': %s", field, msg);
}

/* Normalise a CVE id or commit id into out (64 bytes). */
static int normalize_target(char out[64], const char **bad_field, pg_store *s, const char *t)
{
	int error;
	if (!t || !*t)
		return bad(bad_field, "target", PG_EINVALID, "a CVE id or a fix commit id is required", NULL);
	if (strlen(t) > 60 || !pg_triage__clean_text(t, 0))
		return bad(bad_field, "target", PG_EINVALID, "not a CVE id or commit id", NULL);
	if (!strncasecmp(t, "CVE-", 4)) {
		json_t *c = NULL;
		snprintf(out, 64, "%s", t);
		for (char *p = out; *p; p++)
			if (*p >= 'a' && *p <= 'z')
				*p = (char)(*p - 'a' + 'A');
		if (!pg_cve_id_valid(out))
			return bad(bad_field, "target", PG_EINVALID, "not a CVE id", t);
		if ((error = pg_cve_show(&c, s, out)) < 0) {
			if (error == PG_ENOTFOUND || error == PG_EINVALID)
				return bad(bad_field, "target", PG_ENOTFOUND, "unknown CVE (not imported)", t);
			return error;
		}
		json_decref(c);
		return 0;
	}
	if (pg_str_hexlen(t, 41) != strlen(t) || strlen(t) < 4)
		return bad(bad_field, "target", PG_EINVALID, "not a CVE id or commit id", t);
	if ((error = pg_ingest_resolve(out, s, t)) < 0) {
		if (error == PG_ENOTFOUND)
			return bad(bad_field, "target", PG_ENOTFOUND, "unknown commit", t);
		if (error == PG_EAMBIGUOUS)
			return bad(bad_field, "target", PG_EINVALID, "ambiguous commit id", t);
		return error;
	}
	return 0;
}

static int branch_tracked(int *found, pg_store *s, const char *name)
{
	json_t *arr = NULL, *b;
	size_t i;
	int error;
	*found = 0;
	if ((error = pg_ingest_branches(&arr, s)) < 0)
		return error;
	json_array_foreach(arr, i, b)
		if (!strcmp(json_string_value(json_object_get(b, "name")), name))
			*found = 1;
	json_decref(arr);
	return 0;
}

static json_t *row_json(pg_stmt *st)
{
	json_t *r = json_object();
	char date[40];
	char *d;
	if (!r)
		return NULL;
	pg_time_iso8601(date, sizeof(date), pg_stmt_int(st, 8));
	if (pg_json_set(r, "id", json_integer(pg_stmt_int(st, 0))) < 0 ||
	    pg_json_set(r, "target", pg_json_string(pg_stmt_text(st, 1))) < 0 ||
	    pg_json_set(r, "branch", pg_json_string(pg_stmt_text(st, 2))) < 0 ||
	    pg_json_set(r, "config", *pg_stmt_text(st, 3) ? pg_json_string(pg_stmt_text(st, 3)) : json_null()) < 0 ||
	    pg_json_set(r, "state", pg_json_string(pg_stmt_text(st, 4))) < 0 ||
	    pg_json_set(r, "justification", pg_json_string(pg_stmt_text(st, 5))) < 0 ||
	    pg_json_set(r, "note", pg_json_string(pg_stmt_text(st, 6))) < 0 ||
	    pg_json_set(r, "author", pg_json_string(pg_stmt_text(st, 7))) < 0 ||
	    pg_json_set(r, "created", json_string(date)) < 0 || !(d = pg_triage_describe(r))) {
		json_decref(r);
		return NULL;
	}
	pg_json_set(r, "decided", pg_json_string(d));
	free(d);
	return r;
}

#define ROW_COLS "id, target, branch, config, state, justification, note, author, created"

char *pg_triage_describe(const json_t *row)
{
	pg_buf b = PG_BUF_INIT;
	const char *created = json_string_value(json_object_get(row, "created"));
	const char *j = json_string_value(json_object_get(row, "justification"));
	pg_buf_printf(&b, "decided by %s on %.10s: %s (%s%s%s)", json_string_value(json_object_get(row, "author")),
		      created ? created : "?", json_string_value(json_object_get(row, "note")),
		      json_string_value(json_object_get(row, "state")), j ? ", " : "", j ? j : "");
	return pg_buf_detach(&b);
}

int pg_triage_decide(json_t **out, const char **bad_field, pg_store *s, const pg_decision *d)
{
	char target[64];
	const char *just = NULL, *config = d->config ? d->config : "";
	pg_stmt *st = NULL;
	int error, found, began = 0, rc;
	int64_t id;

	*out = NULL;
	if (bad_field)
		*bad_field = NULL;
	if ((error = normalize_target(target, bad_field, s, d->target)) < 0)
		return error;
	if (!d->branch || !*d->branch)
		return bad(bad_field, "branch", PG_EINVALID, "a tracked branch name is required", NULL);
	if ((error = branch_tracked(&found, s, d->branch)) < 0)
		return error;
	if (!found)
		return bad(bad_field, "branch", PG_ENOTFOUND, "not a tracked branch", d->branch);
	if (strlen(config) > PG_TRIAGE_FIELD_MAX || !pg_triage__clean_text(config, 0))
		return bad(bad_field, "config", PG_EINVALID, "not a build name", NULL);
	if (!pg_triage_state_valid(d->state))
		return bad(bad_field, "state", PG_EINVALID,
			   "want affected, not_affected, fixed, under_investigation or will_not_fix", d->state ? d->state : "");
	if (d->justification && *d->justification && !(just = pg_triage_justification(d->justification)))
		return bad(bad_field, "justification", PG_EINVALID,
			   "not a VEX justification (component_not_present, vulnerable_code_not_present, "
			   "vulnerable_code_not_in_execute_path, vulnerable_code_cannot_be_controlled_by_adversary, "
			   "inline_mitigations_already_exist)", d->justification);
	if (!strcmp(d->state, "not_affected") && !just)
		return bad(bad_field, "justification", PG_EINVALID, "required when the state is not_affected", NULL);
	if (strcmp(d->state, "not_affected") && just)
		return bad(bad_field, "justification", PG_EINVALID, "only a not_affected decision has a justification", NULL);
	if (!d->note || !*d->note)
		return bad(bad_field, "note", PG_EINVALID, "a reason is required", NULL);
	if (strlen(d->note) > PG_TRIAGE_NOTE_MAX || !pg_triage__clean_text(d->note, 1))
		return bad(bad_field, "note", PG_EINVALID, "too long or holds control bytes", NULL);
	if (!d->author || !*d->author || strlen(d->author) > PG_TRIAGE_FIELD_MAX || !pg_triage__clean_text(d->author, 0))
		return bad(bad_field, "author", PG_EINVALID, "a name without control bytes is required", NULL);

	if ((error = pg_store_begin(s)) < 0)
		goto out;
	began = 1;
	if ((error = pg_store_prepare(&st, s, "SELECT coalesce(max(id), 0) + 1 FROM decisions")) < 0 ||
	    (rc = pg_stmt_step(st)) <= 0) {
		error = error < 0 ? error : rc < 0 ? rc : pg_error_setc(PG_ERROR, "cannot number the decision");
		goto out;
	}
	id = pg_stmt_int(st, 0);
	pg_stmt_free(st);
	st = NULL;
	if ((error = pg_store_prepare(&st, s, "INSERT INTO decisions (" ROW_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) < 0)
		goto out;
	pg_stmt_bind_int(st, 1, id);
	pg_stmt_bind_text(st, 2, target);
	pg_stmt_bind_text(st, 3, d->branch);
	pg_stmt_bind_text(st, 4, config);
	pg_stmt_bind_text(st, 5, d->state);
	pg_stmt_bind_text(st, 6, just);
	pg_stmt_bind_text(st, 7, d->note);
	pg_stmt_bind_text(st, 8, d->author);
	pg_stmt_bind_int(st, 9, d->created);
	if ((error = pg_stmt_exec(st)) < 0)
		goto out;
	pg_stmt_free(st);
	st = NULL;
	if ((error = pg_store_commit(s)) < 0)
		goto out;
	began = 0;
	if ((error = pg_store_prepare(&st, s, "SELECT " ROW_COLS " FROM decisions WHERE id = ?")) < 0)
		goto out;
	pg_stmt_bind_int(st, 1, id);
	if ((rc = pg_stmt_step(st)) <= 0 || !(*out = row_json(st)))
		error = rc < 0 ? rc : pg_error_setc(PG_ENOMEM, "out of memory");
out:
	pg_stmt_free(st);
	if (began)
		pg_store_rollback(s);
	return error;
}

/* ids: the target itself, plus its fix commits (CVE) or its CVEs (commit). */
static int related_ids(json_t **out, pg_store *s, const char *target)
{
	json_t *ids = json_array(), *c = NULL, *e;
	size_t i;
	int error = 0;
	char full[41];

	*out = NULL;
	if (!ids)
		return pg_error_setc(PG_ENOMEM, "out of memory");
	if (!strncasecmp(target, "CVE-", 4)) {
		char id[64];
		snprintf(id, sizeof(id), "%s", target);
		for (char *p = id; *p; p++)
			if (*p >= 'a' && *p <= 'z')
				*p = (char)(*p - 'a' + 'A');
		json_array_append_new(ids, json_string(id));
		if ((error = pg_cve_show(&c, s, id)) < 0)
			goto out;
		json_array_foreach(json_object_get(c, "fixes"), i, e)
			if (json_string_value(json_object_get(e, "sha")))
				json_array_append(ids, json_object_get(e, "sha"));
	} else {
		pg_cve_filter f = { NULL, NULL, NULL };
		if ((error = pg_ingest_resolve(full, s, target)) < 0)
			goto out;
		json_array_append_new(ids, json_string(full));
		f.fixed_by = full;
		if ((error = pg_cve_list(&c, s, &f)) < 0)
			goto out;
		json_array_foreach(c, i, e)
			json_array_append(ids, json_object_get(e, "id"));
	}
	*out = ids;
	ids = NULL;
out:
	json_decref(c);
	json_decref(ids);
	return error;
}

int pg_triage_history(json_t **out, pg_store *s, const char *target, const char *branch)
{
	json_t *ids = NULL, *arr = json_array(), *e;
	pg_buf sql = PG_BUF_INIT;
	pg_stmt *st = NULL;
	size_t i;
	int error, rc;

	*out = NULL;
	if (!arr)
		return pg_error_setc(PG_ENOMEM, "out of memory");
	if ((error = related_ids(&ids, s, target)) < 0)
		goto out;
	pg_buf_puts(&sql, "SELECT " ROW_COLS " FROM decisions WHERE target IN (");
	for (i = 0; i < json_array_size(ids); i++)
		pg_buf_puts(&sql, i ? ", ?" : "?");
	pg_buf_puts(&sql, branch ? ") AND branch = ? ORDER BY id" : ") ORDER BY id");
	if ((error = pg_store_prepare(&st, s, pg_buf_cstr(&sql))) < 0)
		goto out;
	json_array_foreach(ids, i, e)
		pg_stmt_bind_text(st, (int)i + 1, json_string_value(e));
	if (branch)
		pg_stmt_bind_text(st, (int)json_array_size(ids) + 1, branch);
	while ((rc = pg_stmt_step(st)) > 0) {
		json_t *r = row_json(st);
		if (!r || json_array_append_new(arr, r) < 0) {
			error = pg_error_setc(PG_ENOMEM, "out of memory");
			goto out;
		}
	}
	if ((error = rc) < 0)
		goto out;
	*out = arr;
	arr = NULL;
out:
	pg_buf_release(&sql);
	pg_stmt_free(st);
	json_decref(ids);
	json_decref(arr);
	return error;
}

/* A decision for build `dc` ("" = whole branch) covers a result computed for `config`. */
static int config_covers(const char *dc, const char *config)
{
	const char *base;
	size_t n;
	if (!*dc)
		return 1;
	if (!config)
		return 0;
	if (!strcmp(dc, config))
		return 1;
	base = strrchr(config, '/') ? strrchr(config, '/') + 1 : config;
	n = strlen(dc);
	return !strncmp(base, dc, n) && (!base[n] || !strcmp(base + n, ".config"));
}

/*
 * Latest decision per target on a branch, as an object target -> row.
 * Rows come in id order, so a later row replaces an earlier one.
 */
static int latest_map(json_t **out, pg_store *s, const char *branch, const char *config)
{
	pg_stmt *st = NULL;
	json_t *map = json_object();
	int error, rc;

	*out = NULL;
	if (!map)
		return pg_error_setc(PG_ENOMEM, "out of memory");
	if ((error = pg_store_prepare(&st, s, "SELECT " ROW_COLS " FROM decisions WHERE branch = ? ORDER BY id")) < 0)
		goto out;
	pg_stmt_bind_text(st, 1, branch);
	while ((rc = pg_stmt_step(st)) > 0) {
		json_t *r;
		if (!config_covers(pg_stmt_text(st, 3), config))
			continue;
		if (!(r = row_json(st)) || json_object_set_new(map, pg_stmt_text(st, 1), r) < 0) {
			error = pg_error_setc(PG_ENOMEM, "out of memory");
			goto out;
		}
	}
	if ((error = rc) < 0)
		goto out;
	*out = map;
	map = NULL;
out:
	pg_stmt_free(st);
	json_decref(map);
	return error;
}

/* The newer (higher id) of the rows found for ids. */
static json_t *pick(json_t *map, const char *const *ids, size_t nids)
{
	json_t *best = NULL;
	for (size_t i = 0; i < nids; i++) {
		json_t *r = ids[i] ? json_object_get(map, ids[i]) : NULL;
		if (r && (!best || json_integer_value(json_object_get(r, "id")) >
				   json_integer_value(json_object_get(best, "id"))))
			best = r;
	}
	return best;
}

int pg_triage_latest(json_t **out, pg_store *s, const char *const *ids, size_t nids, const char *branch,
		     const char *config)
{
	json_t *map = NULL, *r;
	int error;
	*out = NULL;
	if ((error = latest_map(&map, s, branch, config)) < 0)
		return error;
	if ((r = pick(map, ids, nids)))
		*out = json_incref(r);
	json_decref(map);
	return 0;
}

static int is_open_list(const char *l)
{
	return !strcmp(l, "unfixed") || !strcmp(l, "possibly_affected") || !strcmp(l, "unknown");
}

int pg_triage_apply_status(json_t *status, pg_store *s)
{
	static const char *const lists[] = { "unfixed", "possibly_affected", "unknown", "fixed", "not_affected_by_config" };
	const char *branch = json_string_value(json_object_get(status, "branch"));
	const char *config = json_string_value(json_object_get(status, "config"));
	json_t *map = NULL, *decided = json_array(), *to_unfixed = json_array();
	int error = 0;

	if (!decided || !to_unfixed) {
		error = pg_error_setc(PG_ENOMEM, "out of memory");
		goto out;
	}
	if (!branch)
		goto out;
	if ((error = latest_map(&map, s, branch, config)) < 0)
		goto out;
	for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++) {
		json_t *arr = json_object_get(status, lists[l]), *kept = json_array();
		size_t i;
		json_t *e;
		if (!kept) {
			error = pg_error_setc(PG_ENOMEM, "out of memory");
			goto out;
		}
		json_array_foreach(arr, i, e) {
			const char *ids[2] = { json_string_value(json_object_get(e, "id")),
					       json_string_value(json_object_get(e, "fix")) };
			json_t *r = json_object_size(map) ? pick(map, ids, 2) : NULL;
			const char *st;
			if (!r) {
				json_array_append(kept, e);
				continue;
			}
			st = json_string_value(json_object_get(r, "state"));
			pg_json_set(e, "decision", json_incref(r));
			pg_json_set(e, "decided", json_incref(json_object_get(r, "decided")));
			pg_json_set(e, "engine", json_string(lists[l]));
			if (!strcmp(st, "not_affected") || !strcmp(st, "fixed") || !strcmp(st, "will_not_fix"))
				json_array_append(decided, e);
			else if (!strcmp(lists[l], "unfixed") || (!strcmp(st, "under_investigation") && is_open_list(lists[l])))
				json_array_append(kept, e);
			else
				json_array_append(to_unfixed, e); /* someone says it is open here */
		}
		if (arr)
			json_object_set(status, lists[l], kept);
		json_decref(kept);
	}
	if (json_array_size(to_unfixed)) {
		if (!json_object_get(status, "unfixed"))
			pg_json_set(status, "unfixed", json_array());
		json_array_extend(json_object_get(status, "unfixed"), to_unfixed);
	}
	pg_json_set(status, "decided", json_incref(decided));
	{
		/* the counts follow the lists they count */
		json_t *counts = json_object_get(status, "counts");
		const char *k;
		json_t *v;
		if (json_is_object(counts)) {
			json_object_foreach(counts, k, v)
				if (json_is_array(json_object_get(status, k)))
					json_object_set_new(counts, k, json_integer((json_int_t)json_array_size(json_object_get(status, k))));
			json_object_set_new(counts, "decided", json_integer((json_int_t)json_array_size(decided)));
		}
	}
out:
	json_decref(map);
	json_decref(decided);
	json_decref(to_unfixed);
	return error;
}
