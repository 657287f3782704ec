/*
 * conf.c - the [watch], [remote "NAME"], [cna] and [sink "NAME"] sections of
 * the config file (git-config syntax, read with libgit2 like config.c).
 *
 * Everything a daemon would only discover at its first delivery (a sink type
 * we do not know, a webhook without secret, a URL that is not http(s)) is
 * rejected here, at start or at SIGHUP, naming the file, section and key.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <git2.h>
#include "patchgap/watch.h"
#include "util/buf.h"
#include "util/str.h"
#include "util/vec.h"
#include "util/banned.h"

const char *pg_sink_type_name(pg_sink_type t)
{
	switch (t) {
	case PG_SINK_WEBHOOK: return "webhook";
	case PG_SINK_EXEC: return "exec";
	case PG_SINK_MAILDIR: return "maildir";
	}
	return "unknown";
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void pg_watch_conf_free(pg_watch_conf *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nremotes; i++) {
		free(c->remotes[i].name);
		free(c->remotes[i].url);
		strv_free(c->remotes[i].refspecs, c->remotes[i].nrefspecs);
	}
	free(c->remotes);
	for (size_t i = 0; i < c->nsinks; i++) {
		pg_watch_sink *k = &c->sinks[i];
		free(k->name);
		free(k->url);
		free(k->secret);
		free(k->command);
		free(k->path);
		free(k->mail_to);
		strv_free(k->kinds, k->nkinds);
		strv_free(k->branches, k->nbranches);
	}
	free(c->sinks);
	free(c->cna_url);
	free(c->cna_path);
	free(c->drafts);
	free(c);
}

/* One config entry, copied: libgit2's entries die with the iterator. */
struct entry { char *name, *value; };
typedef PG_VEC(struct entry) entry_vec;

static void entries_release(entry_vec *v)
{
	for (size_t i = 0; i < v->len; i++) {
		free(v->ptr[i].name);
		free(v->ptr[i].value);
	}
	pg_vec_release(v);
}

/* The last value of name (git's rule for single-valued keys), borrowed, or NULL. */
static const char *get(const entry_vec *v, const char *name)
{
	const char *r = NULL;
	for (size_t i = 0; i < v->len; i++)
		if (!strcmp(v->ptr[i].name, name))
			r = v->ptr[i].value;
	return r;
}

/* Every value of name in file order (multi-valued keys). */
static int get_all(char ***out, size_t *n, const entry_vec *v, const char *name)
{
	*out = NULL;
	*n = 0;
	for (size_t i = 0; i < v->len; i++) {
		char **nv;
		if (strcmp(v->ptr[i].name, name))
			continue;
		if (!(nv = realloc(*out, (*n + 1) * sizeof(*nv))) || !(nv[*n] = pg_strdup(v->ptr[i].value))) {
			if (nv)
				*out = nv;
			return pg_error_setc(PG_ENOMEM, "out of memory");
		}
		*out = nv;
		(*n)++;
	}
	return 0;
}

static int get_int(int *out, const entry_vec *v, const char *name, int def, int min, int max, const char *path)
{
	const char *s = get(v, name);
	char *end;
	long n;
	*out = def;
	if (!s)
		return 0;
	errno = 0;
	n = strtol(s, &end, 10);
	if (*s < '0' || *s > '9' || *end || errno || n < min || n > max)
		return pg_error_setc(PG_EINVALID, "config '%s': '%s' is '%s', want a number from %d to %d", path, name,
				     s, min, max);
	*out = (int)n;
	return 0;
}

static int get_bool(int *out, const entry_vec *v, const char *name, const char *path)
{
	const char *s = get(v, name);
	*out = 0;
	if (!s || !strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "0") || !strcmp(s, "off"))
		return 0;
	if (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "1") || !strcmp(s, "on")) {
		*out = 1;
		return 0;
	}
	return pg_error_setc(PG_EINVALID, "config '%s': '%s' is '%s', want true or false", path, name, s);
}

/* Relative paths are relative to the config file's directory, like core.database. */
static char *resolve(const char *cfgpath, const char *rel)
{
	pg_buf b = PG_BUF_INIT;
	const char *slash = strrchr(cfgpath, '/');
	if (rel[0] == '/' || !slash)
		return pg_strdup(rel);
	pg_buf_put(&b, cfgpath, (size_t)(slash - cfgpath) + 1);
	pg_buf_puts(&b, rel);
	return pg_buf_detach(&b);
}

/* Subsection names of section (e.g. "remote") in first-seen order. */
static int subsections(char ***out, size_t *n, const entry_vec *v, const char *section)
{
	size_t sl = strlen(section);
	*out = NULL;
	*n = 0;
	for (size_t i = 0; i < v->len; i++) {
		const char *nm = v->ptr[i].name, *dot;
		char *sub, **nv;
		int seen = 0;
		if (strncmp(nm, section, sl) || nm[sl] != '.' || !(dot = strrchr(nm + sl + 1, '.')) || dot == nm + sl + 1)
			continue;
		if (!(sub = pg_strndup(nm + sl + 1, (size_t)(dot - (nm + sl + 1)))))
			return pg_error_setc(PG_ENOMEM, "out of memory");
		for (size_t j = 0; j < *n && !seen; j++)
			seen = !strcmp((*out)[j], sub);
		if (seen) {
			free(sub);
			continue;
		}
		if (!(nv = realloc(*out, (*n + 1) * sizeof(*nv)))) {
			free(sub);
			return pg_error_setc(PG_ENOMEM, "out of memory");
		}
		*out = nv;
		nv[(*n)++] = sub;
	}
	return 0;
}

#define KEY(b, fmt, ...) (pg_buf_reset(b), pg_buf_printf(b, fmt, __VA_ARGS__), pg_buf_cstr(b))

static int load_remote(pg_watch_remote *r, const entry_vec *v, const char *name, int def_interval, const char *path)
{
	pg_buf k = PG_BUF_INIT;
	const char *url;
	int error = 0;

	if (!(r->name = pg_strdup(name))) {
		error = pg_error_setc(PG_ENOMEM, "out of memory");
		goto out;
	}
	if (!(url = get(v, KEY(&k, "remote.%s.url", name)))) {
		error = pg_error_setc(PG_EINVALID, "config '%s': remote '%s' has no 'url'", path, name);
		goto out;
	}
	if (!strstr(url, "://") && url[0] != '/') {
		error = pg_error_setc(PG_EINVALID,
				      "config '%s': remote '%s' has url '%s': want file://, git://, https:// or an absolute path",
				      path, name, url);
		goto out;
	}
	if (!(r->url = pg_strdup(url)) ||
	    (error = get_all(&r->refspecs, &r->nrefspecs, v, KEY(&k, "remote.%s.fetch", name))) < 0 ||
	    (error = get_int(&r->interval, v, KEY(&k, "remote.%s.interval", name), def_interval, 1, 86400 * 7, path)) < 0) {
		error = error ? error : pg_error_setc(PG_ENOMEM, "out of memory");
		goto out;
	}
	if (!r->nrefspecs) {
		/* core.repository is a mirror of the remote's branches and tags */
		static const char *const def[] = { "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*" };
		if (!(r->refspecs = calloc(2, sizeof(char *))) || !(r->refspecs[0] = pg_strdup(def[0])) ||
		    !(r->refspecs[1] = pg_strdup(def[1]))) {
			r->nrefspecs = r->refspecs ? 2 : 0;
			error = pg_error_setc(PG_ENOMEM, "out of memory");
			goto out;
		}
		r->nrefspecs = 2;
	}
out:
	pg_buf_release(&k);
	return error;
}

static int load_sink(pg_watch_sink *sk, const entry_vec *v, const char *name, const char *path)
{
	pg_buf k = PG_BUF_INIT;
	const char *type, *s;
	int error = 0;

	if (!(sk->name = pg_strdup(name)))
		return pg_error_setc(PG_ENOMEM, "out of memory");
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		      *p == '_' || *p == '.')) {
			error = pg_error_setc(PG_EINVALID, "config '%s': sink name '%s': use letters, digits, '-', '_', '.'",
					      path, name);
			goto out;
		}
	type = get(v, KEY(&k, "sink.%s.type", name));
	if (!type) {
		error = pg_error_setc(PG_EINVALID, "config '%s': sink '%s' has no 'type' (webhook, exec or maildir)", path,
				      name);
		goto out;
	}
	if (!strcmp(type, "webhook"))
		sk->type = PG_SINK_WEBHOOK;
	else if (!strcmp(type, "exec"))
		sk->type = PG_SINK_EXEC;
	else if (!strcmp(type, "maildir"))
		sk->type = PG_SINK_MAILDIR;
	else {
		error = pg_error_setc(PG_EINVALID, "config '%s': sink '%s' has unknown type '%s' (want webhook, exec or maildir)",
				      path, name, type);
		goto out;
	}
	if ((error = get_int(&sk->timeout, v, KEY(&k, "sink.%s.timeout", name), 10, 1, 3600, path)) < 0 ||
	    (error = get_all(&sk->kinds, &sk->nkinds, v, KEY(&k, "sink.%s.kind", name))) < 0 ||
	    (error = get_all(&sk->branches, &sk->nbranches, v, KEY(&k, "sink.%s.branch", name))) < 0)
		goto out;
	if ((s = get(v, KEY(&k, "sink.%s.priority", name)))) {
		char *end;
		sk->min_priority = strtod(s, &end);
		if (end == s || *end) {
			error = pg_error_setc(PG_EINVALID, "config '%s': sink '%s' has priority '%s', want a number", path,
					      name, s);
			goto out;
		}
	}
	switch (sk->type) {
	case PG_SINK_WEBHOOK:
		s = get(v, KEY(&k, "sink.%s.url", name));
		if (!s || (strncmp(s, "http://", 7) && strncmp(s, "https://", 8)) || !s[strncmp(s, "http://", 7) ? 8 : 7]) {
			error = pg_error_setc(PG_EINVALID, "config '%s': webhook sink '%s' needs 'url' = http:// or https:// URL%s%s%s",
					      path, name, s ? " (not '" : "", s ? s : "", s ? "')" : "");
			goto out;
		}
		sk->url = pg_strdup(s);
		if ((s = get(v, KEY(&k, "sink.%s.secret-file", name)))) {
			pg_buf sec = PG_BUF_INIT;
			char *f = resolve(path, s);
			sec.limit = 4096;
			if (!f || pg_buf_read_file(&sec, f) < 0) {
				error = pg_error_setc(PG_EINVALID, "config '%s': webhook sink '%s': cannot read secret-file '%s'",
						      path, name, s);
				free(f);
				pg_buf_release(&sec);
				goto out;
			}
			free(f);
			while (sec.len && (sec.ptr[sec.len - 1] == '\n' || sec.ptr[sec.len - 1] == '\r'))
				sec.ptr[--sec.len] = '\0';
			sk->secret = pg_buf_detach(&sec);
		} else if ((s = get(v, KEY(&k, "sink.%s.secret", name))))
			sk->secret = pg_strdup(s);
		if (!sk->secret || !sk->secret[0]) {
			error = pg_error_setc(PG_EINVALID,
					      "config '%s': webhook sink '%s' has no 'secret' (or 'secret-file'): receivers "
					      "need it to check the X-Patchgap-Signature header",
					      path, name);
			goto out;
		}
		break;
	case PG_SINK_EXEC:
		if (!(s = get(v, KEY(&k, "sink.%s.command", name))) || !*s) {
			error = pg_error_setc(PG_EINVALID, "config '%s': exec sink '%s' has no 'command'", path, name);
			goto out;
		}
		sk->command = pg_strdup(s);
		break;
	case PG_SINK_MAILDIR:
		if (!(s = get(v, KEY(&k, "sink.%s.path", name))) || !*s) {
			error = pg_error_setc(PG_EINVALID, "config '%s': maildir sink '%s' has no 'path'", path, name);
			goto out;
		}
		sk->path = resolve(path, s);
		s = get(v, KEY(&k, "sink.%s.to", name));
		sk->mail_to = pg_strdup(s ? s : "security@localhost");
		break;
	}
out:
	pg_buf_release(&k);
	return error;
}

int pg_watch_conf_load(pg_watch_conf **out, const pg_config *cfg)
{
	git_config *gc = NULL;
	git_config_iterator *it = NULL;
	git_config_entry *ge;
	entry_vec v = PG_VEC_INIT;
	pg_watch_conf *c = NULL;
	char **names = NULL;
	size_t nnames = 0;
	const char *path = cfg->path, *s;
	int error = 0, rc;

	*out = NULL;
	git_libgit2_init();
	if (git_config_open_ondisk(&gc, path) < 0 || git_config_iterator_new(&it, gc) < 0) {
		const git_error *e = git_error_last();
		error = pg_error_setc(PG_EINVALID, "cannot parse config '%s': %s", path, e ? e->message : "");
		goto out;
	}
	while ((rc = git_config_next(&ge, it)) == 0) {
		struct entry e = { pg_strdup(ge->name), pg_strdup(ge->value ? ge->value : "") };
		if (!e.name || !e.value || pg_vec_push(&v, e) < 0) {
			free(e.name);
			free(e.value);
			error = pg_error_setc(PG_ENOMEM, "out of memory");
			goto out;
		}
	}
	if (!(c = calloc(1, sizeof(*c)))) {
		error = pg_error_setc(PG_ENOMEM, "out of memory");
		goto out;
	}
	c->cfg = cfg;
	if ((error = get_int(&c->interval, &v, "watch.interval", 300, 1, 86400, path)) < 0 ||
	    (error = get_int(&c->backoff_max, &v, "watch.backoff-max", 3600, 1, 86400, path)) < 0 ||
	    (error = get_bool(&c->announce_initial, &v, "watch.announce-initial", path)) < 0 ||
	    (error = get_bool(&c->backport, &v, "watch.backport", path)) < 0 ||
	    (error = get_int(&c->backport_max, &v, "watch.backport-max", 20, 1, 100000, path)) < 0 ||
	    (error = get_int(&c->cna_interval, &v, "cna.interval", c->interval, 1, 86400 * 7, path)) < 0)
		goto out;

	if ((error = subsections(&names, &nnames, &v, "remote")) < 0)
		goto out;
	if (nnames && !(c->remotes = calloc(nnames, sizeof(*c->remotes)))) {
		error = pg_error_setc(PG_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < nnames; i++) {
		c->nremotes++;
		if ((error = load_remote(&c->remotes[i], &v, names[i], c->interval, path)) < 0)
			goto out;
	}
	strv_free(names, nnames);
	names = NULL;

	if ((error = subsections(&names, &nnames, &v, "sink")) < 0)
		goto out;
	if (nnames && !(c->sinks = calloc(nnames, sizeof(*c->sinks)))) {
		error = pg_error_setc(PG_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < nnames; i++) {
		c->nsinks++;
		if ((error = load_sink(&c->sinks[i], &v, names[i], path)) < 0)
			goto out;
	}
	for (size_t i = 0; i < v.len; i++)
		if (!strncmp(v.ptr[i].name, "sink.", 5) && !strchr(v.ptr[i].name + 5, '.')) {
			error = pg_error_setc(PG_EINVALID, "config '%s': '[sink]' needs a name: [sink \"NAME\"]", path);
			goto out;
		}

	if ((s = get(&v, "watch.drafts")) && !(c->drafts = resolve(path, s))) {
		error = pg_error_setc(PG_ENOMEM, "out of memory");
		goto out;
	}
	if ((s = get(&v, "cna.url"))) {
		if (!strstr(s, "://") && s[0] != '/') {
			error = pg_error_setc(PG_EINVALID, "config '%s': cna.url '%s': want file://, git://, https:// or an absolute path",
					      path, s);
			goto out;
		}
		c->cna_url = pg_strdup(s);
		if ((s = get(&v, "cna.path")))
			c->cna_path = resolve(path, s);
		else {
			pg_buf b = PG_BUF_INIT;
			pg_buf_printf(&b, "%s.vulns", cfg->database);
			c->cna_path = pg_buf_detach(&b);
		}
		if (!c->cna_url || !c->cna_path) {
			error = pg_error_setc(PG_ENOMEM, "out of memory");
			goto out;
		}
	}
	*out = c;
	c = NULL;
out:
	strv_free(names, nnames);
	entries_release(&v);
	git_config_iterator_free(it);
	git_config_free(gc);
	pg_watch_conf_free(c);
	return error;
}
