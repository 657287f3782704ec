/*
 * cgraph.h - read-only access to git's commit-graph file.
 *
 * Why: a commit's parents (and root tree) without inflating the commit.
 * libgit2 1.5 reads the commit-graph for its revision walks but exposes
 * no parent lookup; git_commit_lookup inflates the commit object.  The
 * release mapping of a full ingest needs the parents of every commit once
 * more before the walk (1.2M commits on a kernel-sized history), which
 * is what git log itself takes from this file.
 *
 * Only a single file ($objects/info/commit-graph, format version 1, SHA-1,
 * no base graphs) is used; a split chain, another hash or a file that
 * fails validation gives "no graph" and callers read commits instead.
 * Commits newer than the file are simply not in it.  Every offset and
 * position read from the file is bounds-checked (fuzz/fuzz_odb).
 */
#ifndef PG_UTIL_CGRAPH_H
#define PG_UTIL_CGRAPH_H

#include <stddef.h>
#include <stdint.h>
#include "patchgap/common.h"

typedef struct pg_cgraph pg_cgraph;

#define PG_CGRAPH_MAX_PARENTS 256 /* more is treated as corrupt (the kernel's widest octopus merge: 66) */

/*
 * Map objects_dir/info/commit-graph.  *out is NULL (and 0 returned) when
 * there is no usable file; *why (optional) then says why, for a warning,
 * or is NULL when there is simply no file.
 */
int pg_cgraph_open(pg_cgraph **out, const char *objects_dir, const char **why);

/*
 * The same from a buffer the caller keeps alive (tests, fuzzing): *out NULL
 * and *why set when buf is not a usable commit-graph.
 */
int pg_cgraph_from_buffer(pg_cgraph **out, const unsigned char *buf, size_t len, const char **why);

void pg_cgraph_free(pg_cgraph *g);

/* Number of commits in the graph. */
uint32_t pg_cgraph_count(const pg_cgraph *g);

/* Position of commit id: 0 and *pos, or PG_ENOTFOUND when it is not in the graph. */
int pg_cgraph_find(const pg_cgraph *g, const unsigned char id[20], uint32_t *pos);

/* The 20-byte id at pos (< count), pointing into the mapped file. */
const unsigned char *pg_cgraph_id(const pg_cgraph *g, uint32_t pos);

/* The root tree id of the commit at pos, pointing into the mapped file. */
const unsigned char *pg_cgraph_tree(const pg_cgraph *g, uint32_t pos);

/*
 * Parent positions of the commit at pos into parents[] (room for
 * PG_CGRAPH_MAX_PARENTS), their count into *n.  0, or PG_EINVALID when the
 * file's entry is corrupt (a position out of range, an unterminated edge
 * list): the caller falls back to reading the commit.
 */
int pg_cgraph_parents(const pg_cgraph *g, uint32_t pos, uint32_t *parents, size_t *n);

#endif
