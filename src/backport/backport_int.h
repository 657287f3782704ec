/*
 * backport_int.h - helpers shared by the files of src/backport.
 */
#ifndef PG_BACKPORT_INT_H
#define PG_BACKPORT_INT_H

#include <jansson.h>
#include <git2.h>
#include "patchgap/backport.h"
#include "util/buf.h"

/* The verdict as a jansson object (new reference), or NULL on ENOMEM. */
json_t *pg_livepatch__to_json(const pg_livepatch_verdict *v);
/* Unified diff (GIT_DIFF_FORMAT_PATCH) between two trees, appended to out. */
int pg_backport__diff_text(pg_buf *out, git_repository *repo, git_tree *a, git_tree *b);
/* libgit2's last error message, never NULL. */
const char *pg_backport__git_msg(void);
/* First line of a commit message, trimmed, owned. */
char *pg_backport__subject(const git_commit *c);

/*
 * The backport's commit message in the stable convention: subject, "commit X
 * upstream.", the upstream body, and the Backported-by provenance trailer
 * (plus Stable-dep-of for a prerequisite).  nprereq: prerequisites in the series.
 */
int pg_backport__message(pg_buf *b, const git_commit *c, const pg_backport_result *r, int prereq,
			 size_t nprereq);

#endif
