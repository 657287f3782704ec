/*
 * Unit tests for src/util/odb (pack reader, commit parser) and the store's
 * statement queue.  The reader is checked object by object against libgit2
 * on real repositories built here with git: OFS_DELTA and REF_DELTA packs,
 * deep delta chains, several packs, loose objects; then on corrupted packs
 * (an error, never a crash: this binary also runs under ASan).  The commit
 * parser is checked against git_commit_* on ordinary and odd commits.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <git2.h>
#include "harness.h"
#include "patchgap/store.h"
#include "util/buf.h"
#include "util/cgraph.h"
#include "util/odb.h"

static char tmpdir[] = "/tmp/pg-test-odb-XXXXXX";

static int sh(const char *fmt, ...) PG_PRINTF(1, 2);
static int sh(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

/* A history whose files change a little per commit, so repack makes long delta chains. */
static int build_repo(const char *dir)
{
	if (sh("set -e; git init -q '%s'; cd '%s'; git config user.name T; git config user.email t@e;"
	       "mkdir -p drivers/net fs/ext4 include/linux;"
	       "for f in drivers/net/a.c fs/ext4/b.c include/linux/c.h; do seq 1 400 | sed \"s|^|$f line |\" > $f; done;"
	       "git add -A; git commit -qm 'initial import';"
	       "for i in $(seq 1 60); do"
	       "  f=$(case $((i %% 3)) in 0) echo drivers/net/a.c;; 1) echo fs/ext4/b.c;; *) echo include/linux/c.h;; esac);"
	       "  sed -i \"$((i * 5 %% 390 + 2))s/\\$/ edit $i/\" $f;"
	       "  [ $((i %% 10)) = 0 ] && echo \"new $i\" > drivers/net/n$i.c && git add drivers/net/n$i.c;"
	       "  [ $i = 30 ] && git rm -q drivers/net/n10.c;"
	       "  git commit -qam \"net: change $i\" ;"
	       "done", dir, dir) != 0)
		return -1;
	return 0;
}

/* Compare every object git lists with libgit2's copy; returns the number compared. */
static int compare_all(const char *dir, pg_odb_stats *st)
{
	git_repository *repo = NULL;
	git_odb *godb = NULL;
	pg_odb *db = NULL;
	pg_buf b = PG_BUF_INIT;
	char cmd[1024], line[128];
	FILE *p;
	int n = 0, bad = 0;

	if (git_repository_open(&repo, dir) < 0 || git_repository_odb(&godb, repo) < 0 || pg_odb_open(&db, repo) < 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "git -C '%s' cat-file --batch-all-objects --batch-check='%%(objectname)'", dir);
	if (!(p = popen(cmd, "r")))
		return -1;
	while (fgets(line, sizeof(line), p)) {
		git_oid id;
		git_odb_object *o = NULL;
		git_object_t t = GIT_OBJECT_INVALID;
		line[strcspn(line, "\n")] = '\0';
		if (git_oid_fromstr(&id, line) < 0 || git_odb_read(&o, godb, &id) < 0) {
			bad++;
			continue;
		}
		if (pg_odb_read(db, &id, &t, &b) < 0 || t != git_odb_object_type(o) ||
		    b.len != git_odb_object_size(o) || memcmp(b.ptr, git_odb_object_data(o), b.len)) {
			fprintf(stderr, "  object %s differs (%s)\n", line, pg_error_last());
			bad++;
		}
		git_odb_object_free(o);
		n++;
	}
	pclose(p);
	pg_odb_get_stats(db, st);
	pg_odb_free(db);
	pg_buf_release(&b);
	git_odb_free(godb);
	git_repository_free(repo);
	return bad ? -bad : n;
}

TEST(reader_matches_libgit2)
{
	char dir[600];
	pg_odb_stats st;
	int n;

	if (sh("git --version >/dev/null 2>&1") != 0)
		SKIP("git not installed");
	CHECK(mkdtemp(tmpdir) != NULL);
	snprintf(dir, sizeof(dir), "%s/ofs", tmpdir);
	CHECK(build_repo(dir) == 0);
	/* one pack with OFS_DELTA chains up to 50 deep, then loose objects on top */
	CHECK(sh("cd '%s' && git repack -q -adf --depth=50 --window=50 && echo more >> fs/ext4/b.c && "
		 "git commit -qam 'ext4: loose'", dir) == 0);
	n = compare_all(dir, &st);
	CHECK(n > 200);
	CHECK(st.packed > 0);
	CHECK(st.fallback > 0);   /* the loose objects of the last commit */
	CHECK(st.cache_hits > 0); /* chains share bases */
	CHECK(!st.random);        /* no memory pressure on a small repository */
	/* forced random-access advice (what memory pressure switches to) reads the same */
	CHECK(setenv("PATCHGAP_ODB_ACCESS", "random", 1) == 0);
	CHECK(compare_all(dir, &st) == n);
	unsetenv("PATCHGAP_ODB_ACCESS");
	CHECK(st.random);

	/* REF_DELTA entries, and two packs */
	snprintf(dir, sizeof(dir), "%s/ref", tmpdir);
	CHECK(build_repo(dir) == 0);
	CHECK(sh("cd '%s' && git -c repack.useDeltaBaseOffset=false repack -q -adf --depth=20 && "
		 "echo x >> drivers/net/a.c && git commit -qam two && git repack -q -d", dir) == 0);
	CHECK(sh("test $(ls '%s'/.git/objects/pack/*.pack | wc -l) -ge 2", dir) == 0);
	n = compare_all(dir, &st);
	CHECK(n > 200);
	CHECK(st.fallback == 0);
	CHECK(st.packed == (size_t)n);
}

/* A corrupt pack gives errors naming it, never a crash; intact objects of other packs still read. */
TEST(reader_survives_corruption)
{
	char dir[600];
	git_repository *repo = NULL;
	pg_odb *db = NULL;
	pg_buf b = PG_BUF_INIT;
	FILE *p;
	char line[128];
	int failed = 0, total = 0;

	if (sh("git --version >/dev/null 2>&1") != 0)
		SKIP("git not installed");
	snprintf(dir, sizeof(dir), "%s/bad", tmpdir);
	CHECK(build_repo(dir) == 0);
	CHECK(sh("cd '%s' && git repack -q -adf --depth=50 && git cat-file --batch-all-objects "
		 "--batch-check='%%(objectname)' > ../bad.ids", dir) == 0);
	/* overwrite 4 KiB in the middle of the pack with junk (the index stays valid) */
	CHECK(sh("cd '%s'/.git/objects/pack && f=$(ls *.pack) && s=$(stat -c %%s $f) && chmod u+w $f && "
		 "head -c 4096 /dev/urandom | dd of=$f bs=1 seek=$((s / 2)) conv=notrunc status=none", dir) == 0);
	CHECK(git_repository_open(&repo, dir) == 0);
	CHECK_OK(pg_odb_open(&db, repo));
	snprintf(line, sizeof(line), "%s/bad.ids", tmpdir);
	CHECK((p = fopen(line, "r")) != NULL);
	while (db && p && fgets(line, sizeof(line), p)) {
		git_oid id;
		git_object_t t;
		int rc;
		line[strcspn(line, "\n")] = '\0';
		if (git_oid_fromstr(&id, line) < 0)
			continue;
		total++;
		rc = pg_odb_read(db, &id, &t, &b);
		if (rc < 0) {
			failed++;
			CHECK(rc == PG_EINVALID || rc == PG_ENOTFOUND);
			CHECK(strstr(pg_error_last(), "pack") || strstr(pg_error_last(), "object"));
		}
	}
	if (p)
		fclose(p);
	CHECK(total > 200);
	CHECK(failed > 0);        /* the damaged entries, and every delta built on them */
	CHECK(failed < total);    /* the rest still reads */
	pg_odb_free(db);
	pg_buf_release(&b);
	git_repository_free(repo);
}

/* Parse with pg_odb_parse_commit and with libgit2; every field must agree. */
static int same_commit(git_repository *repo, const git_oid *id)
{
	git_commit *c = NULL;
	git_odb *godb = NULL;
	git_odb_object *o = NULL;
	pg_odb_commit pc;
	const git_signature *a;
	int ok = 1;

	memset(&pc, 0, sizeof(pc));
	if (git_commit_lookup(&c, repo, id) < 0 || git_repository_odb(&godb, repo) < 0 || git_odb_read(&o, godb, id) < 0)
		return -1;
	if (pg_odb_parse_commit(&pc, git_odb_object_data(o), git_odb_object_size(o)) < 0) {
		fprintf(stderr, "  parse failed: %s\n", pg_error_last());
		ok = 0;
		goto out;
	}
	a = git_commit_author(c);
	ok &= git_oid_equal(&pc.tree, git_commit_tree_id(c));
	ok &= pc.nparents == git_commit_parentcount(c);
	for (size_t i = 0; ok && i < pc.nparents; i++)
		ok &= git_oid_equal(&pc.parents[i], git_commit_parent_id(c, (unsigned)i));
	ok &= pc.author_name_len == strlen(a->name) && !memcmp(pc.author_name, a->name, pc.author_name_len);
	ok &= pc.author_email_len == strlen(a->email) && !memcmp(pc.author_email, a->email, pc.author_email_len);
	ok &= pc.author_time == a->when.time;
	ok &= pc.committer_time == git_commit_time(c);
	ok &= pc.message_len == strlen(git_commit_message_raw(c)) &&
	      !memcmp(pc.message, git_commit_message_raw(c), pc.message_len);
	ok &= !strcmp(pg_buf_cstr(&pc.summary), git_commit_summary(c));
	if (!ok)
		fprintf(stderr, "  differs: summary '%s' vs '%s'\n", pg_buf_cstr(&pc.summary), git_commit_summary(c));
out:
	pg_odb_commit_release(&pc);
	git_odb_object_free(o);
	git_odb_free(godb);
	git_commit_free(c);
	return ok;
}

TEST(commit_parse_matches_libgit2)
{
	static const char *const odd[] = {
		/* several author lines, extra headers, gpgsig continuation lines */
		"tree %s\nauthor A One <a@x> 1700000000 +0100\nauthor B Two <b@x> 1700000001 +0000\n"
		"committer  C  Three  <  c@x  > 1700000002 -0500\nencoding ISO-8859-1\n"
		"gpgsig -----BEGIN PGP SIGNATURE-----\n \n abc\n -----END PGP SIGNATURE-----\n\n"
		"\n\nnet: a subject\n  continued  here\n\nbody\n",
		/* no timestamp, whitespace runs, tabs, CR */
		"tree %s\nauthor Nobody <n@x>\ncommitter Nobody <n@x>\n\n  lead \t spaces\r\n and\tmore\n \t \nbody",
		/* NUL in the message: libgit2 stops there */
		"tree %s\nauthor A <a@x> 1 +0000\ncommitter A <a@x> 2 +0000\n\nsubject\n\nbefore\\0after\n",
		/* empty message, no blank line */
		"tree %s\nauthor A <a@x> 5 +0000\ncommitter A <a@x> 6 +0000\n",
		/* subject only, no trailing newline; negative time */
		"tree %s\nauthor <> -5 +0000\ncommitter A <a@x> 7 +0000\n\nfix: x",
	};
	char dir[600], tree[GIT_OID_HEXSZ + 1];
	git_repository *repo = NULL;
	git_revwalk *w = NULL;
	git_oid id;
	int n = 0;

	if (sh("git --version >/dev/null 2>&1") != 0)
		SKIP("git not installed");
	snprintf(dir, sizeof(dir), "%s/ofs", tmpdir);
	CHECK(git_repository_open(&repo, dir) == 0);
	if (!repo)
		return;
	CHECK(git_revwalk_new(&w, repo) == 0 && git_revwalk_push_head(w) == 0);
	while (w && git_revwalk_next(&id, w) == 0) {
		CHECK(same_commit(repo, &id) == 1);
		n++;
	}
	CHECK(n >= 60);
	git_revwalk_free(w);
	{
		git_commit *head = NULL;
		git_oid hid;
		CHECK(git_reference_name_to_id(&hid, repo, "HEAD") == 0 && git_commit_lookup(&head, repo, &hid) == 0);
		git_oid_tostr(tree, sizeof(tree), git_commit_tree_id(head));
		git_commit_free(head);
	}
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		char body[2048], path[700];
		FILE *f;
		snprintf(body, sizeof(body), odd[i], tree);
		snprintf(path, sizeof(path), "%s/odd%zu", tmpdir, i);
		CHECK((f = fopen(path, "w")) != NULL);
		if (!f)
			continue;
		/* "\\0" in the template stands for a NUL byte */
		for (char *s = body; *s; s++) {
			if (s[0] == '\\' && s[1] == '0') {
				fputc('\0', f);
				s++;
			} else {
				fputc(*s, f);
			}
		}
		fclose(f);
		CHECK(sh("git -C '%s' hash-object -t commit -w --literally '%s' > '%s.id'", dir, path, path) == 0);
		snprintf(path + strlen(path), sizeof(path) - strlen(path), ".id");
		{
			char hex[64] = "";
			f = fopen(path, "r");
			if (f && fgets(hex, sizeof(hex), f) && git_oid_fromstrn(&id, hex, GIT_OID_HEXSZ) == 0)
				CHECK(same_commit(repo, &id) == 1);
			else
				CHECK(!"odd commit written");
			if (f)
				fclose(f);
		}
	}
	{
		/* what libgit2 refuses, we refuse */
		pg_odb_commit pc;
		const char *bad = "tree 0123\nauthor x\n";
		memset(&pc, 0, sizeof(pc));
		CHECK(pg_odb_parse_commit(&pc, bad, strlen(bad)) == PG_EINVALID);
		bad = "tree 0123456789012345678901234567890123456789\nauthor A a@x> 1 +0000\ncommitter A <a@x> 1 +0000\n\nm";
		CHECK(pg_odb_parse_commit(&pc, bad, strlen(bad)) == PG_EINVALID);
		CHECK(strstr(pg_error_last(), "author") != NULL);
		pg_odb_commit_release(&pc);
	}
	git_repository_free(repo);
}

TEST(queue_runs_in_order_and_reports_errors)
{
	char path[600];
	pg_store *s = NULL;
	pg_stmt *ins = NULL, *sel = NULL;
	pg_queue *q = NULL;
	int rc;

	snprintf(path, sizeof(path), "%s/q.db", tmpdir);
	CHECK_OK(pg_store_open(&s, path, PG_STORE_CREATE));
	if (!s)
		return;
	CHECK_OK(pg_store_exec(s, "CREATE TABLE qt (id INTEGER PRIMARY KEY, v TEXT NOT NULL)"));
	CHECK_OK(pg_store_prepare(&ins, s, "INSERT INTO qt(id, v) VALUES (?, ?)"));
	CHECK_OK(pg_store_begin(s));
	CHECK_OK(pg_queue_open(&q, s));
	for (int i = 0; i < 50000; i++) {
		char v[32];
		snprintf(v, sizeof(v), "value %d", i);
		pg_queue_bind_int(q, 1, i);
		pg_queue_bind_text(q, 2, v);
		CHECK_OK(pg_queue_exec(q, ins));
		if (i % 7000 == 6999)
			CHECK_OK(pg_queue_commit(q));
	}
	CHECK_OK(pg_queue_sync(q));
	/* after a sync the caller may read directly */
	CHECK_OK(pg_store_prepare(&sel, s, "SELECT count(*), max(v) FROM qt"));
	CHECK(sel && pg_stmt_step(sel) == 1);
	CHECK_INT(pg_stmt_int(sel, 0), 50000);
	CHECK_STR(pg_stmt_text(sel, 1), "value 9999");
	pg_stmt_free(sel);
	/* a failing statement: reported by a later call, with SQLite's reason, and nothing after it runs */
	pg_queue_bind_int(q, 1, 5);
	pg_queue_bind_text(q, 2, "duplicate");
	CHECK_OK(pg_queue_exec(q, ins));
	pg_queue_bind_int(q, 1, 60000);
	pg_queue_bind_text(q, 2, "after the failure");
	pg_queue_exec(q, ins);
	rc = pg_queue_close(q);
	CHECK(rc < 0);
	CHECK(strstr(pg_error_last(), "UNIQUE") || strstr(pg_error_last(), "constraint"));
	CHECK_OK(pg_store_rollback(s));
	CHECK_OK(pg_store_prepare(&sel, s, "SELECT count(*) FROM qt WHERE id = 60000"));
	CHECK(sel && pg_stmt_step(sel) == 1 && pg_stmt_int(sel, 0) == 0);
	pg_stmt_free(sel);
	pg_stmt_free(ins);
	pg_store_free(s);
}


/* Every commit's parents and tree from the graph equal libgit2's; returns commits compared or -1. */
static int cgraph_matches(const char *dir, const pg_cgraph *g)
{
	git_repository *repo = NULL;
	git_revwalk *w = NULL;
	git_oid id;
	int n = 0, bad = 0;

	if (git_repository_open(&repo, dir) < 0 || git_revwalk_new(&w, repo) < 0 ||
	    git_revwalk_push_glob(w, "refs/*") < 0)
		return -1;
	while (git_revwalk_next(&id, w) == 0) {
		git_commit *c = NULL;
		uint32_t pos, pp[PG_CGRAPH_MAX_PARENTS];
		size_t np = 0;
		if (git_commit_lookup(&c, repo, &id) < 0 || pg_cgraph_find(g, id.id, &pos) < 0 ||
		    pg_cgraph_parents(g, pos, pp, &np) < 0 || np != git_commit_parentcount(c) ||
		    memcmp(pg_cgraph_id(g, pos), id.id, 20) ||
		    memcmp(pg_cgraph_tree(g, pos), git_commit_tree_id(c)->id, 20)) {
			bad++;
		} else {
			for (size_t i = 0; i < np; i++)
				if (memcmp(pg_cgraph_id(g, pp[i]), git_commit_parent_id(c, (unsigned)i)->id, 20))
					bad++;
		}
		git_commit_free(c);
		n++;
	}
	git_revwalk_free(w);
	git_repository_free(repo);
	return bad ? -1 : n;
}

TEST(commit_graph_matches_libgit2)
{
	char dir[512], objs[600];
	pg_cgraph *g = NULL;
	const char *why = "unset";
	unsigned char zero[20] = { 0 };
	uint32_t pos;

	snprintf(dir, sizeof(dir), "%s/cg", tmpdir);
	snprintf(objs, sizeof(objs), "%s/.git/objects", dir);
	/* merges, an octopus of 5 (parents 3.. go to the EDGE chunk), a root commit of its own */
	CHECK(sh("set -e; git init -q -b master '%s'; cd '%s'; git config user.name T; git config user.email t@e;"
		 "for i in 1 2 3; do echo $i > f$i; git add f$i; git commit -qm c$i; done;"
		 "for b in a b c d e; do git checkout -q -b $b master~1; echo $b > g$b; git add g$b; git commit -qm $b; done;"
		 "git checkout -q master; git merge -q --no-edit a;"
		 "git merge -q --no-edit -m octopus b c d e >/dev/null;"
		 "git checkout -q --orphan other; git rm -rfq .; echo o > o; git add o; git commit -qm root2;"
		 "git checkout -q master", dir, dir) == 0);
	CHECK_OK(pg_cgraph_open(&g, objs, &why));
	CHECK(g == NULL && why == NULL); /* no file yet: nothing to warn about */
	for (int v = 1; v <= 2; v++) {
		CHECK(sh("cd '%s' && git -c commitGraph.generationVersion=%d commit-graph write --reachable 2>/dev/null",
			 dir, v) == 0);
		CHECK_OK(pg_cgraph_open(&g, objs, &why));
		CHECK(g != NULL);
		if (!g)
			continue;
		CHECK_INT(pg_cgraph_count(g), 11);
		CHECK_INT(cgraph_matches(dir, g), 11);
		CHECK(pg_cgraph_find(g, zero, &pos) == PG_ENOTFOUND);
		pg_cgraph_free(g);
		g = NULL;
	}
	/* a split graph is not read: no crash, a reason */
	CHECK(sh("cd '%s' && rm -f .git/objects/info/commit-graph && git commit-graph write --reachable --split 2>/dev/null &&"
		 " touch x && git add x && git commit -qm more && git commit-graph write --reachable --split=no-merge 2>/dev/null &&"
		 " ln -sf commit-graphs/graph-$(tail -1 .git/objects/info/commit-graphs/commit-graph-chain).graph .git/objects/info/commit-graph",
		 dir) == 0);
	CHECK_OK(pg_cgraph_open(&g, objs, &why));
	CHECK(g == NULL && why && strstr(why, "split"));
	pg_cgraph_free(g);
}

/* A commit-graph image to corrupt: 4 commits, one merge. */
static int cgraph_image(unsigned char **buf, size_t *len)
{
	char path[600];
	FILE *f;
	long sz;

	snprintf(path, sizeof(path), "%s/cg2/.git/objects/info/commit-graph", tmpdir);
	if (sh("set -e; d='%s/cg2'; git init -q -b master $d; cd $d; git config user.name T; git config user.email t@e;"
	       "echo 1 > a; git add a; git commit -qm 1; git checkout -q -b side; echo 2 > b; git add b; git commit -qm 2;"
	       "git checkout -q master; echo 3 > c; git add c; git commit -qm 3; git merge -q --no-edit side;"
	       "git -c commitGraph.generationVersion=1 commit-graph write --reachable 2>/dev/null", tmpdir) != 0 ||
	    !(f = fopen(path, "rb")))
		return -1;
	fseek(f, 0, SEEK_END);
	sz = ftell(f);
	rewind(f);
	*buf = malloc((size_t)sz);
	*len = (size_t)sz;
	if (!*buf || fread(*buf, 1, *len, f) != *len) {
		fclose(f);
		return -1;
	}
	fclose(f);
	return 0;
}

/* Offset of chunk id in a commit-graph image (the test's own images are well-formed). */
static size_t chunk_at(const unsigned char *buf, const char *id)
{
	for (size_t i = 0; i < buf[6]; i++)
		if (!memcmp(buf + 8 + 12 * i, id, 4)) {
			size_t off = 0;
			for (int k = 0; k < 8; k++)
				off = off << 8 | buf[8 + 12 * i + 4 + k];
			return off;
		}
	return 0;
}

TEST(commit_graph_survives_corruption)
{
	unsigned char *img = NULL, *b;
	size_t len = 0, cdat;
	pg_cgraph *g = NULL;
	const char *why = NULL;
	uint32_t pp[PG_CGRAPH_MAX_PARENTS];
	size_t np, bad = 0;

	CHECK(cgraph_image(&img, &len) == 0);
	if (!img)
		return;
	CHECK_OK(pg_cgraph_from_buffer(&g, img, len, &why));
	CHECK(g && pg_cgraph_count(g) == 4);
	pg_cgraph_free(g);
	/* every truncation: refused or usable, never a read past the end (ASan) */
	for (size_t cut = 0; cut < len; cut++) {
		b = malloc(cut ? cut : 1);
		memcpy(b, img, cut);
		CHECK_OK(pg_cgraph_from_buffer(&g, b, cut, &why));
		if (g) {
			for (uint32_t p = 0; p < pg_cgraph_count(g); p++)
				pg_cgraph_parents(g, p, pp, &np);
			pg_cgraph_free(g);
		} else {
			bad++;
		}
		free(b);
	}
	CHECK(bad >= len - 20); /* only the trailing checksum may go */
	/* wrong signature, version, hash */
	for (int k = 0; k < 3; k++) {
		b = malloc(len);
		memcpy(b, img, len);
		b[k == 0 ? 0 : k == 1 ? 4 : 5] ^= 0x7;
		CHECK_OK(pg_cgraph_from_buffer(&g, b, len, &why));
		CHECK(g == NULL && why != NULL);
		free(b);
	}
	/* a parent position out of range: an error for that commit, not a crash */
	cdat = chunk_at(img, "CDAT");
	CHECK(cdat > 0);
	b = malloc(len);
	memcpy(b, img, len);
	for (uint32_t p = 0; p < 4; p++) {
		unsigned char *e = b + cdat + 36 * p + 20;
		if (e[0] != 0x70) /* has a first parent */
			e[0] = 0x0f;
	}
	CHECK_OK(pg_cgraph_from_buffer(&g, b, len, &why));
	CHECK(g != NULL);
	if (g) {
		int errors = 0;
		for (uint32_t p = 0; p < pg_cgraph_count(g); p++)
			errors += pg_cgraph_parents(g, p, pp, &np) == PG_EINVALID;
		CHECK_INT(errors, 3); /* every commit but the root */
		pg_cgraph_free(g);
	}
	/* an octopus pointer into a missing edge list */
	memcpy(b, img, len);
	for (uint32_t p = 0; p < 4; p++) {
		unsigned char *e = b + cdat + 36 * p + 24;
		if (e[0] != 0x70) { /* the merge */
			e[0] = 0x80, e[1] = 0, e[2] = 0, e[3] = 5;
		}
	}
	CHECK_OK(pg_cgraph_from_buffer(&g, b, len, &why));
	if (g) {
		int errors = 0;
		for (uint32_t p = 0; p < pg_cgraph_count(g); p++)
			errors += pg_cgraph_parents(g, p, pp, &np) == PG_EINVALID;
		CHECK_INT(errors, 1);
		pg_cgraph_free(g);
	}
	free(b);
	free(img);
}

int main(void)
{
	git_libgit2_init();
	RUN(reader_matches_libgit2);
	RUN(reader_survives_corruption);
	RUN(commit_parse_matches_libgit2);
	RUN(queue_runs_in_order_and_reports_errors);
	RUN(commit_graph_matches_libgit2);
	RUN(commit_graph_survives_corruption);
	sh("rm -rf '%s'", tmpdir);
	git_libgit2_shutdown();
	return harness_done();
}
