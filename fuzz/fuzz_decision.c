/*
 * fuzz_decision.c - libFuzzer target for the body of POST /api/v1/decisions
 * (pg_triage_parse_request) and the database-free checks of its values.
 * The first byte is ignored (the selector of test_fuzz.c's corpus runner).
 * Invariants: never crashes; a failure names a message (and a field, unless
 * the body is not a JSON object); a success gives strings without NUL bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "patchgap/triage.h"
#include "triage/triage_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *o = NULL;
	pg_decision d;
	const char *field = NULL;

	if (size < 1 || size > (1 << 16))
		return 0;
	if (pg_triage_parse_request(&o, &d, &field, (const char *)data + 1, size - 1) < 0) {
		if (!*pg_error_last())
			abort();
		return 0;
	}
	(void)pg_triage_state_valid(d.state);
	(void)pg_triage_justification(d.justification);
	if (d.note)
		(void)pg_triage__clean_text(d.note, 1);
	if (d.target)
		(void)pg_triage__clean_text(d.target, 0);
	json_decref(o);
	return 0;
}
