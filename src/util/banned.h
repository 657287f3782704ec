/*
 * banned.h - functions that must not be used in patchgap (git's banned.h).
 * Unbounded copies and non-reentrant time conversion cause bugs that tests
 * rarely catch; the safe replacements are pg_buf, snprintf, gmtime_r.
 * Include it last, after every system header, in each .c file; tests/integration/
 * t0001-banned.sh also greps the sources so a missing include is caught.
 */
#ifndef PG_UTIL_BANNED_H
#define PG_UTIL_BANNED_H

#define BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef strtok
#define strtok(x, y) BANNED(strtok)
#undef gmtime
#define gmtime(t) BANNED(gmtime)
#undef localtime
#define localtime(t) BANNED(localtime)

#endif
