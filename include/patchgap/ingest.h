/*
 * ingest.h - read the tracked git trees into the store, incrementally.
 *
 * One run: (1) new release tags are mapped to the commits they first
 * contain, in memory; (2) every tracked ref is walked from its current head,
 * hiding what earlier runs saw, and each new commit is stored with its
 * parents, message, parsed trailers, touched files and diffstat, in batched
 * transactions, oldest first; (3) abbreviated ids in Fixes:/upstream
 * annotations are resolved to full ids; (4) branch heads, tags and
 * reachability are recorded in a final transaction.
 *
 * Invariants: a commit row is never deleted (unreachable ones get
 * reachable = 0); insert order is a pure function of the repository and the
 * database, so a run killed at any moment and started again produces the same
 * database as one uninterrupted run.
 */
#ifndef PATCHGAP_INGEST_H
#define PATCHGAP_INGEST_H

#include <stddef.h>
#include "patchgap/common.h"
#include "patchgap/config.h"
#include "patchgap/store.h"

typedef struct pg_ingest_options {
	unsigned version;
	int diffstat;          /* count inserted/deleted lines (default 1) */
	size_t batch;          /* commits per transaction (default 5000) */
	/* Non-fatal problems (missing objects, odd tags): one message each. */
	void (*warn)(const char *msg, void *payload);
	/* Progress: phase name, done, total (0 if unknown). */
	void (*progress)(const char *phase, size_t done, size_t total, void *payload);
	void *payload;
} pg_ingest_options;

#define PG_INGEST_OPTIONS_VERSION 1
#define PG_INGEST_OPTIONS_INIT { PG_INGEST_OPTIONS_VERSION, 1, 5000, NULL, NULL, NULL }

typedef struct pg_ingest_stats {
	size_t commits_new;        /* commits stored by this run */
	size_t commits_total;      /* commits in the database afterwards */
	size_t files_new;          /* commit_files rows added */
	size_t tags_new;           /* release tags processed this run */
	size_t relations_resolved; /* ids resolved this run */
	size_t relations_unresolved;
	size_t relations_ambiguous;
	size_t branches_rewritten; /* force-pushed branches detected */
	size_t commits_unreachable;/* marked reachable = 0 this run */
	size_t warnings;
	size_t commits_incomplete; /* stored without their file list or diffstat: an object is missing */
	size_t commits_healed;     /* incomplete commits of earlier runs completed by this run */
} pg_ingest_stats;

int pg_ingest_run(pg_ingest_stats *out, const pg_config *cfg, pg_store *store,
		  const pg_ingest_options *opts);

#endif

/* ---- queries over the ingested history (log, show) -------------------- */
#include <jansson.h>

typedef struct pg_log_filter {
	const char *branch;      /* branch name; NULL = all commits */
	int64_t since, until;    /* committer time bounds; 0 = none */
	const char *path;        /* path prefix, or NULL */
	int has_fixes;           /* only commits with a Fixes: trailer */
	const char *backport_of; /* (abbreviated) upstream id */
	size_t limit;            /* 0 = no limit */
} pg_log_filter;

#define PG_LOG_FILTER_INIT { NULL, 0, 0, NULL, 0, NULL, 0 }

/* A JSON array of commit summaries, newest first.  *out owned (json_decref). */
int pg_ingest_log(json_t **out, pg_store *store, const pg_log_filter *f);
/*
 * Resolve a full or abbreviated commit id to the full id.  PG_ENOTFOUND /
 * PG_EAMBIGUOUS (message lists the candidates).  out: 41 bytes.
 */
int pg_ingest_resolve(char out[41], pg_store *store, const char *id);
/*
 * The tracked branches in config order: [{name, kind, ref, head, base_tag,
 * config}] (head/base_tag/config null until ingested).  *out owned.
 */
int pg_ingest_branches(json_t **out, pg_store *store);
/* Everything known about one commit as a JSON object.  *out owned. */
int pg_ingest_show(json_t **out, pg_store *store, const char *id);

/*
 * One ingested commit as the classifier and the advisories read it: the raw
 * message (subject paragraph first) and the touched paths in path order.
 */
typedef struct pg_ingest_commit {
	int64_t id;
	char *sha, *subject, *message;
	int64_t committer_time;
	char **paths;
	size_t npaths;
} pg_ingest_commit;

/*
 * The commit whose id starts with `id` (4 to 40 hex digits, checked by the
 * caller): PG_ENOTFOUND "no ingested commit", PG_EAMBIGUOUS naming two
 * candidates.  Release *out with pg_ingest_commit_release.
 */
int pg_ingest_commit_get(pg_ingest_commit *out, pg_store *store, const char *id);
void pg_ingest_commit_release(pg_ingest_commit *c);
/*
 * Every ingested commit in id order.  skip (may be NULL) sees the id first and
 * returns non-zero to pass over the commit before its paths are read; cb gets
 * a commit valid only during the call, and a non-zero return stops the walk
 * and is returned.
 */
int pg_ingest_commit_foreach(pg_store *store, int (*skip)(int64_t id, void *payload),
			     int (*cb)(const pg_ingest_commit *c, void *payload), void *payload);
/* The committer time of a full commit id (PG_ENOTFOUND when not ingested). */
int pg_ingest_commit_time(int64_t *out, pg_store *store, const char *sha);
/*
 * Where a commit sits in the releases: its committer time, its first touched
 * path, and the release containing it with that tag's date -- on `branch`
 * (branch_commits.release) when branch is given, else on mainline
 * (commits.mainline_release).  Fields of what is not known stay NULL / 0;
 * a commit that is not ingested is not an error.  pg_ingest_place_release.
 */
typedef struct pg_ingest_place {
	int64_t committer_time;
	char *first_path;
	char *release;
	int64_t release_time;
} pg_ingest_place;

int pg_ingest_commit_place(pg_ingest_place *out, pg_store *store, const char *sha, const char *branch);
void pg_ingest_place_release(pg_ingest_place *p);
/* The tracked branches ordered by name: [{name, kind, ...}] as pg_ingest_branches. */
int pg_ingest_branches_by_name(json_t **out, pg_store *store);

/*
 * The unified diff of a commit against its first parent (all files, no
 * renames; a root commit against the empty tree), built with the same
 * subtree-skipping comparison as ingest and the pack reader of util/odb.h,
 * so it costs milliseconds on a kernel-sized tree.  The text is git's
 * `git show --no-renames --format=` (GIT_DIFF_FORMAT_PATCH): the same file
 * headers and 7-digit index lines, binary files as "Binary files a/P and
 * b/P differ" (their content is never included), submodule moves left out.
 * This is the one place a commit's diff is made: patch ids (backport),
 * the classifier's diff head (classify), live-patch and .config verdicts.
 *
 * A pg_ingest_diff keeps the pack reader and buffers of many calls: open it
 * once per run (repo borrowed, must outlive it; one per thread).
 */
struct pg_buf;
struct git_repository;
struct git_oid;
typedef struct pg_ingest_diff pg_ingest_diff;
int pg_ingest_diff_open(pg_ingest_diff **out, struct git_repository *repo);
void pg_ingest_diff_free(pg_ingest_diff *d);

enum pg_ingest_diff_flags {
	PG_INGEST_DIFF_MERGES = 1 << 0,   /* flags: a merge's diff against its first parent */
	PG_INGEST_DIFF_MERGE = 1 << 1,    /* *info: a merge (without PG_INGEST_DIFF_MERGES): no diff */
	PG_INGEST_DIFF_CUT = 1 << 2,      /* *info: the text stopped early at max */
};
/*
 * Append commit's diff to out.  A merge has no single diff: nothing is
 * appended and *info says PG_INGEST_DIFF_MERGE, unless flags ask for
 * PG_INGEST_DIFF_MERGES.  max > 0 bounds the work: the text stops at the
 * last whole line within max bytes, and a file whose two versions together
 * exceed 8 * max ends it before that file is diffed (*info gets
 * PG_INGEST_DIFF_CUT).  info may be NULL.  PG_ENOTFOUND when the commit,
 * its parent or one of their objects is not in the repository; out keeps
 * what was appended before a failure.
 */
int pg_ingest_diff_commit(pg_ingest_diff *d, struct pg_buf *out, const struct git_oid *commit, unsigned flags,
			  size_t max, unsigned *info);
/* pg_ingest_diff_commit of one commit with PG_INGEST_DIFF_MERGES and no limit. */
int pg_ingest_commit_diff(struct pg_buf *out, struct git_repository *repo, const struct git_oid *commit);
