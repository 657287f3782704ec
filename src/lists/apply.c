/*
 * apply.c - would this patch apply to that branch?  For patches that are
 * not commits: a format-patch file, an mbox series, a directory of a
 * vendor's backport queue, a mail stored by lists ingest.
 *
 * Each patch gets the same verdicts as a commit in `backport`:
 *  - present: every hunk's post-image (context and added lines) is
 *    already in the file, and where the hunk changes something its
 *    pre-image is not: the change is there, whatever history brought it
 *    (a tree with no history at all is recognised too);
 *  - clean: git_apply_to_tree() applies it;
 *  - conflict: the hunks whose pre-image is not found, named.
 * Everything happens in memory on trees; the trees of clean patches are
 * written to the object database so that the next patch of the series is
 * tried on top of them.  No ref, index or work tree is touched.
 */
#include <stdlib.h>
#include <string.h>
#include "patchgap/lists.h"
#include "util/buf.h"
#include "util/str.h"
#include "util/vec.h"
#include "util/banned.h"

const char *pg_patch_verdict_name(pg_patch_verdict v)
{
	switch (v) {
	case PG_PATCH_PRESENT: return "present";
	case PG_PATCH_CLEAN: return "clean";
	case PG_PATCH_CONFLICT: return "conflict";
	default: return "invalid";
	}
}

void pg_patch_tries_free(pg_patch_try *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].subject);
		for (size_t k = 0; k < v[i].nhunks; k++)
			free(v[i].hunks[k]);
		free(v[i].hunks);
		free(v[i].detail);
	}
	free(v);
}

int pg_mbox_split(size_t **starts, size_t *n, const char *text, size_t len)
{
	PG_VEC(size_t) v = PG_VEC_INIT;
	size_t pos = 0;
	*starts = NULL;
	*n = 0;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) + 1 : len;
		/* "From <id> <date>" at the start or after a blank line, followed by a header line */
		if (end - pos > 5 && !memcmp(text + pos, "From ", 5) &&
		    (pos == 0 || (pos >= 2 && text[pos - 2] == '\n') || v.len == 0) && end < len &&
		    memchr(text + end, ':', (len - end) < 80 ? len - end : 80)) {
			if (pg_vec_push(&v, pos) < 0) {
				pg_vec_release(&v);
				return pg_error_setc(PG_ENOMEM, "out of memory");
			}
		}
		pos = end;
	}
	if (!v.len && pg_vec_push(&v, (size_t)0) < 0)
		return pg_error_setc(PG_ENOMEM, "out of memory");
	*starts = v.ptr;
	*n = v.len;
	return 0;
}

/* One hunk of a unified diff: its file, header, pre- and post-image. */
typedef struct hunk {
	char *path;          /* new side ("" for a deletion: old side in old_path) */
	char *old_path;
	char *header;
	pg_buf pre, post;
	int new_file, deleted;
} hunk;

static void hunks_free(hunk *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(h[i].path);
		free(h[i].old_path);
		free(h[i].header);
		pg_buf_release(&h[i].pre);
		pg_buf_release(&h[i].post);
	}
	free(h);
}

static char *side_path(const char *l, size_t n)
{
	const char *tab;
	if (n >= 2 && (l[0] == 'a' || l[0] == 'b') && l[1] == '/')
		l += 2, n -= 2;
	tab = memchr(l, '\t', n);
	if (tab)
		n = (size_t)(tab - l);
	while (n && (l[n - 1] == ' ' || l[n - 1] == '\r'))
		n--;
	return pg_strndup(l, n);
}

/* The hunks of a diff (linear: one pass over the lines). */
static int parse_hunks(hunk **out, size_t *nout, const char *d, size_t len)
{
	PG_VEC(hunk) v = PG_VEC_INIT;
	char *old = NULL, *new = NULL;
	size_t pos = 0;
	int error = 0, in_hunk = 0;

	while (pos < len) {
		const char *l = d + pos, *nl = memchr(l, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - l) : len - pos;
		pos += n + (nl ? 1 : 0);
		if (n >= 4 && !memcmp(l, "--- ", 4) && pos < len && len - pos >= 4 && !memcmp(d + pos, "+++ ", 4)) {
			free(old);
			old = side_path(l + 4, n - 4);
			in_hunk = 0;
			continue;
		}
		if (n >= 4 && !memcmp(l, "+++ ", 4) && !in_hunk) {
			free(new);
			new = side_path(l + 4, n - 4);
			continue;
		}
		if (n >= 11 && !memcmp(l, "diff --git ", 11)) {
			in_hunk = 0;
			continue;
		}
		if (n >= 3 && !memcmp(l, "@@ ", 3) && old && new) {
			hunk h;
			memset(&h, 0, sizeof(h));
			h.new_file = !strcmp(old, "/dev/null");
			h.deleted = !strcmp(new, "/dev/null");
			h.path = pg_strdup(h.deleted ? old : new);
			h.old_path = pg_strdup(old);
			h.header = pg_strndup(l, n);
			if (!h.path || !h.old_path || !h.header || pg_vec_push(&v, h) < 0) {
				free(h.path);
				free(h.old_path);
				free(h.header);
				error = pg_error_setc(PG_ENOMEM, "out of memory");
				goto out;
			}
			in_hunk = 1;
			continue;
		}
		if (!in_hunk || !v.len)
			continue;
		if (n == 0 || l[0] == ' ') {
			hunk *h = &v.ptr[v.len - 1];
			size_t k = n ? n - 1 : 0;
			if (pg_buf_put(&h->pre, l + (n ? 1 : 0), k) < 0 || pg_buf_putc(&h->pre, '\n') < 0 ||
			    pg_buf_put(&h->post, l + (n ? 1 : 0), k) < 0 || pg_buf_putc(&h->post, '\n') < 0)
				goto oom;
		} else if (l[0] == '-') {
			hunk *h = &v.ptr[v.len - 1];
			if (pg_buf_put(&h->pre, l + 1, n - 1) < 0 || pg_buf_putc(&h->pre, '\n') < 0)
				goto oom;
		} else if (l[0] == '+') {
			hunk *h = &v.ptr[v.len - 1];
			if (pg_buf_put(&h->post, l + 1, n - 1) < 0 || pg_buf_putc(&h->post, '\n') < 0)
				goto oom;
		} else if (l[0] != '\\') {
			in_hunk = 0;
		}
	}
	*out = v.ptr;
	*nout = v.len;
	v.ptr = NULL;
	v.len = 0;
	goto out;
oom:
	error = pg_error_setc(PG_ENOMEM, "out of memory");
out:
	hunks_free(v.ptr, v.len);
	free(old);
	free(new);
	return error;
}

/* text holds block at a line start (an empty block is always held). */
static int holds(const char *text, size_t n, const pg_buf *block)
{
	const char *p = text, *end = text + n;
	if (!block->len)
		return 1;
	while (p < end) {
		const char *hit = memmem(p, (size_t)(end - p), block->ptr, block->len);
		if (!hit)
			return 0;
		if (hit == text || hit[-1] == '\n')
			return 1;
		p = hit + 1;
	}
	return 0;
}

/* The file at path in tree: 1 and its blob, 0 when absent, < 0 on error. */
static int file_at(git_blob **out, git_repository *repo, const git_tree *tree, const char *path)
{
	git_tree_entry *e = NULL;
	int rc;
	*out = NULL;
	if ((rc = git_tree_entry_bypath(&e, tree, path)) == GIT_ENOTFOUND)
		return 0;
	if (rc < 0)
		return pg_error_setc(PG_ERROR, "cannot read '%s': %s", path, git_error_last() ? git_error_last()->message : "?");
	if (git_tree_entry_type(e) != GIT_OBJECT_BLOB) {
		git_tree_entry_free(e);
		return 0;
	}
	rc = git_blob_lookup(out, repo, git_tree_entry_id(e));
	git_tree_entry_free(e);
	if (rc < 0)
		return pg_error_setc(PG_ERROR, "cannot read the blob of '%s'", path);
	return 1;
}

/*
 * Present: each hunk's post-image is in its file and, when the hunk
 * changes something, its pre-image is not.  *missing lists the hunks
 * whose pre-image is not found either (the conflicting ones).
 */
static int check_hunks(int *present, pg_patch_try *t, git_repository *repo, const git_tree *tree,
		       hunk *h, size_t n)
{
	int all = n > 0, error = 0;
	for (size_t i = 0; i < n; i++) {
		git_blob *b = NULL;
		const char *text = "";
		size_t len = 0;
		int has, post_in, pre_in;
		if ((has = file_at(&b, repo, tree, h[i].deleted ? h[i].old_path : h[i].path)) < 0)
			return has;
		if (has) {
			text = git_blob_rawcontent(b);
			len = (size_t)git_blob_rawsize(b);
		}
		if (h[i].deleted) {
			post_in = !has;
			pre_in = has && holds(text, len, &h[i].pre);
		} else {
			post_in = has && holds(text, len, &h[i].post);
			pre_in = h[i].new_file ? !has : has && holds(text, len, &h[i].pre);
		}
		if (!h[i].deleted && !h[i].new_file && h[i].pre.len == h[i].post.len &&
		    (!h[i].pre.len || !memcmp(h[i].pre.ptr, h[i].post.ptr, h[i].pre.len)))
			pre_in = 0;   /* a hunk that changes nothing */
		if (!post_in || pre_in)
			all = 0;
		if (!post_in && !pre_in) {
			pg_buf line = PG_BUF_INIT;
			char *s;
			pg_buf_printf(&line, "%s: %s", h[i].path, h[i].header);
			if (!(s = pg_buf_detach(&line)) ||
			    pg_vec__grow((void **)&t->hunks, &(size_t){ t->nhunks }, sizeof(char *), t->nhunks + 1) < 0) {
				free(s);
				git_blob_free(b);
				return pg_error_setc(PG_ENOMEM, "out of memory");
			}
			t->hunks[t->nhunks++] = s;
		}
		git_blob_free(b);
	}
	*present = all;
	return error;
}

static int try_one(pg_patch_try *t, git_repository *repo, git_tree **cur, const char *text, size_t len)
{
	pg_mail *m = NULL;
	git_diff *diff = NULL;
	git_index *idx = NULL;
	hunk *h = NULL;
	size_t nh = 0;
	int error = 0, present = 0;
	const char *d;
	size_t dlen;

	if ((error = pg_mail_parse(&m, text, len)) < 0)
		goto out;
	if (!(t->subject = pg_strdup(m->subject)))
		goto oom;
	if (!m->diff || !*m->diff) {
		t->verdict = PG_PATCH_INVALID;
		t->detail = pg_strdup("no diff in it");
		goto out;
	}
	d = m->diff;
	dlen = strlen(d);
	if ((error = parse_hunks(&h, &nh, d, dlen)) < 0)
		goto out;
	if ((error = check_hunks(&present, t, repo, *cur, h, nh)) < 0)
		goto out;
	if (present) {
		t->verdict = PG_PATCH_PRESENT;
		for (size_t k = 0; k < t->nhunks; k++)
			free(t->hunks[k]);
		t->nhunks = 0;
		goto out;
	}
	if (git_diff_from_buffer(&diff, d, dlen) < 0) {
		t->verdict = PG_PATCH_INVALID;
		t->detail = pg_strdup(git_error_last() ? git_error_last()->message : "unreadable diff");
		goto out;
	}
	if (git_apply_to_tree(&idx, repo, *cur, diff, NULL) < 0) {
		t->verdict = PG_PATCH_CONFLICT;
		t->detail = pg_strdup(git_error_last() ? git_error_last()->message : "does not apply");
		goto out;
	}
	{
		git_oid tid;
		git_tree *next = NULL;
		if (git_index_write_tree_to(&tid, idx, repo) < 0 || git_tree_lookup(&next, repo, &tid) < 0) {
			error = pg_error_setc(PG_ERROR, "cannot write the tree after '%s': %s", t->name,
					      git_error_last() ? git_error_last()->message : "?");
			goto out;
		}
		git_tree_free(*cur);
		*cur = next;
	}
	t->verdict = PG_PATCH_CLEAN;
	for (size_t k = 0; k < t->nhunks; k++)
		free(t->hunks[k]);
	t->nhunks = 0;
	goto out;
oom:
	error = pg_error_setc(PG_ENOMEM, "out of memory");
out:
	hunks_free(h, nh);
	git_index_free(idx);
	git_diff_free(diff);
	pg_mail_free(m);
	return error;
}

int pg_patch_try_series(pg_patch_try **out, size_t *n, git_repository *repo, const git_tree *tree,
			const char *const *texts, const size_t *lens, const char *const *names, size_t count)
{
	pg_patch_try *v = NULL;
	git_tree *cur = NULL;
	int error = 0;

	*out = NULL;
	*n = 0;
	if (!(v = calloc(count ? count : 1, sizeof(*v))))
		return pg_error_setc(PG_ENOMEM, "out of memory");
	if (git_tree_dup(&cur, (git_tree *)tree) < 0) {
		free(v);
		return pg_error_setc(PG_ERROR, "cannot read the tree");
	}
	for (size_t i = 0; i < count; i++) {
		if (!(v[i].name = pg_strdup(names[i]))) {
			error = pg_error_setc(PG_ENOMEM, "out of memory");
			break;
		}
		if ((error = try_one(&v[i], repo, &cur, texts[i], lens[i])) < 0)
			break;
	}
	git_tree_free(cur);
	if (error < 0) {
		pg_patch_tries_free(v, count);
		return error;
	}
	*out = v;
	*n = count;
	return 0;
}
