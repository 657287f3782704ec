/*
 * request.c - the checks of a decision that need no database, and the
 * parser of the JSON body of POST /api/v1/decisions.  Linear in the input:
 * one jansson parse, one pass over the keys, one pass over each string.
 * Built into fuzz/fuzz_decision.c as well as the library.
 */
#include <stdio.h>
#include <string.h>
#include "patchgap/triage.h"
#include "triage/triage_int.h"
#include "util/str.h"
#include "util/banned.h"

static const char *const states[] = { "affected", "not_affected", "fixed", "under_investigation", "will_not_fix" };

static const char *const justifications[] = {
	"component_not_present",
	"vulnerable_code_not_present",
	"vulnerable_code_not_in_execute_path",
	"vulnerable_code_cannot_be_controlled_by_adversary",
	"inline_mitigations_already_exist",
};

int pg_triage_state_valid(const char *s)
{
	for (size_t i = 0; s && i < sizeof(states) / sizeof(states[0]); i++)
		if (!strcmp(s, states[i]))
			return 1;
	return 0;
}

const char *pg_triage_justification(const char *s)
{
	for (size_t i = 0; s && i < sizeof(justifications) / sizeof(justifications[0]); i++)
		if (!strcmp(s, justifications[i]) ||
		    (pg_str_starts_with(justifications[i], "vulnerable_") && !strcmp(s, justifications[i] + 11)))
			return justifications[i];
	return NULL;
}

int pg_triage__clean_text(const char *s, int multiline)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 && !(multiline && (*s == '\n' || *s == '\t')))
			return 0;
	return 1;
}

static int bad_request(const char **bad_field, const char *field, const char *fmt, const char *arg)
{
	if (bad_field)
		*bad_field = field;
	return pg_error_setc(PG_EINVALID, fmt, arg);
}

int pg_triage_parse_request(json_t **out, pg_decision *d, const char **bad_field, const char *body, size_t len)
{
	static const char *const keys[] = { "target", "branch", "config", "state", "justification", "note" };
	json_t *o, *v;
	json_error_t je;
	const char *k;

	*out = NULL;
	if (bad_field)
		*bad_field = NULL;
	memset(d, 0, sizeof(*d));
	if (!(o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je)))
		return pg_error_setc(PG_EINVALID, "the body is not JSON: %s (line %d, column %d)", je.text, je.line, je.column);
	if (!json_is_object(o)) {
		json_decref(o);
		return pg_error_setc(PG_EINVALID, "the body is not a JSON object");
	}
	json_object_foreach(o, k, v) {
		size_t i;
		int error;
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (!strcmp(k, keys[i]))
				break;
		if (i == sizeof(keys) / sizeof(keys[0])) {
			/* the key dies with the object: name it from a copy that outlives this call */
			static _Thread_local char unknown[64];
			snprintf(unknown, sizeof(unknown), "%s", k);
			error = bad_request(bad_field, unknown, "unknown field '%.60s'", k);
		}
		else if (!json_is_string(v) && !(json_is_null(v) && (!strcmp(k, "config") || !strcmp(k, "justification"))))
			error = bad_request(bad_field, keys[i], "field '%s' must be a string", keys[i]);
		else if (json_is_string(v) && strlen(json_string_value(v)) != json_string_length(v))
			error = bad_request(bad_field, keys[i], "field '%s' holds a NUL byte", keys[i]);
		else
			continue;
		json_decref(o);
		return error;
	}
#define S(name) json_string_value(json_object_get(o, name))
	d->target = S("target");
	d->branch = S("branch");
	d->config = S("config");
	d->state = S("state");
	d->justification = S("justification");
	d->note = S("note");
#undef S
	*out = o;
	return 0;
}
