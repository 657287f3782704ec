/*
 * token.c - API tokens: a name, a role, and the SHA-1 of a secret.
 *
 * The secret is 20 bytes from the kernel's random source, shown once as
 * "pgt_" + 40 hex digits.  With that much entropy a plain SHA-1 is enough
 * to make a stolen database useless for logging in (no dictionary to try),
 * and lookups stay one indexed equality.  A name has one token: adding it
 * again is refused, removing it revokes the secret.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include "patchgap/triage.h"
#include "util/json.h"
#include "util/sha1.h"
#include "util/str.h"
#include "util/banned.h"

static const char *const roles[] = { "none", "reader", "triager", "admin" };

int pg_triage_role_parse(pg_triage_role *out, const char *s)
{
	for (int i = 1; s && i < 4; i++)
		if (!strcmp(s, roles[i])) {
			*out = (pg_triage_role)i;
			return 0;
		}
	return pg_error_setc(PG_EINVALID, "unknown role '%.40s' (want reader, triager or admin)", s ? s : "");
}

const char *pg_triage_role_name(pg_triage_role r)
{
	return (unsigned)r < 4 ? roles[r] : "none";
}

static void hash_hex(char out[41], const char *token)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[PG_SHA1_RAWSZ];
	pg_sha1 c;
	pg_sha1_init(&c);
	pg_sha1_update(&c, token, strlen(token));
	pg_sha1_final(raw, &c);
	for (int i = 0; i < PG_SHA1_RAWSZ; i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[40] = '\0';
}

static int valid_name(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (!n || n > 64)
		return 0;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '-' || *p == '_' || *p == '.' || *p == '@'))
			return 0;
	return 1;
}

int pg_triage_token_add(char **out, pg_store *s, const char *name, pg_triage_role role, int64_t now)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[20];
	char token[4 + 41], h[41];
	pg_stmt *st = NULL;
	int error, rc;

	*out = NULL;
	if (!valid_name(name))
		return pg_error_setc(PG_EINVALID, "token name '%.64s' must be 1-64 letters, digits, '-', '_', '.' or '@'",
				     name ? name : "");
	if (role < PG_ROLE_READER || role > PG_ROLE_ADMIN)
		return pg_error_setc(PG_EINVALID, "a token needs the role reader, triager or admin");
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return pg_error_setc(PG_EIO, "cannot read random bytes for a token");
	memcpy(token, "pgt_", 4);
	for (int i = 0; i < 20; i++) {
		token[4 + 2 * i] = hex[raw[i] >> 4];
		token[4 + 2 * i + 1] = hex[raw[i] & 15];
	}
	token[44] = '\0';
	hash_hex(h, token);
	if ((error = pg_store_prepare(&st, s, "SELECT 1 FROM tokens WHERE name = ?")) < 0)
		goto out;
	pg_stmt_bind_text(st, 1, name);
	if ((rc = pg_stmt_step(st)) != 0) {
		error = rc < 0 ? rc : pg_error_setc(PG_EINVALID, "a token named '%s' exists; remove it first", name);
		goto out;
	}
	pg_stmt_free(st);
	st = NULL;
	if ((error = pg_store_prepare(&st, s, "INSERT INTO tokens (name, role, hash, created) VALUES (?, ?, ?, ?)")) < 0)
		goto out;
	pg_stmt_bind_text(st, 1, name);
	pg_stmt_bind_text(st, 2, pg_triage_role_name(role));
	pg_stmt_bind_text(st, 3, h);
	pg_stmt_bind_int(st, 4, now);
	if ((error = pg_stmt_exec(st)) < 0)
		goto out;
	if (!(*out = pg_strdup(token)))
		error = pg_error_setc(PG_ENOMEM, "out of memory");
out:
	pg_stmt_free(st);
	return error;
}

int pg_triage_token_check(pg_triage_role *role, char **name, pg_store *s, const char *token)
{
	pg_stmt *st = NULL;
	char h[41];
	int error, rc;

	*role = PG_ROLE_NONE;
	if (name)
		*name = NULL;
	if (!token || strlen(token) != 44 || strncmp(token, "pgt_", 4))
		return pg_error_setc(PG_ENOTFOUND, "not a patchgap token");
	hash_hex(h, token);
	if ((error = pg_store_prepare(&st, s, "SELECT name, role FROM tokens WHERE hash = ?")) < 0)
		return error;
	pg_stmt_bind_text(st, 1, h);
	if ((rc = pg_stmt_step(st)) <= 0) {
		error = rc < 0 ? rc : pg_error_setc(PG_ENOTFOUND, "unknown token");
		goto out;
	}
	if ((error = pg_triage_role_parse(role, pg_stmt_text(st, 1))) < 0)
		goto out;
	if (name && !(*name = pg_strdup(pg_stmt_text(st, 0))))
		error = pg_error_setc(PG_ENOMEM, "out of memory");
out:
	pg_stmt_free(st);
	return error;
}

int pg_triage_token_list(json_t **out, pg_store *s)
{
	pg_stmt *st = NULL;
	json_t *arr = json_array();
	char date[40];
	int error, rc;

	*out = NULL;
	if (!arr)
		return pg_error_setc(PG_ENOMEM, "out of memory");
	if ((error = pg_store_prepare(&st, s, "SELECT name, role, created FROM tokens ORDER BY name")) < 0)
		goto out;
	while ((rc = pg_stmt_step(st)) > 0) {
		pg_time_iso8601(date, sizeof(date), pg_stmt_int(st, 2));
		if (json_array_append_new(arr, json_pack("{s:o,s:s,s:s}", "name", pg_json_string(pg_stmt_text(st, 0)),
							 "role", pg_stmt_text(st, 1), "created", date)) < 0) {
			error = pg_error_setc(PG_ENOMEM, "out of memory");
			goto out;
		}
	}
	if ((error = rc) < 0)
		goto out;
	*out = arr;
	arr = NULL;
out:
	pg_stmt_free(st);
	json_decref(arr);
	return error;
}

int pg_triage_token_remove(pg_store *s, const char *name)
{
	pg_stmt *st = NULL;
	int error;
	if ((error = pg_store_prepare(&st, s, "DELETE FROM tokens WHERE name = ?")) < 0)
		return error;
	pg_stmt_bind_text(st, 1, name);
	if ((error = pg_stmt_exec(st)) == 0 && pg_store_changes(s) == 0)
		error = pg_error_setc(PG_ENOTFOUND, "no token named '%.64s'", name);
	pg_stmt_free(st);
	return error;
}
