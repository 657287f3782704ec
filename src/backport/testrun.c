/*
 * testrun.c - run a test command in a throw-away checkout of a tree.
 *
 * The tree is checked out with git_checkout_tree into a fresh temporary
 * directory (target_directory, an empty in-memory baseline index so every
 * file is written, GIT_CHECKOUT_DONT_UPDATE_INDEX so the repository's own
 * index is never written).  The command runs as `sh -c CMD` in its own
 * process group with stdout+stderr in a log file beside the checkout; at the
 * timeout the whole group gets SIGTERM, then SIGKILL after 2 s.  The
 * directory is removed afterwards whatever happened.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "backport/backport_int.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/str.h"
#include "util/banned.h"

#define LOG_TAIL_LINES 40
#define LOG_TAIL_BYTES 8192

static int64_t now_ms(void)
{
	return (int64_t)(pg_clock_now() * 1000);
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path);
}

static void rm_rf(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static char *log_tail(const char *path)
{
	pg_buf b = PG_BUF_INIT;
	const char *p;
	unsigned lines = 0;
	char *res;
	FILE *f = fopen(path, "rb");
	long size;

	if (!f)
		return pg_strdup("");
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > LOG_TAIL_BYTES)
		fseek(f, size - LOG_TAIL_BYTES, SEEK_SET);
	else
		fseek(f, 0, SEEK_SET);
	for (int c; (c = fgetc(f)) != EOF;)
		if (pg_buf_putc(&b, (char)c) < 0)
			break;
	fclose(f);
	p = pg_buf_cstr(&b) + b.len;
	while (p > pg_buf_cstr(&b)) {
		if (p[-1] == '\n' && p != pg_buf_cstr(&b) + b.len && ++lines >= LOG_TAIL_LINES)
			break;
		p--;
	}
	res = pg_strdup(p);
	pg_buf_release(&b);
	return res;
}

static int checkout_to(git_repository *repo, const git_oid *tree_id, const char *dir)
{
	git_checkout_options co;
	git_tree *tree = NULL;
	git_index *empty = NULL;
	int error = 0;

	git_checkout_options_init(&co, GIT_CHECKOUT_OPTIONS_VERSION);
	co.checkout_strategy = GIT_CHECKOUT_FORCE | GIT_CHECKOUT_DONT_UPDATE_INDEX |
			       GIT_CHECKOUT_DONT_WRITE_INDEX | GIT_CHECKOUT_RECREATE_MISSING;
	co.target_directory = dir;
	if (git_tree_lookup(&tree, repo, tree_id) < 0 || git_index_new(&empty) < 0) {
		error = pg_error_set("cannot read the tree to test: %s", pg_backport__git_msg());
		goto out;
	}
	co.baseline_index = empty;
	if (git_checkout_tree(repo, (git_object *)tree, &co) < 0)
		error = pg_error_set("cannot check out the result into '%s': %s", dir, pg_backport__git_msg());
out:
	git_index_free(empty);
	git_tree_free(tree);
	return error;
}

/* The test's process group: SIGTERM, 2 s of grace, then SIGKILL for stragglers; reaps pid. */
static void kill_group(pid_t pid, int *status)
{
	int64_t grace;
	pid_t w;

	kill(-pid, SIGTERM);
	grace = now_ms() + 2000;
	while ((w = waitpid(pid, status, WNOHANG)) == 0 && now_ms() < grace) {
		struct timespec ts = { 0, 20 * 1000000L };
		nanosleep(&ts, NULL);
	}
	kill(-pid, SIGKILL);
	if (w != pid)
		while (waitpid(pid, status, 0) < 0 && errno == EINTR)
			;
}

static int stopped(const pg_backport_options *opts)
{
	return opts && opts->stop && *opts->stop;
}

int pg_backport_test_tree(pg_backport_test *out, git_repository *repo, const git_oid *tree,
			  const char *cmd, unsigned timeout, const pg_backport_options *opts)
{
	pg_buf base = PG_BUF_INIT, dir = PG_BUF_INIT, logp = PG_BUF_INIT, reason = PG_BUF_INIT;
	int error = 0, status = 0, fd = -1, made = 0;
	int64_t start, deadline;
	pid_t pid, w;

	memset(out, 0, sizeof(*out));
	out->exit_code = -1;
	if (pg_buf_printf(&base, "%s/patchgap-test-XXXXXX",
			  opts && opts->tmpdir && *opts->tmpdir ? opts->tmpdir : "/tmp") < 0) {
		error = PG_ENOMEM;
		goto out;
	}
	if (!mkdtemp(base.ptr)) {
		error = pg_error_setc(PG_EIO, "cannot create a temporary directory for the test in '%.*s': %s",
				      (int)(base.len - strlen("/patchgap-test-XXXXXX")), base.ptr, strerror(errno));
		goto out;
	}
	made = 1;
	if (pg_buf_printf(&dir, "%s/tree", base.ptr) < 0 || pg_buf_printf(&logp, "%s/test.log", base.ptr) < 0) {
		error = PG_ENOMEM;
		goto out;
	}
	if (mkdir(dir.ptr, 0700) < 0) {
		error = pg_error_setc(PG_EIO, "cannot create '%s': %s", dir.ptr, strerror(errno));
		goto out;
	}
	if ((error = checkout_to(repo, tree, dir.ptr)) < 0)
		goto out;
	if ((fd = open(logp.ptr, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
		error = pg_error_setc(PG_EIO, "cannot create the test log '%s': %s", logp.ptr, strerror(errno));
		goto out;
	}
	if (stopped(opts)) {
		error = pg_error_setc(PG_EUSER, "interrupted before the test started");
		goto out;
	}
	start = now_ms();
	deadline = start + (int64_t)timeout * 1000;
	if ((pid = fork()) < 0) {
		error = pg_error_setc(PG_EIO, "cannot start the test command: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);
		setpgid(0, 0);
		if (devnull >= 0)
			dup2(devnull, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (chdir(dir.ptr) < 0)
			_exit(127);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	setpgid(pid, pid); /* also from the parent: no race with an early kill */
	out->ran = 1;
	for (;;) {
		w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			error = pg_error_setc(PG_EIO, "cannot wait for the test command: %s", strerror(errno));
			goto out;
		}
		if (stopped(opts)) {
			/* the caller got a signal: nothing of the test may outlive it */
			kill_group(pid, &status);
			error = pg_error_setc(PG_EUSER, "interrupted: the test's process group was killed");
			goto out;
		}
		if (now_ms() >= deadline) {
			out->timed_out = 1;
			kill_group(pid, &status);
			break;
		}
		{
			struct timespec ts = { 0, 20 * 1000000L };
			nanosleep(&ts, NULL);
		}
	}
	out->duration_ms = now_ms() - start;
	if (out->timed_out)
		error = pg_buf_printf(&reason, "timed out after %u s (process group killed)", timeout);
	else if (WIFEXITED(status)) {
		out->exit_code = WEXITSTATUS(status);
		out->passed = out->exit_code == 0;
		error = out->passed ? pg_buf_puts(&reason, "passed")
				    : pg_buf_printf(&reason, "exit status %d", out->exit_code);
	} else if (WIFSIGNALED(status))
		error = pg_buf_printf(&reason, "killed by signal %d", WTERMSIG(status));
	if (error < 0)
		goto out;
	close(fd);
	fd = -1;
	out->reason = pg_buf_detach(&reason);
	out->log_tail = log_tail(logp.ptr);
	if (!out->reason || !out->log_tail)
		error = PG_ENOMEM;
out:
	if (fd >= 0)
		close(fd);
	if (made)
		rm_rf(base.ptr);
	pg_buf_release(&base);
	pg_buf_release(&dir);
	pg_buf_release(&logp);
	pg_buf_release(&reason);
	return error;
}
