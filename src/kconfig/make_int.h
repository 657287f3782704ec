/*
 * make_int.h - the small make reader used by the Kbuild walker (make.c).
 */
#ifndef PG_KCONFIG_MAKE_INT_H
#define PG_KCONFIG_MAKE_INT_H

#include <stdarg.h>
#include <stdint.h>
#include "kconfig_int.h"
#include "util/map.h"
#include "util/vec.h"

/* Expansion result byte meaning "could not be evaluated". */
#define PG_MK_UNKNOWN '\x01'

#define PG_MK_REC_POSSIBLE 1 /* assigned under an undecidable conditional/expansion */
#define PG_MK_REC_INACTIVE 2 /* assignment in a false branch (evidence for "not built") */

struct pg_mk_rec {
	char *tok;          /* one word of the value */
	uint32_t origin;    /* index into pg_mk.origins */
	unsigned char flags;
};

struct pg_mk_list {
	PG_VEC(struct pg_mk_rec) recs;
};

/* Called for every warning ("file:line: text"); non-zero return aborts. */
typedef int (*pg_mk_warn_fn)(const char *msg, void *payload);

typedef struct pg_mk {
	const pg_kconfig *cfg;
	const pg_ktree *tree;
	pg_mk_warn_fn warn;
	void *warn_payload;
	char *dir;               /* directory being evaluated ("" = top) */
	pg_strmap vars;          /* name -> struct kvar * */
	pg_strmap lists;         /* name -> struct pg_mk_list * */
	pg_strmap exports;       /* names given to "export NAME" (possibly before being set) */
	PG_VEC(char *) missing;  /* tree paths of included makefiles that do not exist */
	PG_VEC(char *) recipe_dirs; /* "dir\tfile:line: recipe" for recipes running $(build)=dir */
	PG_VEC(char *) origins;  /* "file:line: text [CONFIG_X=y] (inside ...)" */
	int uncertain;           /* some syntax was not understood */
	char *uncertain_reason;  /* the first such warning */
	/* reader state */
	const char *file;
	unsigned line;
	int depth, include_depth;
	void *cur_reader;        /* struct reader of the file being read, for $(eval) */
	int no_eval;             /* expanding a skipped line: $(eval) must not run */
	size_t work;             /* bytes scanned by every expansion so far (see EXPAND_WORK_MAX) */
	int work_exhausted;      /* the budget ran out: every further expansion is unknown */
} pg_mk;

int pg_mk_init(pg_mk *mk, const char *dir, const pg_kconfig *cfg, const pg_ktree *tree,
	       pg_mk_warn_fn warn, void *warn_payload);
void pg_mk_release(pg_mk *mk);
int pg_mk_set(pg_mk *mk, const char *name, const char *value, int recursive, int exported);
const char *pg_mk_get_raw(const pg_mk *mk, const char *name, int *recursive);
int pg_mk_copy_exports(pg_mk *dst, const pg_mk *src);
int pg_mk_expand(pg_mk *mk, const char *s, pg_buf *out);
/* Read a makefile of the tree (PG_ENOTFOUND if missing), or text given directly. */
int pg_mk_read(pg_mk *mk, const char *path);
int pg_mk_read_text(pg_mk *mk, const char *name, const char *text, size_t len);
struct pg_mk_list *pg_mk_list_get(const pg_mk *mk, const char *name);

#endif
