/*
 * treediff.c - touched files of a commit by direct tree comparison.
 *
 * Why not git_diff_tree_to_tree: it loads and compares every entry of both
 * trees; on a kernel tree (~90k files, ~5k directories) that is ~75
 * commits/s.  Here a subtree whose id is unchanged is skipped without
 * being read, so a typical commit touching 3 files reads ~3 * depth trees.
 * The result equals `git log --no-renames --name-status` for the first parent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "patchgap/ingest.h"
#include "ingest/ingest_int.h"
#include "util/odb.h"
#include "util/banned.h"

#define MAX_DEPTH 64 /* deeper trees are refused: the kernel's deepest is ~12 */

int pg_ingest__differ_init(pg_ingest__differ *d, git_repository *repo)
{
	memset(d, 0, sizeof(*d));
	d->repo = repo;
	pg_buf_init(&d->path, 0);
	pg_buf_init(&d->old_blob, 0);
	pg_buf_init(&d->new_blob, 0);
	if (!(d->levels = calloc(2 * MAX_DEPTH, sizeof(*d->levels))))
		return pg_error_setc(PG_ENOMEM, "out of memory");
	return pg_odb_open(&d->odb, repo);
}

void pg_ingest__differ_release(pg_ingest__differ *d)
{
	if (d->levels)
		for (size_t i = 0; i < 2 * MAX_DEPTH; i++)
			pg_buf_release(&d->levels[i]);
	free(d->levels);
	pg_buf_release(&d->path);
	pg_buf_release(&d->old_blob);
	pg_buf_release(&d->new_blob);
	if (d->odb && getenv("PATCHGAP_ODB_STATS")) {
		/* for benchmarks: how the reads were served (doc/internals/ingest.md) */
		pg_odb_stats st;
		pg_odb_get_stats(d->odb, &st);
		fprintf(stderr, "odb: %zu reads, %zu packed, %zu fallback, %zu inflates, %zu cache hits, %zu windows mapped%s\n",
			st.reads, st.packed, st.fallback, st.inflates, st.cache_hits, st.maps,
			st.random ? ", random access (memory pressure)" : "");
	}
	pg_odb_free(d->odb);
	memset(d, 0, sizeof(*d));
}

/* One parsed entry of a raw tree: "<octal mode> <name>\0<20-byte id>". */
struct entry {
	const char *name;
	size_t len;
	unsigned mode;
	const unsigned char *id;
};

#define MODE_TREE 040000u
#define MODE_GITLINK 0160000u

/* Parse the entry at *pos of tree t; 1 when one was read, 0 at the end, < 0 if malformed. */
static int next_entry(const pg_buf *t, size_t *pos, struct entry *e, const git_oid *tid)
{
	const char *p = t->ptr + *pos, *end = t->ptr + t->len, *nul;
	unsigned mode = 0;
	char hex[GIT_OID_HEXSZ + 1];

	if (p >= end)
		return 0;
	while (p < end && *p >= '0' && *p <= '7' && mode < (1u << 24))
		mode = mode * 8 + (unsigned)(*p++ - '0');
	if (p >= end || *p != ' ' || !(nul = memchr(p + 1, '\0', (size_t)(end - p - 1))) || nul == p + 1 ||
	    (size_t)(end - nul - 1) < 20) {
		git_oid_tostr(hex, sizeof(hex), tid);
		return pg_error_setc(PG_EINVALID, "tree %s is malformed at byte %zu", hex, *pos);
	}
	e->mode = mode;
	e->name = p + 1;
	e->len = (size_t)(nul - p - 1);
	e->id = (const unsigned char *)nul + 1;
	*pos = (size_t)(nul + 21 - t->ptr);
	return 1;
}

static int is_tree(const struct entry *e)
{
	return (e->mode & 0170000u) == MODE_TREE;
}

/* git's tree order (base_name_compare): a directory sorts as if its name ended in '/'. */
static int entry_cmp(const struct entry *a, const struct entry *b)
{
	size_t n = a->len < b->len ? a->len : b->len;
	int c = memcmp(a->name, b->name, n);
	unsigned char ca, cb;
	if (c)
		return c;
	ca = a->len > n ? (unsigned char)a->name[n] : is_tree(a) ? '/' : '\0';
	cb = b->len > n ? (unsigned char)b->name[n] : is_tree(b) ? '/' : '\0';
	return ca < cb ? -1 : ca > cb;
}

static int add_file(pg_ingest__differ *d, pg_ingest__files *out, const struct entry *e, char status,
		    const struct entry *old, const struct entry *new)
{
	pg_ingest__file f;
	size_t base = d->path.len;
	int error;

	memset(&f, 0, sizeof(f));
	if ((error = pg_buf_put(&d->path, e->name, e->len)) < 0)
		return error;
	f.path = strdup(d->path.ptr);
	d->path.len = base;
	d->path.ptr[base] = '\0';
	if (!f.path)
		return pg_error_setc(PG_ENOMEM, "out of memory");
	f.status = status;
	if (old)
		memcpy(f.old_id.id, old->id, GIT_OID_RAWSZ);
	if (new)
		memcpy(f.new_id.id, new->id, GIT_OID_RAWSZ);
	f.old_mode = old ? old->mode : 0;
	f.new_mode = new ? new->mode : 0;
	f.old_is_blob = old && (old->mode & 0170000u) != MODE_GITLINK;
	f.new_is_blob = new && (new->mode & 0170000u) != MODE_GITLINK;
	if ((error = pg_vec_push(out, f)) < 0)
		free(f.path);
	return error;
}

static void note_missing(char *missing, const git_oid *id)
{
	if (!missing[0])
		git_oid_tostr(missing, GIT_OID_HEXSZ + 1, id);
}

struct walk {
	pg_ingest__differ *d;
	pg_ingest__files *out;
	char *missing;
};

static int walk(struct walk *w, const git_oid *a, const git_oid *b, unsigned depth);

/* Descend into directory e (path grows by "name/"), comparing old tree a with new tree b. */
static int descend(struct walk *w, const struct entry *e, const unsigned char *a, const unsigned char *b,
		   unsigned depth)
{
	pg_buf *path = &w->d->path;
	size_t base = path->len;
	git_oid ia, ib;
	int error;

	if (a)
		memcpy(ia.id, a, GIT_OID_RAWSZ);
	if (b)
		memcpy(ib.id, b, GIT_OID_RAWSZ);
	if ((error = pg_buf_put(path, e->name, e->len)) < 0 || (error = pg_buf_putc(path, '/')) < 0)
		return error;
	error = walk(w, a ? &ia : NULL, b ? &ib : NULL, depth + 1);
	path->len = base;
	path->ptr[base] = '\0';
	return error;
}

/* An entry present on one side only: a file, or a whole directory. */
static int one_side(struct walk *w, const struct entry *e, int added, unsigned depth)
{
	if (is_tree(e))
		return descend(w, e, added ? NULL : e->id, added ? e->id : NULL, depth);
	return add_file(w->d, w->out, e, added ? 'A' : 'D', added ? NULL : e, added ? e : NULL);
}

/*
 * A tree that cannot be read (missing, in a corrupt pack, not a tree) ends
 * the comparison: comparing against an empty tree instead would list every
 * file below it as added or deleted.
 */
static int load_tree(struct walk *w, const git_oid *id, pg_buf *buf)
{
	git_object_t type;
	int error = pg_odb_read(w->d->odb, id, &type, buf);
	if (error == PG_ENOTFOUND || error == PG_EINVALID || (!error && type != GIT_OBJECT_TREE)) {
		note_missing(w->missing, id);
		pg_buf_reset(buf);
		return PG_ENOTFOUND;
	}
	return error;
}

static int walk(struct walk *w, const git_oid *a, const git_oid *b, unsigned depth)
{
	pg_buf *ta, *tb;
	size_t pa = 0, pb = 0;
	struct entry ea, eb;
	int ha, hb, error;

	if (a && b && git_oid_equal(a, b))
		return 0;
	if (depth >= MAX_DEPTH) {
		char hex[GIT_OID_HEXSZ + 1];
		git_oid_tostr(hex, sizeof(hex), b ? b : a);
		return pg_error_setc(PG_EINVALID, "tree %s is nested more than %d levels deep", hex, MAX_DEPTH);
	}
	ta = &w->d->levels[2 * depth];
	tb = &w->d->levels[2 * depth + 1];
	pg_buf_reset(ta);
	pg_buf_reset(tb);
	if ((a && (error = load_tree(w, a, ta)) < 0) || (b && (error = load_tree(w, b, tb)) < 0))
		return error;
	if ((ha = next_entry(ta, &pa, &ea, a)) < 0)
		return ha;
	if ((hb = next_entry(tb, &pb, &eb, b)) < 0)
		return hb;
	while (ha || hb) {
		int cmp = !ha ? 1 : !hb ? -1 : entry_cmp(&ea, &eb);
		error = 0;
		if (cmp < 0) {
			error = one_side(w, &ea, 0, depth);
		} else if (cmp > 0) {
			error = one_side(w, &eb, 1, depth);
		} else if (is_tree(&ea)) {
			if (memcmp(ea.id, eb.id, GIT_OID_RAWSZ))
				error = descend(w, &ea, ea.id, eb.id, depth);
		} else if (memcmp(ea.id, eb.id, GIT_OID_RAWSZ) || ea.mode != eb.mode) {
			error = add_file(w->d, w->out, &eb, 'M', &ea, &eb);
		}
		if (error < 0)
			return error;
		if (cmp <= 0 && (ha = next_entry(ta, &pa, &ea, a)) < 0)
			return ha;
		if (cmp >= 0 && (hb = next_entry(tb, &pb, &eb, b)) < 0)
			return hb;
	}
	return 0;
}

int pg_ingest__tree_diff(pg_ingest__files *out, pg_ingest__differ *d,
			 const git_oid *old_tree, const git_oid *new_tree, char missing[GIT_OID_HEXSZ + 1])
{
	struct walk w = { d, out, missing };
	pg_buf_reset(&d->path);
	if (pg_buf_grow(&d->path, 256) < 0)
		return PG_ENOMEM;
	d->path.ptr[0] = '\0';
	return walk(&w, old_tree, new_tree, 0);
}

static unsigned count_lines(const char *p, size_t n)
{
	unsigned lines = 0;
	const char *end = p + n;
	while (p < end && (p = memchr(p, '\n', (size_t)(end - p)))) {
		lines++;
		p++;
	}
	if (n && end[-1] != '\n')
		lines++;
	return lines;
}

static int is_binary(const char *p, size_t n)
{
	return memchr(p, '\0', n < 8000 ? n : 8000) != NULL;
}

/*
 * Drop the lines both buffers start with and end with, exactly as xdiff
 * does first (xdl_trim_ends; its records are whole lines with their '\n',
 * so a missing newline at the end is a change).  When one middle is empty
 * the change is a pure insertion or deletion and its counts are exact
 * without diffing (most kernel commits).  Otherwise the caller still hands
 * the WHOLE buffers to xdiff: its line discarding heuristics count
 * occurrences over the whole files, so diffing only the middle could give
 * different numbers.
 */
static void trim_common(const char **a, size_t *an, const char **b, size_t *bn)
{
	const char *pa = *a, *pb = *b;
	size_t na = *an, nb = *bn, i = 0, last = 0, ea, eb, tail;

	/* head: whole lines only; last = end of the last common line */
	while (i < na && i < nb && pa[i] == pb[i]) {
		if (pa[i] == '\n')
			last = i + 1;
		i++;
	}
	if (i == na && i == nb)
		last = na; /* identical: everything is common */
	pa += last, pb += last, na -= last, nb -= last;
	/* tail: compare backwards from the ends, again whole lines only */
	ea = na, eb = nb, tail = 0;
	while (ea > 0 && eb > 0 && pa[ea - 1] == pb[eb - 1]) {
		ea--, eb--;
		if ((ea == 0 || pa[ea - 1] == '\n') && (eb == 0 || pb[eb - 1] == '\n'))
			tail = na - ea;
	}
	*a = pa, *an = na - tail, *b = pb, *bn = nb - tail;
}

/* Read blob id into b; 0, or PG_ENOTFOUND (also for a non-blob or a corrupt one) after noting it in missing. */
static int load_blob(pg_ingest__differ *d, const git_oid *id, pg_buf *b, char missing[GIT_OID_HEXSZ + 1])
{
	git_object_t type;
	int error = pg_odb_read(d->odb, id, &type, b);
	if (error == PG_ENOTFOUND || error == PG_EINVALID || (!error && type != GIT_OBJECT_BLOB)) {
		note_missing(missing, id);
		return PG_ENOTFOUND;
	}
	return error;
}

int pg_ingest__line_stats(pg_ingest__files *files, pg_ingest__differ *d, char missing[GIT_OID_HEXSZ + 1])
{
	pg_buf *ob = &d->old_blob, *nb = &d->new_blob;
	int error;

	for (size_t i = 0; i < files->len; i++) {
		pg_ingest__file *f = &files->ptr[i];
		git_patch *patch = NULL;
		size_t ctx, add, del;
		int have_old = 0, have_new = 0;

		if (f->old_is_blob) {
			if ((error = load_blob(d, &f->old_id, ob, missing)) == PG_ENOTFOUND)
				continue;
			if (error < 0)
				return error;
			have_old = 1;
		}
		if (f->new_is_blob) {
			if ((error = load_blob(d, &f->new_id, nb, missing)) == PG_ENOTFOUND)
				continue;
			if (error < 0)
				return error;
			have_new = 1;
		}
		if (f->status == 'A' && have_new) {
			f->added = is_binary(nb->ptr, nb->len) ? 0 : count_lines(nb->ptr, nb->len);
		} else if (f->status == 'D' && have_old) {
			f->deleted = is_binary(ob->ptr, ob->len) ? 0 : count_lines(ob->ptr, ob->len);
		} else if (have_old && have_new) {
			const char *oc = ob->ptr, *nc = nb->ptr;
			size_t on = ob->len, nn = nb->len;

			if (!is_binary(oc, on) && !is_binary(nc, nn)) {
				const char *mo = oc, *mn = nc;
				size_t mon = on, mnn = nn;
				trim_common(&mo, &mon, &mn, &mnn);
				if (!mon || !mnn) {
					f->added = count_lines(mn, mnn);
					f->deleted = count_lines(mo, mon);
					continue;
				}
			}
			/* from buffers, not blobs: blobs make libgit2 stat .gitattributes
			 * files for every path (measured: 3 failed stats per file) */
			if (git_patch_from_buffers(&patch, oc, on, f->path, nc, nn, f->path, NULL) == 0 &&
			    git_patch_line_stats(&ctx, &add, &del, patch) == 0) {
				f->added = (unsigned)add;
				f->deleted = (unsigned)del;
			}
			git_patch_free(patch);
		}
	}
	return 0;
}

void pg_ingest__files_clear(pg_ingest__files *files)
{
	for (size_t i = 0; i < files->len; i++)
		free(files->ptr[i].path);
	files->len = 0;
}

/* ---- the unified diff of one commit ---------------------------------------- */

struct pg_ingest_diff {
	pg_ingest__differ d;
	pg_ingest__files files;
	pg_buf raw;               /* the commit object */
	pg_odb_commit commit;     /* parsed from raw */
	git_diff_options dopts;
};

int pg_ingest_diff_open(pg_ingest_diff **out, git_repository *repo)
{
	pg_ingest_diff *x = calloc(1, sizeof(*x));
	int error;

	*out = NULL;
	if (!x)
		return pg_error_setc(PG_ENOMEM, "out of memory");
	git_diff_options_init(&x->dopts, GIT_DIFF_OPTIONS_VERSION);
	/* git's default since 2.14, and what backport's patch ids were computed with */
	x->dopts.flags |= GIT_DIFF_INDENT_HEURISTIC;
	if ((error = pg_ingest__differ_init(&x->d, repo)) < 0) {
		pg_ingest_diff_free(x);
		return error;
	}
	*out = x;
	return 0;
}

void pg_ingest_diff_free(pg_ingest_diff *x)
{
	if (!x)
		return;
	pg_ingest__files_clear(&x->files);
	pg_vec_release(&x->files);
	pg_buf_release(&x->raw);
	pg_odb_commit_release(&x->commit);
	pg_ingest__differ_release(&x->d);
	free(x);
}

/* "a/P" or "/dev/null" as git writes the two sides of a file header */
static int put_side(pg_buf *b, const char *pfx, const char *path, int present)
{
	return present ? pg_buf_printf(b, "%s%s", pfx, path) : pg_buf_puts(b, "/dev/null");
}

/*
 * The file header exactly as git (and libgit2's GIT_DIFF_FORMAT_PATCH)
 * writes it without --binary/--full-index: modes, the 7-digit index line,
 * then "Binary files ... differ" or the ---/+++ pair when there are hunks.
 * Patch ids hash these lines (not the index line, except for binary
 * files), so they must not drift from git's.
 */
static int put_header(pg_buf *b, const pg_ingest__file *f, int binary, int hunks)
{
	char o[8], n[8];
	int same = git_oid_equal(&f->old_id, &f->new_id) && f->old_mode && f->new_mode;
	int error = pg_buf_printf(b, "diff --git a/%s b/%s\n", f->path, f->path);

	git_oid_tostr(o, sizeof(o), &f->old_id); /* zero ids for an absent side: 0000000 */
	git_oid_tostr(n, sizeof(n), &f->new_id);
	if (f->old_mode == f->new_mode) {
		if (!same)
			error |= pg_buf_printf(b, "index %s..%s %o\n", o, n, f->old_mode);
	} else {
		if (!f->old_mode)
			error |= pg_buf_printf(b, "new file mode %o\n", f->new_mode);
		else if (!f->new_mode)
			error |= pg_buf_printf(b, "deleted file mode %o\n", f->old_mode);
		else
			error |= pg_buf_printf(b, "old mode %o\nnew mode %o\n", f->old_mode, f->new_mode);
		if (!same)
			error |= pg_buf_printf(b, "index %s..%s\n", o, n);
	}
	if (binary) {
		error |= pg_buf_puts(b, "Binary files ");
		error |= put_side(b, "a/", f->path, f->old_mode != 0);
		error |= pg_buf_puts(b, " and ");
		error |= put_side(b, "b/", f->path, f->new_mode != 0);
		error |= pg_buf_puts(b, " differ\n");
	} else if (hunks) {
		error |= pg_buf_puts(b, "--- ");
		error |= put_side(b, "a/", f->path, f->old_mode != 0);
		error |= pg_buf_puts(b, "\n+++ ");
		error |= put_side(b, "b/", f->path, f->new_mode != 0);
		error |= pg_buf_putc(b, '\n');
	}
	return error ? pg_error_setc(PG_ENOMEM, "out of memory") : 0;
}

/* hunk lines of a patch, as git_diff_to_buf writes them; the file header is ours */
static int put_line(const git_diff_delta *delta, const git_diff_hunk *hunk, const git_diff_line *line, void *payload)
{
	pg_buf *b = payload;
	(void)delta;
	(void)hunk;
	if (line->origin == GIT_DIFF_LINE_FILE_HDR || line->origin == GIT_DIFF_LINE_BINARY)
		return 0;
	if ((line->origin == GIT_DIFF_LINE_ADDITION || line->origin == GIT_DIFF_LINE_DELETION ||
	     line->origin == GIT_DIFF_LINE_CONTEXT) &&
	    pg_buf_putc(b, line->origin) < 0)
		return -1;
	return pg_buf_put(b, line->content, line->content_len) < 0 ? -1 : 0;
}

/* Cut out at the end of its last whole line within max bytes past base. */
static void cut_at_line(pg_buf *out, size_t base, size_t max)
{
	size_t end = base + max;
	while (end > base && out->ptr[end - 1] != '\n')
		end--;
	out->len = end;
	out->ptr[end] = '\0';
}

/* Read and parse commit id into x->commit (PG_ENOTFOUND: not in the repository). */
static int read_commit(pg_ingest_diff *x, const git_oid *id, const char *hex)
{
	git_object_t type;
	int error = pg_odb_read(x->d.odb, id, &type, &x->raw);

	if (error == PG_ENOTFOUND || (!error && type != GIT_OBJECT_COMMIT))
		return pg_error_setc(PG_ENOTFOUND, "commit %s is not in the repository", hex);
	if (error < 0 || (error = pg_odb_parse_commit(&x->commit, x->raw.ptr, x->raw.len)) < 0)
		pg_error_prefix("commit %s", hex);
	return error;
}

int pg_ingest_diff_commit(pg_ingest_diff *x, pg_buf *out, const git_oid *commit, unsigned flags, size_t max,
			  unsigned *info)
{
	pg_ingest__differ *d = &x->d;
	char missing[GIT_OID_HEXSZ + 1] = "", hex[GIT_OID_HEXSZ + 1];
	size_t base = out->len;
	git_oid tree, ptree;
	unsigned dummy;
	int has_parent, error;

	if (!info)
		info = &dummy;
	*info = 0;
	git_oid_tostr(hex, sizeof(hex), commit);
	if ((error = read_commit(x, commit, hex)) < 0)
		return error;
	if (x->commit.nparents > 1 && !(flags & PG_INGEST_DIFF_MERGES)) {
		*info = PG_INGEST_DIFF_MERGE;
		return 0;
	}
	tree = x->commit.tree;
	if ((has_parent = x->commit.nparents > 0)) {
		git_oid p = x->commit.parents[0];
		char phex[GIT_OID_HEXSZ + 1];
		git_oid_tostr(phex, sizeof(phex), &p);
		if ((error = read_commit(x, &p, phex)) < 0) {
			if (error == PG_ENOTFOUND)
				error = pg_error_setc(PG_ENOTFOUND, "the parent %s of commit %s is not in the repository", phex, hex);
			return error;
		}
		ptree = x->commit.tree;
	}
	pg_ingest__files_clear(&x->files);
	if ((error = pg_ingest__tree_diff(&x->files, d, has_parent ? &ptree : NULL,
					  &tree, missing)) < 0) {
		if (error == PG_ENOTFOUND && missing[0])
			error = pg_error_setc(PG_ENOTFOUND, "commit %s: tree %s is missing", hex, missing);
		return error;
	}
	for (size_t i = 0; i < x->files.len; i++) {
		pg_ingest__file *f = &x->files.ptr[i];
		const git_diff_delta *delta;
		git_patch *patch = NULL;
		int have_old = 0, have_new = 0, binary;

		if (!f->old_is_blob && !f->new_is_blob)
			continue; /* a submodule's commit moved: no file content */
		if ((f->old_is_blob && !(have_old = !(error = load_blob(d, &f->old_id, &d->old_blob, missing)))) ||
		    (f->new_is_blob && !(have_new = !(error = load_blob(d, &f->new_id, &d->new_blob, missing))))) {
			if (error == PG_ENOTFOUND)
				error = pg_error_setc(PG_ENOTFOUND, "commit %s: object %s is missing", hex, missing);
			return error;
		}
		/* the work bound: a file this large would be cut anyway, and xdiff on it costs seconds */
		if (max && (have_old ? d->old_blob.len : 0) + (have_new ? d->new_blob.len : 0) > 8 * max) {
			*info = PG_INGEST_DIFF_CUT;
			break;
		}
		if (git_patch_from_buffers(&patch, have_old ? d->old_blob.ptr : NULL, have_old ? d->old_blob.len : 0, f->path,
					   have_new ? d->new_blob.ptr : NULL, have_new ? d->new_blob.len : 0, f->path,
					   &x->dopts) < 0) {
			const git_error *e = git_error_last();
			return pg_error_set("cannot diff %s in commit %s: %s", f->path, hex, e && e->message ? e->message : "libgit2 error");
		}
		delta = git_patch_get_delta(patch);
		/* a mode change alone has no content to call binary (git prints only the modes) */
		binary = (delta->flags & GIT_DIFF_FLAG_BINARY) && !git_oid_equal(&f->old_id, &f->new_id);
		if ((error = put_header(out, f, binary, git_patch_num_hunks(patch) > 0)) == 0 && !binary &&
		    git_patch_print(patch, put_line, out) < 0)
			error = pg_error_setc(PG_ENOMEM, "out of memory");
		git_patch_free(patch);
		if (error < 0)
			return error;
		if (max && out->len - base > max) {
			cut_at_line(out, base, max);
			*info = PG_INGEST_DIFF_CUT;
			break;
		}
	}
	return 0;
}

int pg_ingest_commit_diff(pg_buf *out, git_repository *repo, const git_oid *commit)
{
	pg_ingest_diff *x = NULL;
	int error;

	if ((error = pg_ingest_diff_open(&x, repo)) == 0)
		error = pg_ingest_diff_commit(x, out, commit, PG_INGEST_DIFF_MERGES, 0, NULL);
	pg_ingest_diff_free(x);
	return error;
}
