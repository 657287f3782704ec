/*
 * lists.c - the watch daemon's side of the mailing lists: fetch the
 * [list "NAME"] inboxes given by git URL, ingest every list incrementally
 * (pg_lists_ingest, the function `patchgap lists ingest` uses) and announce
 * each newly flagged patch mail as a `patch.flagged` event.
 *
 *     [list "netdev"]
 *         inbox = lists/netdev               ; where the archive is (or goes)
 *         url = https://lore.kernel.org/netdev/0   ; optional, repeatable:
 *                                            ; the Nth url is epoch N
 *
 * With url, the Nth value is fetched like a [remote] into INBOX/git/N.git
 * (a bare repository whose HEAD is the remote's HEAD), the layout of a
 * public-inbox v2 inbox, and is retried with backoff on failure.
 *
 * When new mails or new commits arrived, commits are linked to their mails
 * (pg_lists_link, as `lists ingest` does) for `show` and the report.
 *
 * Which mails are new is derived from stored state: meta 'watch.list.NAME'
 * holds the highest mails.id the watch has looked at, and advances in the
 * cycle's transaction with the events.  Ingest itself stays outside that
 * transaction (its batches are crash-safe on their own); a cycle killed after
 * ingest and before the events finds the same mails above the mark.  The
 * mails of a list present when the watch first sees it are the baseline: they
 * are announced only with [watch] announce-initial.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <git2.h>
#include "watch_int.h"
#include "patchgap/classify.h"
#include "patchgap/lists.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/str.h"
#include "util/banned.h"

/* At most this many touched paths are looked up per branch, and listed in the payload. */
#define MAX_LOOKUP_FILES 1000
#define MAX_PAYLOAD_FILES 50

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static const char *git_msg(void)
{
	const git_error *e = git_error_last();
	return e && e->message ? e->message : "unknown error";
}

typedef struct urls_ctx { char **v; size_t n; } urls_ctx;

static int collect_url(const git_config_entry *e, void *payload)
{
	urls_ctx *u = payload;
	char **nv = realloc(u->v, (u->n + 1) * sizeof(*nv));
	if (!nv)
		return -1;
	u->v = nv;
	if (!(u->v[u->n] = pg_strdup(e->value)))
		return -1;
	u->n++;
	return 0;
}

static void urls_free(urls_ctx *u)
{
	for (size_t i = 0; i < u->n; i++)
		free(u->v[i]);
	free(u->v);
	u->v = NULL;
	u->n = 0;
}

/* Fetch one epoch URL into INBOX/git/N.git (created bare the first time). */
static int fetch_epoch(const char *inbox, size_t n, const char *url)
{
	git_repository *repo = NULL;
	pg_buf p = PG_BUF_INIT;
	char *spec = "+HEAD:refs/heads/master";
	struct stat sb;
	int error = 0;

	pg_buf_printf(&p, "%s/git/%zu.git", inbox, n);
	if (stat(pg_buf_cstr(&p), &sb) < 0 ? git_repository_init(&repo, pg_buf_cstr(&p), 1) < 0
					    : git_repository_open_bare(&repo, pg_buf_cstr(&p)) < 0) {
		error = pg_error_set("'%s' is not a bare git repository: %s", pg_buf_cstr(&p), git_msg());
		goto out;
	}
	if ((error = pg_watch__fetch_refspecs(repo, url, &spec, 1)) < 0)
		goto out;
	/* the ingest walks HEAD: make it the fetched head whatever the default branch name */
	if (git_repository_set_head(repo, "refs/heads/master") < 0)
		error = pg_error_set("cannot set HEAD of '%s': %s", pg_buf_cstr(&p), git_msg());
out:
	git_repository_free(repo);
	pg_buf_release(&p);
	return error;
}

/* The url values of [list "NAME"], fetched when due; failures are logged and retried with backoff. */
static int fetch_list(pg_watch_stats *st, const pg_watch_conf *wc, pg_store *s, git_config *cfg,
		      const pg_list_conf *l, const pg_watch_options *opts)
{
	urls_ctx u = { NULL, 0 };
	pg_buf key = PG_BUF_INIT, src = PG_BUF_INIT;
	int64_t now = (int64_t)time(NULL);
	double t0 = now_ms();
	const char *err = NULL;
	int due, error = 0;

	pg_buf_printf(&key, "list.%s.url", l->name);
	if (git_config_get_multivar_foreach(cfg, pg_buf_cstr(&key), NULL, collect_url, &u) < 0 && !u.n) {
		git_error_clear();
		goto out; /* no url: a local inbox */
	}
	pg_buf_printf(&src, "list:%s", l->name);
	if ((error = pg_watch__source_due(&due, s, pg_buf_cstr(&src), wc->interval, now, opts->force_fetch)) < 0 || !due)
		goto out;
	for (size_t i = 0; i < u.n && !err; i++)
		if (fetch_epoch(l->inbox, i, u.v[i]) < 0)
			err = pg_error_last();
	if (err) {
		st->fetch_failed++;
		pg_watch__log(opts, PG_WATCH_WARN, "list '%s': %s", l->name, err);
	} else
		st->fetched++;
	error = pg_watch__source_record(s, pg_buf_cstr(&src), "list", u.v[0], now, now_ms() - t0, err, wc->backoff_max);
out:
	urls_free(&u);
	pg_buf_release(&key);
	pg_buf_release(&src);
	return error;
}

int pg_watch__lists_ingest(pg_watch_stats *st, const pg_watch_conf *wc, pg_store *s, int commits_ingested,
			   const pg_watch_options *opts)
{
	pg_list_conf *lists = NULL;
	size_t n = 0;
	git_config *cfg = NULL;
	pg_cls_model *m = NULL;
	int error;

	if ((error = pg_lists_conf_load(&lists, &n, wc->cfg->path)) < 0 || !n)
		goto out;
	if (git_config_open_ondisk(&cfg, wc->cfg->path) < 0) {
		error = pg_error_set("config '%s': cannot read it: %s", wc->cfg->path, git_msg());
		goto out;
	}
	if ((error = pg_cls_model_load_default(&m)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		pg_lists_ingest_options io = PG_LISTS_INGEST_OPTIONS_INIT;
		pg_lists_stats ls = { 0 };
		if (opts->stop && opts->stop(opts->payload))
			break;
		if ((error = fetch_list(st, wc, s, cfg, &lists[i], opts)) < 0)
			goto out;
		io.model = m;
		/* a list that cannot be read is a source failure, not a cycle failure */
		if (pg_lists_ingest(&ls, s, &lists[i], &io) < 0) {
			pg_watch__log(opts, PG_WATCH_WARN, "list '%s': %s", lists[i].name, pg_error_last());
			pg_error_clear();
		}
		st->mails_new += ls.mails;
		if (ls.mails)
			pg_watch__log(opts, PG_WATCH_INFO, "list '%s': %zu new mails, %zu patches, %zu flagged", lists[i].name,
				      ls.mails, ls.patches, ls.flagged);
	}
	/*
	 * Commit <-> mail links (what `show` and the report's lead time read):
	 * only when something new can link, since every unlinked commit is
	 * tried again (an idle cycle stays a refs listing).
	 */
	if (st->mails_new || commits_ingested) {
		git_repository *repo = NULL;
		size_t linked = 0;
		if (git_repository_open_ext(&repo, wc->cfg->repository, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0)
			git_error_clear(); /* links by Link: and subject still work; patch-id needs the repository */
		error = pg_lists_link(&linked, s, repo);
		git_repository_free(repo);
		if (error < 0)
			goto out;
		if (linked)
			pg_watch__log(opts, PG_WATCH_INFO, "lists: linked %zu commits to mails", linked);
	}
out:
	pg_cls_model_free(m);
	git_config_free(cfg);
	pg_lists_conf_free(lists, n);
	return error;
}

/* https://lore.kernel.org/r/<id>, the id percent-encoded where a URL path needs it */
static void lore_url(pg_buf *b, const char *id)
{
	static const char hex[] = "0123456789ABCDEF";
	pg_buf_puts(b, "https://lore.kernel.org/r/");
	for (const unsigned char *p = (const unsigned char *)id; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr("-._~@!$&'()*+,;=:", *p))
			pg_buf_put(b, (const char *)p, 1);
		else
			pg_buf_printf(b, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
	}
}

typedef struct branch_tree { const char *name; git_tree *tree; } branch_tree;

/* The trees the tracked branches are at, read when the first flagged mail needs them. */
typedef struct trees {
	const pg_watch_conf *wc;
	int loaded;
	git_repository *repo;
	branch_tree *bt;
	size_t nbt;
} trees;

static void trees_load(trees *t)
{
	const pg_config *cfg = t->wc->cfg;
	t->loaded = 1;
	if (git_repository_open_ext(&t->repo, cfg->repository, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0 ||
	    !(t->bt = calloc(cfg->nbranches ? cfg->nbranches : 1, sizeof(*t->bt)))) {
		git_error_clear(); /* no repository: the event names no branch */
		return;
	}
	for (size_t i = 0; i < cfg->nbranches; i++) {
		git_object *o = NULL;
		t->bt[t->nbt].name = cfg->branches[i].name;
		if (git_revparse_single(&o, t->repo, cfg->branches[i].ref) == 0)
			git_object_peel((git_object **)&t->bt[t->nbt].tree, o, GIT_OBJECT_TREE);
		git_object_free(o);
		t->nbt++;
	}
	git_error_clear();
}

static void trees_release(trees *t)
{
	for (size_t i = 0; i < t->nbt; i++)
		git_tree_free(t->bt[i].tree);
	free(t->bt);
	git_repository_free(t->repo);
}

/* Tracked branches whose tree has at least one of the mail's paths: [{branch, files}] */
static json_t *touched_branches(trees *t, char *const *paths, size_t npaths)
{
	json_t *arr = json_array();
	if (!t->loaded)
		trees_load(t);
	for (size_t i = 0; arr && i < t->nbt; i++) {
		size_t hits = 0;
		if (!t->bt[i].tree)
			continue;
		for (size_t k = 0; k < npaths && k < MAX_LOOKUP_FILES; k++) {
			git_tree_entry *e = NULL;
			if (git_tree_entry_bypath(&e, t->bt[i].tree, paths[k]) == 0)
				hits++;
			git_tree_entry_free(e);
		}
		if (hits)
			json_array_append_new(arr, json_pack("{s:s, s:I}", "branch", t->bt[i].name, "files", (json_int_t)hits));
	}
	git_error_clear();
	return arr;
}

static int list_events(pg_watch_stats *st, const pg_watch_conf *wc, pg_store *s, const char *list, trees *t,
		       int64_t now)
{
	pg_stmt *top = NULL, *sel = NULL, *files = NULL;
	pg_buf key = PG_BUF_INIT, url = PG_BUF_INIT, meta = PG_BUF_INIT, num = PG_BUF_INIT;
	char *v = NULL, **paths = NULL;
	size_t npaths = 0;
	int64_t mark = -1, max_id = 0;
	int error, rc;

	pg_buf_printf(&meta, "watch.list.%s", list);
	if ((error = pg_store_meta_get(&v, s, pg_buf_cstr(&meta))) == 0)
		mark = strtoll(v, NULL, 10);
	else if (error != PG_ENOTFOUND)
		goto out;
	pg_error_clear();
	error = 0;
	if ((error = pg_store_prepare(&top, s, "SELECT MAX(id) FROM mails WHERE list = ?")) < 0 ||
	    (error = pg_stmt_bind_text(top, 1, list)) < 0)
		goto out;
	if ((rc = pg_stmt_step(top)) < 0) {
		error = rc;
		goto out;
	}
	max_id = rc > 0 && !pg_stmt_isnull(top, 0) ? pg_stmt_int(top, 0) : 0;
	if (mark < 0 && !wc->announce_initial)
		mark = max_id; /* the baseline of a list seen for the first time */
	if (mark < 0)
		mark = 0;
	if ((error = pg_store_prepare(&sel, s,
				      "SELECT id, message_id, subject, tree, date, git_commit, p_security, priority, level, bug_class,"
				      " nfiles, version FROM mails WHERE list = ? AND id > ? AND kind = 'patch' AND label = 1 ORDER BY id")) < 0 ||
	    (error = pg_store_prepare(&files, s, "SELECT path FROM mail_files WHERE mail_id = ? ORDER BY path")) < 0 ||
	    (error = pg_stmt_bind_text(sel, 1, list)) < 0 || (error = pg_stmt_bind_int(sel, 2, mark)) < 0)
		goto out;
	while ((rc = pg_stmt_step(sel)) > 0) {
		pg_watch__event ev = { 0 };
		json_t *p = json_object(), *fl = json_array();
		const char *mid = pg_stmt_text(sel, 1);
		int inserted = 0;

		for (size_t k = 0; k < npaths; k++)
			free(paths[k]);
		npaths = 0;
		pg_stmt_reset(files);
		if ((error = pg_stmt_bind_int(files, 1, pg_stmt_int(sel, 0))) < 0) {
			json_decref(p);
			json_decref(fl);
			goto out;
		}
		while ((rc = pg_stmt_step(files)) > 0 && npaths < MAX_LOOKUP_FILES) {
			char **np = realloc(paths, (npaths + 1) * sizeof(*np));
			if (!np || !(np[npaths] = pg_strdup(pg_stmt_text(files, 0)))) {
				if (np)
					paths = np;
				json_decref(p);
				json_decref(fl);
				error = pg_error_setc(PG_ENOMEM, "out of memory");
				goto out;
			}
			paths = np;
			if (npaths < MAX_PAYLOAD_FILES)
				json_array_append_new(fl, pg_json_string(paths[npaths]));
			npaths++;
		}
		pg_buf_reset(&url);
		lore_url(&url, mid);
		pg_json_set(p, "list", json_string(list));
		pg_json_set(p, "message_id", pg_json_string(mid));
		pg_json_set(p, "url", pg_json_string(pg_buf_cstr(&url)));
		pg_json_set(p, "subject", pg_json_string(pg_stmt_text(sel, 2)));
		pg_json_set(p, "tree", pg_stmt_isnull(sel, 3) ? json_null() : pg_json_string(pg_stmt_text(sel, 3)));
		pg_json_set(p, "date", json_integer(pg_stmt_int(sel, 4)));
		pg_json_set(p, "version", json_integer(pg_stmt_int(sel, 11)));
		pg_json_set(p, "p_security", json_real(pg_stmt_double(sel, 6)));
		pg_json_set(p, "priority", json_real(pg_stmt_double(sel, 7)));
		pg_json_set(p, "level", pg_json_string(pg_stmt_text(sel, 8)));
		pg_json_set(p, "bug_class", pg_json_string(pg_stmt_text(sel, 9)));
		pg_json_set(p, "nfiles", json_integer(pg_stmt_int(sel, 10)));
		pg_json_set(p, "files", fl);
		pg_json_set(p, "branches", touched_branches(t, paths, npaths));
		pg_buf_reset(&key);
		/* the archive commit identifies the mail on its list (a message id can be resent) */
		pg_buf_printf(&key, "mail:%s:%s", list, pg_stmt_text(sel, 5));
		ev.kind = "patch.flagged";
		ev.key = pg_buf_cstr(&key);
		ev.target = mid;
		ev.new_state = pg_stmt_text(sel, 8);
		ev.payload = p;
		ev.priority = pg_stmt_double(sel, 7);
		error = pg_watch__event_add(&inserted, s, wc, &ev, now);
		json_decref(p);
		if (error < 0)
			goto out;
		st->events += inserted;
		st->mails_flagged += inserted;
	}
	if (rc < 0) {
		error = rc;
		goto out;
	}
	if (max_id > mark || !v) {
		pg_buf_printf(&num, "%lld", (long long)(max_id > mark ? max_id : mark));
		error = pg_store_meta_set(s, pg_buf_cstr(&meta), pg_buf_cstr(&num));
	}
out:
	for (size_t k = 0; k < npaths; k++)
		free(paths[k]);
	free(paths);
	free(v);
	pg_stmt_free(top);
	pg_stmt_free(sel);
	pg_stmt_free(files);
	pg_buf_release(&key);
	pg_buf_release(&url);
	pg_buf_release(&meta);
	pg_buf_release(&num);
	return error;
}

int pg_watch__lists_events(pg_watch_stats *st, const pg_watch_conf *wc, pg_store *s, int64_t now,
			   const pg_watch_options *opts)
{
	pg_list_conf *lists = NULL;
	size_t n = 0;
	trees t = { wc, 0, NULL, NULL, 0 };
	int error;

	(void)opts;
	if ((error = pg_lists_conf_load(&lists, &n, wc->cfg->path)) < 0 || !n)
		goto out;
	for (size_t i = 0; i < n; i++)
		if ((error = list_events(st, wc, s, lists[i].name, &t, now)) < 0)
			goto out;
out:
	trees_release(&t);
	pg_lists_conf_free(lists, n);
	return error;
}
