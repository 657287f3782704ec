/*
 * backport.h - apply an upstream fix onto an older branch, in memory.
 *
 * pg_backport_run() works on a libgit2 repository only: it merges the fix
 * (a cherry-pick: ancestor = the fix's parent, ours = the branch head,
 * theirs = the fix) into an in-memory index and, when that is clean,
 * writes the tree and a commit on refs/heads/patchgap/<branch>/<short-id>.
 * It never reads or writes the user's working tree, index or HEAD; the only
 * writes are new objects in the object database and the patchgap/ ref.
 *
 * Outcomes (pg_backport_status):
 *   PRESENT    the fix is already on the branch: ancestor, an annotated
 *              backport ("commit X upstream." / "cherry picked from"), an
 *              equivalent commit (same stable patch id), or the change is
 *              already in the files (merge result == head tree).
 *   CLEAN      the fix alone applies; series = { fix }.
 *   WITH_DEPS  the fix applies after prerequisites; series = prereqs in
 *              upstream order, then the fix.
 *   CONFLICT   no series up to max_deps applies; conflicts are reported.
 *
 * Patch ids (pg_patchid_*) are git's `git patch-id --stable` ids.
 * The live-patchability verdict (pg_livepatch_assess) is a pure function over
 * unified diff text.
 */
#ifndef PATCHGAP_BACKPORT_H
#define PATCHGAP_BACKPORT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <git2.h>
#include "patchgap/common.h"
#include "patchgap/store.h"

/* ---- patch ids --------------------------------------------------------- */

/*
 * git's stable patch id of unified diff text (the output of `git diff-tree
 * -p`, `git show`, format-patch...): per-file SHA-1 of the diff lines with
 * whitespace removed and hunk line numbers ignored, summed bytewise.
 * Returns PG_ENOTFOUND when the text holds no diff.  If next is not NULL and
 * the text holds several commits ("commit X"/"From X" lines), only the first
 * is hashed and *next is set to where the next one starts (else to len).
 */
int pg_patchid_text(git_oid *out, const char *diff, size_t len, size_t *next);
/* Patch id of a single-parent (or root) commit, of its diff from pg_ingest_diff_commit. */
int pg_patchid_commit(git_oid *out, git_repository *repo, const git_oid *commit);

/* ---- live-patchability ------------------------------------------------- */

typedef enum {
	PG_LP_LIKELY = 0,    /* only changes inside function bodies */
	PG_LP_SHADOW = 1,    /* data layout changes: needs shadow variables */
	PG_LP_NOT = 2,       /* cannot be live patched as is */
} pg_livepatch_level;

typedef struct pg_livepatch_reason {
	pg_livepatch_level level; /* what this reason alone implies */
	const char *rule;         /* static: "struct-layout", "asm", ... */
	char *file;               /* owned: path in the diff (new side) */
	unsigned line;            /* line in the new file (old file for removals) */
	char *detail;             /* owned: human text, quotes the line */
} pg_livepatch_reason;

typedef struct pg_livepatch_verdict {
	pg_livepatch_level level; /* worst of the reasons; LIKELY if none */
	pg_livepatch_reason *reasons;
	size_t nreasons;
	unsigned files, functions; /* C files and distinct functions changed */
} pg_livepatch_verdict;

/* Never fails on content; PG_ENOMEM only.  *out owned (pg_livepatch_free). */
int pg_livepatch_assess(pg_livepatch_verdict **out, const char *diff, size_t len);
/* The verdict of a single-parent commit's diff (parent -> commit). */
int pg_livepatch_assess_commit(pg_livepatch_verdict **out, git_repository *repo, const git_oid *commit);
void pg_livepatch_free(pg_livepatch_verdict *v);
const char *pg_livepatch_level_name(pg_livepatch_level l); /* likely|shadow|not */
/* JSON object text (jansson, sorted keys); *out owned (free()). */
int pg_livepatch_json(char **out, const pg_livepatch_verdict *v);

/* ---- backport ---------------------------------------------------------- */

typedef struct pg_backport_options {
	unsigned version;
	int with_deps;         /* create prerequisite series (else only report it) */
	int create_branch;     /* create commits + ref (default 1) */
	const char *test_cmd;  /* run in a checkout of the result (sh -c), or NULL */
	unsigned test_timeout; /* seconds (default 600) */
	unsigned max_deps;     /* largest prerequisite count tried (default 8) */
	const char *ref_prefix;/* default "refs/heads/patchgap/" */
	int64_t now;           /* committer time for created commits; 0 = time() */
	const char *tmpdir;    /* where the test checkout is made; NULL = "/tmp" */
	/*
	 * Polled while the test runs (and before it starts): once non-zero (a
	 * signal handler's flag), the test's process group is killed, its
	 * checkout removed and the call fails with PG_EUSER.  NULL = never.
	 */
	volatile sig_atomic_t *stop;
} pg_backport_options;

#define PG_BACKPORT_OPTIONS_VERSION 1
#define PG_BACKPORT_OPTIONS_INIT { PG_BACKPORT_OPTIONS_VERSION, 0, 1, NULL, 600, 8, NULL, 0, NULL, NULL }

typedef enum {
	PG_BACKPORT_PRESENT,
	PG_BACKPORT_CLEAN,
	PG_BACKPORT_WITH_DEPS,
	PG_BACKPORT_CONFLICT,
} pg_backport_status;

/* One conflicting region, from a diff3-style merge of the file. */
typedef struct pg_backport_hunk {
	unsigned ours_start, ours_lines;     /* in the branch's file (1-based) */
	unsigned base_start, base_lines;     /* in the commit's parent */
	unsigned theirs_start, theirs_lines; /* in the commit */
	char *ours, *base, *theirs;          /* owned snippets (capped) */
} pg_backport_hunk;

typedef struct pg_backport_conflict {
	char *path;          /* owned: path on the branch */
	char *upstream_path; /* owned: path in the commit (differs after a rename) */
	const char *kind;    /* static: "content", "modify/delete", "delete/modify", "add/add" */
	git_oid commit;      /* the commit whose application conflicted */
	pg_backport_hunk *hunks;
	size_t nhunks;
} pg_backport_conflict;

typedef struct pg_backport_step {
	git_oid upstream;    /* the commit applied */
	char *subject;       /* owned */
	int prerequisite;    /* 1 for a prerequisite, 0 for the fix */
	char *why;           /* owned: why it was chosen ("blame a.c:10-12", "Depends-on") */
	git_oid tree;        /* tree after applying this step */
	git_oid created;     /* created commit, or zero */
} pg_backport_step;

typedef struct pg_backport_rename {
	char *from, *to;     /* owned: upstream path, path on the branch */
	unsigned similarity;
} pg_backport_rename;

typedef struct pg_backport_candidate {
	git_oid id;
	char *subject;       /* owned */
	char *why;           /* owned */
	int used;            /* in the final series */
} pg_backport_candidate;

typedef struct pg_backport_test {
	int ran;
	int passed;
	int exit_code;       /* -1 when killed or not run */
	int timed_out;
	int64_t duration_ms;
	char *reason;        /* owned: "exit status 2", "timed out after 5 s", "passed" */
	char *log_tail;      /* owned: last lines of stdout+stderr */
} pg_backport_test;

typedef struct pg_backport_result {
	pg_backport_status status;
	git_oid fix, head, fork_point;
	int has_fork_point;
	char *fix_subject;   /* owned */
	char *onto_ref;      /* owned: the full ref (or the revision as given) */
	char *branch_name;   /* owned: short name used in the new ref */
	char *created_ref;   /* owned: ref written, or NULL */
	/* PRESENT */
	const char *present_how;  /* static: "ancestor", "annotation", "patch-id", "tree" */
	git_oid present_commit;   /* evidence commit (zero for "tree") */
	char *present_evidence;   /* owned: human text */
	/* the series that applies (CLEAN/WITH_DEPS), or the last one tried */
	pg_backport_step *steps;
	size_t nsteps;
	int created;              /* commits were written */
	/* conflicts of the fix alone on the head */
	pg_backport_conflict *conflicts;
	size_t nconflicts;
	/* conflicts left by the best series tried (CONFLICT only) */
	pg_backport_conflict *remaining;
	size_t nremaining;
	pg_backport_candidate *candidates;
	size_t ncandidates;
	pg_backport_rename *renames;
	size_t nrenames;
	pg_backport_test test;
	pg_livepatch_verdict *livepatch; /* of the fix's diff */
} pg_backport_result;

/*
 * Backport fix onto onto_ref (a branch name, full ref or any revision).
 * Unknown fix or ref: PG_ENOTFOUND naming it.  A merge commit as fix:
 * PG_EINVALID.  Every outcome above, including CONFLICT and a failed test,
 * returns 0 with *out filled; *out owned (pg_backport_result_free).
 */
int pg_backport_run(pg_backport_result **out, git_repository *repo, const git_oid *fix,
		    const char *onto_ref, const pg_backport_options *opts);
void pg_backport_result_free(pg_backport_result *r);
const char *pg_backport_status_name(pg_backport_status s); /* present|clean|with-deps|conflict */

/* mbox series (`git am` input) of the steps, one patch each; appended to *out (owned, free()). */
int pg_backport_mbox(char **out, git_repository *repo, const pg_backport_result *r);
/* JSON object text (sorted keys, indented); *out owned (free()). */
int pg_backport_json(char **out, const pg_backport_result *r);
/*
 * The recorded runs (pg_backport_record) for a fix commit (full id), oldest
 * first: [{id, onto_ref, onto_sha, status, conflicts, result_sha,
 * present_how, present_sha, test_result, test_reason, livepatch (likely|shadow|not,
 * or null), created, conflict_hunks: the conflicts a conflict run left,
 * [{path, upstream_path, kind, commit, hunks: [{ours, base, theirs:
 * {start, lines, text}}]}], else []}].  *out owned (json_t *, passed as void ** to
 * keep jansson out of this header).
 */
int pg_backport_runs(void **out, pg_store *s, const char *fix_sha);
/* Record the run in backport_runs (one transaction); *id_out optional. */
int pg_backport_record(pg_store *s, const pg_backport_result *r, const char *test_cmd,
		       int64_t now, int64_t *id_out);

/*
 * Run cmd with sh -c in a fresh checkout of tree (a temporary directory
 * under opts->tmpdir, removed afterwards), killing its process group after
 * timeout seconds or once *opts->stop is set (opts may be NULL).
 */
int pg_backport_test_tree(pg_backport_test *out, git_repository *repo, const git_oid *tree,
			  const char *cmd, unsigned timeout, const pg_backport_options *opts);
void pg_backport_test_release(pg_backport_test *t);

#endif
