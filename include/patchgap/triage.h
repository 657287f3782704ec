/*
 * triage.h - what people decided about a fix, and who may say so.
 *
 * Decisions: an append-only ledger of human verdicts on a CVE or a fix
 * commit for one tracked branch (optionally one .config build of it):
 * state (the VEX statuses plus will_not_fix), the VEX justification for
 * not_affected, a note, the author and the time.  The latest decision for
 * (target, branch, config) overrides the engine's verdict wherever a
 * verdict is shown (status, advisories, the report), always together with
 * the engine's own verdict and "decided by X on D: note".  Rows are never
 * updated or deleted: the history is the audit trail.
 *
 * Tokens: API credentials with a role (reader < triager < admin).  Only a
 * SHA-1 of the token is stored; the token itself (20 random bytes, 40 hex
 * digits after "pgt_") is returned once by pg_triage_token_add.
 *
 * Both the CLI and the web server call these functions; nothing here
 * prints or reads the environment.  JSON results are owned by the caller.
 */
#ifndef PATCHGAP_TRIAGE_H
#define PATCHGAP_TRIAGE_H

#include <stdint.h>
#include <jansson.h>
#include "patchgap/common.h"
#include "patchgap/store.h"

typedef enum pg_triage_role {
	PG_ROLE_NONE = 0,
	PG_ROLE_READER,
	PG_ROLE_TRIAGER,
	PG_ROLE_ADMIN,
} pg_triage_role;

int pg_triage_role_parse(pg_triage_role *out, const char *s);
const char *pg_triage_role_name(pg_triage_role r);

/*
 * A new token for NAME with ROLE; *out (owned, free()) is the only copy of
 * the secret.  PG_EEXISTS-like PG_EINVALID when NAME already has a token.
 */
int pg_triage_token_add(char **out, pg_store *s, const char *name, pg_triage_role role, int64_t now);
/* Role and name (*name owned, may be NULL) of a presented token; PG_ENOTFOUND if unknown. */
int pg_triage_token_check(pg_triage_role *role, char **name, pg_store *s, const char *token);
/* [{name, role, created}] without secrets. */
int pg_triage_token_list(json_t **out, pg_store *s);
/* PG_ENOTFOUND if NAME has no token. */
int pg_triage_token_remove(pg_store *s, const char *name);

/* One decision to record; strings are borrowed. */
typedef struct pg_decision {
	const char *target;        /* CVE id, or a fix commit id (full or abbreviated) */
	const char *branch;        /* tracked branch name */
	const char *config;        /* .config build name, or NULL/"" for the whole branch */
	const char *state;         /* affected|not_affected|fixed|under_investigation|will_not_fix */
	const char *justification; /* VEX justification (not_affected only; required there) */
	const char *note;          /* the reason, free text (required) */
	const char *author;        /* who decided (required) */
	int64_t created;           /* UNIX time of the decision */
} pg_decision;

/* Longest accepted note and author (bytes); longer ones are rejected. */
#define PG_TRIAGE_NOTE_MAX 4000
#define PG_TRIAGE_FIELD_MAX 200

/*
 * Validate and append d.  The target is normalised (CVE ids upper case,
 * commits to their full id) and must be known; the branch must be tracked.
 * On PG_EINVALID / PG_ENOTFOUND, *bad_field (when not NULL) names the
 * offending field ("target", "state", ...).  *out: the stored row.
 */
int pg_triage_decide(json_t **out, const char **bad_field, pg_store *s, const pg_decision *d);

/*
 * Parse the JSON body of POST /api/v1/decisions into d (strings borrowed
 * from *out, owned by the caller: json_decref).  Only the fields of
 * pg_decision other than author and created are accepted; each must be a
 * string (config and justification may be null) without NUL bytes.
 * PG_EINVALID with *bad_field naming the offending field, or NULL when
 * the body is not a JSON object.  Values are checked by pg_triage_decide.
 */
int pg_triage_parse_request(json_t **out, pg_decision *d, const char **bad_field, const char *body, size_t len);

/*
 * Every decision about target (CVE id or commit id; a CVE's history also
 * holds decisions recorded on its fix commits), oldest first; branch
 * (optional) restricts to one branch.  Each row: {id, target, branch,
 * config, state, justification, note, author, created, decided}.
 */
int pg_triage_history(json_t **out, pg_store *s, const char *target, const char *branch);

/*
 * The latest decision (a history row, *out owned) about any of ids
 * (a CVE id and its fix commits) on branch for config (NULL = whole
 * branch; a decision for the whole branch also covers every build).
 * *out = NULL when nobody decided.
 */
int pg_triage_latest(json_t **out, pg_store *s, const char *const *ids, size_t nids, const char *branch,
		     const char *config);

/*
 * Let decisions override a status result of pg_affect_status in place:
 * each listed fix with a decision gets "decision" (the row), "decided"
 * ("decided by X on D: note") and "engine" (the list the engine put it
 * in); decided not_affected / fixed / will_not_fix fixes move from the
 * open lists to "decided", decided affected fixes move to "unfixed".
 */
int pg_triage_apply_status(json_t *status, pg_store *s);

/* "decided by X on YYYY-MM-DD: note" for a history row; owned, free(). */
char *pg_triage_describe(const json_t *row);

/* True when s names a decision state. */
int pg_triage_state_valid(const char *s);
/*
 * The VEX justification named by s: the OpenVEX names, or the same
 * without the "vulnerable_" prefix (code_not_present).  NULL if unknown.
 */
const char *pg_triage_justification(const char *s);

#endif
