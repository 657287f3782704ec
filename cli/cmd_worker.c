/*
 * cmd_worker.c - `patchgap worker`: take jobs from the queue and run them.
 *
 * Process layout: the worker forks --concurrency slot processes; each has
 * its own database connection and runs one job at a time in a child
 * process of its own (a fork running the job's verb, or sh -c for a hook),
 * so that a crashing job costs one attempt, never the slot, and the slot
 * keeps the lease alive (a heartbeat every third of --lease) while the job
 * runs.  The result (the job's stdout) is written in the transaction that
 * marks the job done; a slot that lost its lease (it was stopped longer
 * than the lease, another worker took the job over) writes nothing.
 * A killed slot stops heartbeating: its lease expires and another worker
 * runs the job again (the job's child dies with its slot: PDEATHSIG).
 *
 * Exit codes 0 and 1 of a job are answers (clean/conflict, pass/fail) and
 * complete it; anything else (2+, a signal) is a failed attempt: queued
 * again, parked after the job's max_attempts.
 *
 * On SQLite every slot is a local process on this host; on PostgreSQL
 * workers on any number of hosts share the queue.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <jansson.h>
#include "cli.h"
#include "patchgap/jobs.h"
#include "util/buf.h"
#include "util/str.h"
#include "util/banned.h"

static const char usage[] =
	"usage: patchgap worker [--kinds KIND,...] [--concurrency N] [--lease SEC]\n"
	"                       [--poll SEC] [--drain] [--name NAME]\n"
	"\n"
	"Claims jobs from the queue of the database (--db or the config) and runs\n"
	"them (see 'patchgap jobs --help' for the kinds).  On PostgreSQL any number\n"
	"of workers on any hosts share the queue (each host needs its own copy of\n"
	"the repository named by its config); on SQLite the slots are processes of\n"
	"this host.\n"
	"\n"
	"  --kinds K,...     only these kinds (default: all)\n"
	"  --concurrency N   jobs run at once, one process each (default 1, max 64)\n"
	"  --lease SEC       a job is this worker's for SEC seconds, renewed every\n"
	"                    SEC/3 while it runs; a worker that dies loses it after\n"
	"                    at most SEC (default 60)\n"
	"  --poll SEC        wait between looks at an empty queue (default 2)\n"
	"  --drain           exit once no job is queued or running (else: run until\n"
	"                    SIGINT/SIGTERM, which finish the jobs in hand)\n"
	"  --name NAME       worker name in the queue (default: host name); each\n"
	"                    slot is NAME:PID\n"
	"\n"
	"Exit status: 0 ok, 1 database error (connection lost: run again), 2 usage.\n";

#define RESULT_CAP ((size_t)16 << 20)  /* job stdout kept as result */
#define ERROR_TAIL 2000                /* bytes of a failed job's stderr kept */

static volatile sig_atomic_t stopping;

static void on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

struct worker {
	struct pg_cli *cli;
	const char **kinds;     /* NULL-terminated, or NULL = all */
	int lease, poll_s, drain;
	const char *name;
};

/* The job's child: becomes the job, never returns. */
static void run_child(const struct worker *w, const pg_job *job, int out_fd, int err_fd)
{
	json_t *args = json_loads(job->args, 0, NULL);
	size_t n = json_array_size(args), i;
	const char **argv = calloc(n + 4, sizeof(*argv));
	struct pg_cli cli = *w->cli;
	int argc = 0, rc;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	dup2(out_fd, 1);
	dup2(err_fd, 2);
	close(out_fd);
	close(err_fd);
	if (!args || !json_is_array(args) || !argv) {
		fprintf(stderr, "job %lld: arguments are not a JSON array of strings\n", (long long)job->id);
		_exit(PG_EXIT_INPUT);
	}
	if (!strcmp(job->kind, "hook")) {
		pg_buf cmd = PG_BUF_INIT;
		for (i = 0; i < n; i++)
			pg_buf_printf(&cmd, "%s%s", i ? " " : "", json_string_value(json_array_get(args, i)) ?
				      json_string_value(json_array_get(args, i)) : "");
		execl("/bin/sh", "sh", "-c", pg_buf_cstr(&cmd), (char *)NULL);
		fprintf(stderr, "cannot run /bin/sh: %s\n", strerror(errno));
		_exit(127);
	}
	argv[argc++] = job->kind;
	for (i = 0; i < n; i++) {
		const char *a = json_string_value(json_array_get(args, i));
		if (!a) {
			fprintf(stderr, "job %lld: argument %zu is not a string\n", (long long)job->id, i + 1);
			_exit(PG_EXIT_INPUT);
		}
		argv[argc++] = a;
	}
	if (!strcmp(job->kind, "backport")) {
		argv[argc++] = "--json";
		argv[argc++] = "--no-branch";
	}
	cli.verb = job->kind;
	cli.quiet = 1;
	cli.progress = 0;
	cli.in_job = 1;
	cli.rest_alloc = NULL;
	if (!strcmp(job->kind, "backport"))
		rc = cmd_backport(argc, argv, &cli);
	else if (!strcmp(job->kind, "classify"))
		rc = cmd_classify(argc, argv, &cli);
	else if (!strcmp(job->kind, "advisory"))
		rc = cmd_advisory(argc, argv, &cli);
	else if (!strcmp(job->kind, "affected"))
		rc = cmd_affected(argc, argv, &cli);
	else {
		fprintf(stderr, "job %lld: unknown kind '%s'\n", (long long)job->id, job->kind);
		rc = PG_EXIT_INPUT;
	}
	fflush(stdout);
	fflush(stderr);
	_exit(rc);
}

/* Read what is available on fd into b (stdout: capped; stderr: its tail). */
static int drain_fd(int fd, pg_buf *b, int tail)
{
	char chunk[65536];
	ssize_t r = read(fd, chunk, sizeof(chunk));
	if (r <= 0)
		return r < 0 && errno == EINTR ? 1 : 0;
	if (tail && b->len + (size_t)r > ERROR_TAIL * 2) {
		size_t keep = b->len > ERROR_TAIL ? ERROR_TAIL : b->len;
		memmove(b->ptr, b->ptr + b->len - keep, keep);
		b->len = keep;
		b->ptr[keep] = '\0';
	}
	if (tail || b->len + (size_t)r <= RESULT_CAP)
		pg_buf_put(b, chunk, (size_t)r);
	return 1;
}

/*
 * Run one claimed job to its end, heartbeating.  Returns 0 and fills out,
 * err and *status; PG_ENOTFOUND when the lease was lost (child killed).
 */
static int run_job(pg_store *store, const struct worker *w, const char *me, const pg_job *job,
		   pg_buf *out, pg_buf *err, int *status)
{
	int op[2] = { -1, -1 }, ep[2] = { -1, -1 }, open_fds = 2, error = 0;
	time_t next_beat = time(NULL) + (w->lease + 2) / 3;
	pid_t pid;

	if (pipe(op) < 0 || pipe(ep) < 0) {
		error = pg_error_setc(PG_EIO, "cannot create a pipe: %s", strerror(errno));
		goto out;
	}
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) < 0) {
		error = pg_error_setc(PG_EIO, "cannot fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		close(op[0]);
		close(ep[0]);
		run_child(w, job, op[1], ep[1]);
	}
	close(op[1]);
	close(ep[1]);
	op[1] = ep[1] = -1;
	while (open_fds > 0) {
		struct pollfd fds[2] = { { op[0], POLLIN, 0 }, { ep[0], POLLIN, 0 } };
		time_t now = time(NULL);
		int wait_ms = next_beat > now ? (int)(next_beat - now) * 1000 : 0;
		int r = poll(fds, 2, wait_ms);

		if (r < 0 && errno != EINTR) {
			error = pg_error_setc(PG_EIO, "poll: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < 2 && r > 0; i++) {
			if (fds[i].fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) &&
			    !drain_fd(fds[i].fd, i ? err : out, i)) {
				close(i ? ep[0] : op[0]);
				*(i ? &ep[0] : &op[0]) = -1;
				open_fds--;
			}
		}
		if (time(NULL) >= next_beat) {
			if ((error = pg_jobs_heartbeat(store, job->id, me, w->lease, (int64_t)time(NULL))) < 0)
				break;
			next_beat = time(NULL) + (w->lease + 2) / 3;
		}
	}
	if (error < 0)
		kill(pid, SIGKILL);
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
out:
	for (int i = 0; i < 2; i++) {
		if (op[i] >= 0)
			close(op[i]);
		if (ep[i] >= 0)
			close(ep[i]);
	}
	return error;
}

static int unfinished(pg_store *store, const char *const *kinds)
{
	return pg_jobs_unfinished(store, kinds);
}

/* One slot: its own connection, one job at a time.  Returns an exit code. */
static int slot_main(const struct worker *w)
{
	pg_store *store = NULL;
	pg_buf out = PG_BUF_INIT, err = PG_BUF_INIT;
	char me[256];
	int rc, error;

	snprintf(me, sizeof(me), "%s:%d", w->name, (int)getpid());
	if ((rc = pg_cli_open_store(&store, w->cli, 0)) > 0)
		return rc;
	rc = PG_EXIT_OK;
	while (!stopping) {
		pg_job job;
		int status = 0;

		if ((error = pg_jobs_claim(&job, store, w->kinds, me, w->lease, (int64_t)time(NULL))) < 0) {
			rc = pg_cli_fail(w->cli, error);
			break;
		}
		if (error == 0) {
			int n;
			if (w->drain && (n = unfinished(store, w->kinds)) <= 0) {
				if (n < 0)
					rc = pg_cli_fail(w->cli, PG_EIO);
				break;
			}
			for (int i = 0; i < w->poll_s * 10 && !stopping; i++)
				usleep(100000);
			continue;
		}
		pg_buf_reset(&out);
		pg_buf_reset(&err);
		error = run_job(store, w, me, &job, &out, &err, &status);
		if (error == PG_ENOTFOUND) {
			if (!w->cli->quiet)
				fprintf(stderr, "patchgap worker: %s: job %lld: %s\n", me, (long long)job.id, pg_error_last());
		} else if (error < 0) {
			rc = pg_cli_fail(w->cli, error);
			pg_job_release(&job);
			break;
		} else if (WIFEXITED(status) && WEXITSTATUS(status) <= 1) {
			error = pg_jobs_complete(store, job.id, me, WEXITSTATUS(status), pg_buf_cstr(&out), (int64_t)time(NULL));
			if (error == PG_ENOTFOUND && !w->cli->quiet)
				fprintf(stderr, "patchgap worker: %s: %s\n", me, pg_error_last());
			else if (error < 0) {
				rc = pg_cli_fail(w->cli, error);
				pg_job_release(&job);
				break;
			}
		} else {
			char msg[ERROR_TAIL + 128];
			pg_str_trim(err.ptr ? err.ptr : (char *)"");
			if (WIFSIGNALED(status))
				snprintf(msg, sizeof(msg), "killed by signal %d: %s", WTERMSIG(status), pg_buf_cstr(&err));
			else
				snprintf(msg, sizeof(msg), "exit %d: %s", WEXITSTATUS(status), pg_buf_cstr(&err));
			error = pg_jobs_fail(store, job.id, me, msg, (int64_t)time(NULL));
			if (error < 0 && error != PG_ENOTFOUND) {
				rc = pg_cli_fail(w->cli, error);
				pg_job_release(&job);
				break;
			}
		}
		pg_job_release(&job);
	}
	pg_buf_release(&out);
	pg_buf_release(&err);
	pg_store_free(store);
	return rc;
}

static int parse_num(struct pg_cli *cli, const char *opt, const char *v, int lo, int hi, int *out)
{
	char *end;
	long n;
	if (!v)
		return 0;
	n = strtol(v, &end, 10);
	if (*end || n < lo || n > hi) {
		pg_cli_error(cli, "--%s '%s' is not a number in %d..%d", opt, pg_cli_safe(v), lo, hi);
		return PG_EXIT_USAGE;
	}
	*out = (int)n;
	return 0;
}

PG_CMD(worker)
{
	struct pg_opt opts[] = { { "kinds", 1, NULL, 0 }, { "concurrency", 1, NULL, 0 }, { "lease", 1, NULL, 0 },
				 { "poll", 1, NULL, 0 }, { "drain", 0, NULL, 0 }, { "name", 1, NULL, 0 },
				 { NULL, 0, NULL, 0 } };
	struct worker w = { 0 };
	const char *kinds[16] = { NULL };
	char kindbuf[256], host[128] = "worker";
	pid_t pids[64];
	int rc, conc = 1, nk = 0, worst = PG_EXIT_OK;
	struct sigaction sa;

	if ((rc = pg_cli_parse(cli, argc, argv, opts, NULL, NULL, usage)) >= 0)
		return rc;
	w.cli = cli;
	w.lease = 60;
	w.poll_s = 2;
	if ((rc = parse_num(cli, "concurrency", pg_opt_get(opts, "concurrency"), 1, 64, &conc)) ||
	    (rc = parse_num(cli, "lease", pg_opt_get(opts, "lease"), 1, 86400, &w.lease)) ||
	    (rc = parse_num(cli, "poll", pg_opt_get(opts, "poll"), 0, 3600, &w.poll_s)))
		return rc;
	w.drain = pg_opt_get(opts, "drain") != NULL;
	if (pg_opt_get(opts, "kinds")) {
		char *p;
		snprintf(kindbuf, sizeof(kindbuf), "%s", pg_opt_get(opts, "kinds"));
		for (p = kindbuf; p && *p && nk < 15;) {
			char *comma = strchr(p, ',');
			if (comma)
				*comma = '\0';
			if (!pg_job_kind_valid(p)) {
				pg_cli_error(cli, "--kinds: unknown job kind '%s' (backport, hook, classify, advisory, affected)",
					     pg_cli_safe(p));
				return PG_EXIT_USAGE;
			}
			kinds[nk++] = p;
			p = comma ? comma + 1 : NULL;
		}
		w.kinds = kinds;
	}
	if (pg_opt_get(opts, "name"))
		w.name = pg_opt_get(opts, "name");
	else {
		gethostname(host, sizeof(host) - 1);
		w.name = host;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (conc == 1)
		return slot_main(&w);

	fflush(stdout);
	fflush(stderr);
	for (int i = 0; i < conc; i++) {
		if ((pids[i] = fork()) == 0) {
			prctl(PR_SET_PDEATHSIG, SIGTERM);
			_exit(slot_main(&w));
		}
		if (pids[i] < 0) {
			pg_cli_error(cli, "cannot fork worker slot %d: %s", i + 1, strerror(errno));
			conc = i;
			worst = PG_EXIT_ERROR;
			stopping = 1;
			break;
		}
	}
	for (int i = 0; i < conc; i++) {
		int status;
		while (waitpid(pids[i], &status, 0) < 0) {
			if (errno != EINTR)
				break;
			if (stopping)
				kill(pids[i], SIGTERM);
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			worst = PG_EXIT_ERROR;
	}
	return worst;
}
