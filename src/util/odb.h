/*
 * odb.h - a read-only object reader for bulk history scans.
 *
 * Why not git_odb_read / git_tree_lookup: libgit2 1.5 allocates a fresh
 * zlib stream (inflateInit: ~40 KB of malloc) and a fresh object for every
 * read and keeps parsed objects in a global cache; on a kernel-shaped
 * history that made object reading ~60 % of ingest and grew the heap to
 * 1 GB (measured with perf on a 49k-commit generated history).  git itself
 * reads pack entries with one reused zlib stream and a small delta-base
 * cache.  This reader does the same:
 *
 *   - pack files are read through mmap windows (bounded total mapping, LRU),
 *     index files (.idx v2) are mapped whole; when major page faults show
 *     that the pack does not fit in memory, the windows are advised
 *     MADV_RANDOM (read-around then only evicts useful pages);
 *   - one z_stream is reused (inflateReset), results go into caller-owned
 *     buffers that are reused across reads: no allocation per object once
 *     the buffers have grown;
 *   - a direct-mapped delta-base cache (bounded bytes) keeps recently
 *     reconstructed objects, so walking consecutive commits resolves each
 *     tree's delta chain in one step.
 *
 * Objects that are not in a pack (loose objects, alternates, a pack added
 * after pg_odb_open) are read through libgit2, so the result is always the
 * repository's object; packs are only an accelerated path.
 *
 * Not thread-safe: one pg_odb per thread.  Hash verification is not done
 * (a trusted local scan, like GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION=0);
 * every length and offset read from a pack or index is bounds-checked, so
 * a corrupt pack gives PG_EINVALID naming the pack, never a crash.
 */
#ifndef PG_UTIL_ODB_H
#define PG_UTIL_ODB_H

#include <git2.h>
#include "patchgap/common.h"
#include "util/buf.h"

typedef struct pg_odb pg_odb;

typedef struct pg_odb_stats {
	size_t reads;        /* pg_odb_read calls */
	size_t packed;       /* served from a pack */
	size_t fallback;     /* served by libgit2 (loose, alternates...) */
	size_t inflates;     /* zlib streams inflated */
	size_t cache_hits;   /* delta bases found in the cache */
	size_t maps;         /* pack windows mapped (more than the windows in use: remapping) */
	int random;          /* the windows were switched to MADV_RANDOM (memory pressure) */
} pg_odb_stats;

/* Open the reader on repo's object directory; repo is borrowed and must outlive it. */
int pg_odb_open(pg_odb **out, git_repository *repo);
void pg_odb_free(pg_odb *db);

/*
 * Read object id into out (replacing its content; NUL-terminated for
 * convenience, out->len is the object size).  type (optional) receives the
 * object type.  Returns 0, PG_ENOTFOUND when the object is in no pack and
 * libgit2 cannot read it either, PG_EINVALID on a corrupt pack.
 */
int pg_odb_read(pg_odb *db, const git_oid *id, git_object_t *type, pg_buf *out);

void pg_odb_get_stats(const pg_odb *db, pg_odb_stats *out);

/*
 * A commit parsed in place from its raw bytes, with libgit2's exact rules
 * (git_commit_lookup): tree and parents first, the first author and the
 * committer are required, further headers are skipped, the message is
 * everything after the first empty line up to the first NUL byte, and the
 * summary is git_commit_summary()'s first paragraph with whitespace runs
 * that span lines collapsed to one space.  Results are stored in the
 * struct (parents, summary) or point into the parsed buffer (names,
 * message): valid until that buffer changes.
 */
typedef struct pg_odb_commit {
	git_oid tree;
	git_oid *parents;            /* owned, reused */
	size_t nparents, parents_alloc;
	const char *author_name, *author_email; /* spans of the buffer, trimmed */
	size_t author_name_len, author_email_len;
	int64_t author_time, committer_time;
	const char *message;         /* raw message (leading newlines kept) */
	size_t message_len;
	pg_buf summary;
} pg_odb_commit;

void pg_odb_commit_release(pg_odb_commit *c);
/* 0, or PG_EINVALID (message names what is malformed) like libgit2 would refuse it. */
int pg_odb_parse_commit(pg_odb_commit *c, const char *buf, size_t len);

/*
 * Internal, exposed for the fuzz target: apply a git delta to base.  pack
 * and off only name the input in error messages.  0, or PG_EINVALID for
 * any malformed delta (never reads or writes out of bounds).
 */
int pg_odb__apply_delta(const char *pack, uint64_t off, const pg_buf *base, const pg_buf *delta, pg_buf *out);

#endif
