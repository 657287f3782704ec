/*
 * error.c - thread-local error message for the library (see common.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "patchgap/common.h"

static _Thread_local char pg_errmsg[1024];

/*
 * Messages quote their input (ids, file names, lines), which may hold
 * terminal escapes or newlines forging further lines: every control byte
 * is shown as '?'.  The buffer's size caps how much input a message echoes.
 */
static void sanitize(void)
{
	for (unsigned char *p = (unsigned char *)pg_errmsg; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = '?';
}

static void set_msg(const char *fmt, va_list ap)
{
	vsnprintf(pg_errmsg, sizeof(pg_errmsg), fmt, ap);
	sanitize();
}

int pg_error_set(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	set_msg(fmt, ap);
	va_end(ap);
	return PG_ERROR;
}

int pg_error_setc(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	set_msg(fmt, ap);
	va_end(ap);
	return code;
}

void pg_error_prefix(const char *fmt, ...)
{
	char prefix[512];
	size_t plen, olen = strlen(pg_errmsg);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	plen = strlen(prefix);
	/* keep "prefix: old", cutting the old message's tail if it must */
	if (plen + 2 >= sizeof(pg_errmsg))
		plen = sizeof(pg_errmsg) - 3;
	if (plen + 2 + olen >= sizeof(pg_errmsg))
		olen = sizeof(pg_errmsg) - plen - 3;
	memmove(pg_errmsg + plen + 2, pg_errmsg, olen);
	memcpy(pg_errmsg, prefix, plen);
	pg_errmsg[plen] = ':';
	pg_errmsg[plen + 1] = ' ';
	pg_errmsg[plen + 2 + olen] = '\0';
	sanitize();
}

const char *pg_error_last(void)
{
	return pg_errmsg;
}

void pg_error_clear(void)
{
	pg_errmsg[0] = '\0';
}
