/*
 * deliver.c - events to sinks: webhook (libcurl, HMAC-SHA256 signature),
 * exec hook (JSON on stdin), Maildir.
 *
 * Each sink is an ordered queue: its pending deliveries go out in event id
 * order and the first one that fails stops that sink until its backoff
 * deadline (exponential, with jitter, capped by [watch] backoff-max), so a
 * receiver never sees event N+1 before N.  The other sinks go on.  State
 * is written after every attempt: a killed daemon re-sends at most the
 * event it was delivering (at least once; the idempotency key in the body
 * and in X-Patchgap-Delivery lets receivers drop the duplicate).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "watch_int.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/str.h"
#include "util/banned.h"

int pg_watch_hmac_sha256(char out[65], const char *key, const void *data, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	static const char hex[] = "0123456789abcdef";
	if (!HMAC(EVP_sha256(), key, (int)strlen(key), data, len, md, &mdlen) || mdlen != 32)
		return pg_error_set("cannot compute HMAC-SHA256");
	for (unsigned i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
	return 0;
}

static size_t discard(char *p, size_t size, size_t n, void *payload)
{
	pg_buf *b = payload;
	if (b->len < 512) /* keep the start of the answer for the error message */
		pg_buf_put(b, p, size * n < 512 - b->len ? size * n : 512 - b->len);
	return size * n;
}

static int send_webhook(const pg_watch_sink *sk, const char *kind, const char *key, const char *body, long *status)
{
	CURL *c = NULL;
	struct curl_slist *h = NULL;
	pg_buf hdr = PG_BUF_INIT, answer = PG_BUF_INIT;
	char sig[65], errbuf[CURL_ERROR_SIZE] = "";
	CURLcode rc;
	int error = 0;

	*status = 0;
	if ((error = pg_watch_hmac_sha256(sig, sk->secret, body, strlen(body))) < 0)
		goto out;
	if (!(c = curl_easy_init())) {
		error = pg_error_set("cannot start libcurl");
		goto out;
	}
	h = curl_slist_append(h, "Content-Type: application/json");
	pg_buf_printf(&hdr, "X-Patchgap-Signature: sha256=%s", sig);
	h = curl_slist_append(h, pg_buf_cstr(&hdr));
	pg_buf_reset(&hdr);
	pg_buf_printf(&hdr, "X-Patchgap-Event: %s", kind);
	h = curl_slist_append(h, pg_buf_cstr(&hdr));
	pg_buf_reset(&hdr);
	pg_buf_printf(&hdr, "X-Patchgap-Delivery: %s", key);
	h = curl_slist_append(h, pg_buf_cstr(&hdr));
	h = curl_slist_append(h, "Expect:");
	curl_easy_setopt(c, CURLOPT_URL, sk->url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)sk->timeout);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)(sk->timeout < 5 ? sk->timeout : 5));
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "patchgap/" PG_VERSION);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &answer);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	if ((rc = curl_easy_perform(c)) != CURLE_OK) {
		error = pg_error_set("POST %s: %s", sk->url, errbuf[0] ? errbuf : curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	if (*status < 200 || *status > 299)
		error = pg_error_set("POST %s: HTTP %ld %.200s", sk->url, *status, pg_str_sanitize(answer.ptr ? answer.ptr : (char *)""));
out:
	curl_slist_free_all(h);
	if (c)
		curl_easy_cleanup(c);
	pg_buf_release(&hdr);
	pg_buf_release(&answer);
	return error;
}

static int send_exec(const pg_watch_sink *sk, const char *kind, const char *key, const char *body, long *status)
{
	int in[2], wst = 0;
	pid_t pid;
	size_t len = strlen(body), off = 0;
	time_t deadline = time(NULL) + sk->timeout;
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);
	int error = 0;

	*status = -1;
	if (pipe(in) < 0) {
		error = pg_error_set("exec sink '%s': pipe: %s", sk->name, strerror(errno));
		goto out;
	}
	if ((pid = fork()) < 0) {
		close(in[0]);
		close(in[1]);
		error = pg_error_set("exec sink '%s': fork: %s", sk->name, strerror(errno));
		goto out;
	}
	if (pid == 0) {
		dup2(in[0], 0);
		close(in[0]);
		close(in[1]);
		setenv("PATCHGAP_EVENT_KIND", kind, 1);
		setenv("PATCHGAP_EVENT_KEY", key, 1);
		setpgid(0, 0);
		execl("/bin/sh", "sh", "-c", sk->command, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	while (off < len) {
		ssize_t n = write(in[1], body + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* the hook need not read everything; its exit status decides */
		off += (size_t)n;
	}
	close(in[1]);
	for (;;) {
		pid_t r = waitpid(pid, &wst, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR) {
			error = pg_error_set("exec sink '%s': waitpid: %s", sk->name, strerror(errno));
			goto out;
		}
		if (time(NULL) >= deadline) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			waitpid(pid, &wst, 0);
			error = pg_error_set("exec sink '%s': '%s' did not finish within %d s", sk->name, sk->command,
					     sk->timeout);
			goto out;
		}
		usleep(10000);
	}
	if (WIFEXITED(wst))
		*status = WEXITSTATUS(wst);
	if (!WIFEXITED(wst) || WEXITSTATUS(wst))
		error = pg_error_set("exec sink '%s': '%s' %s %d", sk->name, sk->command,
				     WIFEXITED(wst) ? "exited with" : "was killed by signal",
				     WIFEXITED(wst) ? WEXITSTATUS(wst) : WTERMSIG(wst));
out:
	signal(SIGPIPE, old);
	return error;
}

/*
 * Maildir: the message is written to tmp/ and renamed into new/ (the Maildir
 * protocol); its name derives from the event id, so a re-delivery replaces
 * the same file instead of adding a copy.
 */
static int send_maildir(const pg_watch_sink *sk, int64_t id, const char *kind, const char *key, const char *body,
			long *status)
{
	pg_buf msg = PG_BUF_INIT, p = PG_BUF_INIT, q = PG_BUF_INIT;
	char date[64], host[128] = "localhost";
	time_t now = time(NULL);
	struct tm tm;
	int error = 0, fd = -1;
	static const char *const sub[] = { "", "/tmp", "/new", "/cur" };

	*status = 0;
	for (size_t i = 0; i < 4; i++) {
		pg_buf_reset(&p);
		pg_buf_printf(&p, "%s%s", sk->path, sub[i]);
		if (mkdir(pg_buf_cstr(&p), 0700) < 0 && errno != EEXIST) {
			error = pg_error_set("maildir sink '%s': cannot create '%s': %s", sk->name, pg_buf_cstr(&p),
					     strerror(errno));
			goto out;
		}
	}
	gethostname(host, sizeof(host) - 1);
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	pg_buf_printf(&msg,
		      "From: patchgap <patchgap@%s>\nTo: %s\nDate: %s\nSubject: [patchgap] %s %s\n"
		      "Message-ID: <event-%lld.%s@patchgap>\nX-Patchgap-Event: %s\nX-Patchgap-Delivery: %s\n"
		      "MIME-Version: 1.0\nContent-Type: application/json; charset=utf-8\n\n%s\n",
		      host, sk->mail_to, date, kind, key, (long long)id, sk->name, kind, key, body);
	pg_buf_reset(&p);
	pg_buf_printf(&p, "%s/tmp/patchgap-%lld.%s", sk->path, (long long)id, sk->name);
	pg_buf_printf(&q, "%s/new/patchgap-%lld.%s", sk->path, (long long)id, sk->name);
	if ((fd = open(pg_buf_cstr(&p), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0 ||
	    write(fd, msg.ptr, msg.len) != (ssize_t)msg.len || fsync(fd) < 0 || close(fd) < 0 ||
	    (fd = -1, rename(pg_buf_cstr(&p), pg_buf_cstr(&q)) < 0)) {
		error = pg_error_set("maildir sink '%s': cannot write '%s': %s", sk->name, pg_buf_cstr(&q), strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out;
	}
out:
	pg_buf_release(&msg);
	pg_buf_release(&p);
	pg_buf_release(&q);
	return error;
}

int pg_watch__sink_send(const pg_watch_sink *sk, int64_t event_id, const char *kind, const char *key, const char *body,
			long *status)
{
	switch (sk->type) {
	case PG_SINK_WEBHOOK: return send_webhook(sk, kind, key, body, status);
	case PG_SINK_EXEC: return send_exec(sk, kind, key, body, status);
	case PG_SINK_MAILDIR: return send_maildir(sk, event_id, kind, key, body, status);
	}
	return pg_error_set("sink '%s': unknown type", sk->name);
}

/*
 * Seconds before attempt n+2 (n = failed attempts - 1): 2^(n+1) capped by [watch] backoff-max, times a
 * jitter in [0.5, 1) so that the sinks of many daemons do not retry in step
 * against a receiver that just came back; never less than 1.
 */
int64_t pg_watch__backoff(int attempts, int cap)
{
	static int seeded;
	double d = 2.0;
	if (!seeded) {
		srand((unsigned)time(NULL) ^ (unsigned)getpid());
		seeded = 1;
	}
	for (int i = 0; i < attempts && d < cap; i++)
		d *= 2;
	if (d > cap)
		d = cap;
	d *= 0.5 + 0.5 * ((double)rand() / ((double)RAND_MAX + 1.0));
	return d < 1 ? 1 : (int64_t)d;
}

static int deliver_sink(const pg_watch_conf *wc, pg_store *s, const pg_watch_sink *sk, const pg_watch_options *opts,
			size_t *delivered, size_t *failed)
{
	pg_stmt *q = NULL, *ok = NULL, *bad = NULL;
	int error = 0, rc;

	if ((error = pg_store_prepare(&q, s,
				      "SELECT d.event_id, d.attempts, d.next_attempt, e.kind, e.key FROM event_deliveries d"
				      " JOIN events e ON e.id = d.event_id WHERE d.sink = ? AND d.state = 'pending'"
				      " ORDER BY d.event_id LIMIT 1")) < 0 ||
	    (error = pg_store_prepare(&ok, s,
				      "UPDATE event_deliveries SET state = 'delivered', attempts = attempts + 1,"
				      " delivered_at = ?, last_status = ?, last_error = NULL WHERE sink = ? AND event_id = ?")) < 0 ||
	    (error = pg_store_prepare(&bad, s,
				      "UPDATE event_deliveries SET attempts = attempts + 1, next_attempt = ?, last_status = ?,"
				      " last_error = ? WHERE sink = ? AND event_id = ?")) < 0)
		goto out;
	for (;;) {
		int64_t id, now = (int64_t)time(NULL);
		int attempts;
		char *body = NULL, *kind = NULL, *key = NULL;
		long status = 0;
		int sent;

		if (opts && opts->stop && opts->stop(opts->payload))
			break;
		pg_stmt_reset(q);
		if ((error = pg_stmt_bind_text(q, 1, sk->name)) < 0)
			goto out;
		if ((rc = pg_stmt_step(q)) <= 0) {
			error = rc;
			break;
		}
		id = pg_stmt_int(q, 0);
		attempts = (int)pg_stmt_int(q, 1);
		if (pg_stmt_int(q, 2) > now) /* the head is backing off: the whole queue waits */
			break;
		kind = pg_strdup(pg_stmt_text(q, 3));
		key = pg_strdup(pg_stmt_text(q, 4));
		pg_stmt_reset(q);
		if (!kind || !key || (error = pg_events_body(&body, s, id)) < 0) {
			free(kind);
			free(key);
			error = error ? error : pg_error_setc(PG_ENOMEM, "out of memory");
			goto out;
		}
		sent = pg_watch__sink_send(sk, id, kind, key, body, &status);
		if (sent == 0) {
			(*delivered)++;
			pg_watch__log(opts, PG_WATCH_INFO, "delivered event %lld (%s) to sink '%s'", (long long)id, kind, sk->name);
			error = 0;
			if ((error = pg_stmt_bind_int(ok, 1, (int64_t)time(NULL))) < 0 ||
			    (error = pg_stmt_bind_int(ok, 2, status)) < 0 || (error = pg_stmt_bind_text(ok, 3, sk->name)) < 0 ||
			    (error = pg_stmt_bind_int(ok, 4, id)) < 0)
				;
			else
				error = pg_stmt_exec(ok);
		} else {
			char *why = pg_strdup(pg_error_last());
			int64_t next = (int64_t)time(NULL) + pg_watch__backoff(attempts, wc->backoff_max);
			(*failed)++;
			pg_watch__log(opts, PG_WATCH_WARN, "sink '%s': event %lld attempt %d failed: %s; next try in %lld s",
				      sk->name, (long long)id, attempts + 1, why ? why : "", (long long)(next - (int64_t)time(NULL)));
			if ((error = pg_stmt_bind_int(bad, 1, next)) < 0 || (error = pg_stmt_bind_int(bad, 2, status)) < 0 ||
			    (error = pg_stmt_bind_text(bad, 3, why)) < 0 || (error = pg_stmt_bind_text(bad, 4, sk->name)) < 0 ||
			    (error = pg_stmt_bind_int(bad, 5, id)) < 0)
				;
			else
				error = pg_stmt_exec(bad);
			free(why);
		}
		free(body);
		free(kind);
		free(key);
		if (error < 0 || sent < 0)
			break;
	}
out:
	pg_stmt_free(q);
	pg_stmt_free(ok);
	pg_stmt_free(bad);
	return error;
}

int pg_watch_deliver(const pg_watch_conf *wc, pg_store *s, const pg_watch_options *opts, size_t *delivered,
		     size_t *failed)
{
	static int curl_ready;
	int error = 0;

	*delivered = *failed = 0;
	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return pg_error_set("cannot initialise libcurl");
		curl_ready = 1;
	}
	for (size_t i = 0; i < wc->nsinks; i++)
		if ((error = deliver_sink(wc, s, &wc->sinks[i], opts, delivered, failed)) < 0)
			break;
	return error;
}
