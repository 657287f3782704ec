/*
 * kconfig_int.h - internals shared by the kconfig module's files.
 */
#ifndef PG_KCONFIG_INT_H
#define PG_KCONFIG_INT_H

#include "patchgap/kconfig.h"
#include "util/buf.h"

/* Append " [CONFIG_A=y, CONFIG_B is not set]" for the CONFIG_ symbols named in
 * text (at most a few); nothing when it names none. */
int pg_kconfig__annotate(pg_buf *out, const pg_kconfig *cfg, const char *text);

/* Normalise a tree path in place: drop "./", "//", resolve "a/../"; strip a
 * trailing '/' unless keep_slash.  Returns s. */
char *pg_kconfig__normpath(char *s, int keep_slash);

#endif
