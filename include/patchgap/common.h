/*
 * common.h - error reporting shared by every patchgap module.
 *
 * Every library function returns int: 0 on success, a negative PG_E* code on
 * failure.  The human-readable reason lives in a thread-local message that the
 * failing function sets with pg_error_set(); callers that only propagate an
 * error leave the message alone so the innermost, most specific reason wins.
 * The library never prints or exits: only cli/ and the daemon do.
 */
#ifndef PATCHGAP_COMMON_H
#define PATCHGAP_COMMON_H

#include <stddef.h>
#include <stdint.h>

#define PG_VERSION "0.1.0"

enum pg_error_code {
	PG_OK = 0,
	PG_ERROR = -1,     /* generic failure; see pg_error_last() */
	PG_ENOTFOUND = -3, /* the object/ref/record asked for does not exist */
	PG_EAMBIGUOUS = -5,/* an abbreviated id matched several objects */
	PG_EINVALID = -6,  /* malformed input (commit text, JSON, config...) */
	PG_ENOMEM = -7,    /* allocation failed */
	PG_EIO = -8,       /* file or database I/O failed */
	PG_EUSER = -9,     /* callback asked to stop */
};

#if defined(__GNUC__)
#define PG_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define PG_PRINTF(a, b)
#endif

/* Set the thread's error message (printf-style) and return PG_ERROR. */
int pg_error_set(const char *fmt, ...) PG_PRINTF(1, 2);
/* Same, returning the given code, so `return pg_error_setc(PG_EINVALID, ...)` works. */
int pg_error_setc(int code, const char *fmt, ...) PG_PRINTF(2, 3);
/* Prefix the current message with more context: "context: old message". */
void pg_error_prefix(const char *fmt, ...) PG_PRINTF(1, 2);
/* Borrowed pointer to the last message; never NULL ("" when none). */
const char *pg_error_last(void);
void pg_error_clear(void);

#endif
