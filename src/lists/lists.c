/*
 * lists.c - public-inbox archives into the store, and the queries on them.
 *
 * A v2 inbox is a directory with git/0.git, git/1.git ... ("epochs"); each
 * commit of an epoch adds the blob "m" holding one raw mail (a commit whose
 * tree has no "m" removes one: skipped).  A v1 inbox is one git repository
 * whose commits each add a blob under a two-level path named by the hash
 * of the Message-ID.  Both are read the same way: per epoch, the commits
 * after the stored last commit, oldest first.
 *
 * Invariants:
 *  - A batch of mails and the epoch's new position are one transaction:
 *    killed anywhere, the next run starts after the last stored batch and
 *    stores the same rows with the same ids (inserts are ordered by the
 *    walk, which depends only on the repository).
 *  - Nothing time-dependent is stored.
 *  - Mails are never rewritten: derived relations (series versions,
 *    replies, "applied" answers) are joins at query time.
 */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "patchgap/lists.h"
#include "patchgap/backport.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/str.h"
#include "util/vec.h"
#include "util/banned.h"

/* ---- config ---- */

void pg_lists_conf_free(pg_list_conf *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].inbox);
	}
	free(v);
}

int pg_lists_conf_load(pg_list_conf **out, size_t *n, const char *config_path)
{
	git_config *cfg = NULL;
	git_config_iterator *it = NULL;
	git_config_entry *e;
	PG_VEC(pg_list_conf) v = PG_VEC_INIT;
	pg_buf dir = PG_BUF_INIT;
	const char *slash;
	int error = 0, rc;

	*out = NULL;
	*n = 0;
	if (git_config_open_ondisk(&cfg, config_path) < 0) {
		error = pg_error_setc(PG_EINVALID, "config '%s': cannot read it", config_path);
		goto out;
	}
	slash = strrchr(config_path, '/');
	if (slash)
		pg_buf_put(&dir, config_path, (size_t)(slash - config_path));
	else
		pg_buf_puts(&dir, ".");
	/* a plain iterator filtered here: libgit2's glob iterator leaks its regex */
	if (git_config_iterator_new(&it, cfg) < 0) {
		error = pg_error_setc(PG_EINVALID, "config '%s': cannot list the [list] sections", config_path);
		goto out;
	}
	while ((rc = git_config_next(&e, it)) == 0) {
		pg_list_conf l = { NULL, NULL };
		size_t len = strlen(e->name), nlen;
		if (len < 5 + 1 + 6 || strncmp(e->name, "list.", 5) || strcmp(e->name + len - 6, ".inbox"))
			continue;
		nlen = len - strlen("list.") - strlen(".inbox");
		if (!*e->value) {
			error = pg_error_setc(PG_EINVALID, "config '%s': list '%.*s' has an empty inbox", config_path,
					      (int)nlen, e->name + 5);
			goto out;
		}
		l.name = pg_strndup(e->name + 5, nlen);
		if (e->value[0] == '/') {
			l.inbox = pg_strdup(e->value);
		} else {
			pg_buf p = PG_BUF_INIT;
			pg_buf_printf(&p, "%s/%s", dir.ptr, e->value);
			l.inbox = pg_buf_detach(&p);
		}
		if (!l.name || !l.inbox || pg_vec_push(&v, l) < 0) {
			free(l.name);
			free(l.inbox);
			error = pg_error_setc(PG_ENOMEM, "out of memory");
			goto out;
		}
	}
	if (rc != GIT_ITEROVER) {
		error = pg_error_setc(PG_EINVALID, "config '%s': cannot read the [list] sections", config_path);
		goto out;
	}
	*out = v.ptr;
	*n = v.len;
	v.ptr = NULL;
	v.len = 0;
out:
	pg_lists_conf_free(v.ptr, v.len);
	git_config_iterator_free(it);
	git_config_free(cfg);
	pg_buf_release(&dir);
	return error;
}

/* ---- ingest ---- */

typedef struct epoch_ref {
	int epoch;
	char *path;
} epoch_ref;

static int cmp_epoch(const void *a, const void *b)
{
	const epoch_ref *x = a, *y = b;
	return (x->epoch > y->epoch) - (x->epoch < y->epoch);
}

/* The epochs of an inbox: git/N.git (v2), else the inbox itself (v1, epoch 0). */
static int list_epochs(epoch_ref **out, size_t *n, const char *inbox)
{
	PG_VEC(epoch_ref) v = PG_VEC_INIT;
	pg_buf p = PG_BUF_INIT;
	DIR *d;
	struct dirent *de;
	struct stat st;
	int error = 0;

	pg_buf_printf(&p, "%s/git", inbox);
	if ((d = opendir(p.ptr))) {
		while ((de = readdir(d))) {
			char *end;
			long e = strtol(de->d_name, &end, 10);
			epoch_ref r;
			if (!isdigit((unsigned char)de->d_name[0]) || strcmp(end, ".git") || e < 0 || e > 1000000)
				continue;
			r.epoch = (int)e;
			pg_buf_reset(&p);
			pg_buf_printf(&p, "%s/git/%s", inbox, de->d_name);
			if (!(r.path = pg_strdup(p.ptr)) || pg_vec_push(&v, r) < 0) {
				closedir(d);
				error = pg_error_setc(PG_ENOMEM, "out of memory");
				goto out;
			}
		}
		closedir(d);
	}
	if (!v.len) {
		pg_buf_reset(&p);
		pg_buf_printf(&p, "%s/objects", inbox);
		if (stat(p.ptr, &st) == 0 && S_ISDIR(st.st_mode)) {
			epoch_ref r = { 0, pg_strdup(inbox) };
			if (!r.path || pg_vec_push(&v, r) < 0) {
				free(r.path);
				error = pg_error_setc(PG_ENOMEM, "out of memory");
				goto out;
			}
		} else {
			error = pg_error_setc(PG_ENOTFOUND,
					      "inbox '%s': not a public-inbox archive (no git/N.git epochs, not a git repository)",
					      inbox);
			goto out;
		}
	}
	qsort(v.ptr, v.len, sizeof(*v.ptr), cmp_epoch);
	*out = v.ptr;
	*n = v.len;
	v.ptr = NULL;
	v.len = 0;
out:
	for (size_t i = 0; i < v.len; i++)
		free(v.ptr[i].path);
	free(v.ptr);
	pg_buf_release(&p);
	return error;
}

/*
 * The blob holding the commit's mail: "m" in v2; in v1 the one blob of
 * the commit's tree that its parent does not have (subtrees with equal ids
 * skipped).  GIT_ENOTFOUND when the commit holds none.
 */
static int mail_blob(git_oid *out, git_commit *c)
{
	git_tree *t = NULL, *pt = NULL, *sub = NULL, *psub = NULL;
	git_commit *parent = NULL;
	const git_tree_entry *e;
	int error = GIT_ENOTFOUND;

	if (git_commit_tree(&t, c) < 0)
		return -1;
	if ((e = git_tree_entry_byname(t, "m")) && git_tree_entry_type(e) == GIT_OBJECT_BLOB) {
		git_oid_cpy(out, git_tree_entry_id(e));
		error = 0;
		goto out;
	}
	if (git_tree_entry_byname(t, "d"))
		goto out;   /* v2 removal */
	if (git_commit_parentcount(c) > 0 && (git_commit_parent(&parent, c, 0) < 0 || git_commit_tree(&pt, parent) < 0)) {
		error = -1;
		goto out;
	}
	for (size_t i = 0; i < git_tree_entrycount(t) && error == GIT_ENOTFOUND; i++) {
		const git_tree_entry *te = git_tree_entry_byindex(t, i), *pe;
		pe = pt ? git_tree_entry_byname(pt, git_tree_entry_name(te)) : NULL;
		if (pe && git_oid_equal(git_tree_entry_id(pe), git_tree_entry_id(te)))
			continue;
		if (git_tree_entry_type(te) == GIT_OBJECT_BLOB) {
			git_oid_cpy(out, git_tree_entry_id(te));
			error = 0;
			break;
		}
		if (git_tree_entry_type(te) != GIT_OBJECT_TREE)
			continue;
		git_tree_free(sub);
		git_tree_free(psub);
		sub = psub = NULL;
		if (git_tree_lookup(&sub, git_commit_owner(c), git_tree_entry_id(te)) < 0) {
			error = -1;
			break;
		}
		if (pe && git_tree_entry_type(pe) == GIT_OBJECT_TREE &&
		    git_tree_lookup(&psub, git_commit_owner(c), git_tree_entry_id(pe)) < 0) {
			error = -1;
			break;
		}
		for (size_t k = 0; k < git_tree_entrycount(sub); k++) {
			const git_tree_entry *se = git_tree_entry_byindex(sub, k), *pse;
			pse = psub ? git_tree_entry_byname(psub, git_tree_entry_name(se)) : NULL;
			if (git_tree_entry_type(se) == GIT_OBJECT_BLOB &&
			    !(pse && git_oid_equal(git_tree_entry_id(pse), git_tree_entry_id(se)))) {
				git_oid_cpy(out, git_tree_entry_id(se));
				error = 0;
				break;
			}
		}
	}
out:
	git_tree_free(sub);
	git_tree_free(psub);
	git_tree_free(t);
	git_tree_free(pt);
	git_commit_free(parent);
	return error;
}

/* A reply saying the patch was taken: "applied", "queued", "pushed to" on an unquoted line. */
static int says_applied(const char *msg)
{
	const char *l = msg;
	while (l && *l) {
		const char *nl = strchr(l, '\n');
		size_t n = nl ? (size_t)(nl - l) : strlen(l);
		if (*l != '>' && n < 200) {
			char line[200];
			memcpy(line, l, n);
			line[n] = '\0';
			pg_str_lower(line);
			if (strstr(line, "applied") || strstr(line, "queued") || strstr(line, "pushed to") ||
			    strstr(line, "was merged"))
				return 1;
		}
		l = nl ? nl + 1 : NULL;
	}
	return 0;
}

typedef struct ingest_stmts {
	pg_stmt *mail, *file, *trailer, *epoch;
} ingest_stmts;

static int store_mail(pg_store *s, ingest_stmts *st, const pg_list_conf *list, int epoch, const git_oid *commit,
		      const git_oid *blob, const pg_mail *m, const pg_lists_ingest_options *opts,
		      pg_lists_stats *stats)
{
	char csha[GIT_OID_HEXSZ + 1], bsha[GIT_OID_HEXSZ + 1], pid[GIT_OID_HEXSZ + 1];
	const char *root = m->message_id;
	pg_buf key = PG_BUF_INIT;
	pg_cls_result r;
	int classified = 0, error = 0, rc;
	int64_t id;
	git_oid poid;

	memset(&r, 0, sizeof(r));
	git_oid_tostr(csha, sizeof(csha), commit);
	git_oid_tostr(bsha, sizeof(bsha), blob);
	pid[0] = '\0';
	if (m->diff && pg_patchid_text(&poid, m->diff, strlen(m->diff), NULL) == 0)
		git_oid_tostr(pid, sizeof(pid), &poid);
	/* the series: the cover letter / thread root is the first reference */
	char first_ref[1000];
	first_ref[0] = '\0';
	if (m->references) {
		const char *sp = strchr(m->references, ' ');
		size_t k = sp ? (size_t)(sp - m->references) : strlen(m->references);
		if (k < sizeof(first_ref)) {
			memcpy(first_ref, m->references, k);
			first_ref[k] = '\0';
			root = first_ref;
		}
	} else if (m->in_reply_to) {
		root = m->in_reply_to;
	}
	pg_buf_printf(&key, "%s %s", m->from_email, m->clean_subject);
	if (opts->model && m->kind == PG_MAIL_PATCH) {
		pg_cls_input in = PG_CLS_INPUT_INIT;
		in.subject = m->subject;
		in.message = m->message;
		in.diff = m->diff;
		in.diff_len = m->diff ? strlen(m->diff) : 0;
		in.files = (const char *const *)m->files;
		in.nfiles = m->nfiles;
		if (in.diff_len == 0)
			in.diff = NULL;
		if ((error = pg_cls_classify(&r, opts->model, &in)) < 0)
			goto out;
		classified = 1;
		stats->flagged += r.label != 0;
	}
	stats->patches += m->kind == PG_MAIL_PATCH;

#define BT(i, v) pg_stmt_bind_text(st->mail, i, v)
	BT(1, list->name);
	pg_stmt_bind_int(st->mail, 2, epoch);
	BT(3, csha);
	BT(4, bsha);
	BT(5, m->message_id);
	BT(6, m->in_reply_to);
	BT(7, m->references);
	BT(8, root);
	BT(9, m->from);
	BT(10, m->from_email);
	pg_stmt_bind_int(st->mail, 11, m->date);
	BT(12, m->subject);
	BT(13, m->clean_subject);
	BT(14, key.ptr);
	BT(15, m->prefix);
	BT(16, m->tree);
	BT(17, pg_mail_kind_name(m->kind));
	pg_stmt_bind_int(st->mail, 18, m->version);
	pg_stmt_bind_int(st->mail, 19, m->index);
	pg_stmt_bind_int(st->mail, 20, m->total);
	pg_stmt_bind_int(st->mail, 21, m->rfc);
	pg_stmt_bind_int(st->mail, 22, m->kind == PG_MAIL_REPLY && says_applied(m->message));
	BT(23, m->message);
	BT(24, m->diff);
	pg_stmt_bind_int(st->mail, 25, (int64_t)m->nfiles_total);
	BT(26, pid[0] ? pid : NULL);
	pg_stmt_bind_int(st->mail, 27, m->flags);
	if (classified) {
		BT(28, pg_cls_model_version(opts->model));
		pg_stmt_bind_double(st->mail, 29, r.p_security);
		pg_stmt_bind_int(st->mail, 30, r.label);
		BT(31, pg_cls_bug_class_name(r.bug_class));
		pg_stmt_bind_double(st->mail, 32, r.priority);
		BT(33, pg_cls_level_name(r.level));
	} else {
		for (int i = 28; i <= 33; i++)
			pg_stmt_bind_null(st->mail, i);
	}
#undef BT
	if ((rc = pg_stmt_step(st->mail)) < 0) {
		error = rc;
		goto out;
	}
	if (!rc) {   /* ON CONFLICT DO NOTHING: stored by an earlier run */
		pg_stmt_reset(st->mail);
		goto out;
	}
	id = pg_stmt_int(st->mail, 0);
	pg_stmt_reset(st->mail);
	stats->mails++;
	for (size_t i = 0; i < m->nfiles; i++) {
		pg_stmt_bind_int(st->file, 1, id);
		pg_stmt_bind_text(st->file, 2, m->files[i]);
		if ((error = pg_stmt_exec(st->file)) < 0)
			goto out;
	}
	for (size_t i = 0; i < m->trailers.n; i++) {
		const pg_trailer *t = &m->trailers.v[i];
		pg_stmt_bind_int(st->trailer, 1, id);
		pg_stmt_bind_int(st->trailer, 2, (int64_t)i);
		pg_stmt_bind_text(st->trailer, 3, pg_trailer_kind_name(t->kind));
		pg_stmt_bind_text(st->trailer, 4, t->value);
		pg_stmt_bind_text(st->trailer, 5, t->ref_id);
		if ((error = pg_stmt_exec(st->trailer)) < 0)
			goto out;
	}
out:
	pg_cls_result_release(&r);
	pg_buf_release(&key);
	return error;
}

static int save_epoch(ingest_stmts *st, const char *list, int epoch, const git_oid *last, size_t n)
{
	char sha[GIT_OID_HEXSZ + 1];
	git_oid_tostr(sha, sizeof(sha), last);
	pg_stmt_bind_text(st->epoch, 1, list);
	pg_stmt_bind_int(st->epoch, 2, epoch);
	pg_stmt_bind_text(st->epoch, 3, sha);
	pg_stmt_bind_int(st->epoch, 4, (int64_t)n);
	return pg_stmt_exec(st->epoch);
}

static int ingest_epoch(pg_store *s, ingest_stmts *st, const pg_list_conf *list, const epoch_ref *ep,
			const pg_lists_ingest_options *opts, pg_lists_stats *stats, size_t *budget)
{
	git_repository *repo = NULL;
	git_revwalk *walk = NULL;
	pg_stmt *q = NULL;
	git_oid id, last, hide;
	int have_hide = 0, error = 0, in_tx = 0, rc;
	size_t in_batch = 0;

	if (git_repository_open_bare(&repo, ep->path) < 0) {
		error = pg_error_setc(PG_EINVALID, "inbox '%s': epoch %d: cannot open '%s': %s", list->inbox, ep->epoch,
				      ep->path, git_error_last() ? git_error_last()->message : "?");
		goto out;
	}
	if ((error = pg_store_prepare(&q, s, "SELECT last_commit FROM list_epochs WHERE list = ? AND epoch = ?")) < 0)
		goto out;
	pg_stmt_bind_text(q, 1, list->name);
	pg_stmt_bind_int(q, 2, ep->epoch);
	if ((rc = pg_stmt_step(q)) < 0) {
		error = rc;
		goto out;
	}
	if (rc && git_oid_fromstr(&hide, pg_stmt_text(q, 0)) == 0)
		have_hide = 1;
	if (git_revwalk_new(&walk, repo) < 0 || git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE) < 0)
		goto git_fail;
	if (git_revwalk_push_head(walk) < 0) {
		/* an epoch without commits yet (just initialised) */
		if (git_repository_head_unborn(repo) == 1)
			goto out;
		goto git_fail;
	}
	if (have_hide && git_revwalk_hide(walk, &hide) < 0) {
		error = pg_error_setc(PG_EINVALID,
				      "inbox '%s': epoch %d: the last commit read, %s, is gone (history rewritten?)",
				      list->inbox, ep->epoch, pg_stmt_text(q, 0));
		goto out;
	}
	stats->epochs++;
	while (*budget && (rc = git_revwalk_next(&id, walk)) == 0) {
		git_commit *c = NULL;
		git_blob *blob = NULL;
		pg_mail *m = NULL;
		git_oid boid;
		if (!in_tx) {
			if ((error = pg_store_begin(s)) < 0)
				goto out;
			in_tx = 1;
		}
		if (git_commit_lookup(&c, repo, &id) < 0)
			goto git_fail;
		rc = mail_blob(&boid, c);
		git_commit_free(c);
		if (rc == GIT_ENOTFOUND) {
			stats->skipped++;
		} else if (rc < 0) {
			goto git_fail;
		} else {
			if (git_blob_lookup(&blob, repo, &boid) < 0)
				goto git_fail;
			error = pg_mail_parse(&m, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
			git_blob_free(blob);
			if (error < 0)
				goto out;
			error = store_mail(s, st, list, ep->epoch, &id, &boid, m, opts, stats);
			pg_mail_free(m);
			if (error < 0)
				goto out;
			if (*budget != SIZE_MAX)
				(*budget)--;
		}
		git_oid_cpy(&last, &id);
		if (++in_batch >= opts->batch) {
			if ((error = save_epoch(st, list->name, ep->epoch, &last, in_batch)) < 0 ||
			    (error = pg_store_commit(s)) < 0)
				goto out;
			in_tx = 0;
			in_batch = 0;
			if (opts->progress)
				opts->progress(list->name, ep->epoch, stats->mails, opts->payload);
		}
	}
	if (*budget && rc != GIT_ITEROVER)
		goto git_fail;
	if (in_tx) {
		if (in_batch && (error = save_epoch(st, list->name, ep->epoch, &last, in_batch)) < 0)
			goto out;
		if ((error = pg_store_commit(s)) < 0)
			goto out;
		in_tx = 0;
	}
	goto out;
git_fail:
	error = pg_error_setc(PG_ERROR, "inbox '%s': epoch %d: %s", list->inbox, ep->epoch,
			      git_error_last() ? git_error_last()->message : "cannot read the repository");
out:
	if (in_tx)
		pg_store_rollback(s);
	pg_stmt_free(q);
	git_revwalk_free(walk);
	git_repository_free(repo);
	return error;
}

int pg_lists_ingest(pg_lists_stats *stats, pg_store *s, const pg_list_conf *list,
		    const pg_lists_ingest_options *opts)
{
	pg_lists_ingest_options o = PG_LISTS_INGEST_OPTIONS_INIT;
	ingest_stmts st = { NULL, NULL, NULL, NULL };
	epoch_ref *eps = NULL;
	size_t neps = 0, budget;
	int error = 0;

	memset(stats, 0, sizeof(*stats));
	if (opts)
		o = *opts;
	if (!o.batch)
		o.batch = 500;
	budget = o.max_mails ? o.max_mails : SIZE_MAX;
	if ((error = list_epochs(&eps, &neps, list->inbox)) < 0)
		goto out;
	if ((error = pg_store_prepare(&st.mail, s,
		"INSERT INTO mails (list, epoch, git_commit, blob, message_id, in_reply_to, refs, series_root,"
		" author, author_email, date, subject, clean_subject, change_key, prefix, tree, kind, version,"
		" idx, total, rfc, applied, message, diff, nfiles, patch_id, flags, model_version, p_security,"
		" label, bug_class, priority, level)"
		" VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
		" ON CONFLICT (list, git_commit) DO NOTHING RETURNING id")) < 0 ||
	    (error = pg_store_prepare(&st.file, s,
		"INSERT INTO mail_files (mail_id, path) VALUES (?, ?) ON CONFLICT DO NOTHING")) < 0 ||
	    (error = pg_store_prepare(&st.trailer, s,
		"INSERT INTO mail_trailers (mail_id, seq, kind, value, ref_id) VALUES (?, ?, ?, ?, ?)"
		" ON CONFLICT DO NOTHING")) < 0 ||
	    (error = pg_store_prepare(&st.epoch, s,
		"INSERT INTO list_epochs (list, epoch, last_commit, mails) VALUES (?, ?, ?, ?)"
		" ON CONFLICT (list, epoch) DO UPDATE SET last_commit = excluded.last_commit,"
		" mails = list_epochs.mails + excluded.mails")) < 0)
		goto out;
	for (size_t i = 0; i < neps && budget; i++)
		if ((error = ingest_epoch(s, &st, list, &eps[i], &o, stats, &budget)) < 0)
			goto out;
out:
	for (size_t i = 0; i < neps; i++)
		free(eps[i].path);
	free(eps);
	pg_stmt_free(st.mail);
	pg_stmt_free(st.file);
	pg_stmt_free(st.trailer);
	pg_stmt_free(st.epoch);
	return error;
}

/* ---- commit <-> mail ---- */

/* The message id at the end of a Link: URL (".../r/<id>", ".../<id>/"), into buf. */
static int link_message_id(char *buf, size_t size, const char *url)
{
	size_t n = strlen(url);
	const char *end, *start;
	while (n && (url[n - 1] == '/' || url[n - 1] == '>' || isspace((unsigned char)url[n - 1])))
		n--;
	end = url + n;
	start = end;
	while (start > url && start[-1] != '/' && start[-1] != '<')
		start--;
	if (!strstr(url, "://") || end - start < 3 || (size_t)(end - start) >= size || !memchr(start, '@', (size_t)(end - start)))
		return 0;
	memcpy(buf, start, (size_t)(end - start));
	buf[end - start] = '\0';
	return 1;
}

int pg_lists_link(size_t *linked, pg_store *s, git_repository *repo)
{
	pg_stmt *q = NULL, *find = NULL, *ins = NULL, *cand = NULL;
	int error = 0, rc;

	*linked = 0;
	if ((error = pg_store_begin(s)) < 0)
		return error;
	if ((error = pg_store_prepare(&ins, s,
		"INSERT INTO commit_mails (sha, mail_id, how) VALUES (?, ?, ?) ON CONFLICT (sha) DO NOTHING")) < 0 ||
	    (error = pg_store_prepare(&find, s,
		"SELECT id FROM mails WHERE message_id = ? ORDER BY kind <> 'patch', id LIMIT 1")) < 0)
		goto out;
	/* 1. Link: trailers naming a stored message id */
	if ((error = pg_store_prepare(&q, s,
		"SELECT c.sha, t.value FROM trailers t JOIN commits c ON c.id = t.commit_id"
		" WHERE t.kind = 'link' AND c.sha NOT IN (SELECT sha FROM commit_mails) ORDER BY c.id, t.seq")) < 0)
		goto out;
	while ((rc = pg_stmt_step(q)) == 1) {
		char mid[1000];
		if (!pg_stmt_text(q, 1) || !link_message_id(mid, sizeof(mid), pg_stmt_text(q, 1)))
			continue;
		pg_stmt_bind_text(find, 1, mid);
		if ((rc = pg_stmt_step(find)) == 1) {
			int64_t mail = pg_stmt_int(find, 0);
			pg_stmt_reset(find);
			pg_stmt_bind_text(ins, 1, pg_stmt_text(q, 0));
			pg_stmt_bind_int(ins, 2, mail);
			pg_stmt_bind_text(ins, 3, "link");
			if ((error = pg_stmt_exec(ins)) < 0)
				goto out;
			*linked += (size_t)pg_store_changes(s);
		} else {
			pg_stmt_reset(find);
			if (rc < 0) {
				error = rc;
				goto out;
			}
		}
	}
	if (rc < 0) {
		error = rc;
		goto out;
	}
	/* 2./3. the same subject: patch-id first, then the author's address */
	if ((error = pg_store_prepare(&cand, s,
		"SELECT c.sha, m.id, m.patch_id, c.author_email = m.author_email FROM commits c"
		" JOIN mails m ON m.clean_subject = c.subject AND m.kind = 'patch'"
		" WHERE c.sha NOT IN (SELECT sha FROM commit_mails)"
		" ORDER BY c.id, m.date, m.id")) < 0)
		goto out;
	{
		char cur[GIT_OID_HEXSZ + 1] = "", cur_pid[GIT_OID_HEXSZ + 1] = "";
		int64_t by_author = 0, by_pid = 0;
		int done_cur = 0;
		for (;;) {
			const char *sha;
			rc = pg_stmt_step(cand);
			if (rc < 0) {
				error = rc;
				goto out;
			}
			sha = rc ? pg_stmt_text(cand, 0) : NULL;
			if (!sha || strcmp(sha, cur)) {
				/* flush the previous commit: patch-id wins over subject + author */
				if (cur[0] && (by_pid || by_author)) {
					pg_stmt_bind_text(ins, 1, cur);
					pg_stmt_bind_int(ins, 2, by_pid ? by_pid : by_author);
					pg_stmt_bind_text(ins, 3, by_pid ? "patch-id" : "subject");
					if ((error = pg_stmt_exec(ins)) < 0)
						goto out;
					*linked += (size_t)pg_store_changes(s);
				}
				if (!sha)
					break;
				snprintf(cur, sizeof(cur), "%s", sha);
				by_author = by_pid = 0;
				done_cur = 0;
				cur_pid[0] = '\0';
				if (repo) {
					git_oid coid, pid;
					if (git_oid_fromstr(&coid, sha) == 0 && pg_patchid_commit(&pid, repo, &coid) == 0)
						git_oid_tostr(cur_pid, sizeof(cur_pid), &pid);
				}
			}
			if (done_cur)
				continue;
			if (cur_pid[0] && pg_stmt_text(cand, 2) && !strcmp(cur_pid, pg_stmt_text(cand, 2))) {
				by_pid = pg_stmt_int(cand, 1);
				done_cur = 1;
			} else if (!by_author && pg_stmt_int(cand, 3)) {
				by_author = pg_stmt_int(cand, 1);
			}
		}
	}
	error = pg_store_commit(s);
	pg_stmt_free(q);
	pg_stmt_free(find);
	pg_stmt_free(ins);
	pg_stmt_free(cand);
	return error;
out:
	pg_store_rollback(s);
	pg_stmt_free(q);
	pg_stmt_free(find);
	pg_stmt_free(ins);
	pg_stmt_free(cand);
	return error;
}

/* ---- queries ---- */

static json_t *col_json(pg_stmt *st, int i)
{
	const char *t;
	if (pg_stmt_isnull(st, i))
		return json_null();
	t = pg_stmt_text(st, i);
	return pg_json_string(t ? t : "");
}

static json_t *date_json(int64_t t)
{
	char buf[40];
	if (!t)
		return json_null();
	pg_time_iso8601(buf, sizeof(buf), t);
	return pg_json_string(buf);
}

#define MAIL_COLS "m.id, m.list, m.message_id, m.author, m.date, m.subject, m.kind, m.version, m.idx, m.total," \
		  " m.rfc, m.tree, m.label, m.p_security, m.bug_class, m.level, m.change_key, m.series_root," \
		  " m.in_reply_to, m.applied, m.nfiles, m.patch_id, m.flags"

static json_t *mail_row(pg_stmt *st)
{
	json_t *o = json_object();
	pg_json_set(o, "list", col_json(st, 1));
	pg_json_set(o, "message_id", col_json(st, 2));
	pg_json_set(o, "author", col_json(st, 3));
	pg_json_set(o, "date", date_json(pg_stmt_int(st, 4)));
	pg_json_set(o, "subject", col_json(st, 5));
	pg_json_set(o, "kind", col_json(st, 6));
	pg_json_set(o, "version", json_integer(pg_stmt_int(st, 7)));
	pg_json_set(o, "index", json_integer(pg_stmt_int(st, 8)));
	pg_json_set(o, "total", json_integer(pg_stmt_int(st, 9)));
	pg_json_set(o, "rfc", json_boolean(pg_stmt_int(st, 10)));
	pg_json_set(o, "tree", col_json(st, 11));
	if (!pg_stmt_isnull(st, 12)) {
		json_t *v = json_object();
		pg_json_set(v, "flagged", json_boolean(pg_stmt_int(st, 12)));
		pg_json_set(v, "p_security", json_real((double)(int64_t)(pg_stmt_double(st, 13) * 1000 + 0.5) / 1000));
		pg_json_set(v, "bug_class", col_json(st, 14));
		pg_json_set(v, "level", col_json(st, 15));
		pg_json_set(o, "verdict", v);
	} else {
		pg_json_set(o, "verdict", json_null());
	}
	pg_json_set(o, "in_reply_to", col_json(st, 18));
	pg_json_set(o, "applied", json_boolean(pg_stmt_int(st, 19)));
	pg_json_set(o, "files", json_integer(pg_stmt_int(st, 20)));
	pg_json_set(o, "patch_id", col_json(st, 21));
	pg_json_set(o, "flags", json_integer(pg_stmt_int(st, 22)));
	return o;
}

/* Append the mails of sql; each of its nparams parameters is bound to p. */
static int rows(json_t *arr, pg_store *s, const char *sql, const char *p, int nparams)
{
	pg_stmt *st = NULL;
	int error, rc;
	if ((error = pg_store_prepare(&st, s, sql)) < 0)
		return error;
	for (int i = 1; i <= nparams; i++)
		pg_stmt_bind_text(st, i, p);
	while ((rc = pg_stmt_step(st)) == 1)
		json_array_append_new(arr, mail_row(st));
	pg_stmt_free(st);
	return rc < 0 ? rc : 0;
}

int pg_lists_show(json_t **out, pg_store *s, const char *message_id)
{
	json_t *o = NULL, *arr;
	pg_stmt *st = NULL, *q = NULL;
	int error = 0, rc;
	char *key = NULL, *root = NULL;
	int64_t id = 0;

	*out = NULL;
	if ((error = pg_store_prepare(&st, s, "SELECT " MAIL_COLS ", m.message, m.diff FROM mails m"
					      " WHERE m.message_id = ? ORDER BY m.id LIMIT 1")) < 0)
		goto out;
	pg_stmt_bind_text(st, 1, message_id);
	if ((rc = pg_stmt_step(st)) <= 0) {
		error = rc < 0 ? rc : pg_error_setc(PG_ENOTFOUND, "no stored mail has message id '%s'", message_id);
		goto out;
	}
	o = mail_row(st);
	id = pg_stmt_int(st, 0);
	pg_json_set(o, "message", col_json(st, 23));
	key = pg_strdup(pg_stmt_text(st, 16));
	root = pg_strdup(pg_stmt_text(st, 17));
	if (!key || !root) {
		error = pg_error_setc(PG_ENOMEM, "out of memory");
		goto out;
	}
	pg_stmt_free(st);
	st = NULL;
	/* touched files */
	arr = json_array();
	if ((error = pg_store_prepare(&q, s, "SELECT path FROM mail_files WHERE mail_id = ? ORDER BY path")) < 0)
		goto out;
	pg_stmt_bind_int(q, 1, id);
	while ((rc = pg_stmt_step(q)) == 1)
		json_array_append_new(arr, pg_json_string(pg_stmt_text(q, 0)));
	pg_json_set(o, "paths", arr);
	pg_stmt_free(q);
	q = NULL;
	/* trailers */
	arr = json_array();
	if ((error = pg_store_prepare(&q, s, "SELECT kind, value FROM mail_trailers WHERE mail_id = ? ORDER BY seq")) < 0)
		goto out;
	pg_stmt_bind_int(q, 1, id);
	while ((rc = pg_stmt_step(q)) == 1) {
		json_t *t = json_object();
		pg_json_set(t, "kind", col_json(q, 0));
		pg_json_set(t, "value", col_json(q, 1));
		json_array_append_new(arr, t);
	}
	pg_json_set(o, "trailers", arr);
	/* every version of the same patch (b4: same author, same subject after the tags) */
	arr = json_array();
	if ((error = rows(arr, s, "SELECT " MAIL_COLS " FROM mails m WHERE m.change_key = ? AND m.kind = 'patch'"
				   " ORDER BY m.version, m.date, m.id", key, 1)) < 0)
		goto out;
	{
		/* superseded: a later version exists */
		int64_t maxv = 0, mine = json_integer_value(json_object_get(o, "version"));
		size_t i;
		json_t *v;
		json_array_foreach(arr, i, v)
			if (json_integer_value(json_object_get(v, "version")) > maxv)
				maxv = json_integer_value(json_object_get(v, "version"));
		pg_json_set(o, "superseded", json_boolean(maxv > mine));
		pg_json_set(o, "first_version_date", json_array_size(arr) ?
			    json_deep_copy(json_object_get(json_array_get(arr, 0), "date")) : json_null());
	}
	pg_json_set(o, "versions", arr);
	/* the series: cover letter and siblings */
	arr = json_array();
	if ((error = rows(arr, s, "SELECT " MAIL_COLS " FROM mails m WHERE (m.series_root = ? OR m.message_id = ?)"
				   " AND m.kind IN ('patch', 'cover') ORDER BY m.idx, m.id", root, 2)) < 0)
		goto out;
	pg_json_set(o, "series", arr);
	/* replies: review tags and "applied" answers */
	arr = json_array();
	if ((error = rows(arr, s, "SELECT " MAIL_COLS " FROM mails m WHERE m.in_reply_to = ? ORDER BY m.date, m.id",
			  message_id, 1)) < 0)
		goto out;
	{
		size_t i;
		json_t *v, *reviews = json_array();
		pg_stmt_free(q);
		q = NULL;
		if ((error = pg_store_prepare(&q, s,
			"SELECT t.kind, t.value FROM mail_trailers t JOIN mails m ON m.id = t.mail_id"
			" WHERE m.in_reply_to = ? AND t.kind IN ('reviewed_by', 'acked_by', 'tested_by')"
			" ORDER BY m.id, t.seq")) < 0)
			goto out;
		pg_stmt_bind_text(q, 1, message_id);
		while ((rc = pg_stmt_step(q)) == 1) {
			json_t *t = json_object();
			pg_json_set(t, "kind", col_json(q, 0));
			pg_json_set(t, "value", col_json(q, 1));
			json_array_append_new(reviews, t);
		}
		pg_json_set(o, "reviews", reviews);
		int applied = 0;
		json_array_foreach(arr, i, v)
			applied |= json_is_true(json_object_get(v, "applied"));
		pg_json_set(o, "applied_reply", json_boolean(applied));
	}
	pg_json_set(o, "replies", arr);
	/* commits linked to it */
	arr = json_array();
	pg_stmt_free(q);
	q = NULL;
	if ((error = pg_store_prepare(&q, s, "SELECT sha, how FROM commit_mails WHERE mail_id = ? ORDER BY sha")) < 0)
		goto out;
	pg_stmt_bind_int(q, 1, id);
	while ((rc = pg_stmt_step(q)) == 1) {
		json_t *t = json_object();
		pg_json_set(t, "sha", col_json(q, 0));
		pg_json_set(t, "how", col_json(q, 1));
		json_array_append_new(arr, t);
	}
	pg_json_set(o, "commits", arr);
	*out = o;
	o = NULL;
out:
	json_decref(o);
	free(key);
	free(root);
	pg_stmt_free(st);
	pg_stmt_free(q);
	return error;
}

int pg_lists_log(json_t **out, pg_store *s, int flagged, int64_t since, size_t limit)
{
	json_t *arr = json_array();
	pg_buf sql = PG_BUF_INIT;
	int error;
	pg_buf_printf(&sql, "SELECT " MAIL_COLS " FROM mails m WHERE m.date >= ?%s ORDER BY m.date DESC, m.id DESC",
		      flagged ? " AND m.label = 1 AND m.kind = 'patch'" : "");
	if (limit)
		pg_buf_printf(&sql, " LIMIT %zu", limit);
	{
		pg_stmt *st = NULL;
		int rc;
		if ((error = pg_store_prepare(&st, s, sql.ptr)) < 0)
			goto out;
		pg_stmt_bind_int(st, 1, since);
		while ((rc = pg_stmt_step(st)) == 1)
			json_array_append_new(arr, mail_row(st));
		pg_stmt_free(st);
		if ((error = rc) < 0)
			goto out;
	}
	*out = arr;
	arr = NULL;
out:
	json_decref(arr);
	pg_buf_release(&sql);
	return error < 0 ? error : 0;
}

int pg_lists_commit_mail(json_t **out, pg_store *s, const char *sha)
{
	pg_stmt *st = NULL;
	json_t *o = NULL;
	int error = 0, rc;
	*out = NULL;
	if ((error = pg_store_prepare(&st, s,
		"SELECT " MAIL_COLS ", cm.how, (SELECT MIN(f.date) FROM mails f WHERE f.change_key = m.change_key"
		" AND f.kind = 'patch'), (SELECT COUNT(DISTINCT f.version) FROM mails f WHERE f.change_key = m.change_key"
		" AND f.kind = 'patch'), c.committer_time"
		" FROM commit_mails cm JOIN mails m ON m.id = cm.mail_id LEFT JOIN commits c ON c.sha = cm.sha"
		" WHERE cm.sha = ?")) < 0)
		return error;
	pg_stmt_bind_text(st, 1, sha);
	if ((rc = pg_stmt_step(st)) <= 0) {
		error = rc < 0 ? rc : PG_ENOTFOUND;
		goto out;
	}
	o = mail_row(st);
	pg_json_set(o, "how", col_json(st, 23));
	pg_json_set(o, "first_version_date", date_json(pg_stmt_int(st, 24)));
	pg_json_set(o, "versions_seen", json_integer(pg_stmt_int(st, 25)));
	if (!pg_stmt_isnull(st, 26) && pg_stmt_int(st, 24))
		pg_json_set(o, "lead_days", json_integer((pg_stmt_int(st, 26) - pg_stmt_int(st, 24)) / 86400));
	*out = o;
	o = NULL;
out:
	json_decref(o);
	pg_stmt_free(st);
	return error;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

int pg_lists_lead(json_t **out, pg_store *s)
{
	pg_stmt *st = NULL;
	json_t *arr = json_array();
	PG_VEC(int64_t) commit_days = PG_VEC_INIT, cve_days = PG_VEC_INIT;
	char cur[512] = "";
	int error = 0, rc;

	*out = NULL;
	/* per commit: its mail's list and tree, first version date, commit time, earliest CVE publication */
	if ((error = pg_store_prepare(&st, s,
		"SELECT m.list || CASE WHEN m.tree IS NULL THEN '' ELSE ' ' || m.tree END AS sub,"
		" (SELECT MIN(f.date) FROM mails f WHERE f.change_key = m.change_key AND f.kind = 'patch') AS first,"
		" c.committer_time,"
		" (SELECT MIN(v.published) FROM cve_fixes x JOIN cves v ON v.id = x.cve_id WHERE x.sha = cm.sha)"
		" FROM commit_mails cm JOIN mails m ON m.id = cm.mail_id JOIN commits c ON c.sha = cm.sha"
		" ORDER BY sub, cm.sha")) < 0)
		goto out;
	for (;;) {
		const char *sub;
		rc = pg_stmt_step(st);
		if (rc < 0) {
			error = rc;
			goto out;
		}
		sub = rc ? pg_stmt_text(st, 0) : NULL;
		if (!sub || strcmp(sub, cur)) {
			if (cur[0] && commit_days.len) {
				json_t *o = json_object();
				qsort(commit_days.ptr, commit_days.len, sizeof(int64_t), cmp_i64);
				if (cve_days.len)
					qsort(cve_days.ptr, cve_days.len, sizeof(int64_t), cmp_i64);
				pg_json_set(o, "subsystem", pg_json_string(cur));
				pg_json_set(o, "commits", json_integer((json_int_t)commit_days.len));
				pg_json_set(o, "median_days_before_commit",
					    json_integer(commit_days.ptr[commit_days.len / 2]));
				pg_json_set(o, "max_days_before_commit",
					    json_integer(commit_days.ptr[commit_days.len - 1]));
				pg_json_set(o, "with_cve", json_integer((json_int_t)cve_days.len));
				pg_json_set(o, "median_days_before_cve", cve_days.len ?
					    json_integer(cve_days.ptr[cve_days.len / 2]) : json_null());
				json_array_append_new(arr, o);
			}
			commit_days.len = cve_days.len = 0;
			if (!sub)
				break;
			snprintf(cur, sizeof(cur), "%s", sub);
		}
		if (pg_stmt_isnull(st, 1) || !pg_stmt_int(st, 1))
			continue;
		if (pg_vec_push(&commit_days, (pg_stmt_int(st, 2) - pg_stmt_int(st, 1)) / 86400) < 0) {
			error = pg_error_setc(PG_ENOMEM, "out of memory");
			goto out;
		}
		if (!pg_stmt_isnull(st, 3)) {
			int64_t pub;
			if (pg_time_parse(&pub, pg_stmt_text(st, 3)) == 0 &&
			    pg_vec_push(&cve_days, (pub - pg_stmt_int(st, 1)) / 86400) < 0) {
				error = pg_error_setc(PG_ENOMEM, "out of memory");
				goto out;
			}
		}
	}
	*out = arr;
	arr = NULL;
out:
	json_decref(arr);
	pg_vec_release(&commit_days);
	pg_vec_release(&cve_days);
	pg_stmt_free(st);
	return error;
}

int pg_lists_mail_patch(char **out, size_t *outlen, pg_store *s, const char *mid, size_t len)
{
	pg_stmt *q = NULL;
	int error, rc;
	*out = NULL;
	*outlen = 0;
	if ((error = pg_store_prepare(&q, s, "SELECT subject, message, diff FROM mails WHERE message_id = ?"
					     " AND diff IS NOT NULL ORDER BY id LIMIT 1")) < 0)
		return error;
	pg_stmt_bind_textn(q, 1, mid, len);
	if ((rc = pg_stmt_step(q)) == 1) {
		pg_buf t = PG_BUF_INIT;
		pg_buf_printf(&t, "Subject: %s\n\n%s\n---\n%s", pg_stmt_text(q, 0), pg_stmt_text(q, 1), pg_stmt_text(q, 2));
		*outlen = t.len;
		if (!(*out = pg_buf_detach(&t)))
			rc = pg_error_setc(PG_ENOMEM, "out of memory");
	}
	pg_stmt_free(q);
	return rc < 0 ? rc : rc == 1;
}
