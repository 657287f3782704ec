/*
 * treediff.c - touched files of a commit by direct tree comparison.
 *
 * Why not git_diff_tree_to_tree: it loads and compares every entry of both
 * trees; on a kernel tree (~90k files, ~5k directories) that is ~75
 * commits/s.  Here a subtree whose id is unchanged is skipped without
 * being read, so a typical commit touching 3 files reads ~3 * depth trees.
 * The result equals `git log --no-renames --name-status` for the first parent.
 */
#include <string.h>
#include "patchgap/ingest.h"
#include "ingest/ingest_int.h"
#include "util/banned.h"

struct tdiff {
	git_repository *repo;
	pg_ingest__files *out;
	pg_buf path;
	char *missing;
};

static int add_file(struct tdiff *d, const git_tree_entry *e, char status,
		    const git_oid *old_id, const git_oid *new_id, int old_blob, int new_blob)
{
	pg_ingest__file f;
	size_t base = d->path.len;
	int error;

	memset(&f, 0, sizeof(f));
	if ((error = pg_buf_puts(&d->path, git_tree_entry_name(e))) < 0)
		return error;
	f.path = strdup(d->path.ptr);
	d->path.len = base;
	d->path.ptr[base] = '\0';
	if (!f.path)
		return pg_error_setc(PG_ENOMEM, "out of memory");
	f.status = status;
	if (old_id)
		git_oid_cpy(&f.old_id, old_id);
	if (new_id)
		git_oid_cpy(&f.new_id, new_id);
	f.old_is_blob = old_blob;
	f.new_is_blob = new_blob;
	if ((error = pg_vec_push(d->out, f)) < 0)
		free(f.path);
	return error;
}

static void note_missing(struct tdiff *d, const git_oid *id)
{
	if (!d->missing[0])
		git_oid_tostr(d->missing, GIT_OID_HEXSZ + 1, id);
}

static int walk(struct tdiff *d, const git_oid *a, const git_oid *b);

/* An entry present on one side only: a file, or a whole directory. */
static int one_side(struct tdiff *d, const git_tree_entry *e, int added)
{
	const git_oid *id = git_tree_entry_id(e);
	git_object_t t = git_tree_entry_type(e);
	size_t base;
	int error;

	if (t == GIT_OBJECT_TREE) {
		base = d->path.len;
		if ((error = pg_buf_puts(&d->path, git_tree_entry_name(e))) < 0 ||
		    (error = pg_buf_putc(&d->path, '/')) < 0)
			return error;
		error = added ? walk(d, NULL, id) : walk(d, id, NULL);
		d->path.len = base;
		d->path.ptr[base] = '\0';
		return error;
	}
	return add_file(d, e, added ? 'A' : 'D', added ? NULL : id, added ? id : NULL,
			!added && t == GIT_OBJECT_BLOB, added && t == GIT_OBJECT_BLOB);
}

static int walk(struct tdiff *d, const git_oid *a, const git_oid *b)
{
	git_tree *ta = NULL, *tb = NULL;
	size_t i = 0, j = 0, na = 0, nb = 0;
	int error = 0;

	if (a && b && git_oid_equal(a, b))
		return 0;
	if (a && git_tree_lookup(&ta, d->repo, a) < 0) {
		note_missing(d, a);
		a = NULL;
	}
	if (b && git_tree_lookup(&tb, d->repo, b) < 0) {
		note_missing(d, b);
		b = NULL;
	}
	na = ta ? git_tree_entrycount(ta) : 0;
	nb = tb ? git_tree_entrycount(tb) : 0;
	while (!error && (i < na || j < nb)) {
		const git_tree_entry *ea = i < na ? git_tree_entry_byindex(ta, i) : NULL;
		const git_tree_entry *eb = j < nb ? git_tree_entry_byindex(tb, j) : NULL;
		int cmp = !ea ? 1 : !eb ? -1 : git_tree_entry_cmp(ea, eb);

		if (cmp == 0 && strcmp(git_tree_entry_name(ea), git_tree_entry_name(eb)))
			cmp = strcmp(git_tree_entry_name(ea), git_tree_entry_name(eb));
		if (cmp < 0) {
			error = one_side(d, ea, 0);
			i++;
		} else if (cmp > 0) {
			error = one_side(d, eb, 1);
			j++;
		} else {
			git_object_t tya = git_tree_entry_type(ea), tyb = git_tree_entry_type(eb);
			const git_oid *ia = git_tree_entry_id(ea), *ib = git_tree_entry_id(eb);
			i++, j++;
			if ((tya == GIT_OBJECT_TREE) != (tyb == GIT_OBJECT_TREE)) {
				/* file replaced by a directory of the same name, or back */
				if ((error = one_side(d, ea, 0)) < 0)
					break;
				error = one_side(d, eb, 1);
			} else if (tya == GIT_OBJECT_TREE) {
				if (!git_oid_equal(ia, ib)) {
					size_t base = d->path.len;
					if ((error = pg_buf_puts(&d->path, git_tree_entry_name(ea))) < 0 ||
					    (error = pg_buf_putc(&d->path, '/')) < 0)
						break;
					error = walk(d, ia, ib);
					d->path.len = base;
					d->path.ptr[base] = '\0';
				}
			} else if (!git_oid_equal(ia, ib) ||
				   git_tree_entry_filemode(ea) != git_tree_entry_filemode(eb)) {
				error = add_file(d, eb, 'M', ia, ib, tya == GIT_OBJECT_BLOB, tyb == GIT_OBJECT_BLOB);
			}
		}
	}
	git_tree_free(ta);
	git_tree_free(tb);
	return error;
}

int pg_ingest__tree_diff(pg_ingest__files *out, git_repository *repo,
			 const git_oid *old_tree, const git_oid *new_tree, char missing[GIT_OID_HEXSZ + 1])
{
	struct tdiff d = { repo, out, PG_BUF_INIT, missing };
	int error;
	if ((error = pg_buf_grow(&d.path, 256)) < 0)
		return error;
	d.path.ptr[0] = '\0';
	error = walk(&d, old_tree, new_tree);
	pg_buf_release(&d.path);
	return error;
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

int pg_ingest__line_stats(pg_ingest__files *files, git_repository *repo, char missing[GIT_OID_HEXSZ + 1])
{
	for (size_t i = 0; i < files->len; i++) {
		pg_ingest__file *f = &files->ptr[i];
		git_blob *ob = NULL, *nb = NULL;
		git_patch *patch = NULL;
		size_t ctx, add, del;

		if ((f->old_is_blob && git_blob_lookup(&ob, repo, &f->old_id) < 0) ||
		    (f->new_is_blob && git_blob_lookup(&nb, repo, &f->new_id) < 0)) {
			if (!missing[0])
				git_oid_tostr(missing, GIT_OID_HEXSZ + 1,
					      ob || !f->old_is_blob ? &f->new_id : &f->old_id);
			git_blob_free(ob);
			git_blob_free(nb);
			continue;
		}
		if (f->status == 'A' && nb) {
			const char *c = git_blob_rawcontent(nb);
			size_t n = (size_t)git_blob_rawsize(nb);
			f->added = is_binary(c, n) ? 0 : count_lines(c, n);
		} else if (f->status == 'D' && ob) {
			const char *c = git_blob_rawcontent(ob);
			size_t n = (size_t)git_blob_rawsize(ob);
			f->deleted = is_binary(c, n) ? 0 : count_lines(c, n);
		} else if (ob && nb) {
			const char *oc = git_blob_rawcontent(ob), *nc = git_blob_rawcontent(nb);
			size_t on = (size_t)git_blob_rawsize(ob), nn = (size_t)git_blob_rawsize(nb);

			if (!is_binary(oc, on) && !is_binary(nc, nn)) {
				const char *mo = oc, *mn = nc;
				size_t mon = on, mnn = nn;
				trim_common(&mo, &mon, &mn, &mnn);
				if (!mon || !mnn) {
					f->added = count_lines(mn, mnn);
					f->deleted = count_lines(mo, mon);
					goto next;
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
next:
		git_blob_free(ob);
		git_blob_free(nb);
	}
	return 0;
}

void pg_ingest__files_clear(pg_ingest__files *files)
{
	for (size_t i = 0; i < files->len; i++)
		free(files->ptr[i].path);
	files->len = 0;
}

int pg_ingest_commit_diff(pg_buf *out, git_repository *repo, const git_oid *commit)
{
	git_commit *c = NULL, *parent = NULL;
	pg_ingest__files files = PG_VEC_INIT;
	char missing[GIT_OID_HEXSZ + 1] = "", hex[GIT_OID_HEXSZ + 1];
	int error = 0;

	git_oid_tostr(hex, sizeof(hex), commit);
	if (git_commit_lookup(&c, repo, commit) < 0)
		return pg_error_setc(PG_ENOTFOUND, "commit %s is not in the repository", hex);
	if (git_commit_parentcount(c) && git_commit_parent(&parent, c, 0) < 0) {
		error = pg_error_setc(PG_ENOTFOUND, "the parent of commit %s is missing", hex);
		goto out;
	}
	if ((error = pg_ingest__tree_diff(&files, repo, parent ? git_commit_tree_id(parent) : NULL,
					  git_commit_tree_id(c), missing)) < 0)
		goto out;
	for (size_t i = 0; i < files.len && !error; i++) {
		pg_ingest__file *f = &files.ptr[i];
		git_blob *ob = NULL, *nb = NULL;
		git_patch *patch = NULL;
		git_buf text = { 0 };

		if ((f->old_is_blob && git_blob_lookup(&ob, repo, &f->old_id) < 0) ||
		    (f->new_is_blob && git_blob_lookup(&nb, repo, &f->new_id) < 0)) {
			git_oid_tostr(missing, sizeof(missing), ob || !f->old_is_blob ? &f->new_id : &f->old_id);
			error = pg_error_setc(PG_ENOTFOUND, "commit %s: object %s is missing", hex, missing);
		} else if (git_patch_from_buffers(&patch, ob ? git_blob_rawcontent(ob) : NULL,
						  ob ? (size_t)git_blob_rawsize(ob) : 0, f->path,
						  nb ? git_blob_rawcontent(nb) : NULL, nb ? (size_t)git_blob_rawsize(nb) : 0,
						  f->path, NULL) < 0 ||
			   git_patch_to_buf(&text, patch) < 0) {
			error = pg_error_set("cannot diff %s in commit %s", f->path, hex);
		} else {
			error = pg_buf_put(out, text.ptr, text.size);
		}
		git_buf_dispose(&text);
		git_patch_free(patch);
		git_blob_free(ob);
		git_blob_free(nb);
	}
out:
	pg_ingest__files_clear(&files);
	pg_vec_release(&files);
	git_commit_free(parent);
	git_commit_free(c);
	return error;
}
