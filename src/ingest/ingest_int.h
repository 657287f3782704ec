/*
 * ingest_int.h - internals shared by the ingest files.
 */
#ifndef PG_INGEST_INT_H
#define PG_INGEST_INT_H

#include <git2.h>
#include "util/buf.h"
#include "util/vec.h"

/* One touched path of a commit (first-parent comparison, no renames). */
typedef struct pg_ingest__file {
	char *path;       /* owned */
	char status;      /* 'A' added, 'D' deleted, 'M' modified (content or mode) */
	git_oid old_id, new_id;
	int old_is_blob, new_is_blob; /* 0 for gitlinks (submodules) */
	unsigned old_mode, new_mode;  /* octal tree modes (100644, 100755, 120000...); 0 when absent */
	unsigned added, deleted;
} pg_ingest__file;

typedef PG_VEC(pg_ingest__file) pg_ingest__files;

/*
 * State reused by every comparison of one run: the pack reader and one
 * pair of tree buffers per directory depth, so comparing a commit with its
 * parent allocates nothing once the buffers have grown.
 */
typedef struct pg_ingest__differ {
	git_repository *repo;     /* borrowed */
	struct pg_odb *odb;       /* owned */
	pg_buf *levels;           /* owned: 2 per depth (old, new) */
	pg_buf path;              /* directory prefix during a walk */
	pg_buf old_blob, new_blob;
} pg_ingest__differ;

int pg_ingest__differ_init(pg_ingest__differ *d, git_repository *repo);
void pg_ingest__differ_release(pg_ingest__differ *d);

/*
 * Compare two trees (either id may be NULL for "empty"), skipping subtrees
 * whose ids are equal: the reason this is ~100x faster than
 * git_diff_tree_to_tree on a kernel-sized tree.  A tree that cannot be
 * read (missing, corrupt) stops the comparison: PG_ENOTFOUND with *missing
 * set to its id's hex, and out holds a partial list the caller discards.
 */
int pg_ingest__tree_diff(pg_ingest__files *out, pg_ingest__differ *d,
			 const git_oid *old_tree, const git_oid *new_tree, char missing[GIT_OID_HEXSZ + 1]);
/* Fill added/deleted line counts; a missing or corrupt blob is noted in *missing and skipped. */
int pg_ingest__line_stats(pg_ingest__files *files, pg_ingest__differ *d, char missing[GIT_OID_HEXSZ + 1]);
void pg_ingest__files_clear(pg_ingest__files *files);

#endif
