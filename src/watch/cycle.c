/*
 * cycle.c - one watch cycle: fetch, ingest, then classify + CNA import +
 * re-evaluation + events in one transaction, then delivery (see watch.h).
 *
 * What a cycle has to look at is derived from stored state only, never from
 * memory of the previous cycle: new commits are those above the stored
 * 'watch.commit_id' mark, the CNA records to import are the files changed
 * between watch_sources.last_sha and the fetched head, moved branches are
 * those whose head differs from watch_tips.  All three marks advance in the
 * transaction that writes the events, so a cycle killed anywhere is redone
 * by the next one with the same result.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <git2.h>
#include "watch_int.h"
#include "patchgap/classify.h"
#include "patchgap/cve.h"
#include "patchgap/ingest.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/map.h"
#include "util/sha1.h"
#include "util/str.h"
#include "util/vec.h"
#include "util/banned.h"

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int stopping(const pg_watch_options *o)
{
	return o && o->stop && o->stop(o->payload);
}

static const char *git_msg(void)
{
	const git_error *e = git_error_last();
	return e && e->message ? e->message : "unknown error";
}

/* ---- sources: when each is due, how it went ----------------------------- */

int pg_watch__source_due(int *due, pg_store *s, const char *name, int interval, int64_t now, int force)
{
	pg_stmt *st = NULL;
	int error, rc;
	*due = 1;
	if ((error = pg_store_prepare(&st, s, "SELECT last_attempt, next_try, failures FROM watch_sources WHERE name = ?")) < 0 ||
	    (error = pg_stmt_bind_text(st, 1, name)) < 0)
		goto out;
	if ((rc = pg_stmt_step(st)) < 0) {
		error = rc;
		goto out;
	}
	if (rc > 0 && !force) {
		int64_t last = pg_stmt_int(st, 0), next = pg_stmt_int(st, 1);
		*due = pg_stmt_int(st, 2) ? now >= next : now >= last + interval;
	}
out:
	pg_stmt_free(st);
	return error;
}

int pg_watch__source_record(pg_store *s, const char *name, const char *kind, const char *url, int64_t now, double ms,
			 const char *err, int backoff_max)
{
	pg_stmt *get = NULL, *st = NULL;
	int64_t failures = 0;
	int error, rc;

	/* consecutive failures decide the next delay: 2^n s, jittered, capped (pg_watch__backoff) */
	if ((error = pg_store_prepare(&get, s, "SELECT failures FROM watch_sources WHERE name = ?")) < 0 ||
	    (error = pg_stmt_bind_text(get, 1, name)) < 0)
		goto out;
	if ((rc = pg_stmt_step(get)) < 0) {
		error = rc;
		goto out;
	}
	failures = err ? (rc > 0 ? pg_stmt_int(get, 0) : 0) + 1 : 0;
	if ((error = pg_store_prepare(&st, s,
				      "INSERT INTO watch_sources (name, kind, url, last_attempt, last_ok, last_error, last_ms, failures, next_try)"
				      " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET kind = excluded.kind,"
				      " url = excluded.url, last_attempt = excluded.last_attempt,"
				      " last_ok = COALESCE(excluded.last_ok, watch_sources.last_ok), last_error = excluded.last_error,"
				      " last_ms = excluded.last_ms, failures = excluded.failures, next_try = excluded.next_try")) < 0)
		goto out;
	if ((error = pg_stmt_bind_text(st, 1, name)) < 0 || (error = pg_stmt_bind_text(st, 2, kind)) < 0 ||
	    (error = pg_stmt_bind_text(st, 3, url)) < 0 || (error = pg_stmt_bind_int(st, 4, now)) < 0 ||
	    (error = err ? pg_stmt_bind_null(st, 5) : pg_stmt_bind_int(st, 5, now)) < 0 ||
	    (error = pg_stmt_bind_text(st, 6, err)) < 0 || (error = pg_stmt_bind_int(st, 7, (int64_t)ms)) < 0 ||
	    (error = pg_stmt_bind_int(st, 8, failures)) < 0 ||
	    (error = pg_stmt_bind_int(st, 9, err ? now + pg_watch__backoff((int)failures - 1, backoff_max) : 0)) < 0)
		goto out;
	error = pg_stmt_exec(st);
out:
	pg_stmt_free(get);
	pg_stmt_free(st);
	return error;
}

int pg_watch__fetch_refspecs(git_repository *repo, const char *url, char **refspecs, size_t n)
{
	git_remote *r = NULL;
	git_remote_create_options co;
	git_fetch_options fo;
	git_strarray specs = { refspecs, n };
	int error = 0;

	/*
	 * No url.*.insteadOf lookup: libgit2 1.5 matches it with a PCRE2 glob
	 * that leaks on every non-matching config key (once per fetch, forever
	 * in a daemon); the URL in patchgap's config is used as written.
	 */
	git_remote_create_options_init(&co, GIT_REMOTE_CREATE_OPTIONS_VERSION);
	co.repository = repo;
	co.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
	fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE; /* tags come through the refspecs */
	fo.update_fetchhead = 0;
	if (git_remote_create_with_opts(&r, url, &co) < 0 || git_remote_fetch(r, &specs, &fo, NULL) < 0)
		error = pg_error_set("cannot fetch '%s': %s", url, git_msg());
	git_remote_free(r);
	return error;
}

/*
 * Remove the "*.lock" files a killed cycle left in a repository that watch
 * writes (refs, HEAD, index, packed-refs; objects/ holds none that block).
 * libgit2, like git, refuses to update a locked file and never clears a lock
 * itself, so without this one kill -9 during a fetch or checkout would fail
 * that source on every later cycle.  Cycles run only under the watch lock
 * (one watch per database), so in the CNA checkout, which only watch writes,
 * every lock is stale (min_age 0); in core.repository, where the user's own
 * git may be working, only locks older than min_age seconds are taken as
 * stale (a live git holds a ref lock for milliseconds).
 */
static void clear_stale_locks(const char *dir, int depth, int64_t min_age, const pg_watch_options *opts)
{
	DIR *d;
	struct dirent *e;
	int64_t now = (int64_t)time(NULL);

	if (depth > 16 || !(d = opendir(dir)))
		return;
	while ((e = readdir(d))) {
		struct stat sb;
		size_t n = strlen(e->d_name);
		pg_buf p = PG_BUF_INIT;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || (depth == 0 && !strcmp(e->d_name, "objects")))
			continue;
		if (pg_buf_printf(&p, "%s/%s", dir, e->d_name) < 0 || lstat(pg_buf_cstr(&p), &sb) < 0) {
			pg_buf_release(&p);
			continue;
		}
		if (S_ISDIR(sb.st_mode))
			clear_stale_locks(pg_buf_cstr(&p), depth + 1, min_age, opts);
		else if (S_ISREG(sb.st_mode) && n > 5 && !strcmp(e->d_name + n - 5, ".lock") &&
			 now - (int64_t)sb.st_mtime >= min_age) {
			if (unlink(pg_buf_cstr(&p)) == 0)
				pg_watch__log(opts, PG_WATCH_WARN, "removed stale lock '%s' (left by a killed cycle)",
					      pg_buf_cstr(&p));
		}
		pg_buf_release(&p);
	}
	closedir(d);
}

#define PG_WATCH__MIRROR_LOCK_AGE 600 /* seconds: a ref lock in core.repository this old is stale */

/* Fetch one remote into core.repository.  Source failures are not cycle failures. */
static int fetch_remote(int *changed, const pg_watch_conf *wc, pg_store *s, git_repository *repo,
			const pg_watch_remote *r, const pg_watch_options *opts, pg_watch_stats *st)
{
	double t0 = now_ms();
	int64_t now = (int64_t)time(NULL);
	int due, error;
	const char *err = NULL;

	if ((error = pg_watch__source_due(&due, s, r->name, r->interval, now, opts->force_fetch)) < 0 || !due)
		return error;
	clear_stale_locks(git_repository_path(repo), 0, PG_WATCH__MIRROR_LOCK_AGE, opts);
	if (pg_watch__fetch_refspecs(repo, r->url, r->refspecs, r->nrefspecs) < 0) {
		err = pg_error_last();
		st->fetch_failed++;
		pg_watch__log(opts, PG_WATCH_WARN, "remote '%s': %s", r->name, err);
	} else {
		st->fetched++;
		*changed = 1;
	}
	return pg_watch__source_record(s, r->name, "remote", r->url, now, now_ms() - t0, err, wc->backoff_max);
}

/*
 * Bring the CNA checkout to the remote's head (clone the first time).
 * *head: the commit now checked out (41 bytes), "" when the source failed.
 */
static int fetch_cna(char head[41], const pg_watch_conf *wc, pg_store *s, const pg_watch_options *opts,
		     pg_watch_stats *st)
{
	git_repository *repo = NULL;
	git_object *obj = NULL;
	struct stat sb;
	double t0 = now_ms();
	int64_t now = (int64_t)time(NULL);
	int due = 1, error = 0, failed = 0;

	head[0] = '\0';
	if ((error = pg_watch__source_due(&due, s, "cna", wc->cna_interval, now, opts->force_fetch)) < 0)
		return error;
	if (!due) {
		/* not due: keep working from what is checked out (a killed cycle left it) */
		git_oid id;
		if (git_repository_open(&repo, wc->cna_path) == 0 && git_reference_name_to_id(&id, repo, "HEAD") == 0)
			git_oid_tostr(head, 41, &id);
		git_repository_free(repo);
		return 0;
	}
	{
		char *spec = "+HEAD:refs/patchgap/cna";
		/* a new checkout is an empty repository fetched like an existing one (no git_clone: see fetch_refspecs) */
		if (stat(wc->cna_path, &sb) < 0 ? git_repository_init(&repo, wc->cna_path, 0) < 0
						 : git_repository_open(&repo, wc->cna_path) < 0) {
			pg_error_set("cna.path '%s' is not a git repository: %s", wc->cna_path, git_msg());
			failed = 1;
			goto done;
		}
		clear_stale_locks(git_repository_path(repo), 0, 0, opts);
		if (pg_watch__fetch_refspecs(repo, wc->cna_url, &spec, 1) < 0) {
			failed = 1;
			goto done;
		}
		if (git_revparse_single(&obj, repo, "refs/patchgap/cna^{commit}") < 0 ||
		    git_reset(repo, obj, GIT_RESET_HARD, NULL) < 0) {
			pg_error_set("cannot check out the CNA head in '%s': %s", wc->cna_path, git_msg());
			failed = 1;
			goto done;
		}
	}
	{
		git_oid id;
		if (git_reference_name_to_id(&id, repo, "HEAD") < 0) {
			pg_error_set("CNA checkout '%s' has no HEAD: %s", wc->cna_path, git_msg());
			failed = 1;
			goto done;
		}
		git_oid_tostr(head, 41, &id);
	}
done:
	if (failed) {
		st->fetch_failed++;
		pg_watch__log(opts, PG_WATCH_WARN, "cna: %s", pg_error_last());
	} else
		st->fetched++;
	error = pg_watch__source_record(s, "cna", "cna", wc->cna_url, now, now_ms() - t0, failed ? pg_error_last() : NULL,
			      wc->backoff_max);
	git_object_free(obj);
	git_repository_free(repo);
	return error;
}

/* ---- classify the new mainline commits ----------------------------------- */

/*
 * repo (may be NULL: no diffs) gives each new commit its diff, so the diff
 * head scores it as `patchgap classify` does; a commit it has not got is
 * scored without.
 */
static int classify_new(pg_store *s, const pg_watch_conf *wc, git_repository *repo, int64_t mark, int64_t *top,
			pg_watch__strs *touched, int quiet, int64_t now, pg_watch_stats *st)
{
	pg_cls_model *m = NULL;
	pg_cls_history *hist = NULL;
	pg_cls_operating_point op[2]; /* [0] the diff head's, [1] the no-diff head's, at [classify] recall */
	pg_ingest_diff *differ = NULL;
	pg_buf diff = PG_BUF_INIT;
	pg_stmt *sel = NULL, *files = NULL, *ins = NULL, *cvefix = NULL;
	PG_VEC(char *) paths = PG_VEC_INIT;
	int error = 0, rc;

	if ((error = pg_store_prepare(&sel, s,
				      "SELECT c.id, c.sha, c.subject, c.message, c.on_mainline, c.committer_time FROM commits c"
				      " WHERE c.id > ? ORDER BY c.id")) < 0 ||
	    (error = pg_store_prepare(&files, s, "SELECT path FROM commit_files WHERE commit_id = ? ORDER BY path")) < 0 ||
	    (error = pg_store_prepare(&ins, s,
				      "INSERT INTO classifications (commit_id, sha, model_version, p_security, label, bug_class,"
				      " priority, level, reasons, classified_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
				      " ON CONFLICT (commit_id) DO UPDATE SET sha = excluded.sha, model_version = excluded.model_version,"
				      " p_security = excluded.p_security, label = excluded.label, bug_class = excluded.bug_class,"
				      " priority = excluded.priority, level = excluded.level, reasons = excluded.reasons,"
				      " classified_at = excluded.classified_at")) < 0 ||
	    (error = pg_store_prepare(&cvefix, s, "SELECT DISTINCT cve_id FROM cve_fixes WHERE sha = ?")) < 0 ||
	    (error = pg_stmt_bind_int(sel, 1, mark)) < 0)
		goto out;
	while ((rc = pg_stmt_step(sel)) > 0) {
		pg_cls_input in = PG_CLS_INPUT_INIT;
		pg_cls_result r;
		int64_t id = pg_stmt_int(sel, 0);
		const char *sha = pg_stmt_text(sel, 1);
		int inserted;

		*top = id;
		st->commits_new++;
		/* a CVE whose fix commit just arrived can change state everywhere */
		pg_stmt_reset(cvefix);
		if ((error = pg_stmt_bind_text(cvefix, 1, sha)) < 0)
			goto out;
		while ((rc = pg_stmt_step(cvefix)) > 0)
			if ((error = pg_watch__strs_add(touched, pg_stmt_text(cvefix, 0))) < 0)
				goto out;
		if (rc < 0 || !pg_stmt_int(sel, 4))
			continue; /* the classifier judges mainline commits */
		/*
		 * Idle cycles do not load the model.  Flags follow the configured
		 * operating point ([classify] recall), like `patchgap classify`, and
		 * the scores read the same file history, so a commit watch flags is
		 * one classify would flag.
		 */
		if (!m && ((error = pg_cls_model_load_default(&m)) < 0 ||
			   (error = pg_cls_model_operating_point(&op[0], m, 1, wc->cfg->classify_recall)) < 0 ||
			   (error = pg_cls_model_operating_point(&op[1], m, 0, wc->cfg->classify_recall)) < 0 ||
			   (error = pg_cls_history_open(&hist, s)) < 0 ||
			   (repo && (error = pg_ingest_diff_open(&differ, repo)) < 0)))
			goto out;
		for (size_t i = 0; i < paths.len; i++)
			free(paths.ptr[i]);
		paths.len = 0;
		pg_stmt_reset(files);
		if ((error = pg_stmt_bind_int(files, 1, id)) < 0)
			goto out;
		while ((rc = pg_stmt_step(files)) > 0) {
			char *p = pg_strdup(pg_stmt_text(files, 0) ? pg_stmt_text(files, 0) : "");
			if (!p || pg_vec_push(&paths, p) < 0) {
				free(p);
				error = pg_error_setc(PG_ENOMEM, "out of memory");
				goto out;
			}
		}
		in.subject = pg_stmt_text(sel, 2);
		in.message = pg_cls_message_body(pg_stmt_text(sel, 3));
		in.files = (const char *const *)paths.ptr;
		in.nfiles = paths.len;
		pg_buf_reset(&diff);
		if (differ) {
			git_oid oid;
			unsigned info = 0;
			if (git_oid_fromstr(&oid, sha) == 0 &&
			    (error = pg_ingest_diff_commit(differ, &diff, &oid, 0, PG_CLS_DIFF_MAX, &info)) < 0) {
				if (error != PG_ENOTFOUND)
					goto out;
				pg_error_clear(); /* not in the repository: scored without its diff */
				pg_buf_reset(&diff);
				error = 0;
			}
			if (diff.len) {
				in.diff = diff.ptr;
				in.diff_len = diff.len;
				st->classified_diff++;
			}
		}
		if ((error = pg_cls_history_count(&in.history_cves, hist, sha, pg_stmt_int(sel, 5), in.files, in.nfiles)) < 0 ||
		    (error = pg_cls_history_functions(&in.history_functions, hist, sha, pg_stmt_int(sel, 5), in.message,
						      in.diff, in.diff_len)) < 0 ||
		    (error = pg_cls_history_fixes(&in.fixes_target_recent, &in.fixes_target_stable_lines, hist, sha,
						  pg_stmt_int(sel, 5))) < 0 ||
		    (error = pg_cls_classify(&r, m, &in)) < 0)
			goto out;
		r.label = r.p_security >= op[in.diff ? 0 : 1].threshold;
		st->classified++;
		pg_stmt_reset(ins);
		if ((error = pg_stmt_bind_int(ins, 1, id)) < 0 || (error = pg_stmt_bind_text(ins, 2, sha)) < 0 ||
		    (error = pg_stmt_bind_text(ins, 3, pg_cls_model_version(m))) < 0 ||
		    (error = pg_stmt_bind_double(ins, 4, r.p_security)) < 0 || (error = pg_stmt_bind_int(ins, 5, r.label)) < 0 ||
		    (error = pg_stmt_bind_text(ins, 6, pg_cls_bug_class_name(r.bug_class))) < 0 ||
		    (error = pg_stmt_bind_double(ins, 7, r.priority)) < 0 ||
		    (error = pg_stmt_bind_text(ins, 8, pg_cls_level_name(r.level))) < 0 ||
		    (error = pg_stmt_bind_text(ins, 9, r.reasons_json)) < 0 || (error = pg_stmt_bind_int(ins, 10, now)) < 0 ||
		    (error = pg_stmt_exec(ins)) < 0) {
			pg_cls_result_release(&r);
			goto out;
		}
		if (r.label) {
			pg_watch__event ev = { 0 };
			pg_buf key = PG_BUF_INIT;
			json_t *p = json_object(), *reasons = json_loads(r.reasons_json ? r.reasons_json : "[]", 0, NULL);
			st->flagged++;
			pg_json_set(p, "sha", json_string(sha));
			pg_json_set(p, "subject", pg_json_string(in.subject));
			pg_json_set(p, "p_security", json_real(r.p_security));
			pg_json_set(p, "bug_class", json_string(pg_cls_bug_class_name(r.bug_class)));
			pg_json_set(p, "priority", json_real(r.priority));
			pg_json_set(p, "level", json_string(pg_cls_level_name(r.level)));
			pg_json_set(p, "reasons", reasons ? reasons : json_array());
			pg_json_set(p, "model", json_string(pg_cls_model_version(m)));
			pg_buf_printf(&key, "flagged:%s", sha);
			ev.kind = "fix.flagged";
			ev.key = pg_buf_cstr(&key);
			ev.target = sha;
			ev.new_state = pg_cls_level_name(r.level);
			ev.payload = p;
			ev.priority = r.priority;
			error = quiet ? 0 : pg_watch__event_add(&inserted, s, wc, &ev, now);
			if (!quiet)
				st->events += inserted;
			json_decref(p);
			pg_buf_release(&key);
			if (!error)
				error = pg_watch__strs_add(touched, sha);
		}
		pg_cls_result_release(&r);
		if (error < 0)
			goto out;
	}
	if (rc < 0)
		error = rc;
out:
	for (size_t i = 0; i < paths.len; i++)
		free(paths.ptr[i]);
	pg_vec_release(&paths);
	pg_stmt_free(sel);
	pg_stmt_free(files);
	pg_stmt_free(ins);
	pg_stmt_free(cvefix);
	pg_cls_model_free(m);
	pg_cls_history_free(hist);
	pg_ingest_diff_free(differ);
	pg_buf_release(&diff);
	return error;
}

/* ---- CNA records ----------------------------------------------------------- */

/* The folders (cve/published/YYYY...) holding files changed between two commits, or the root when from is NULL. */
static int changed_dirs(pg_watch__strs *dirs, const char *root, const char *from, const char *to)
{
	git_repository *repo = NULL;
	git_object *a = NULL, *b = NULL;
	git_tree *ta = NULL, *tb = NULL;
	git_diff *diff = NULL;
	pg_buf p = PG_BUF_INIT;
	int error = 0;

	if (!from) {
		error = pg_watch__strs_add(dirs, root);
		goto out;
	}
	if (git_repository_open(&repo, root) < 0 || git_revparse_single(&a, repo, from) < 0 ||
	    git_revparse_single(&b, repo, to) < 0 || git_commit_tree(&ta, (git_commit *)a) < 0 ||
	    git_commit_tree(&tb, (git_commit *)b) < 0 || git_diff_tree_to_tree(&diff, repo, ta, tb, NULL) < 0) {
		/* history rewritten or the old commit is gone: import everything (unchanged records cost a hash) */
		error = pg_watch__strs_add(dirs, root);
		goto out;
	}
	for (size_t i = 0; i < git_diff_num_deltas(diff); i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);
		const char *path = d->new_file.path ? d->new_file.path : d->old_file.path, *slash;
		if (!path || strncmp(path, "cve/", 4) || !(slash = strrchr(path, '/')) || !strstr(path, "CVE-"))
			continue;
		pg_buf_reset(&p);
		pg_buf_printf(&p, "%s/%.*s", root, (int)(slash - path), path);
		if ((error = pg_watch__strs_add(dirs, pg_buf_cstr(&p))) < 0)
			goto out;
	}
out:
	pg_buf_release(&p);
	git_diff_free(diff);
	git_tree_free(ta);
	git_tree_free(tb);
	git_object_free(a);
	git_object_free(b);
	git_repository_free(repo);
	return error;
}

struct cve_row { char *state, *hash; };

static int snapshot_cves(pg_strmap *m, pg_store *s)
{
	pg_stmt *st = NULL;
	int error, rc;
	if ((error = pg_store_prepare(&st, s, "SELECT id, state, content_hash FROM cves")) < 0)
		return error;
	while ((rc = pg_stmt_step(st)) > 0) {
		struct cve_row *r = calloc(1, sizeof(*r));
		if (!r || !(r->state = pg_strdup(pg_stmt_text(st, 1))) ||
		    !(r->hash = pg_strdup(pg_stmt_text(st, 2) ? pg_stmt_text(st, 2) : "")) ||
		    pg_strmap_set(m, pg_stmt_text(st, 0), r) < 0) {
			if (r) {
				free(r->state);
				free(r->hash);
			}
			free(r);
			pg_stmt_free(st);
			return pg_error_setc(PG_ENOMEM, "out of memory");
		}
	}
	pg_stmt_free(st);
	return rc;
}

static void snapshot_free(pg_strmap *m)
{
	size_t it = 0;
	void *v;
	while (pg_strmap_next(m, &it, NULL, &v)) {
		struct cve_row *r = v;
		free(r->state);
		free(r->hash);
		free(r);
	}
	pg_strmap_release(m);
}

static void on_cve_problem(const char *path, const char *reason, void *payload)
{
	pg_watch__log(payload, PG_WATCH_WARN, "cna: skipped '%s': %s", path, reason);
}

static int import_cna(pg_store *s, const pg_watch_conf *wc, const char *head, pg_watch__strs *touched, int quiet,
		      int64_t now, const pg_watch_options *opts, pg_watch_stats *st)
{
	pg_watch__strs dirs = { 0 };
	pg_strmap before = PG_STRMAP_INIT;
	pg_stmt *last = NULL, *cur = NULL, *mark = NULL;
	char *from = NULL;
	pg_cve_import_opts io = { on_cve_problem, NULL, (void *)opts };
	pg_cve_import_stats ist = { 0 };
	int error = 0, rc;

	if ((error = pg_store_prepare(&last, s, "SELECT last_sha FROM watch_sources WHERE name = 'cna'")) < 0)
		goto out;
	if ((rc = pg_stmt_step(last)) > 0 && pg_stmt_text(last, 0))
		from = pg_strdup(pg_stmt_text(last, 0));
	if (from && !strcmp(from, head))
		goto out; /* nothing new */
	if ((error = changed_dirs(&dirs, wc->cna_path, from, head)) < 0)
		goto out;
	if (dirs.len) {
		if ((error = snapshot_cves(&before, s)) < 0 ||
		    (error = pg_cve_import(s, (const char *const *)dirs.ptr, dirs.len, &io, &ist)) < 0)
			goto out;
		if ((error = pg_store_prepare(&cur, s, "SELECT id, state, content_hash FROM cves ORDER BY year, num, id")) < 0)
			goto out;
		while ((rc = pg_stmt_step(cur)) > 0) {
			const char *id = pg_stmt_text(cur, 0), *state = pg_stmt_text(cur, 1);
			const char *hash = pg_stmt_text(cur, 2) ? pg_stmt_text(cur, 2) : "";
			int found = 0, inserted;
			struct cve_row *old = pg_strmap_get(&before, id, &found);
			pg_watch__event ev = { 0 };
			pg_buf key = PG_BUF_INIT;
			json_t *p = NULL;

			if (found && !strcmp(old->hash, hash) && !strcmp(old->state, state))
				continue;
			st->cves_changed++;
			if ((error = pg_watch__strs_add(touched, id)) < 0)
				goto out;
			if (quiet)
				continue;
			if ((error = pg_cve_show(&p, s, id)) < 0)
				goto out;
			json_object_del(p, "source_path"); /* where this machine keeps the checkout */
			ev.kind = !strcmp(state, "rejected") ? "cve.rejected" : found ? "cve.changed" : "cve.published";
			pg_buf_printf(&key, "cve:%s:%s:%s", id, state, hash);
			ev.key = pg_buf_cstr(&key);
			ev.target = id;
			ev.old_state = found ? old->state : NULL;
			ev.new_state = state;
			ev.payload = p;
			ev.priority = json_is_number(json_object_get(json_object_get(p, "cvss"), "score"))
					      ? json_number_value(json_object_get(json_object_get(p, "cvss"), "score"))
					      : -1;
			error = pg_watch__event_add(&inserted, s, wc, &ev, now);
			st->events += inserted;
			json_decref(p);
			pg_buf_release(&key);
			if (error < 0)
				goto out;
		}
		if (rc < 0) {
			error = rc;
			goto out;
		}
		pg_watch__log(opts, PG_WATCH_INFO, "cna: %.12s: %zu imported, %zu updated, %zu rejected, %zu skipped", head,
			      ist.imported, ist.updated, ist.rejected, ist.skipped);
	}
	if ((error = pg_store_prepare(&mark, s, "UPDATE watch_sources SET last_sha = ? WHERE name = 'cna'")) < 0 ||
	    (error = pg_stmt_bind_text(mark, 1, head)) < 0)
		goto out;
	error = pg_stmt_exec(mark);
out:
	free(from);
	snapshot_free(&before);
	pg_watch__strs_release(&dirs);
	pg_stmt_free(last);
	pg_stmt_free(cur);
	pg_stmt_free(mark);
	return error;
}

/* ---- the cycle ---------------------------------------------------------------- */

struct digest_ctx { unsigned char acc[PG_SHA1_RAWSZ]; git_repository *repo; };

/* XOR of one SHA-1 per (name, target): independent of the listing order */
static int digest_ref(const char *name, void *payload)
{
	struct digest_ctx *d = payload;
	unsigned char one[PG_SHA1_RAWSZ];
	pg_sha1 c;
	git_oid id;
	if (strncmp(name, "refs/heads/", 11) && strncmp(name, "refs/tags/", 10))
		return 0;
	if (git_reference_name_to_id(&id, d->repo, name) < 0)
		return 0;
	pg_sha1_init(&c);
	pg_sha1_update(&c, name, strlen(name) + 1);
	pg_sha1_update(&c, id.id, GIT_OID_RAWSZ);
	pg_sha1_final(one, &c);
	for (size_t i = 0; i < PG_SHA1_RAWSZ; i++)
		d->acc[i] ^= one[i];
	return 0;
}

/*
 * A digest of every branch and tag of the repository: ingest runs only when
 * it differs from the one stored after the last complete ingest, so an idle
 * cycle costs a refs listing, and a killed ingest is redone.
 */
static int refs_digest(char out[41], const char *path)
{
	struct digest_ctx d = { { 0 }, NULL };
	static const char hex[] = "0123456789abcdef";
	int error = 0;

	if (git_repository_open_ext(&d.repo, path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0)
		return pg_error_set("'%s' is not a git repository (core.repository): %s", path, git_msg());
	if (git_reference_foreach_name(d.repo, digest_ref, &d) < 0)
		error = pg_error_set("cannot list the refs of '%s': %s", path, git_msg());
	git_repository_free(d.repo);
	for (size_t i = 0; i < PG_SHA1_RAWSZ; i++) {
		out[2 * i] = hex[d.acc[i] >> 4];
		out[2 * i + 1] = hex[d.acc[i] & 15];
	}
	out[40] = '\0';
	return error;
}

static void on_ingest_warn(const char *msg, void *payload)
{
	pg_watch__log(payload, PG_WATCH_WARN, "ingest: %s", msg);
}

int pg_watch_cycle(pg_watch_stats *st, const pg_watch_conf *wc, pg_store *s, const pg_watch_options *opts)
{
	git_repository *repo = NULL;
	pg_watch__strs touched = { 0 };
	char cna_head[41] = "";
	int64_t mark = 0, top = 0, now = (int64_t)time(NULL);
	double t0 = now_ms(), t;
	int error = 0, changed = 0, quiet, in_txn = 0, ingested = 0;
	pg_buf b = PG_BUF_INIT;

	memset(st, 0, sizeof(*st));
	git_libgit2_init();
	/* 1. fetch */
	if (wc->nremotes && git_repository_open_ext(&repo, wc->cfg->repository, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0) {
		error = pg_error_set("'%s' is not a git repository (core.repository): %s", wc->cfg->repository, git_msg());
		goto out;
	}
	for (size_t i = 0; i < wc->nremotes && !stopping(opts); i++)
		if ((error = fetch_remote(&changed, wc, s, repo, &wc->remotes[i], opts, st)) < 0)
			goto out;
	if (wc->cna_url && !stopping(opts) && (error = fetch_cna(cna_head, wc, s, opts, st)) < 0)
		goto out;
	st->ms_fetch = now_ms() - t0;
	if (stopping(opts))
		goto out;

	/* 2. ingest, when a branch or tag moved since the last complete one */
	t = now_ms();
	{
		char digest[41], *stored = NULL;
		int e;
		if ((error = refs_digest(digest, wc->cfg->repository)) < 0)
			goto out;
		if ((e = pg_store_meta_get(&stored, s, "watch.refs_digest")) < 0 && e != PG_ENOTFOUND) {
			error = e;
			goto out;
		}
		pg_error_clear();
		if (!stored || strcmp(stored, digest)) {
			pg_ingest_options io = PG_INGEST_OPTIONS_INIT;
			pg_ingest_stats is;
			io.warn = on_ingest_warn;
			io.payload = (void *)opts;
			if ((error = pg_ingest_run(&is, wc->cfg, s, &io)) < 0) {
				pg_error_prefix("ingest");
				free(stored);
				goto out;
			}
			error = pg_store_meta_set(s, "watch.refs_digest", digest);
			ingested = 1;
		}
		free(stored);
		if (error < 0)
			goto out;
	}
	if ((error = pg_watch__lists_ingest(st, wc, s, ingested, opts)) < 0)
		goto out;
	st->ms_ingest = now_ms() - t;
	if (stopping(opts))
		goto out;

	/* 3. classify + import + re-evaluate + events: one transaction */
	if ((error = pg_watch__meta_int(&mark, s, "watch.commit_id", -1)) < 0)
		goto out;
	quiet = mark < 0 && !wc->announce_initial;
	if (mark < 0)
		mark = 0;
	top = mark;
	if ((error = pg_store_begin(s)) < 0)
		goto out;
	in_txn = 1;
	t = now_ms();
	/* the diffs of new commits come from core.repository, also when no remote is fetched */
	if (!repo && wc->cfg->classify_diffs &&
	    git_repository_open_ext(&repo, wc->cfg->repository, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0) {
		repo = NULL;
		git_error_clear();
	}
	if ((error = classify_new(s, wc, wc->cfg->classify_diffs ? repo : NULL, mark, &top, &touched, quiet, now, st)) < 0)
		goto out;
	if ((error = pg_watch__lists_events(st, wc, s, now, opts)) < 0)
		goto out;
	st->ms_classify = now_ms() - t;
	t = now_ms();
	if (cna_head[0] && (error = import_cna(s, wc, cna_head, &touched, quiet, now, opts, st)) < 0)
		goto out;
	st->ms_import = now_ms() - t;
	t = now_ms();
	if ((error = pg_watch__reeval(st, s, wc, &touched, quiet, now, opts)) < 0)
		goto out;
	st->ms_reeval = now_ms() - t;
	if ((error = pg_watch__backport(st, s, wc, quiet, now, opts)) < 0)
		goto out;
	if (top != mark || quiet) {
		pg_buf_printf(&b, "%lld", (long long)top);
		if ((error = pg_store_meta_set(s, "watch.commit_id", pg_buf_cstr(&b))) < 0)
			goto out;
	}
	in_txn = 0; /* on SIGTERM too: the transaction commits, nothing after it starts */
	if ((error = pg_store_commit(s)) < 0)
		goto out;
	if ((error = pg_watch__drafts(st, s, wc, now, opts)) < 0)
		goto out;

	/* 4. deliver */
	t = now_ms();
	if (!opts->no_deliver && !stopping(opts) &&
	    (error = pg_watch_deliver(wc, s, opts, &st->delivered, &st->delivery_failed)) < 0)
		goto out;
	st->ms_deliver = now_ms() - t;
	st->ms_total = now_ms() - t0;
	{
		/* for --status: what the last complete cycle did */
		json_t *o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f}", "finished", (json_int_t)time(NULL),
				      "commits_new", (json_int_t)st->commits_new, "flagged", (json_int_t)st->flagged,
				      "cves_changed", (json_int_t)st->cves_changed, "branches_evaluated",
				      (json_int_t)st->branches_evaluated, "events", (json_int_t)st->events, "delivered",
				      (json_int_t)st->delivered, "delivery_failed", (json_int_t)st->delivery_failed,
				      "fetch_failed", (json_int_t)st->fetch_failed, "ms_total", st->ms_total);
		char *txt = o ? json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
		json_decref(o);
		if (txt)
			error = pg_store_meta_set(s, "watch.last_cycle", txt);
		free(txt);
	}
out:
	if (in_txn)
		pg_store_rollback(s);
	st->ms_total = now_ms() - t0;
	pg_watch__strs_release(&touched);
	pg_buf_release(&b);
	git_repository_free(repo);
	git_libgit2_shutdown();
	return error;
}

/* ---- lock and status -------------------------------------------------------------- */

int pg_watch_lock(int *out, const char *database)
{
	pg_buf p = PG_BUF_INIT, who = PG_BUF_INIT;
	char host[128] = "localhost", held[256] = "";
	int fd, error = 0;
	ssize_t n;

	*out = -1;
	pg_buf_printf(&p, "%s.watch.lock", database);
	if ((fd = open(pg_buf_cstr(&p), O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0) {
		error = pg_error_setc(PG_EIO, "cannot open lock file '%s': %s", pg_buf_cstr(&p), strerror(errno));
		goto out;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		n = pread(fd, held, sizeof(held) - 1, 0);
		held[n > 0 ? n : 0] = '\0';
		if (n > 0 && held[n - 1] == '\n')
			held[n - 1] = '\0';
		error = pg_error_set("database '%s' is watched already by %s (lock '%s')", database,
				     held[0] ? pg_str_sanitize(held) : "another process", pg_buf_cstr(&p));
		close(fd);
		goto out;
	}
	gethostname(host, sizeof(host) - 1);
	pg_buf_printf(&who, "patchgap watch pid %ld on %s since %lld\n", (long)getpid(), host, (long long)time(NULL));
	if (ftruncate(fd, 0) < 0 || pwrite(fd, who.ptr, who.len, 0) != (ssize_t)who.len) {
		error = pg_error_setc(PG_EIO, "cannot write lock file '%s': %s", pg_buf_cstr(&p), strerror(errno));
		close(fd);
		goto out;
	}
	*out = fd;
out:
	pg_buf_release(&p);
	pg_buf_release(&who);
	return error;
}

int pg_watch_status(json_t **out, const pg_watch_conf *wc, pg_store *s)
{
	pg_stmt *src = NULL, *q = NULL, *old = NULL;
	json_t *o = json_object(), *sources = json_array(), *sinks = json_array();
	char *v = NULL;
	int error = 0, rc;

	*out = NULL;
	if ((error = pg_watch__have_outbox(s)) < 0)
		goto out;
	if ((error = pg_store_prepare(&src, s,
				      "SELECT name, kind, url, last_sha, last_attempt, last_ok, last_error, last_ms, failures, next_try"
				      " FROM watch_sources ORDER BY kind DESC, name")) < 0)
		goto out;
	while ((rc = pg_stmt_step(src)) > 0) {
		json_t *r = json_object();
		pg_json_set(r, "name", pg_json_string(pg_stmt_text(src, 0)));
		pg_json_set(r, "kind", pg_json_string(pg_stmt_text(src, 1)));
		pg_json_set(r, "url", pg_json_string(pg_stmt_text(src, 2)));
		if (pg_stmt_text(src, 3))
			pg_json_set(r, "imported_sha", json_string(pg_stmt_text(src, 3)));
		pg_json_set(r, "last_attempt", pg_stmt_isnull(src, 4) ? json_null() : json_integer(pg_stmt_int(src, 4)));
		pg_json_set(r, "last_ok", pg_stmt_isnull(src, 5) ? json_null() : json_integer(pg_stmt_int(src, 5)));
		pg_json_set(r, "last_error", pg_json_string(pg_stmt_text(src, 6)));
		pg_json_set(r, "last_ms", json_integer(pg_stmt_int(src, 7)));
		pg_json_set(r, "failures", json_integer(pg_stmt_int(src, 8)));
		pg_json_set(r, "next_try", json_integer(pg_stmt_int(src, 9)));
		json_array_append_new(sources, r);
	}
	if (rc < 0) {
		error = rc;
		goto out;
	}
	if ((error = pg_store_prepare(&q, s,
				      "SELECT COUNT(*), MIN(event_id), MAX(attempts), MAX(last_error) FROM event_deliveries"
				      " WHERE sink = ? AND state = 'pending'")) < 0)
		goto out;
	for (size_t i = 0; wc && i < wc->nsinks; i++) {
		json_t *r = json_object();
		pg_stmt_reset(q);
		pg_stmt_bind_text(q, 1, wc->sinks[i].name);
		if ((rc = pg_stmt_step(q)) < 0) {
			json_decref(r);
			error = rc;
			goto out;
		}
		pg_json_set(r, "name", json_string(wc->sinks[i].name));
		pg_json_set(r, "type", json_string(pg_sink_type_name(wc->sinks[i].type)));
		pg_json_set(r, "queued", json_integer(pg_stmt_int(q, 0)));
		pg_json_set(r, "oldest_event", pg_stmt_isnull(q, 1) ? json_null() : json_integer(pg_stmt_int(q, 1)));
		pg_json_set(r, "max_attempts", pg_stmt_isnull(q, 2) ? json_integer(0) : json_integer(pg_stmt_int(q, 2)));
		pg_json_set(r, "last_error", pg_json_string(pg_stmt_text(q, 3)));
		json_array_append_new(sinks, r);
	}
	if ((error = pg_store_prepare(&old, s,
				      "SELECT e.id, e.created, e.kind, e.key FROM events e WHERE EXISTS (SELECT 1 FROM event_deliveries d"
				      " WHERE d.event_id = e.id AND d.state = 'pending') ORDER BY e.id LIMIT 1")) < 0)
		goto out;
	if ((rc = pg_stmt_step(old)) > 0) {
		json_t *r = json_object();
		pg_json_set(r, "id", json_integer(pg_stmt_int(old, 0)));
		pg_json_set(r, "created", json_integer(pg_stmt_int(old, 1)));
		pg_json_set(r, "kind", pg_json_string(pg_stmt_text(old, 2)));
		pg_json_set(r, "key", pg_json_string(pg_stmt_text(old, 3)));
		pg_json_set(o, "oldest_undelivered", r);
	} else if (rc == 0)
		pg_json_set(o, "oldest_undelivered", json_null());
	else {
		error = rc;
		goto out;
	}
	if (pg_store_meta_get(&v, s, "watch.last_cycle") == 0) {
		json_t *lc = json_loads(v, 0, NULL);
		pg_json_set(o, "last_cycle", lc ? lc : json_null());
	} else {
		pg_error_clear();
		pg_json_set(o, "last_cycle", json_null());
	}
	pg_json_set(o, "sources", sources);
	pg_json_set(o, "sinks", sinks);
	sources = sinks = NULL;
	*out = o;
	o = NULL;
out:
	free(v);
	json_decref(o);
	json_decref(sources);
	json_decref(sinks);
	pg_stmt_free(src);
	pg_stmt_free(q);
	pg_stmt_free(old);
	return error;
}
