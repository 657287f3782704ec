/*
 * kconfig.h - build awareness: is this code compiled under this .config?
 *
 * Four layers, each usable alone:
 *   1. pg_kconfig   - a parsed .config (CONFIG_X=y|m|"str"|123|0x1f, "is not set").
 *   2. pg_ktree     - a read callback over a kernel tree (a directory on disk or
 *                     the tree of a git commit), so nothing needs a checkout.
 *   3. pg_kbuild    - the tree's Kbuild/Makefiles evaluated for one config: per
 *                     source file built-in / module / not built / possibly built,
 *                     with the chain of Makefile lines and CONFIG symbols that
 *                     decided it.
 *   4. pg_kconfig_hunks / pg_kconfig_diff - per changed hunk, the enclosing
 *                     #if/#ifdef/IS_ENABLED() conditions evaluated against the
 *                     config, and a VEX-style verdict per file and per patch.
 *
 * Soundness rule (every layer): "not built" / "disabled" is only claimed with
 * evidence (a Makefile line, an #if line and the symbol's value).  Anything we
 * cannot evaluate is "possibly" and counts as affected.
 */
#ifndef PATCHGAP_KCONFIG_H
#define PATCHGAP_KCONFIG_H

#include <stddef.h>
#include "patchgap/common.h"
#include "util/buf.h"

/* ---------------------------------------------------------------- .config */

typedef struct pg_kconfig pg_kconfig;

/*
 * Parse a .config.  name is used in error messages ("file:line: why").
 * Fails with PG_EINVALID when the text is not a .config: NUL bytes or other
 * binary junk, no CONFIG_ assignment at all, or more than a few lines that are
 * neither comments nor CONFIG_ assignments.
 */
int pg_kconfig_parse(pg_kconfig **out, const char *text, size_t len, const char *name);
int pg_kconfig_load(pg_kconfig **out, const char *path);
void pg_kconfig_free(pg_kconfig *cfg);

/* Raw value ("y", "m", "foo" without quotes, "0x1f") or NULL when not set.
 * sym may be given with or without the CONFIG_ prefix. */
const char *pg_kconfig_get(const pg_kconfig *cfg, const char *sym);
/* 'y', 'm' or 'n' (not set, or explicitly "is not set"); other values give 'v'. */
char pg_kconfig_tristate(const pg_kconfig *cfg, const char *sym);
/* Number of symbols set (y/m/value). */
size_t pg_kconfig_count(const pg_kconfig *cfg);
/* Kernel SRCARCH from the config (CONFIG_X86 -> "x86", CONFIG_ARM64 -> "arm64"...),
 * or NULL if no known arch symbol is set.  Borrowed static string. */
const char *pg_kconfig_srcarch(const pg_kconfig *cfg);

/* ------------------------------------------------------------ tree reader */

/*
 * read() fills out (appending; the caller resets it) with the file at path
 * (relative to the tree root, '/' separated) and returns 0, PG_ENOTFOUND when
 * the file does not exist, or another negative code (message set) on failure.
 */
typedef struct pg_ktree {
	int (*read)(pg_buf *out, const char *path, void *payload);
	void *payload;
	void (*free_payload)(void *payload); /* called by pg_ktree_release; may be NULL */
} pg_ktree;

/* Files under a directory on disk.  Paths with ".." components are refused. */
int pg_ktree_dir(pg_ktree *out, const char *dir);
/* Files of a commit in a git repository: rev is anything git rev-parse takes. */
int pg_ktree_git(pg_ktree *out, const char *repo_path, const char *rev);
/* Files of a libgit2 tree (borrowed: must outlive the reader). */
struct git_tree;
int pg_ktree_git_tree(pg_ktree *out, struct git_tree *tree);
void pg_ktree_release(pg_ktree *t);

/* ---------------------------------------------------------- Kbuild result */

typedef enum pg_kbuild_state {
	PG_KBUILD_NOT_BUILT = 0,
	PG_KBUILD_POSSIBLE = 1,  /* could not decide: counts as built */
	PG_KBUILD_MODULE = 2,
	PG_KBUILD_BUILTIN = 3,
} pg_kbuild_state;

const char *pg_kbuild_state_name(pg_kbuild_state s); /* "not-built", "possibly", "module", "built-in" */

typedef struct pg_kbuild pg_kbuild;

/*
 * Evaluate the tree's Kbuild files for cfg: the top-level Kbuild (or a
 * built-in list of top directories for trees without one), arch/$(SRCARCH)/
 * Makefile's core-y/drivers-y/libs-y, then every subdirectory reached through
 * obj-y/obj-m/obj-$(CONFIG_X)/subdir-y.  Syntax it does not understand
 * produces a warning and makes the directory "uncertain" (unlisted files are
 * then "possibly built", never "not built").  Fails only on read errors.
 */
int pg_kbuild_eval(pg_kbuild **out, const pg_ktree *tree, const pg_kconfig *cfg);
void pg_kbuild_free(pg_kbuild *kb);

typedef struct pg_kbuild_verdict {
	pg_kbuild_state state;
	/* Reason chain, innermost first, one entry per line:
	 * "drivers/net/Makefile:12: obj-$(CONFIG_TUN) += tun.o [CONFIG_TUN=m]". */
	char *reason;
} pg_kbuild_verdict;

/* Verdict for a source path (".c", ".S", ".rs", ".h" or anything else).
 * out->reason is owned by the caller (pg_kbuild_verdict_release). */
int pg_kbuild_file(pg_kbuild_verdict *out, const pg_kbuild *kb, const char *path);
void pg_kbuild_verdict_release(pg_kbuild_verdict *v);

size_t pg_kbuild_warning_count(const pg_kbuild *kb);
const char *pg_kbuild_warning(const pg_kbuild *kb, size_t i); /* "file:line: text" */
size_t pg_kbuild_dir_count(const pg_kbuild *kb);        /* directories evaluated */
const char *pg_kbuild_srcarch(const pg_kbuild *kb);

/* ------------------------------------------------- per-hunk #if evaluation */

typedef enum pg_kcond {
	PG_KCOND_DISABLED = 0,  /* inside an #if that is false under the config */
	PG_KCOND_UNKNOWN = 1,   /* an enclosing condition could not be evaluated */
	PG_KCOND_ENABLED = 2,   /* every enclosing condition is true (or none) */
} pg_kcond;

const char *pg_kcond_name(pg_kcond c); /* "disabled", "unknown", "enabled" */

typedef struct pg_kline_range { unsigned start, count; } pg_kline_range; /* 1-based lines */

typedef struct pg_kcond_result {
	pg_kcond cond;
	/* For disabled/unknown: "path:line: #ifdef CONFIG_X [CONFIG_X is not set]". */
	char *evidence;
} pg_kcond_result;

/*
 * Evaluate the preprocessor conditions in effect at each range of a C file.
 * A range is enabled if any of its lines is, disabled only if all are.
 * file_state lets "#ifdef MODULE" be decided (PG_KBUILD_MODULE / _BUILTIN);
 * pass PG_KBUILD_POSSIBLE when unknown.  out is an array of n results the
 * caller releases with pg_kcond_result_release on each.
 */
int pg_kconfig_hunks(pg_kcond_result *out, const pg_kconfig *cfg, const char *path,
		     const char *text, size_t len, const pg_kline_range *ranges, size_t n,
		     pg_kbuild_state file_state);
void pg_kcond_result_release(pg_kcond_result *r);

/* ------------------------------------------------------ VEX verdicts */

typedef enum pg_vex_status {
	PG_VEX_AFFECTED = 0,           /* code built and (possibly) reached */
	PG_VEX_NOT_AFFECTED = 1,       /* with a justification */
	PG_VEX_UNDER_INVESTIGATION = 2,/* hunk does not match this tree, etc. (never used for "not built") */
} pg_vex_status;

typedef enum pg_vex_justification {
	PG_VEX_JUST_NONE = 0,
	PG_VEX_CODE_NOT_PRESENT = 1,                  /* file not built */
	PG_VEX_VULNERABLE_CODE_NOT_IN_EXECUTE_PATH = 2, /* every changed hunk in a disabled #if */
} pg_vex_justification;

const char *pg_vex_status_name(pg_vex_status s);           /* "affected", "not_affected", "under_investigation" */
const char *pg_vex_justification_name(pg_vex_justification j); /* "", "code_not_present", ... */

typedef struct pg_khunk_verdict {
	unsigned old_start, old_count, new_start, new_count; /* from the @@ header */
	unsigned line;      /* where it was located in the tree's file (0: not located) */
	pg_kcond cond;
	char *evidence;     /* owned; may be NULL */
} pg_khunk_verdict;

typedef struct pg_kfile_verdict {
	char *path;                 /* the tree's path (old name; new name for added files) */
	pg_kbuild_state build;
	char *build_reason;         /* owned chain, '\n'-separated */
	pg_khunk_verdict *hunks;
	size_t nhunks;
	pg_vex_status status;
	pg_vex_justification justification;
	char *evidence;             /* owned: the text a VEX impact_statement carries */
} pg_kfile_verdict;

typedef struct pg_kpatch_verdict {
	pg_kfile_verdict *files;
	size_t nfiles;
	pg_vex_status status;       /* not_affected iff every file is */
	pg_vex_justification justification;
	char *evidence;
} pg_kpatch_verdict;

/*
 * Verdicts for a unified diff (git format-patch / git show / diff -u) against
 * the tree: build state of every touched file, then each hunk is located in
 * the tree's copy of the file (at the @@ position, else by searching for the
 * hunk's pre-image, else its post-image: the tree may be older, or already
 * fixed) and its changed lines' #if context evaluated.  PG_EINVALID when the
 * text holds no diff.
 */
int pg_kconfig_diff(pg_kpatch_verdict *out, const pg_kbuild *kb, const pg_ktree *tree,
		    const pg_kconfig *cfg, const char *diff, size_t len);
/* Verdict for a single path with no diff (build state only). */
int pg_kconfig_path(pg_kfile_verdict *out, const pg_kbuild *kb, const char *path);
void pg_kfile_verdict_release(pg_kfile_verdict *v);
void pg_kpatch_verdict_release(pg_kpatch_verdict *v);

/* JSON renderings (objects, stable key order) appended to out. */
int pg_kfile_verdict_json(pg_buf *out, const pg_kfile_verdict *v);
int pg_kpatch_verdict_json(pg_buf *out, const pg_kpatch_verdict *v);

#endif
