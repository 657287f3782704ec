/* Unit tests for src/watch: HMAC, config sections, the outbox, the lock. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "harness.h"
#include "patchgap/watch.h"
#include "watch/watch_int.h"

static char tmpdir[256];

static const char *tmp_path(const char *name)
{
	static char p[512];
	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	return p;
}

static int write_conf(const char *name, const char *extra)
{
	FILE *f = fopen(tmp_path(name), "w");
	if (!f)
		return -1;
	fprintf(f, "[core]\n\trepository = /nonexistent\n[branch \"master\"]\n\tkind = mainline\n"
		   "[branch \"linux-6.1.y\"]\n\tkind = stable\n%s", extra);
	return fclose(f);
}

TEST(hmac_rfc4231)
{
	char out[65];
	/* RFC 4231 test case 2 */
	CHECK_OK(pg_watch_hmac_sha256(out, "Jefe", "what do ya want for nothing?", 28));
	CHECK_STR(out, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(conf_sections)
{
	pg_config *cfg = NULL;
	pg_watch_conf *wc = NULL;
	CHECK(write_conf("a.conf", "[watch]\n\tinterval = 7\n[remote \"up\"]\n\turl = git://127.0.0.1:9/x.git\n"
				   "[remote \"two\"]\n\turl = /srv/two.git\n\tfetch = +refs/heads/master:refs/heads/master\n"
				   "\tinterval = 60\n[cna]\n\turl = file:///srv/vulns\n"
				   "[sink \"hook\"]\n\ttype = webhook\n\turl = https://example.org/h\n\tsecret = k\n"
				   "\tkind = cve.\n\tkind = branch.affected\n\tbranch = linux-6.1.y\n\tpriority = 5\n"
				   "[sink \"m\"]\n\ttype = maildir\n\tpath = mail\n") == 0);
	CHECK_OK(pg_config_load(&cfg, tmp_path("a.conf")));
	if (!cfg)
		return;
	CHECK_OK(pg_watch_conf_load(&wc, cfg));
	if (wc) {
		CHECK_INT(wc->interval, 7);
		CHECK_INT(wc->nremotes, 2);
		CHECK_INT(wc->remotes[0].interval, 7);
		CHECK_INT(wc->remotes[0].nrefspecs, 2);
		CHECK_STR(wc->remotes[0].refspecs[0], "+refs/heads/*:refs/heads/*");
		CHECK_INT(wc->remotes[1].nrefspecs, 1);
		CHECK_INT(wc->remotes[1].interval, 60);
		CHECK(wc->cna_path && strstr(wc->cna_path, ".vulns"));
		CHECK_INT(wc->nsinks, 2);
		CHECK_INT(wc->sinks[0].type, PG_SINK_WEBHOOK);
		CHECK_INT(wc->sinks[0].nkinds, 2);
		CHECK_STR(wc->sinks[0].branches[0], "linux-6.1.y");
		CHECK(wc->sinks[0].min_priority == 5.0);
		CHECK(wc->sinks[1].path[0] == '/'); /* relative to the config file */
	}
	pg_watch_conf_free(wc);
	pg_config_free(cfg);
}

static void conf_error(const char *extra, const char *msg)
{
	pg_config *cfg = NULL;
	pg_watch_conf *wc = NULL;
	CHECK(write_conf("bad.conf", extra) == 0);
	CHECK_OK(pg_config_load(&cfg, tmp_path("bad.conf")));
	CHECK(pg_watch_conf_load(&wc, cfg) == PG_EINVALID);
	CHECK(wc == NULL);
	if (!strstr(pg_error_last(), msg)) {
		fprintf(stderr, "  message '%s' lacks '%s'\n", pg_error_last(), msg);
		CHECK(0);
	}
	pg_config_free(cfg);
}

TEST(conf_errors)
{
	conf_error("[sink \"x\"]\n\ttype = carrier-pigeon\n", "unknown type 'carrier-pigeon'");
	conf_error("[sink \"x\"]\n\turl = http://h/\n", "has no 'type'");
	conf_error("[sink \"x\"]\n\ttype = webhook\n\turl = http://h/\n", "has no 'secret'");
	conf_error("[sink \"x\"]\n\ttype = webhook\n\tsecret = k\n\turl = gopher://h/\n", "gopher://h/");
	conf_error("[sink \"x\"]\n\ttype = webhook\n\tsecret = k\n\turl = http://\n", "needs 'url'");
	conf_error("[sink \"x\"]\n\ttype = exec\n", "has no 'command'");
	conf_error("[sink \"x\"]\n\ttype = maildir\n", "has no 'path'");
	conf_error("[sink \"x y\"]\n\ttype = maildir\n\tpath = m\n", "sink name 'x y'");
	conf_error("[sink \"x\"]\n\ttype = exec\n\tcommand = true\n\ttimeout = soon\n", "sink.x.timeout");
	conf_error("[remote \"r\"]\n\turl = relative/path\n", "remote 'r' has url 'relative/path'");
	conf_error("[watch]\n\tinterval = -1\n", "watch.interval");
	conf_error("[watch]\n\tannounce-initial = maybe\n", "watch.announce-initial");
}

TEST(outbox)
{
	pg_config *cfg = NULL;
	pg_watch_conf *wc = NULL;
	pg_store *s = NULL;
	json_t *p = json_pack("{s:s, s:i}", "b", "x", "a", 1), *l = NULL, *one = NULL;
	pg_watch__event ev = { "branch.affected", "cell:CVE-1:linux-6.1.y:1:affected", "CVE-1", "linux-6.1.y", NULL,
			       "not_affected", "affected", p, 2.0 };
	pg_events_filter f = PG_EVENTS_FILTER_INIT;
	char *b1 = NULL, *b2 = NULL;
	size_t n = 0;
	int ins = -1;

	CHECK(write_conf("o.conf", "[sink \"all\"]\n\ttype = exec\n\tcommand = true\n"
				   "[sink \"cves\"]\n\ttype = exec\n\tcommand = true\n\tkind = cve.\n"
				   "[sink \"urgent\"]\n\ttype = exec\n\tcommand = true\n\tpriority = 5\n") == 0);
	CHECK_OK(pg_config_load(&cfg, tmp_path("o.conf")));
	if (!cfg || (pg_watch_conf_load(&wc, cfg) < 0))
		goto out;
	CHECK_OK(pg_store_open(&s, tmp_path("o.db"), PG_STORE_CREATE));
	if (!s)
		goto out;
	CHECK_OK(pg_store_begin(s));
	CHECK_OK(pg_watch__event_add(&ins, s, wc, &ev, 1000));
	CHECK_INT(ins, 1);
	CHECK_OK(pg_watch__event_add(&ins, s, wc, &ev, 2000)); /* a re-run announcing the same change */
	CHECK_INT(ins, 0);
	CHECK_OK(pg_store_commit(s));
	CHECK_OK(pg_events_list(&l, s, &f));
	CHECK_INT(json_array_size(l), 1);
	/* only the unfiltered sink takes it: wrong kind for 'cves', priority 2 < 5 for 'urgent' */
	CHECK_INT(json_array_size(json_object_get(json_array_get(l, 0), "deliveries")), 1);
	CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(json_array_get(l, 0), "deliveries"), 0), "sink")),
		  "all");
	CHECK_INT(json_integer_value(json_object_get(json_array_get(l, 0), "created")), 1000);
	CHECK_OK(pg_events_body(&b1, s, 1));
	CHECK_OK(pg_events_body(&b2, s, 1));
	CHECK_STR(b1, b2);
	CHECK(b1 && strstr(b1, "\"payload\":{\"a\":1,\"b\":\"x\"}"));
	CHECK_OK(pg_events_show(&one, s, "cell:CVE-1:linux-6.1.y:1:affected"));
	CHECK_INT(json_integer_value(json_object_get(one, "id")), 1);
	json_decref(one);
	one = NULL;
	CHECK(pg_events_show(&one, s, "nope") == PG_ENOTFOUND);
	CHECK_OK(pg_events_redeliver(&n, s, wc, "1", "cves"));
	CHECK_INT(n, 1);
	CHECK(pg_events_redeliver(&n, s, wc, "1", "not-a-sink") == PG_ENOTFOUND);
	CHECK(pg_events_redeliver(&n, s, wc, "42", NULL) == PG_ENOTFOUND);
out:
	json_decref(p);
	json_decref(l);
	json_decref(one);
	free(b1);
	free(b2);
	pg_store_free(s);
	pg_watch_conf_free(wc);
	pg_config_free(cfg);
}

TEST(backoff)
{
	int ok = 1;
	for (int i = 0; i < 200; i++) {
		int64_t d0 = pg_watch__backoff(0, 3600), d5 = pg_watch__backoff(5, 3600), big = pg_watch__backoff(40, 3600);
		int64_t capped = pg_watch__backoff(3, 1);
		/* 2^(n+1) s times a jitter in [0.5, 1), capped, never below 1 */
		ok &= d0 >= 1 && d0 <= 2 && d5 >= 32 && d5 <= 64 && big >= 1800 && big <= 3600 && capped == 1;
	}
	CHECK(ok);
}

TEST(lock)
{
	int a = -1, b = -1;
	FILE *f = fopen(tmp_path("l.db"), "w");
	if (f)
		fclose(f);
	CHECK_OK(pg_watch_lock(&a, tmp_path("l.db")));
	CHECK(pg_watch_lock(&b, tmp_path("l.db")) < 0);
	CHECK(strstr(pg_error_last(), "watched already by patchgap watch pid") != NULL);
	CHECK_INT(b, -1);
	close(a);
	CHECK_OK(pg_watch_lock(&b, tmp_path("l.db")));
	close(b);
}

int main(void)
{
	char cmd[300];
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/pg-test-watch.XXXXXX");
	if (!mkdtemp(tmpdir))
		return 1;
	RUN(hmac_rfc4231);
	RUN(conf_sections);
	RUN(conf_errors);
	RUN(outbox);
	RUN(backoff);
	RUN(lock);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmpdir);
	return harness_done();
}
