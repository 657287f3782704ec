/*
 * Unit tests for src/backport: the stable patch id against `git patch-id
 * --stable` on generated histories, the commit diff it hashes
 * (pg_ingest_diff_commit) against `git diff-tree -p` byte for byte, and the
 * live-patchability rules on small hand-written diffs (one or more per rule).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <git2.h>
#include "harness.h"
#include "patchgap/backport.h"
#include "patchgap/ingest.h"
#include "util/buf.h"

static char tmpdir[] = "/tmp/pg-test-backport-XXXXXX";

static int sh(const char *fmt, ...) PG_PRINTF(1, 2);
static int sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static char *capture(const char *cmd)
{
	pg_buf b = PG_BUF_INIT;
	char buf[4096];
	size_t n;
	FILE *p = popen(cmd, "r");
	if (!p)
		return NULL;
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
		pg_buf_put(&b, buf, n);
	pclose(p);
	return pg_buf_detach(&b);
}

/* xorshift: deterministic pseudo-random edits */
static unsigned rnd_state = 2463534242u;
static unsigned rnd(unsigned n)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state % n;
}

static void write_file(const char *path, unsigned seed, unsigned lines, int trailing_nl)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return;
	for (unsigned i = 0; i < lines; i++)
		fprintf(f, "%s\tline %u of %u%s%s", i % 7 == 0 ? "int f(void)" : "",
			(i * 2654435761u + seed) % 97, seed, i % 5 == 0 ? "  x  =  1 ;" : "",
			i + 1 < lines || trailing_nl ? "\n" : "");
	fclose(f);
}

TEST(patchid_vs_git)
{
	git_repository *repo = NULL;
	char path[512], *out = NULL, *show = NULL;
	int compared = 0;

	if (sh("git --version >/dev/null 2>&1") != 0)
		SKIP("git not installed");
	CHECK(mkdtemp(tmpdir) != NULL);
	CHECK(sh("cd %s && git init -q r && cd r && git config user.name T && git config user.email t@e", tmpdir) == 0);
	for (unsigned f = 0; f < 4; f++) {
		snprintf(path, sizeof(path), "%s/r/file%u.c", tmpdir, f);
		write_file(path, f, 60, 1);
	}
	CHECK(sh("cd %s/r && git add -A && git commit -qm base", tmpdir) == 0);
	snprintf(path, sizeof(path), "%s/r", tmpdir);
	CHECK(git_repository_open(&repo, path) == 0);
	for (int c = 0; c < 16 && repo; c++) {
		git_oid ours, mine;
		char hex[GIT_OID_HEXSZ + 1], cmd[1024];
		unsigned nf = 1 + rnd(3);
		for (unsigned k = 0; k < nf; k++) {
			unsigned f = rnd(6);
			snprintf(path, sizeof(path), "%s/r/file%u.c", tmpdir, f);
			switch (rnd(5)) {
			case 0: /* rewrite with another seed: many hunks */
				write_file(path, rnd(1000), 40 + rnd(40), 1);
				break;
			case 1: /* lose the trailing newline */
				write_file(path, f, 60, 0);
				break;
			case 2: /* delete (if present) */
				unlink(path);
				break;
			case 3: /* mode change */
				if (access(path, F_OK) == 0)
					sh("chmod %s %s", rnd(2) ? "+x" : "-x", path);
				else
					write_file(path, f, 10, 1);
				break;
			default: /* a few line edits */
				sh("test -f %s && sed -i '%us/line/LINE/;%us/$/ tail/' %s || true", path, 1 + rnd(60),
				   1 + rnd(60), path);
			}
		}
		if (sh("cd %s/r && git add -A && git diff --cached --quiet", tmpdir) == 0)
			continue;
		CHECK(sh("cd %s/r && git commit -qm 'change %d'", tmpdir, c) == 0);
		snprintf(cmd, sizeof(cmd), "cd %s/r && git diff-tree -p HEAD | git patch-id --stable", tmpdir);
		free(out);
		out = capture(cmd);
		snprintf(cmd, sizeof(cmd), "cd %s/r && git diff-tree -p HEAD", tmpdir);
		free(show);
		show = capture(cmd);
		if (!out || strlen(out) < 40 || !show)
			continue;
		/* the text function on git's own diff */
		CHECK_OK(pg_patchid_text(&mine, show, strlen(show), NULL));
		git_oid_tostr(hex, sizeof(hex), &mine);
		CHECK(!strncmp(hex, out, 40));
		/* the commit function diffs with libgit2 */
		{
			git_object *head = NULL;
			CHECK(git_revparse_single(&head, repo, "HEAD") == 0);
			if (head) {
				CHECK_OK(pg_patchid_commit(&ours, repo, git_object_id(head)));
				git_oid_tostr(hex, sizeof(hex), &ours);
				if (strncmp(hex, out, 40))
					fprintf(stderr, "  commit %d: libgit2 diff id %s, git %.40s\n%s\n", c, hex, out, show);
				CHECK(!strncmp(hex, out, 40));
			}
			git_object_free(head);
		}
		compared++;
	}
	CHECK(compared >= 10);
	/* several commits in one stream: `git log -p` output, the first is hashed */
	{
		char cmd[512];
		git_oid a;
		size_t next = 0;
		char hex[GIT_OID_HEXSZ + 1];
		snprintf(cmd, sizeof(cmd), "cd %s/r && git log -p -2 --no-renames", tmpdir);
		free(show);
		show = capture(cmd);
		snprintf(cmd, sizeof(cmd), "cd %s/r && git log -p -2 --no-renames | git patch-id --stable | head -1", tmpdir);
		free(out);
		out = capture(cmd);
		CHECK_OK(pg_patchid_text(&a, show, strlen(show), &next));
		git_oid_tostr(hex, sizeof(hex), &a);
		CHECK(out && !strncmp(hex, out, 40));
		if (!(next > 0 && next < strlen(show)))
			fprintf(stderr, "  next=%zu len=%zu\n%s\n", next, strlen(show), show);
		CHECK(next > 0 && next < strlen(show));
	}
	{ /* the whole stream of 6 commits, id by id, as git prints them */
		char cmd[512], hex[GIT_OID_HEXSZ + 1];
		size_t pos = 0, next, seen = 0;
		snprintf(cmd, sizeof(cmd), "cd %s/r && git log -p -6 --no-renames", tmpdir);
		free(show);
		show = capture(cmd);
		snprintf(cmd, sizeof(cmd), "cd %s/r && git log -p -6 --no-renames | git patch-id --stable | cut -c1-40 | tr '\\n' ' '", tmpdir);
		free(out);
		out = capture(cmd);
		while (show && out && pos < strlen(show)) {
			git_oid a;
			int rc = pg_patchid_text(&a, show + pos, strlen(show) - pos, &next);
			CHECK(next > 0);
			if (next == 0)
				break;
			pos += next;
			if (rc == PG_ENOTFOUND)
				continue;
			git_oid_tostr(hex, sizeof(hex), &a);
			CHECK(strlen(out) >= seen * 41 + 40 && !strncmp(out + seen * 41, hex, 40));
			seen++;
		}
		CHECK(out && seen * 41 == strlen(out));
	}
	{
		git_oid a;
		CHECK(pg_patchid_text(&a, "just words\n", 11, NULL) == PG_ENOTFOUND);
	}
	free(out);
	free(show);
	git_repository_free(repo);
	sh("rm -rf %s", tmpdir);
}

/* ---- live patching -------------------------------------------------------- */

static pg_livepatch_verdict *assess(const char *diff)
{
	pg_livepatch_verdict *v = NULL;
	if (pg_livepatch_assess(&v, diff, strlen(diff)) < 0)
		return NULL;
	return v;
}

static const pg_livepatch_reason *has_rule(const pg_livepatch_verdict *v, const char *rule)
{
	for (size_t i = 0; v && i < v->nreasons; i++)
		if (!strcmp(v->reasons[i].rule, rule))
			return &v->reasons[i];
	return NULL;
}

#define HDR(f) "diff --git a/" f " b/" f "\nindex 1111111..2222222 100644\n--- a/" f "\n+++ b/" f "\n"

/*
 * The one commit diff (patch ids, the classifier's diff head, live-patch and
 * .config verdicts) is git's text: every kind of file change git writes a
 * header for, byte for byte; merges give no diff; max cuts at a line.
 */
TEST(commit_diff_vs_git)
{
	static char dir[] = "/tmp/pg-test-cdiff-XXXXXX";
	git_repository *repo = NULL;
	pg_ingest_diff *d = NULL;
	char path[600];
	const char *steps[] = {
		/* root: text, binary, empty, executable, symlink, nested */
		"printf 'int a(void)\\n{\\n\\treturn 1;\\n}\\n' > a.c && printf 'B\\000IN\\001' > bin.dat && : > e.txt && "
		"printf 'X\\000Y' > bin2.dat && "
		"printf '#!/bin/sh\\necho hi\\n' > s.sh && chmod +x s.sh && ln -s a.c link && mkdir -p sub/dir && "
		"seq 1 40 > sub/dir/x.c",
		/* edits in two places, mode only (text, binary), mode and content, binary edit, delete, add, symlink removed */
		"sed -i 's/return 1;/return 2;/' a.c && printf 'int b(void)\\n{\\n\\treturn 0;\\n}\\n' >> a.c && "
		"chmod -x s.sh && chmod +x sub/dir/x.c && sed -i '3s/.*/three/;35s/.*/thirty-five/' sub/dir/x.c && "
		"printf 'B\\000OUT' > bin.dat && chmod +x bin2.dat && rm e.txt && printf 'new\\n' > n.c && rm link && "
		": > empty2",
		/* binary deleted, a newline lost, a file replaced by a directory */
		"rm bin.dat && printf 'no newline' > n.c && rm a.c && mkdir a.c && printf 'x\\n' > a.c/inner.c",
	};
	char *want = NULL;
	unsigned info;

	if (sh("git --version >/dev/null 2>&1") != 0)
		SKIP("git not installed");
	CHECK(mkdtemp(dir) != NULL);
	CHECK(sh("cd %s && git init -q r && cd r && git config user.name T && git config user.email t@e", dir) == 0);
	snprintf(path, sizeof(path), "%s/r", dir);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		CHECK(sh("cd %s && %s && git add -A && git commit -qm 'step %zu'", path, steps[i], i) == 0);
	CHECK(git_repository_open(&repo, path) == 0);
	CHECK_OK(pg_ingest_diff_open(&d, repo));
	for (int back = 2; back >= 0 && d; back--) {
		pg_buf got = PG_BUF_INIT;
		git_object *c = NULL;
		char rev[16], cmd[800];

		snprintf(rev, sizeof(rev), "HEAD~%d", back);
		CHECK(git_revparse_single(&c, repo, rev) == 0);
		snprintf(cmd, sizeof(cmd), "cd %s && git diff-tree -p --root --no-renames --no-commit-id --abbrev=7 %s", path, rev);
		free(want);
		want = capture(cmd);
		CHECK_OK(pg_ingest_diff_commit(d, &got, git_object_id(c), 0, 0, &info));
		CHECK_INT(info, 0);
		if (want && strcmp(pg_buf_cstr(&got), want))
			fprintf(stderr, "  %s: ours\n%s\n  git\n%s\n", rev, pg_buf_cstr(&got), want);
		CHECK(want && !strcmp(pg_buf_cstr(&got), want));
		if (back == 1) { /* a bounded diff is a prefix of the whole, cut at a line end */
			pg_buf cut = PG_BUF_INIT;
			CHECK_OK(pg_ingest_diff_commit(d, &cut, git_object_id(c), 0, 100, &info));
			CHECK(info & PG_INGEST_DIFF_CUT);
			CHECK(cut.len > 0 && cut.len <= 100 && cut.ptr[cut.len - 1] == '\n');
			CHECK(cut.len <= got.len && !memcmp(cut.ptr, got.ptr, cut.len));
			pg_buf_release(&cut);
		}
		pg_buf_release(&got);
		git_object_free(c);
	}
	/* a merge has no single diff (unless asked for its first parent's); an unknown commit is not found */
	CHECK(sh("cd %s && git checkout -q -b side HEAD~1 && printf 'side\\n' > side.c && git add side.c && "
		 "git commit -qm side && git checkout -q - && git merge -q --no-edit side", path) == 0);
	if (d) {
		pg_buf got = PG_BUF_INIT;
		git_object *c = NULL;
		git_oid none;
		CHECK(git_revparse_single(&c, repo, "HEAD") == 0);
		CHECK_OK(pg_ingest_diff_commit(d, &got, git_object_id(c), 0, 0, &info));
		CHECK(info == PG_INGEST_DIFF_MERGE && got.len == 0);
		CHECK_OK(pg_ingest_diff_commit(d, &got, git_object_id(c), PG_INGEST_DIFF_MERGES, 0, &info));
		CHECK(info == 0 && strstr(pg_buf_cstr(&got), "+++ b/side.c"));
		git_oid_fromstr(&none, "0123456789abcdef0123456789abcdef01234567");
		CHECK_INT(pg_ingest_diff_commit(d, &got, &none, 0, 0, &info), PG_ENOTFOUND);
		pg_buf_release(&got);
		git_object_free(c);
	}
	free(want);
	pg_ingest_diff_free(d);
	git_repository_free(repo);
	sh("rm -rf %s", dir);
}

TEST(lp_function_body)
{
	pg_livepatch_verdict *v = assess(HDR("drivers/net/foo.c")
		"@@ -10,7 +10,8 @@ static int foo_rx(struct foo *f, int len)\n"
		" \tint n;\n"
		" \n"
		"-\tif (len > f->max)\n"
		"+\tif (len < 0 || len > f->max)\n"
		"+\t\treturn -EINVAL;\n"
		" \t\treturn -EINVAL;\n"
		" \tn = len;\n");
	CHECK(v && v->level == PG_LP_LIKELY);
	CHECK(v && v->nreasons == 0);
	CHECK(v && v->functions == 1 && v->files == 1);
	pg_livepatch_free(v);
}

TEST(lp_struct_layout)
{
	pg_livepatch_verdict *v = assess(HDR("include/linux/foo.h")
		"@@ -20,6 +20,7 @@ struct foo {\n"
		" \tint max;\n"
		" \tspinlock_t lock;\n"
		"+\tatomic_t refs;\n"
		" \tvoid *priv;\n"
		" };\n");
	const pg_livepatch_reason *r = has_rule(v, "struct-layout");
	CHECK(v && v->level == PG_LP_SHADOW);
	CHECK(r && !strcmp(r->file, "include/linux/foo.h") && r->line == 22);
	pg_livepatch_free(v);
}

TEST(lp_data_initializer)
{
	pg_livepatch_verdict *v = assess(HDR("drivers/foo.c")
		"@@ -100,6 +100,7 @@ static int foo_release(struct inode *i, struct file *f)\n"
		" }\n"
		" \n"
		" static const struct file_operations foo_fops = {\n"
		" \t.open = foo_open,\n"
		"+\t.llseek = no_llseek,\n"
		" \t.release = foo_release,\n"
		" };\n");
	const pg_livepatch_reason *r = has_rule(v, "data-init");
	CHECK(v && v->level == PG_LP_NOT);
	CHECK(r && r->line == 104);
	pg_livepatch_free(v);
}

TEST(lp_global_var)
{
	pg_livepatch_verdict *v = assess(HDR("drivers/foo.c")
		"@@ -30,6 +30,7 @@\n"
		" #include <linux/slab.h>\n"
		" \n"
		"+static int foo_busy;\n"
		" static DEFINE_MUTEX(foo_lock);\n");
	CHECK(v && v->level == PG_LP_SHADOW);
	CHECK(has_rule(v, "global-var") != NULL);
	pg_livepatch_free(v);
	v = assess(HDR("drivers/foo.c")
		"@@ -30,6 +30,6 @@\n"
		"-static int foo_limit = 10;\n"
		"+static int foo_limit = 16;\n");
	CHECK(v && v->level == PG_LP_NOT && has_rule(v, "data-init"));
	pg_livepatch_free(v);
}

TEST(lp_init_exit)
{
	pg_livepatch_verdict *v = assess(HDR("drivers/foo.c")
		"@@ -200,7 +200,8 @@ static int __init foo_init(void)\n"
		" \tint ret;\n"
		" \n"
		"+\tfoo_table_size = 64;\n"
		" \tret = foo_setup();\n");
	const pg_livepatch_reason *r = has_rule(v, "init-exit");
	CHECK(v && v->level == PG_LP_NOT);
	CHECK(r && r->line == 202);
	pg_livepatch_free(v);
}

TEST(lp_asm)
{
	pg_livepatch_verdict *v = assess(HDR("arch/x86/entry/entry_64.S")
		"@@ -1,3 +1,4 @@\n"
		" SYM_CODE_START(entry)\n"
		"+\tlfence\n"
		" \tret\n");
	CHECK(v && v->level == PG_LP_NOT && has_rule(v, "asm"));
	pg_livepatch_free(v);
}

TEST(lp_kconfig_makefile)
{
	pg_livepatch_verdict *v = assess(HDR("drivers/foo/Kconfig")
		"@@ -1,3 +1,4 @@\n"
		" config FOO\n"
		" \ttristate \"foo\"\n"
		"+\tdepends on NET\n"
		HDR("drivers/foo/Makefile")
		"@@ -1,2 +1,2 @@\n"
		"-obj-$(CONFIG_FOO) += foo.o\n"
		"+obj-$(CONFIG_FOO) += foo.o foo_util.o\n");
	size_t n = 0;
	for (size_t i = 0; v && i < v->nreasons; i++)
		n += !strcmp(v->reasons[i].rule, "build");
	CHECK(v && v->level == PG_LP_NOT && n == 2);
	pg_livepatch_free(v);
}

TEST(lp_exported_signature)
{
	pg_livepatch_verdict *v = assess(HDR("net/core/foo.c")
		"@@ -50,7 +50,7 @@ static void helper(void)\n"
		" }\n"
		" \n"
		"-int foo_send(struct sk_buff *skb)\n"
		"+int foo_send(struct sk_buff *skb, gfp_t gfp)\n"
		" {\n"
		" \treturn 0;\n"
		" }\n"
		" EXPORT_SYMBOL_GPL(foo_send);\n");
	CHECK(v && v->level == PG_LP_NOT && has_rule(v, "exported-signature"));
	pg_livepatch_free(v);
}

TEST(lp_static_signature)
{
	pg_livepatch_verdict *v = assess(HDR("net/core/foo.c")
		"@@ -50,7 +50,7 @@\n"
		"-static int foo_len(struct sk_buff *skb)\n"
		"+static int foo_len(const struct sk_buff *skb)\n"
		" {\n"
		" \treturn skb->len;\n"
		" }\n");
	CHECK(v && v->level == PG_LP_LIKELY && has_rule(v, "signature"));
	CHECK(!has_rule(v, "exported-signature"));
	pg_livepatch_free(v);
}

TEST(lp_static_key)
{
	pg_livepatch_verdict *v = assess(HDR("kernel/foo.c")
		"@@ -10,6 +10,7 @@ void foo_enable(void)\n"
		" {\n"
		"+\tstatic_branch_enable(&foo_key);\n"
		" \tfoo_on = true;\n");
	CHECK(v && v->level == PG_LP_NOT && has_rule(v, "static-key"));
	pg_livepatch_free(v);
}

TEST(lp_registration)
{
	pg_livepatch_verdict *v = assess(HDR("drivers/foo.c")
		"@@ -300,6 +300,7 @@ static int foo_probe(struct platform_device *pdev)\n"
		" \tint ret;\n"
		" \n"
		"+\tret = register_netdevice_notifier(&foo_nb);\n"
		" \treturn ret;\n");
	CHECK(v && v->level == PG_LP_NOT && has_rule(v, "registration"));
	pg_livepatch_free(v);
}

TEST(lp_macro_and_export_and_docs)
{
	pg_livepatch_verdict *v = assess(HDR("drivers/foo.h")
		"@@ -1,3 +1,3 @@\n"
		"-#define FOO_MAX 16\n"
		"+#define FOO_MAX 32\n");
	CHECK(v && v->level == PG_LP_LIKELY && has_rule(v, "macro"));
	pg_livepatch_free(v);
	v = assess(HDR("drivers/foo.c")
		"@@ -80,3 +80,4 @@ int foo_get(void)\n"
		" }\n"
		"+EXPORT_SYMBOL(foo_get);\n");
	CHECK(v && v->level == PG_LP_NOT && has_rule(v, "export"));
	pg_livepatch_free(v);
	v = assess(HDR("Documentation/foo.rst") "@@ -1,1 +1,1 @@\n-old\n+new\n");
	CHECK(v && v->level == PG_LP_LIKELY && v->nreasons == 0 && v->files == 0);
	pg_livepatch_free(v);
}

TEST(lp_scope_tracking)
{
	/* the hunk starts in a function, leaves it, then edits a struct */
	pg_livepatch_verdict *v = assess(HDR("drivers/foo.c")
		"@@ -10,10 +10,11 @@ static int foo_a(int x)\n"
		" \tx++;\n"
		"-\treturn x;\n"
		"+\treturn x + 1;\n"
		" }\n"
		" \n"
		" struct foo_priv {\n"
		" \tint a;\n"
		"+\tint b;\n"
		" };\n");
	const pg_livepatch_reason *r = has_rule(v, "struct-layout");
	CHECK(v && v->level == PG_LP_SHADOW && v->functions == 1);
	CHECK(r && r->line == 16);
	pg_livepatch_free(v);
	/* garbage never crashes and is not a diff: no verdict */
	v = assess("@@ nonsense\n+++\n---\n\\ x\n");
	CHECK(v == NULL && strstr(pg_error_last(), "no unified diff found"));
	pg_livepatch_free(v);
	v = assess("");
	CHECK(v == NULL);
	v = assess(HDR("kernel/foo.c") "@@ -x +1 @@\n-a\n+b\n");
	CHECK(v == NULL && strstr(pg_error_last(), "malformed hunk header"));
	{
		char *json = NULL;
		v = assess(HDR("arch/x86/foo.S") "@@ -1 +1 @@\n-a\n+b\n");
		CHECK_OK(v ? pg_livepatch_json(&json, v) : -1);
		CHECK(json && strstr(json, "\"verdict\": \"not\"") && strstr(json, "\"rule\": \"asm\""));
		free(json);
		pg_livepatch_free(v);
	}
}

int main(void)
{
	git_libgit2_init();
	RUN(patchid_vs_git);
	RUN(commit_diff_vs_git);
	RUN(lp_function_body);
	RUN(lp_struct_layout);
	RUN(lp_data_initializer);
	RUN(lp_global_var);
	RUN(lp_init_exit);
	RUN(lp_asm);
	RUN(lp_kconfig_makefile);
	RUN(lp_exported_signature);
	RUN(lp_static_signature);
	RUN(lp_static_key);
	RUN(lp_registration);
	RUN(lp_macro_and_export_and_docs);
	RUN(lp_scope_tracking);
	git_libgit2_shutdown();
	return harness_done();
}
