/*
 * config.c - the tracked-trees configuration (see config.h), parsed with
 * libgit2's config reader so the syntax is exactly git's.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <git2.h>
#include "patchgap/config.h"
#include "util/buf.h"
#include "util/str.h"
#include "util/vec.h"
#include "patchgap/store.h"
#include "util/banned.h"

const char *pg_branch_kind_name(pg_branch_kind k)
{
	switch (k) {
	case PG_BRANCH_MAINLINE: return "mainline";
	case PG_BRANCH_STABLE: return "stable";
	case PG_BRANCH_VENDOR: return "vendor";
	}
	return "unknown";
}

static void branch_release(pg_branch_conf *b)
{
	free(b->name);
	free(b->ref);
	free(b->series);
	free(b->base);
	free(b->kconfig);
}

void pg_config_free(pg_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nbranches; i++)
		branch_release(&c->branches[i]);
	free(c->branches);
	free(c->path);
	free(c->repository);
	free(c->database);
	free(c->serve_bind);
	free(c->serve_cert);
	free(c->serve_key);
	free(c);
}

/* Resolve rel against the (absolute) directory of the config file. */
static char *resolve_path(const char *cfgpath, const char *rel)
{
	pg_buf b = PG_BUF_INIT;
	const char *slash = strrchr(cfgpath, '/');
	char *dir, real[PATH_MAX];

	if (rel[0] == '/')
		return pg_strdup(rel);
	dir = slash ? pg_strndup(cfgpath, (size_t)(slash - cfgpath) + (slash == cfgpath)) : pg_strdup(".");
	if (dir && realpath(dir, real))
		pg_buf_printf(&b, "%s/%s", real, rel);
	else
		pg_buf_printf(&b, "%s/%s", dir ? dir : ".", rel);
	free(dir);
	return pg_buf_detach(&b);
}

static int get_string(char **out, git_config *cfg, const char *key)
{
	git_buf buf = { 0 };
	int rc = git_config_get_string_buf(&buf, cfg, key);
	*out = NULL;
	if (rc == GIT_ENOTFOUND)
		return 0;
	if (rc < 0) {
		const git_error *e = git_error_last();
		return pg_error_setc(PG_EINVALID, "cannot read '%s': %s", key, e ? e->message : "unknown error");
	}
	*out = pg_strdup(buf.ptr);
	git_buf_dispose(&buf);
	return *out ? 0 : PG_ENOMEM;
}

/* Series "6.1" from a stable branch name like "linux-6.1.y" or "6.1". */
static char *series_from_name(const char *name)
{
	const char *p = name;
	pg_kver v;
	char tmp[64];
	size_t n;

	if (pg_str_starts_with(p, "linux-"))
		p += 6;
	n = strcspn(p, "y");
	if (n >= sizeof(tmp))
		return NULL;
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	if (n && tmp[n - 1] == '.')
		tmp[n - 1] = '\0';
	if (pg_kver_parse(&v, tmp) < 0 || v.patch || v.rc)
		return NULL;
	return pg_strdup(tmp);
}

/* [serve]: listen address, port, TLS files, public reads. */
static int load_serve(pg_config *c, git_config *cfg, const char *path)
{
	char *cert = NULL, *key = NULL;
	int32_t port = 0;
	int rc, b = 0, error;

	if ((error = get_string(&c->serve_bind, cfg, "serve.bind")) < 0 ||
	    (error = get_string(&cert, cfg, "serve.cert")) < 0 ||
	    (error = get_string(&key, cfg, "serve.key")) < 0)
		goto out;
	if ((rc = git_config_get_int32(&port, cfg, "serve.port")) < 0 && rc != GIT_ENOTFOUND) {
		error = pg_error_setc(PG_EINVALID, "config '%s': 'serve.port' is not a number", path);
		goto out;
	}
	if (rc == 0 && (port < 0 || port > 65535)) {
		error = pg_error_setc(PG_EINVALID, "config '%s': 'serve.port' %d is not a TCP port", path, (int)port);
		goto out;
	}
	c->serve_port = (int)port;
	if ((rc = git_config_get_bool(&b, cfg, "serve.public-read")) < 0 && rc != GIT_ENOTFOUND) {
		error = pg_error_setc(PG_EINVALID, "config '%s': 'serve.public-read' is not true or false", path);
		goto out;
	}
	c->serve_public_read = rc == 0 && b;
	if (!cert != !key) {
		error = pg_error_setc(PG_EINVALID, "config '%s': TLS needs both 'serve.cert' and 'serve.key'", path);
		goto out;
	}
	if (cert) {
		c->serve_cert = resolve_path(path, cert);
		c->serve_key = resolve_path(path, key);
	}
out:
	free(cert);
	free(key);
	return error;
}

int pg_config_load(pg_config **out, const char *path)
{
	git_config *cfg = NULL;
	git_config_iterator *it = NULL;
	git_config_entry *entry;
	pg_config *c = NULL;
	PG_VEC(pg_branch_conf) br = PG_VEC_INIT;
	char *repo = NULL, *db = NULL;
	struct stat st;
	int error = 0, rc;
	size_t nmain = 0;

	*out = NULL;
	git_libgit2_init();
	if (stat(path, &st) < 0) {
		error = pg_error_setc(PG_ENOTFOUND, "cannot read config '%s': %s", path, strerror(errno));
		goto out;
	}
	if ((rc = git_config_open_ondisk(&cfg, path)) < 0) {
		const git_error *e = git_error_last();
		error = pg_error_setc(PG_EINVALID, "cannot parse config '%s': %s", path, e ? e->message : "");
		goto out;
	}
	if (!(c = calloc(1, sizeof(*c))) || !(c->path = pg_strdup(path))) {
		error = pg_error_setc(PG_ENOMEM, "out of memory");
		goto out;
	}
	if ((error = get_string(&repo, cfg, "core.repository")) < 0 ||
	    (error = get_string(&db, cfg, "core.database")) < 0)
		goto out;
	if (!repo) {
		error = pg_error_setc(PG_EINVALID, "config '%s': 'core.repository' is not set", path);
		goto out;
	}
	c->classify_recall = 0.90;
	{
		char *r = NULL, *end = NULL;
		if ((error = get_string(&r, cfg, "classify.recall")) < 0)
			goto out;
		if (r) {
			c->classify_recall = strtod(r, &end);
			if (end == r || *end || !(c->classify_recall > 0 && c->classify_recall <= 1)) {
				error = pg_error_setc(PG_EINVALID, "config '%s': 'classify.recall' is '%s' (want a recall in (0, 1], e.g. 0.9)",
						      path, r);
				free(r);
				goto out;
			}
			free(r);
		}
	}
	c->classify_diffs = 1;
	{
		char *v = NULL;
		int on = 0;
		if ((error = get_string(&v, cfg, "classify.diffs")) < 0)
			goto out;
		if (v && git_config_parse_bool(&on, v) < 0) {
			error = pg_error_setc(PG_EINVALID, "config '%s': 'classify.diffs' is '%s' (want true or false)", path, v);
			free(v);
			goto out;
		}
		if (v) {
			c->classify_diffs = on;
			c->classify_diffs_set = 1;
		}
		free(v);
	}
	c->repository = resolve_path(path, repo);
	{
		int on = 0;
		rc = git_config_get_bool(&on, cfg, "worker.enabled");
		if (rc < 0 && rc != GIT_ENOTFOUND) {
			error = pg_error_setc(PG_EINVALID, "config '%s': 'worker.enabled' is not a boolean", path);
			goto out;
		}
		c->worker_enabled = rc == 0 && on;
	}
	/* a PostgreSQL connection string is not a path beside the config */
	c->database = db && pg_store_is_postgresql(db) ? pg_strdup(db) : resolve_path(path, db ? db : "patchgap.db");
	if ((error = load_serve(c, cfg, path)) < 0)
		goto out;

	/*
	 * Collect branch subsections in file order.  A plain iterator filtered
	 * here rather than git_config_iterator_glob_new(): libgit2 1.5's PCRE2
	 * matcher leaks its match data on every non-matching key (ASan).
	 */
	if ((rc = git_config_iterator_new(&it, cfg)) < 0) {
		error = pg_error_setc(PG_EINVALID, "config '%s': cannot list branches", path);
		goto out;
	}
	while ((rc = git_config_next(&entry, it)) == 0) {
		pg_branch_conf b = { 0 };
		const char *name0 = entry->name + strlen("branch.");
		size_t nlen;
		pg_buf key = PG_BUF_INIT;
		char *v = NULL;

		if (strncmp(entry->name, "branch.", 7) || strlen(entry->name) < 7 + 1 + 5 ||
		    strcmp(entry->name + strlen(entry->name) - 5, ".kind"))
			continue;
		nlen = strlen(name0) - strlen(".kind");

		b.name = pg_strndup(name0, nlen);
		if (!strcmp(entry->value, "mainline"))
			b.kind = PG_BRANCH_MAINLINE, nmain++;
		else if (!strcmp(entry->value, "stable"))
			b.kind = PG_BRANCH_STABLE;
		else if (!strcmp(entry->value, "vendor"))
			b.kind = PG_BRANCH_VENDOR;
		else {
			error = pg_error_setc(PG_EINVALID,
					      "config '%s': branch '%s' has kind '%s' (want mainline, stable or vendor)",
					      path, b.name, entry->value);
			branch_release(&b);
			goto out;
		}
#define KEY(k) (pg_buf_reset(&key), pg_buf_printf(&key, "branch.%s.%s", b.name, k), key.ptr)
		if ((error = get_string(&b.ref, cfg, KEY("ref"))) < 0 ||
		    (error = get_string(&b.series, cfg, KEY("series"))) < 0 ||
		    (error = get_string(&b.base, cfg, KEY("base"))) < 0 ||
		    (error = get_string(&v, cfg, KEY("kconfig"))) < 0) {
			pg_error_prefix("config '%s'", path);
			pg_buf_release(&key);
			branch_release(&b);
			goto out;
		}
#undef KEY
		pg_buf_release(&key);
		if (v) {
			b.kconfig = resolve_path(path, v);
			free(v);
		}
		if (!b.ref) {
			pg_buf r = PG_BUF_INIT;
			pg_buf_printf(&r, "refs/heads/%s", b.name);
			b.ref = pg_buf_detach(&r);
		}
		if (b.kind == PG_BRANCH_STABLE && !b.series && !(b.series = series_from_name(b.name))) {
			error = pg_error_setc(PG_EINVALID,
					      "config '%s': stable branch '%s': cannot tell its series from the name; set branch.%s.series (e.g. 6.1)",
					      path, b.name, b.name);
			branch_release(&b);
			goto out;
		}
		if (b.series) {
			pg_kver kv;
			if (pg_kver_parse(&kv, b.series) < 0) {
				error = pg_error_setc(PG_EINVALID, "config '%s': branch '%s': series '%s' is not X.Y",
						      path, b.name, b.series);
				branch_release(&b);
				goto out;
			}
		}
		if ((error = pg_vec_push(&br, b)) < 0) {
			branch_release(&b);
			goto out;
		}
	}
	if (rc != GIT_ITEROVER) {
		error = pg_error_setc(PG_EINVALID, "config '%s': cannot read branches", path);
		goto out;
	}
	if (nmain != 1) {
		error = pg_error_setc(PG_EINVALID, "config '%s': need exactly one branch with kind = mainline, found %zu",
				      path, nmain);
		goto out;
	}
	/* mainline first: ingest walks it before the others */
	for (size_t i = 0; i < br.len; i++) {
		if (br.ptr[i].kind == PG_BRANCH_MAINLINE && i) {
			pg_branch_conf t = br.ptr[0];
			br.ptr[0] = br.ptr[i];
			br.ptr[i] = t;
		}
	}
	for (size_t i = 0; i < br.len; i++) {
		if (br.ptr[i].base && !pg_config_branch(&(pg_config){ .branches = br.ptr, .nbranches = br.len }, br.ptr[i].base)) {
			error = pg_error_setc(PG_EINVALID, "config '%s': branch '%s' has base '%s', which is not a configured branch",
					      path, br.ptr[i].name, br.ptr[i].base);
			goto out;
		}
	}
	c->branches = br.ptr;
	c->nbranches = br.len;
	br.ptr = NULL;
	br.len = 0;
	*out = c;
	c = NULL;
out:
	for (size_t i = 0; i < br.len; i++)
		branch_release(&br.ptr[i]);
	pg_vec_release(&br);
	git_config_iterator_free(it);
	git_config_free(cfg);
	pg_config_free(c);
	free(repo);
	free(db);
	return error;
}

const pg_branch_conf *pg_config_branch(const pg_config *c, const char *name)
{
	for (size_t i = 0; i < c->nbranches; i++)
		if (!strcmp(c->branches[i].name, name))
			return &c->branches[i];
	return NULL;
}

const pg_branch_conf *pg_config_mainline(const pg_config *c)
{
	for (size_t i = 0; i < c->nbranches; i++)
		if (c->branches[i].kind == PG_BRANCH_MAINLINE)
			return &c->branches[i];
	return NULL;
}

int pg_config_write_starter(const char *path, const char *repository, const char *database)
{
	FILE *f;
	struct stat st;

	if (stat(path, &st) == 0)
		return pg_error_setc(PG_EINVALID, "config '%s' already exists; not overwriting it", path);
	if (!(f = fopen(path, "w")))
		return pg_error_setc(PG_EIO, "cannot create config '%s': %s", path, strerror(errno));
	fprintf(f,
		"# patchgap configuration (git-config syntax; see doc/patchgap.1.md).\n"
		"# Relative paths are relative to this file.\n"
		"[core]\n"
		"\t# the kernel repository to read (a clone with mainline and stable branches)\n"
		"\trepository = %s\n"
		"\t# the SQLite database patchgap keeps its state in\n"
		"\tdatabase = %s\n"
		"\n"
		"# Exactly one mainline branch.\n"
		"[branch \"master\"]\n"
		"\tkind = mainline\n"
		"\tref = refs/heads/master\n"
		"\n"
		"# Stable branches: the series comes from the name (linux-6.1.y -> tags v6.1.N).\n"
		"#[branch \"linux-6.1.y\"]\n"
		"#\tkind = stable\n"
		"#\tref = refs/heads/linux-6.1.y\n"
		"#\tkconfig = configs/config-6.1-amd64   ; optional kernel .config\n"
		"\n"
		"# Vendor branches: your own tree, based on a stable branch.\n"
		"#[branch \"vendor/acme-6.1\"]\n"
		"#\tkind = vendor\n"
		"#\tbase = linux-6.1.y\n",
		repository, database);
	if (fclose(f) != 0)
		return pg_error_setc(PG_EIO, "cannot write config '%s': %s", path, strerror(errno));
	return 0;
}
