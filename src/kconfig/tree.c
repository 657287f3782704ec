/*
 * tree.c - pg_ktree readers: a directory on disk, or the tree of a git commit.
 *
 * The Kbuild evaluator and the hunk locator only ever read files through
 * pg_ktree.read, so the same code works on a checkout and on any commit of a
 * bare repository.  Paths are tree-relative, '/'-separated; ".." components
 * and absolute paths are refused so a hostile Makefile "include" cannot read
 * outside the tree.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <git2.h>
#include "patchgap/kconfig.h"
#include "util/str.h"
#include "util/banned.h"

#define KTREE_FILE_LIMIT ((size_t)64 << 20)

static int path_ok(const char *path)
{
	const char *p = path;
	if (!*path || path[0] == '/')
		return 0;
	while (*p) {
		if (p[0] == '.' && p[1] == '.' && (p[2] == '/' || p[2] == '\0'))
			return 0;
		p = strchr(p, '/');
		if (!p)
			break;
		p++;
	}
	return 1;
}

static int dir_read(pg_buf *out, const char *path, void *payload)
{
	const char *root = payload;
	char full[4096];
	FILE *f;
	char chunk[65536];
	size_t n;
	int error = 0;

	if (!path_ok(path))
		return pg_error_setc(PG_EINVALID, "refusing tree path '%s'", path);
	if ((size_t)snprintf(full, sizeof(full), "%s/%s", root, path) >= sizeof(full))
		return pg_error_setc(PG_EINVALID, "path too long: '%s'", path);
	if (!(f = fopen(full, "rb"))) {
		if (errno == ENOENT || errno == ENOTDIR || errno == EISDIR)
			return PG_ENOTFOUND;
		return pg_error_setc(PG_EIO, "cannot open '%s': %s", full, strerror(errno));
	}
	if (out->limit == 0)
		out->limit = KTREE_FILE_LIMIT;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if ((error = pg_buf_put(out, chunk, n)) < 0)
			break;
	if (!error && ferror(f))
		error = errno == EISDIR ? PG_ENOTFOUND : pg_error_setc(PG_EIO, "cannot read '%s'", full);
	fclose(f);
	if (!error && !out->ptr)
		error = pg_buf_grow(out, 0);
	return error;
}

int pg_ktree_dir(pg_ktree *out, const char *dir)
{
	char *copy;
	memset(out, 0, sizeof(*out));
	if (!(copy = pg_strdup(dir)))
		return PG_ENOMEM;
	out->read = dir_read;
	out->payload = copy;
	out->free_payload = free;
	return 0;
}

struct git_payload {
	git_repository *repo; /* owned when own_repo */
	git_tree *tree;       /* owned when own_repo */
	int own_repo;
};

static int git_read(pg_buf *out, const char *path, void *payload)
{
	struct git_payload *g = payload;
	git_tree_entry *te = NULL;
	git_blob *blob = NULL;
	int error = 0, rc;

	if (!path_ok(path))
		return pg_error_setc(PG_EINVALID, "refusing tree path '%s'", path);
	rc = git_tree_entry_bypath(&te, g->tree, path);
	if (rc == GIT_ENOTFOUND)
		return PG_ENOTFOUND;
	if (rc < 0) {
		error = pg_error_setc(PG_EIO, "cannot look up '%s' in git tree: %s", path,
				      git_error_last() ? git_error_last()->message : "?");
		goto out;
	}
	if (git_tree_entry_type(te) != GIT_OBJECT_BLOB) {
		error = PG_ENOTFOUND;
		goto out;
	}
	if (git_blob_lookup(&blob, git_tree_owner(g->tree), git_tree_entry_id(te)) < 0) {
		error = pg_error_setc(PG_EIO, "cannot read blob of '%s': %s", path,
				      git_error_last() ? git_error_last()->message : "?");
		goto out;
	}
	if (out->limit == 0)
		out->limit = KTREE_FILE_LIMIT;
	if ((error = pg_buf_put(out, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob))) < 0)
		goto out;
	if (!out->ptr)
		error = pg_buf_grow(out, 0);
out:
	git_blob_free(blob);
	git_tree_entry_free(te);
	return error;
}

static void git_payload_free(void *p)
{
	struct git_payload *g = p;
	if (!g)
		return;
	if (g->own_repo) {
		git_tree_free(g->tree);
		git_repository_free(g->repo);
		git_libgit2_shutdown();
	}
	free(g);
}

int pg_ktree_git_tree(pg_ktree *out, struct git_tree *tree)
{
	struct git_payload *g;
	memset(out, 0, sizeof(*out));
	if (!(g = calloc(1, sizeof(*g))))
		return pg_error_setc(PG_ENOMEM, "out of memory");
	g->tree = tree;
	out->read = git_read;
	out->payload = g;
	out->free_payload = git_payload_free;
	return 0;
}

int pg_ktree_git(pg_ktree *out, const char *repo_path, const char *rev)
{
	struct git_payload *g = NULL;
	git_object *obj = NULL;
	int error = 0;

	memset(out, 0, sizeof(*out));
	git_libgit2_init();
	if (!(g = calloc(1, sizeof(*g)))) {
		git_libgit2_shutdown();
		return pg_error_setc(PG_ENOMEM, "out of memory");
	}
	g->own_repo = 1;
	if (git_repository_open_ext(&g->repo, repo_path, 0, NULL) < 0) {
		error = pg_error_setc(PG_ENOTFOUND, "cannot open git repository '%s': %s", repo_path,
				      git_error_last() ? git_error_last()->message : "?");
		goto out;
	}
	if (git_revparse_single(&obj, g->repo, rev) < 0 ||
	    git_object_peel((git_object **)&g->tree, obj, GIT_OBJECT_TREE) < 0) {
		error = pg_error_setc(PG_ENOTFOUND, "cannot resolve '%s' to a tree in '%s': %s", rev,
				      repo_path, git_error_last() ? git_error_last()->message : "?");
		goto out;
	}
	out->read = git_read;
	out->payload = g;
	out->free_payload = git_payload_free;
	g = NULL;
out:
	git_object_free(obj);
	git_payload_free(g);
	return error;
}

void pg_ktree_release(pg_ktree *t)
{
	if (!t)
		return;
	if (t->free_payload)
		t->free_payload(t->payload);
	memset(t, 0, sizeof(*t));
}
