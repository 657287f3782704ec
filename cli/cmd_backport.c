/*
 * cmd_backport.c - `patchgap backport <commit> --onto <branch>`: apply an
 * upstream fix onto an older branch in memory and report clean / with
 * prerequisites / conflict / already present, optionally writing the
 * series as commits, an mbox, running a test command and recording the run.
 */
#include <ctype.h>
#include <dirent.h>
#include <sys/stat.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <git2.h>
#include "cli.h"
#include "patchgap/affect.h"
#include "patchgap/backport.h"
#include "patchgap/jobs.h"
#include "patchgap/lists.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/str.h"
#include "util/vec.h"
#include "util/banned.h"

static const char usage[] =
	"usage: patchgap backport <commit|CVE-ID> --onto <branch-or-ref> [--repo PATH] [--with-deps]\n"
	"                         [--no-branch] [--mbox FILE] [--test CMD] [--timeout SEC]\n"
	"                         [--max-deps N] [--json]\n"
	"       patchgap backport --all --onto <tracked-branch> [options]\n"
	"       patchgap backport --patch FILE|MBOX|DIR|MESSAGE-ID --onto <branch-or-ref> [--json]\n"
	"\n"
	"Cherry-picks <commit> onto the head of <branch> in memory (the working tree,\n"
	"index and HEAD are never touched).  Outcomes:\n"
	"  present    already on the branch (ancestor, 'commit X upstream' annotation,\n"
	"             same git patch-id --stable, or the change is already in the files)\n"
	"  clean      applies alone: commit on refs/heads/patchgap/<branch>/<id12>\n"
	"  with-deps  applies after prerequisite upstream commits (found by blaming the\n"
	"             conflicting lines and from Fixes:/Depends-on: lines)\n"
	"  conflict   no series up to --max-deps applies: conflicting files and hunks\n"
	"\n"
	"  --onto REF      branch name, full ref or revision to apply onto (required)\n"
	"  --repo PATH     the git repository (default: core.repository of the config)\n"
	"  --with-deps     create the prerequisite series as commits too\n"
	"  --no-branch     only report: create no commit and no ref\n"
	"  --mbox FILE     write the series as an mbox for 'git am' ('-' = stdout)\n"
	"  --test CMD      run 'sh -c CMD' in a temporary checkout of the result\n"
	"  --timeout SEC   test time limit (default 600); the process group is killed\n"
	"  --max-deps N    largest number of prerequisites tried (default 8)\n"
	"  --json          print the result as JSON\n"
	"\n"
	"  --all           every open fix of the tracked branch (patchgap status), by\n"
	"                  severity then age, continuing past failures; summary table\n"
	"\n"
	"  --patch P       try patches that are not commits, in memory: a format-patch\n"
	"                  file, an mbox series, a directory applied in name order (a\n"
	"                  vendor backport queue), or a message id stored by 'lists\n"
	"                  ingest'; per patch present / clean / conflict (with the\n"
	"                  hunks); each clean patch is kept for the next one\n"
	"\n"
	"A CVE id backports the CVE's fix commits (from the imported CVE records and\n"
	"the ingested history: needs the database).  The run is recorded in the\n"
	"database (table backport_runs) when --db is given or the config names one.\n"
	"\n"
	"Exit status: 0 present, or clean/with-deps and created (test passed);\n"
	"1 conflict, prerequisites needed without --with-deps, or the test failed\n"
	"(--all: for any fix); 2 usage; 3 unknown commit, CVE, branch or repository;\n"
	"4 the fix is a merge or root commit (--patch: a patch without a readable diff).\n";

static int open_repo(git_repository **repo, struct pg_cli *cli, const char *path, pg_config **cfg_out)
{
	pg_config *cfg = NULL;
	int rc;

	if (!path) {
		if ((rc = pg_cli_load_config(&cfg, cli)) > 0)
			return rc;
		path = cfg->repository;
	}
	if (git_repository_open_ext(repo, path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0) {
		pg_cli_error(cli, "'%s' is not a git repository", path);
		pg_config_free(cfg);
		return PG_EXIT_NOTFOUND;
	}
	*cfg_out = cfg;
	return 0;
}

static int is_cve(const char *s)
{
	return (s[0] == 'C' || s[0] == 'c') && !strncmp(s + 1, s[0] == 'C' ? "VE-" : "ve-", 3) &&
	       isdigit((unsigned char)s[4]);
}

static void print_snippet(const char *label, unsigned start, unsigned lines, const char *text)
{
	const char *p = text;
	if (lines)
		printf("      %s lines %u-%u:\n", label, start, start + lines - 1);
	else
		printf("      %s: (nothing, insertion before line %u)\n", label, start);
	while (p && *p) {
		const char *nl = strchr(p, '\n');
		int n = nl ? (int)(nl - p) : (int)strlen(p);
		printf("      | %.*s\n", n, p);
		p = nl ? nl + 1 : NULL;
	}
}

static void print_conflicts(const char *title, const pg_backport_conflict *c, size_t n)
{
	char hex[GIT_OID_HEXSZ + 1];
	if (!n)
		return;
	printf("%s:\n", title);
	for (size_t i = 0; i < n; i++) {
		git_oid_tostr(hex, sizeof(hex), &c[i].commit);
		printf("  %s (%s conflict applying %.12s)", c[i].path, c[i].kind, hex);
		if (strcmp(c[i].path, c[i].upstream_path))
			printf(" [upstream: %s]", c[i].upstream_path);
		putchar('\n');
		for (size_t j = 0; j < c[i].nhunks; j++) {
			const pg_backport_hunk *h = &c[i].hunks[j];
			printf("    hunk %zu: branch %u-%u, upstream parent %u-%u, commit %u-%u\n", j + 1,
			       h->ours_start, h->ours_start + (h->ours_lines ? h->ours_lines - 1 : 0),
			       h->base_start, h->base_start + (h->base_lines ? h->base_lines - 1 : 0),
			       h->theirs_start, h->theirs_start + (h->theirs_lines ? h->theirs_lines - 1 : 0));
			print_snippet("branch (ours)", h->ours_start, h->ours_lines, h->ours);
			print_snippet("commit (theirs)", h->theirs_start, h->theirs_lines, h->theirs);
		}
	}
}

static void print_text(const pg_backport_result *r)
{
	char a[GIT_OID_HEXSZ + 1], b[GIT_OID_HEXSZ + 1];

	git_oid_tostr(a, sizeof(a), &r->fix);
	printf("fix:      %.12s %s\n", a, r->fix_subject);
	git_oid_tostr(a, sizeof(a), &r->head);
	git_oid_tostr(b, sizeof(b), &r->fork_point);
	printf("onto:     %s (%.12s)", r->onto_ref, a);
	if (r->has_fork_point)
		printf(", fork point %.12s", b);
	putchar('\n');
	switch (r->status) {
	case PG_BACKPORT_PRESENT:
		printf("result:   already present (%s)\n  %s\n", r->present_how, r->present_evidence);
		break;
	case PG_BACKPORT_CLEAN:
		printf("result:   clean\n");
		break;
	case PG_BACKPORT_WITH_DEPS:
		printf("result:   applies with %zu prerequisite%s\n", r->nsteps - 1, r->nsteps == 2 ? "" : "s");
		break;
	default:
		printf("result:   conflict\n");
	}
	for (size_t i = 0; i < r->nrenames; i++)
		printf("renamed on branch: %s -> %s (similarity %u%%)\n", r->renames[i].from, r->renames[i].to,
		       r->renames[i].similarity);
	print_conflicts("conflicts of the fix alone", r->conflicts, r->nconflicts);
	if (r->ncandidates) {
		printf("prerequisite candidates:\n");
		for (size_t i = 0; i < r->ncandidates; i++) {
			git_oid_tostr(a, sizeof(a), &r->candidates[i].id);
			printf("  %.12s %s [%s]%s\n", a, r->candidates[i].subject, r->candidates[i].why,
			       r->candidates[i].used ? " (in series)" : "");
		}
	}
	if (r->status != PG_BACKPORT_PRESENT && r->nsteps &&
	    !(r->status == PG_BACKPORT_CONFLICT && r->nsteps == 1)) {
		printf("%s:\n", r->status == PG_BACKPORT_CONFLICT ? "last series tried" : "series");
		for (size_t i = 0; i < r->nsteps; i++) {
			git_oid_tostr(a, sizeof(a), &r->steps[i].upstream);
			git_oid_tostr(b, sizeof(b), &r->steps[i].created);
			printf("  %zu/%zu %.12s %s [%s]", i + 1, r->nsteps, a, r->steps[i].subject, r->steps[i].why);
			if (!git_oid_is_zero(&r->steps[i].created))
				printf(" -> %.12s", b);
			putchar('\n');
		}
	}
	if (r->nsteps > 1) /* with the fix alone they are the conflicts above */
		print_conflicts("remaining conflicts", r->remaining, r->nremaining);
	if (r->status == PG_BACKPORT_CONFLICT)
		printf("no prerequisite series up to --max-deps applies%s\n",
		       r->ncandidates ? "" : " (no upstream commit touched the conflicting lines)");
	if (r->created_ref)
		printf("created:  %s\n", r->created_ref);
	else if (r->status == PG_BACKPORT_WITH_DEPS)
		printf("not created: rerun with --with-deps to create the series\n");
	if (r->test.ran) {
		printf("test:     %s (%s) in %lld ms\n", r->test.passed ? "passed" : "FAILED", r->test.reason,
		       (long long)r->test.duration_ms);
		if (!r->test.passed && r->test.log_tail && *r->test.log_tail) {
			const char *p = r->test.log_tail;
			printf("  log tail:\n");
			while (p && *p) {
				const char *nl = strchr(p, '\n');
				int n = nl ? (int)(nl - p) : (int)strlen(p);
				printf("  | %.*s\n", n, p);
				p = nl ? nl + 1 : NULL;
			}
		}
	}
	if (r->livepatch) {
		printf("live patch: %s\n", pg_livepatch_level_name(r->livepatch->level));
		for (size_t i = 0; i < r->livepatch->nreasons; i++)
			printf("  %s %s:%u: %s\n", r->livepatch->reasons[i].rule, r->livepatch->reasons[i].file,
			       r->livepatch->reasons[i].line, r->livepatch->reasons[i].detail);
	}
}

static int write_file(struct pg_cli *cli, const char *path, const char *text)
{
	int error;
	if (!strcmp(path, "-")) {
		fputs(text, stdout);
		return 0;
	}
	/* a temporary file (O_EXCL) renamed over path: never half a series */
	if ((error = pg_fs_write_file_atomic(path, text, strlen(text))) < 0)
		return pg_cli_fail(cli, error);
	return 0;
}

/* Exit code of one result: 0 done, 1 not applied or test failed. */
static int result_rc(const pg_backport_result *r, const pg_backport_options *bo)
{
	if (r->status == PG_BACKPORT_CONFLICT || (r->status == PG_BACKPORT_WITH_DEPS && !bo->with_deps) ||
	    (r->test.ran && !r->test.passed))
		return PG_EXIT_ERROR;
	return PG_EXIT_OK;
}

struct run_ctx {
	struct pg_cli *cli;
	git_repository *repo;
	pg_store *store;         /* record runs here, or NULL */
	const pg_backport_options *bo;
	const char *mbox;        /* path, or NULL */
	int many;                /* several fixes: collect JSON, keep going */
	json_t *results;         /* JSON array when many */
};

/*
 * Backport one fix (a revision) onto onto.  Returns an exit code; *r_out
 * (optional) receives the result.  With rc->many, library errors are
 * printed and returned, never fatal for the caller.
 */
/*
 * [worker] enabled: one backport job per open fix, in priority order (job
 * ids follow it), for `patchgap worker` processes to run; a fix already
 * queued for this branch is not queued again.
 */
static int enqueue_all(struct pg_cli *cli, pg_store *store, json_t **items, size_t n,
		       const char *target, const char *branch, const pg_backport_options *bo)
{
	size_t queued = 0, existing = 0;
	int error = 0;

	if ((error = pg_store_begin(store)) < 0)
		return pg_cli_fail(cli, error);
	for (size_t i = 0; i < n && !error; i++) {
		const char *fix = json_string_value(json_object_get(items[i], "fix"));
		json_t *args;
		char *text;
		int64_t id = 0;
		if (!fix)
			continue;
		args = json_pack("[s, s, s]", fix, "--onto", target);
		if (args && bo->with_deps)
			json_array_append_new(args, json_string("--with-deps"));
		text = args ? json_dumps(args, JSON_COMPACT) : NULL;
		if (!text)
			error = pg_error_setc(PG_ENOMEM, "out of memory");
		else
			error = pg_jobs_enqueue(store, "backport", text, NULL, 3, (int64_t)time(NULL), &id);
		free(text);
		json_decref(args);
		if (id)
			queued++;
		else
			existing++;
	}
	if (error < 0) {
		pg_store_rollback(store);
		return pg_cli_fail(cli, error);
	}
	if ((error = pg_store_commit(store)) < 0)
		return pg_cli_fail(cli, error);
	if (cli->json)
		printf("{\n  \"branch\": \"%s\",\n  \"existing\": %zu,\n  \"queued\": %zu\n}\n", branch, existing, queued);
	else if (!cli->quiet)
		printf("queued %zu backport job%s for %s (%zu already queued); run 'patchgap worker'\n",
		       queued, queued == 1 ? "" : "s", branch, existing);
	return PG_EXIT_OK;
}

static int run_one(struct run_ctx *rc, const char *fix, const char *onto, pg_backport_result **r_out)
{
	struct pg_cli *cli = rc->cli;
	pg_backport_result *r = NULL;
	git_object *obj = NULL;
	char *text = NULL;
	int code, error;

	if (r_out)
		*r_out = NULL;
	if (git_revparse_single(&obj, rc->repo, fix) < 0 || git_object_type(obj) != GIT_OBJECT_COMMIT) {
		git_object *peeled = NULL;
		if (obj && git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT) == 0) {
			git_object_free(obj);
			obj = peeled;
		} else {
			git_object_free(obj);
			pg_cli_error(cli, "unknown fix '%s': no such commit in %s", fix, git_repository_path(rc->repo));
			return PG_EXIT_NOTFOUND;
		}
	}
	error = pg_backport_run(&r, rc->repo, git_object_id(obj), onto, rc->bo);
	git_object_free(obj);
	if (error < 0)
		return pg_cli_fail(cli, error);
	if (rc->store && (error = pg_backport_record(rc->store, r, rc->bo->test_cmd, (int64_t)time(NULL), NULL)) < 0) {
		code = pg_cli_fail(cli, error);
		goto out;
	}
	if (rc->mbox) {
		if (r->status == PG_BACKPORT_CLEAN || r->status == PG_BACKPORT_WITH_DEPS) {
			if ((error = pg_backport_mbox(&text, rc->repo, r)) < 0) {
				code = pg_cli_fail(cli, error);
				goto out;
			}
			if ((code = write_file(cli, rc->mbox, text)) > 0)
				goto out;
			free(text);
			text = NULL;
		} else if (!cli->quiet)
			fprintf(stderr, "patchgap backport: no mbox written: the result is %s\n",
				pg_backport_status_name(r->status));
	}
	if (cli->json) {
		if ((error = pg_backport_json(&text, r)) < 0) {
			code = pg_cli_fail(cli, error);
			goto out;
		}
		if (rc->many) {
			json_t *j = json_loads(text, 0, NULL);
			if (j)
				json_array_append_new(rc->results, j);
		} else
			printf("%s\n", text);
	} else if (!cli->quiet)
		print_text(r);
	code = result_rc(r, rc->bo);
out:
	free(text);
	if (r_out && code != PG_EXIT_NOTFOUND)
		*r_out = r;
	else
		pg_backport_result_free(r);
	return code;
}

static int severity_rank(const char *s)
{
	static const char *const order[] = { "critical", "high", "medium", "low", NULL };
	for (int i = 0; s && order[i]; i++)
		if (!strcasecmp(s, order[i]))
			return i;
	return 4;
}

static int priority_cmp(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int sx = severity_rank(json_string_value(json_object_get(x, "severity")));
	int sy = severity_rank(json_string_value(json_object_get(y, "severity")));
	json_int_t ax = json_integer_value(json_object_get(x, "age_days"));
	json_int_t ay = json_integer_value(json_object_get(y, "age_days"));
	if (sx != sy)
		return sx < sy ? -1 : 1;
	if (ax != ay)
		return ax > ay ? -1 : 1;
	return strcmp(json_string_value(json_object_get(x, "id")) ? json_string_value(json_object_get(x, "id")) : "",
		      json_string_value(json_object_get(y, "id")) ? json_string_value(json_object_get(y, "id")) : "");
}

/* The git ref of a tracked branch name, else the name as given. */
/*
 * SIGTERM, SIGINT and SIGHUP during a run: the flag makes the library kill
 * the test's process group and remove its checkout; then the signal is
 * raised again with its default action, so the caller sees the usual death.
 */
static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
	stop_signal = sig;
}

static void catch_stop_signals(void)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

static void reraise_stop_signal(void)
{
	int sig = stop_signal;
	if (!sig)
		return;
	fflush(stdout);
	signal(sig, SIG_DFL);
	raise(sig);
}

static const char *onto_ref(const pg_config *cfg, const char *onto)
{
	const pg_branch_conf *b = cfg ? pg_config_branch(cfg, onto) : NULL;
	return b && b->ref ? b->ref : onto;
}

/* ---- --patch: patches that are not commits ---- */

typedef struct patch_input {
	PG_VEC(char *) texts;   /* owned */
	PG_VEC(size_t) lens;
	PG_VEC(char *) names;   /* owned */
} patch_input;

static void patch_input_release(patch_input *in)
{
	for (size_t i = 0; i < in->texts.len; i++)
		free(in->texts.ptr[i]);
	for (size_t i = 0; i < in->names.len; i++)
		free(in->names.ptr[i]);
	pg_vec_release(&in->texts);
	pg_vec_release(&in->lens);
	pg_vec_release(&in->names);
}

/* One file: a single patch, or each mail of an mbox ("FILE#N"). */
static int add_patch_file(patch_input *in, const char *path, const char *label)
{
	pg_buf b = PG_BUF_INIT;
	size_t *starts = NULL, n = 0;
	int error;
	if ((error = pg_buf_read_regular(&b, path)) < 0)
		return error;
	if ((error = pg_mbox_split(&starts, &n, pg_buf_cstr(&b), b.len)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		size_t end = i + 1 < n ? starts[i + 1] : b.len;
		char *t = pg_strndup(pg_buf_cstr(&b) + starts[i], end - starts[i]);
		pg_buf name = PG_BUF_INIT;
		if (n > 1)
			pg_buf_printf(&name, "%s#%zu", label, i + 1);
		else
			pg_buf_puts(&name, label);
		if (!t || pg_vec_push(&in->texts, t) < 0 || pg_vec_push(&in->lens, end - starts[i]) < 0 ||
		    pg_vec_push(&in->names, pg_buf_detach(&name)) < 0) {
			error = pg_error_setc(PG_ENOMEM, "out of memory");
			goto out;
		}
	}
out:
	free(starts);
	pg_buf_release(&b);
	return error;
}

static int filter_patch_names(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

/* FILE, mbox, directory (name order), or a message id stored by lists ingest. */
static int load_patches(patch_input *in, struct pg_cli *cli, const char *arg, pg_store *store)
{
	struct stat st;
	int error = 0;
	if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode)) {
		struct dirent **ents = NULL;
		int n = scandir(arg, &ents, filter_patch_names, alphasort);
		if (n < 0) {
			pg_cli_error(cli, "--patch '%s': cannot list the directory", arg);
			return PG_EXIT_INPUT;
		}
		for (int i = 0; i < n; i++) {
			pg_buf p = PG_BUF_INIT;
			struct stat fs;
			pg_buf_printf(&p, "%s/%s", arg, ents[i]->d_name);
			if (!error && stat(p.ptr, &fs) == 0 && S_ISREG(fs.st_mode))
				error = add_patch_file(in, p.ptr, ents[i]->d_name);
			pg_buf_release(&p);
			free(ents[i]);
		}
		free(ents);
		if (error < 0)
			return pg_cli_fail(cli, error);
		if (!in->texts.len) {
			pg_cli_error(cli, "--patch '%s': the directory holds no patch files", arg);
			return PG_EXIT_INPUT;
		}
		return 0;
	}
	if (stat(arg, &st) == 0) {
		if ((error = add_patch_file(in, arg, arg)) < 0)
			return pg_cli_fail(cli, error);
		return 0;
	}
	if (store) {
		const char *mid = arg[0] == '<' ? arg + 1 : arg;
		size_t ml = strlen(mid) - (mid != arg && mid[strlen(mid) - 1] == '>'), len;
		char *text = NULL;
		if (pg_lists_mail_patch(&text, &len, store, mid, ml) == 1) {
			if (pg_vec_push(&in->texts, text) < 0 || pg_vec_push(&in->lens, len) < 0 ||
			    pg_vec_push(&in->names, pg_strndup(mid, ml)) < 0)
				return pg_cli_fail(cli, pg_error_setc(PG_ENOMEM, "out of memory"));
			return 0;
		}
		pg_error_clear();
	}
	pg_cli_error(cli, "--patch '%s': no such file or directory%s", arg,
		     store ? ", and no stored mail with a diff has that message id" : "");
	return PG_EXIT_NOTFOUND;
}

static int run_patches(struct pg_cli *cli, git_repository *repo, const pg_config *cfg, pg_store *store,
		       const char *arg, const char *onto)
{
	patch_input in;
	pg_patch_try *res = NULL;
	size_t n = 0;
	git_object *obj = NULL;
	git_tree *tree = NULL;
	int code, error, conflict = 0, invalid = 0;

	memset(&in, 0, sizeof(in));
	if ((code = load_patches(&in, cli, arg, store)) > 0)
		goto out;
	if (git_revparse_single(&obj, repo, onto_ref(cfg, onto)) < 0 ||
	    git_object_peel((git_object **)&tree, obj, GIT_OBJECT_TREE) < 0) {
		pg_cli_error(cli, "--onto '%s': no such branch or revision", onto);
		code = PG_EXIT_NOTFOUND;
		goto out;
	}
	if ((error = pg_patch_try_series(&res, &n, repo, tree, (const char *const *)in.texts.ptr, in.lens.ptr,
					 (const char *const *)in.names.ptr, in.texts.len)) < 0) {
		code = pg_cli_fail(cli, error);
		goto out;
	}
	{
		json_t *arr = json_array();
		for (size_t i = 0; i < n; i++) {
			json_t *o = json_object(), *h = json_array();
			conflict |= res[i].verdict == PG_PATCH_CONFLICT;
			invalid |= res[i].verdict == PG_PATCH_INVALID;
			json_object_set_new(o, "name", pg_json_string(res[i].name));
			json_object_set_new(o, "subject", pg_json_string(res[i].subject ? res[i].subject : ""));
			json_object_set_new(o, "verdict", json_string(pg_patch_verdict_name(res[i].verdict)));
			for (size_t k = 0; k < res[i].nhunks; k++)
				json_array_append_new(h, pg_json_string(res[i].hunks[k]));
			json_object_set_new(o, "conflicting_hunks", h);
			json_object_set_new(o, "detail", res[i].detail ? pg_json_string(res[i].detail) : json_null());
			json_array_append_new(arr, o);
			if (!cli->json) {
				printf("%-8s %s: ", pg_patch_verdict_name(res[i].verdict), pg_cli_safe(res[i].name));
				pg_cli_put_safe(stdout, res[i].subject);
				putchar('\n');
				for (size_t k = 0; k < res[i].nhunks; k++)
					printf("  hunk %s\n", pg_cli_safe(res[i].hunks[k]));
				if (res[i].detail && res[i].verdict != PG_PATCH_PRESENT)
					printf("  %s\n", pg_cli_safe(res[i].detail));
			}
		}
		if (cli->json)
			pg_json_print(stdout, arr, 2);
		json_decref(arr);
	}
	code = invalid ? PG_EXIT_INPUT : conflict ? PG_EXIT_ERROR : PG_EXIT_OK;
out:
	pg_patch_tries_free(res, n);
	git_tree_free(tree);
	git_object_free(obj);
	patch_input_release(&in);
	return code;
}

PG_CMD(backport)
{
	struct pg_opt opts[] = {
		{ "onto", 1, NULL, 0 }, { "repo", 1, NULL, 0 }, { "with-deps", 0, NULL, 0 },
		{ "no-branch", 0, NULL, 0 }, { "mbox", 1, NULL, 0 }, { "test", 1, NULL, 0 },
		{ "timeout", 1, NULL, 0 }, { "max-deps", 1, NULL, 0 }, { "all", 0, NULL, 0 },
		{ "patch", 1, NULL, 0 }, { "json", 0, NULL, 0 }, { NULL, 0, NULL, 0 }
	};
	pg_backport_options bo = PG_BACKPORT_OPTIONS_INIT;
	struct run_ctx rc = { 0 };
	git_repository *repo = NULL;
	pg_affect_index *ix = NULL;
	pg_config *cfg = NULL;
	pg_store *store = NULL;
	json_t *aff = NULL;
	const char **rest;
	const char *onto, *v, *db = NULL;
	int nrest, code, error, all;

	if ((code = pg_cli_parse(cli, argc, argv, opts, &rest, &nrest, usage)) >= 0)
		return code;
	all = pg_opt_get(opts, "all") != NULL;
	if (!(onto = pg_opt_get(opts, "onto"))) {
		pg_cli_error(cli, "--onto <branch> is required (see --help)");
		return PG_EXIT_USAGE;
	}
	if (pg_opt_get(opts, "patch")) {
		if (nrest || all) {
			pg_cli_error(cli, "--patch takes no <commit> and no --all");
			return PG_EXIT_USAGE;
		}
		if ((code = open_repo(&repo, cli, pg_opt_get(opts, "repo"), &cfg)) > 0)
			return code;
		if (!cfg && !cli->db_path && access(cli->conf_path, F_OK) == 0 && (code = pg_cli_load_config(&cfg, cli)) > 0)
			goto out;
		db = cli->db_path ? cli->db_path : cfg ? cfg->database : NULL;
		if (db && access(db, F_OK) == 0 && (error = pg_store_open(&store, db, PG_STORE_READONLY)) < 0) {
			code = pg_cli_fail(cli, error);
			goto out;
		}
		code = run_patches(cli, repo, cfg, store, pg_opt_get(opts, "patch"), onto);
		goto out;
	}
	if (all ? nrest != 0 : nrest != 1) {
		pg_cli_error(cli, all ? "--all takes no <commit>" : "expected exactly one <commit> or CVE id (see --help)");
		return PG_EXIT_USAGE;
	}
	if (all && pg_opt_get(opts, "mbox")) {
		pg_cli_error(cli, "--mbox writes one series: not with --all");
		return PG_EXIT_USAGE;
	}
	if ((v = pg_opt_get(opts, "timeout"))) {
		char *end;
		unsigned long t = strtoul(v, &end, 10);
		if (*end || !t || t > 86400) {
			pg_cli_error(cli, "--timeout '%s' is not a number of seconds (1..86400)", v);
			return PG_EXIT_USAGE;
		}
		bo.test_timeout = (unsigned)t;
	}
	if ((v = pg_opt_get(opts, "max-deps"))) {
		char *end;
		unsigned long t = strtoul(v, &end, 10);
		if (*end || t > 64) {
			pg_cli_error(cli, "--max-deps '%s' is not a number in 0..64", v);
			return PG_EXIT_USAGE;
		}
		bo.max_deps = (unsigned)t;
	}
	bo.with_deps = pg_opt_get(opts, "with-deps") != NULL;
	bo.create_branch = pg_opt_get(opts, "no-branch") == NULL;
	bo.test_cmd = pg_opt_get(opts, "test");
	if (bo.test_cmd) {
		bo.tmpdir = getenv("TMPDIR");
		bo.stop = &stop_signal;
		catch_stop_signals();
	}

	if ((code = open_repo(&repo, cli, pg_opt_get(opts, "repo"), &cfg)) > 0)
		return code;
	if (!cfg && (all || is_cve(rest[0])) && !cli->db_path && access(cli->conf_path, F_OK) == 0) {
		/* the database (and tracked branch names) come from the config */
		if ((code = pg_cli_load_config(&cfg, cli)) > 0)
			goto out;
	}
	db = cli->db_path ? cli->db_path : cfg ? cfg->database : NULL;
	if (db && (error = pg_store_open(&store, db, PG_STORE_CREATE)) < 0) {
		code = pg_cli_fail(cli, error);
		goto out;
	}
	rc.cli = cli;
	rc.repo = repo;
	/* a worker's job stores its result in job_results, once, instead */
	rc.store = cli->in_job ? NULL : store;
	rc.bo = &bo;
	rc.mbox = pg_opt_get(opts, "mbox");

	if (!all && !is_cve(rest[0])) {
		code = run_one(&rc, rest[0], onto, NULL);
		goto out;
	}

	/* CVE id or --all: ask the affect module which fixes to backport */
	if (!store) {
		pg_cli_error(cli, "%s needs the database (ingested history and CVE records): give --db or a config",
			     all ? "--all" : rest[0]);
		code = PG_EXIT_USAGE;
		goto out;
	}
	if ((error = pg_affect_index_open(&ix, store)) < 0) {
		code = pg_cli_fail(cli, error);
		goto out;
	}
	if (all) {
		pg_status_options so = PG_STATUS_OPTIONS_INIT;
		so.repository = git_repository_workdir(repo) ? git_repository_workdir(repo) : git_repository_path(repo);
		error = pg_affect_status(&aff, ix, onto, &so);
	} else
		error = pg_affect_fix(&aff, ix, rest[0]);
	if (error < 0) {
		code = pg_cli_fail(cli, error);
		goto out;
	}
	rc.many = 1;
	rc.results = json_array();
	{
		json_t *list = json_object_get(aff, all ? "unfixed" : "fixes");
		size_t n = json_array_size(list), nfail = 0;
		json_t **items = calloc(n + 1, sizeof(*items));
		const char *target = onto_ref(cfg, onto);

		if (!items) {
			code = PG_EXIT_ERROR;
			goto out;
		}
		for (size_t i = 0; i < n; i++)
			items[i] = json_array_get(list, i);
		if (all && n)
			qsort(items, n, sizeof(*items), priority_cmp);
		if (all && cfg && cfg->worker_enabled && !cli->in_job) {
			code = enqueue_all(cli, store, items, n, target, onto, &bo);
			free(items);
			goto out;
		}
		if (!n && !cli->json && !cli->quiet)
			printf(all ? "no open fixes for %s\n" : "%s names no fix commit\n", all ? onto : rest[0]);
		if (!cli->json && !cli->quiet && !all && n) {
			json_t *b = json_object_get(json_object_get(aff, "branches"), onto);
			const char *st = json_string_value(json_object_get(b, "status"));
			if (st)
				printf("%s on %s: %s (%s)\n\n", rest[0], onto, st,
				       json_string_value(json_object_get(b, "reason")) ? json_string_value(json_object_get(b, "reason")) : "");
		}
		for (size_t i = 0; i < n; i++) {
			const char *fix = all ? json_string_value(json_object_get(items[i], "fix")) : json_string_value(items[i]);
			const char *id = all ? json_string_value(json_object_get(items[i], "id")) : rest[0];
			pg_backport_result *r = NULL;
			int one;
			if (stop_signal)
				break; /* interrupted: no further fix */
			if (!fix)
				continue;
			if (!cli->json && !cli->quiet && (all || n > 1))
				printf("%s== %s %.12s\n", i ? "\n" : "", id, fix);
			one = run_one(&rc, fix, target, &r);
			if (one != PG_EXIT_OK)
				nfail++;
			if (all)
				json_object_set_new(items[i], "backport_exit", json_integer(one));
			if (all && r) {
				json_object_set_new(items[i], "backport_status", json_string(pg_backport_status_name(r->status)));
				json_object_set_new(items[i], "backport_ref", r->created_ref ? json_string(r->created_ref) : json_null());
				if (r->status == PG_BACKPORT_PRESENT)
					json_object_set_new(items[i], "backport_note", json_string(r->present_how));
			}
			pg_backport_result_free(r);
		}
		if (all && !cli->json && !cli->quiet && n) {
			printf("\n%-16s %-12s %-10s %s\n", "ID", "FIX", "RESULT", "NOTE");
			for (size_t i = 0; i < n; i++) {
				const char *st = json_string_value(json_object_get(items[i], "backport_status"));
				const char *ref = json_string_value(json_object_get(items[i], "backport_ref"));
				const char *note = json_string_value(json_object_get(items[i], "backport_note"));
				json_int_t ex = json_integer_value(json_object_get(items[i], "backport_exit"));
				printf("%-16s %-12.12s %-10s %s\n", json_string_value(json_object_get(items[i], "id")),
				       json_string_value(json_object_get(items[i], "fix")),
				       st ? st : ex == PG_EXIT_NOTFOUND ? "unknown" : "error",
				       ref ? ref : note ? note : st && !strcmp(st, "with-deps") ? "needs --with-deps" : "");
			}
			printf("%zu fix%s: %zu done, %zu not applied\n", n, n == 1 ? "" : "es", n - nfail, nfail);
		}
		if (cli->json) {
			json_t *o = json_pack("{s:s, s:s, s:O}", all ? "branch" : "id", all ? onto : rest[0], "onto", target,
					      "results", rc.results);
			char *text = o ? json_dumps(o, JSON_SORT_KEYS | JSON_INDENT(2)) : NULL;
			if (text)
				printf("%s\n", text);
			free(text);
			json_decref(o);
		}
		free(items);
		code = nfail ? PG_EXIT_ERROR : PG_EXIT_OK;
		if (!n && !all)
			code = PG_EXIT_NOTFOUND;
	}
out:
	json_decref(rc.results);
	json_decref(aff);
	pg_affect_index_free(ix);
	pg_store_free(store);
	git_repository_free(repo);
	pg_config_free(cfg);
	reraise_stop_signal();
	return code;
}
