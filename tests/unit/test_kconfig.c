/*
 * Unit tests for src/kconfig: .config parsing, the Kbuild walker on
 * hand-made trees and on Debian's real 6.1 Kbuild files, per-hunk #if
 * evaluation, diff verdicts, the git tree reader, and junk input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "harness.h"
#include "patchgap/kconfig.h"
#include "util/buf.h"
#include "util/map.h"

/* ------------------------------------------------------------ helpers */

static char *mktemp_dir(void)
{
	char tmpl[] = "/tmp/pg-kconfig-XXXXXX";
	char *d = mkdtemp(tmpl);
	return d ? strdup(d) : NULL;
}

static void rm_rf(const char *dir)
{
	char cmd[4200];
	if (!dir || strncmp(dir, "/tmp/pg-kconfig-", 16))
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "  cannot remove %s\n", dir);
}

static void write_file(const char *root, const char *rel, const char *text)
{
	char path[4096];
	FILE *f;
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (char *p = path + strlen(root) + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "  cannot write %s\n", path);
		return;
	}
	fputs(text, f);
	fclose(f);
}

static pg_kconfig *cfg_from(const char *text)
{
	pg_kconfig *c = NULL;
	if (pg_kconfig_parse(&c, text, strlen(text), "test.config") < 0)
		fprintf(stderr, "  config: %s\n", pg_error_last());
	return c;
}

/* Build state of path; reason copied into why (optional). */
static pg_kbuild_state st(const pg_kbuild *kb, const char *path, char *why, size_t whylen)
{
	pg_kbuild_verdict v;
	pg_kbuild_state s;
	if (pg_kbuild_file(&v, kb, path) < 0)
		return (pg_kbuild_state)-1;
	s = v.state;
	if (why)
		snprintf(why, whylen, "%s", v.reason ? v.reason : "");
	pg_kbuild_verdict_release(&v);
	return s;
}


/* An in-memory tree read straight from the .tar.xz (xz -dc | ustar parse):
 * extracting 4,655 files to disk costs far more than evaluating them, and it
 * shows the pg_ktree callback works on any storage. */
struct memtree {
	pg_strmap files; /* path below the first component -> pg_buf * */
};

static int memtree_read(pg_buf *out, const char *path, void *payload)
{
	struct memtree *m = payload;
	pg_buf *b = pg_strmap_get(&m->files, path, NULL);
	if (!b)
		return PG_ENOTFOUND;
	return pg_buf_put(out, pg_buf_cstr(b), b->len) < 0 ? PG_ENOMEM : (pg_buf_grow(out, 0) < 0 ? PG_ENOMEM : 0);
}

static void memtree_free(struct memtree *m)
{
	const char *k;
	void *v;
	if (!m)
		return;
	for (size_t i = 0; pg_strmap_next(&m->files, &i, &k, &v);) {
		pg_buf_release(v);
		free(v);
	}
	pg_strmap_release(&m->files);
	free(m);
}

/* Load "prefix/..." members of the tar.xz as "..." paths. */
static struct memtree *memtree_load(const char *tarxz, const char *prefix)
{
	char cmd[4200], hdr[512], longname[4096] = "";
	struct memtree *m = calloc(1, sizeof(*m));
	FILE *p;
	size_t plen = strlen(prefix);

	snprintf(cmd, sizeof(cmd), "xz -dc '%s'", tarxz);
	if (!m || !(p = popen(cmd, "r"))) {
		free(m);
		return NULL;
	}
	while (fread(hdr, 1, 512, p) == 512 && hdr[0]) {
		char name[4096], sizebuf[13];
		size_t size, padded;
		char *data;
		memcpy(sizebuf, hdr + 124, 12);
		sizebuf[12] = '\0';
		size = (size_t)strtoull(sizebuf, NULL, 8);
		padded = (size + 511) / 512 * 512;
		if (!(data = malloc(padded + 1)) || fread(data, 1, padded, p) != padded) {
			free(data);
			break;
		}
		data[size] = '\0';
		if (hdr[156] == 'L') { /* GNU long name for the next member */
			snprintf(longname, sizeof(longname), "%s", data);
			free(data);
			continue;
		}
		if (longname[0])
			snprintf(name, sizeof(name), "%s", longname);
		else if (hdr[345])
			snprintf(name, sizeof(name), "%.155s/%.100s", hdr + 345, hdr);
		else
			snprintf(name, sizeof(name), "%.100s", hdr);
		longname[0] = '\0';
		if ((hdr[156] == '0' || hdr[156] == '\0') && !strncmp(name, prefix, plen)) {
			pg_buf *b = calloc(1, sizeof(*b));
			if (b && pg_buf_put(b, data, size) == 0 && pg_buf_grow(b, 0) == 0 &&
			    pg_strmap_set(&m->files, name + plen, b) == 0)
				b = NULL;
			if (b) {
				pg_buf_release(b);
				free(b);
			}
		}
		free(data);
	}
	pclose(p);
	return m;
}

/* ------------------------------------------------------------ .config */

TEST(config_values)
{
	pg_kconfig *c = cfg_from(
		"#\n# Automatically generated file; DO NOT EDIT.\n#\n"
		"CONFIG_X86_64=y\nCONFIG_X86=y\nCONFIG_TUN=m\nCONFIG_LOCALVERSION=\"-test \\\"q\\\"\"\n"
		"CONFIG_NR_CPUS=8192\nCONFIG_PHYSICAL_START=0x1000000\n# CONFIG_SLAB is not set\n"
		"CONFIG_FOO=n\r\n\nCONFIG_TUN=y\n");
	CHECK(c != NULL);
	if (!c)
		return;
	CHECK(pg_kconfig_tristate(c, "CONFIG_X86_64") == 'y');
	CHECK(pg_kconfig_tristate(c, "TUN") == 'y'); /* the last assignment wins */
	CHECK(pg_kconfig_tristate(c, "SLAB") == 'n');
	CHECK(pg_kconfig_tristate(c, "FOO") == 'n');
	CHECK(pg_kconfig_tristate(c, "NEVER_MENTIONED") == 'n');
	CHECK(pg_kconfig_tristate(c, "NR_CPUS") == 'v');
	CHECK_STR(pg_kconfig_get(c, "CONFIG_NR_CPUS"), "8192");
	CHECK_STR(pg_kconfig_get(c, "PHYSICAL_START"), "0x1000000");
	CHECK_STR(pg_kconfig_get(c, "LOCALVERSION"), "-test \"q\"");
	CHECK(pg_kconfig_get(c, "SLAB") == NULL);
	CHECK_STR(pg_kconfig_srcarch(c), "x86");
	CHECK_INT(pg_kconfig_count(c), 6);
	pg_kconfig_free(c);
	c = cfg_from("CONFIG_ARM64=y\nCONFIG_ARM=y\n");
	CHECK(c && !strcmp(pg_kconfig_srcarch(c), "arm64"));
	pg_kconfig_free(c);
}

TEST(config_rejects_non_config)
{
	pg_kconfig *c = NULL;
	static const char makefile[] = "obj-y += a.o\nobj-m += b.o\nccflags-y := -I.\nall:\n\techo\nx := 1\ny := 2\n";
	static const char binary[] = "CONFIG_A=y\n\x7f" "ELF\x01\x02\x00junk";
	static const char json[] = "{\"CONFIG_A\": \"y\"}\n";

	CHECK(pg_kconfig_parse(&c, makefile, sizeof(makefile) - 1, "Makefile") == PG_EINVALID);
	CHECK(strstr(pg_error_last(), "Makefile:1:") != NULL);
	CHECK(strstr(pg_error_last(), "not a .config") != NULL);
	CHECK(pg_kconfig_parse(&c, binary, sizeof(binary) - 1, "vmlinux") == PG_EINVALID);
	CHECK(strstr(pg_error_last(), "vmlinux:2:") && strstr(pg_error_last(), "binary"));
	CHECK(pg_kconfig_parse(&c, json, sizeof(json) - 1, "x.json") == PG_EINVALID);
	CHECK(strstr(pg_error_last(), "no 'CONFIG_X=...'") != NULL);
	CHECK(pg_kconfig_parse(&c, "", 0, "empty") == PG_EINVALID);
	CHECK(c == NULL);
	/* a couple of stray lines are tolerated */
	c = cfg_from("CONFIG_A=y\nstray line\nCONFIG_B=m\n");
	CHECK(c && pg_kconfig_tristate(c, "B") == 'm');
	pg_kconfig_free(c);
	CHECK(pg_kconfig_load(&c, "/nonexistent/.config") == PG_EIO);
}

/* ------------------------------------------------- hand-made Kbuild tree */

static const char *small_config =
	"CONFIG_X86_64=y\nCONFIG_X86=y\nCONFIG_NET=y\nCONFIG_FOO=y\nCONFIG_BAR=m\n"
	"# CONFIG_BAZ is not set\nCONFIG_QUX=y\nCONFIG_HZ=250\nCONFIG_STR=\"abc\"\n";

static void make_small_tree(const char *root)
{
	write_file(root, "Makefile", "# top\n");
	write_file(root, "Kbuild",
		   "obj-y += kernel/\n"
		   "obj-y += arch/$(SRCARCH)/\n"
		   "obj-y += drivers/\n"
		   "obj-$(CONFIG_NET) += net/\n"
		   "obj-$(CONFIG_BAZ) += baz/\n"
		   "obj-y += $(ARCH_CORE)\n");
	write_file(root, "arch/x86/Makefile",
		   "ifeq ($(CONFIG_X86_32),y)\nBITS := 32\nelse\nBITS := 64\nendif\nexport BITS\n"
		   "core-y += arch/x86/extra/\n"
		   "drivers-$(CONFIG_BAZ) += arch/x86/bazdrv/\n"
		   "bzImage: vmlinux\n\t$(Q)$(MAKE) $(build)=arch/x86/boot\n");
	write_file(root, "arch/x86/Kbuild", "obj-y += kernel/\nsubdir- += boot\n");
	write_file(root, "arch/x86/boot/Makefile", "setup-y += header.o\n");
	write_file(root, "arch/x86/kernel/Makefile", "obj-y := process_$(BITS).o\nobj-$(CONFIG_FOO) += foo_$(BITS).o\n");
	write_file(root, "arch/x86/extra/Makefile", "obj-y += extra.o\n");
	write_file(root, "arch/x86/bazdrv/Makefile", "obj-y += bazdrv.o\n");
	write_file(root, "kernel/Makefile",
		   "# SPDX\n"
		   "obj-y = fork.o exit.o \\\n"
		   "\tpanic.o\n"
		   "obj-$(CONFIG_FOO) += foo.o\n"
		   "obj-$(CONFIG_BAR) += bar.o\n"
		   "obj-$(CONFIG_BAZ) += baz.o\n"
		   "ifdef CONFIG_QUX\nobj-y += qux.o\nelse\nobj-y += noqux.o\nendif\n"
		   "ifeq ($(CONFIG_HZ),250)\nobj-y += hz250.o\nendif\n"
		   "ifneq ($(CONFIG_BAZ),y)\nobj-y += notbaz.o\nendif\n"
		   "ifndef CONFIG_BAZ\nobj-y += nobaz.o\nelse ifeq ($(CONFIG_QUX),y)\nobj-y += never.o\nendif\n"
		   "ifeq ($(CONFIG_BAZ),y)\nobj-y += bazonly.o\nendif\n"
		   "objs-list := a.o b.o\n"
		   "obj-$(CONFIG_FOO) += $(objs-list) $(if $(CONFIG_BAR),ifbar.o,ifnotbar.o)\n"
		   "lib-y += lib1.o\n"
		   "sub-objs := $(patsubst %.c,%.o,one.c two.c)\n"
		   "obj-y += $(sub-objs)\n"
		   "obj-y += sched/\n"
		   "obj-$(CONFIG_BAZ) += gone/\n"
		   "CFLAGS_fork.o := -DX # a comment with obj-y += fake.o\n"
		   "$(obj)/gen.h: FORCE\n\t$(call cmd,gen)\n\tobj-y += recipe.o\n");
	write_file(root, "kernel/sched/Makefile", "obj-y += core.o\n");
	write_file(root, "drivers/Makefile",
		   "obj-$(CONFIG_BAR) += mod/\n"
		   "obj-y += comp/\n"
		   "obj-y += weird/\n"
		   "obj-y += nomake/\n"
		   "obj-y += vd/\n");
	write_file(root, "drivers/vd/Makefile",
		   "vobjs-y := vclock.o\n"
		   "targets += $(vobjs-y) vd.lds\n"
		   "obj-y += vma.o\n"
		   "extra-y += vmlinux.lds\n");
	write_file(root, "drivers/mod/Makefile", "obj-y += alwaysy.o\nobj-m += m.o\n");
	write_file(root, "drivers/comp/Makefile",
		   "obj-$(CONFIG_BAR) += cmod.o\n"
		   "cmod-y := cmain.o\n"
		   "cmod-$(CONFIG_FOO) += cfoo.o\n"
		   "cmod-$(CONFIG_BAZ) += cbaz.o\n"
		   "cmod-objs += cobjs.o\n"
		   "obj-y += built.o\n"
		   "built-y := b1.o b2.o\n");
	write_file(root, "drivers/weird/Makefile",
		   "obj-y += listed.o\n"
		   "obj-y += $(shell ls *.c | sed s/c$$/o/)\n"
		   "this line is not make syntax\n");
	write_file(root, "net/Makefile", "obj-y += socket.o\n");
	write_file(root, "baz/Makefile", "obj-y += baz.o\n");
}

TEST(kbuild_small_tree)
{
	char *root = mktemp_dir();
	pg_kconfig *cfg = cfg_from(small_config);
	pg_ktree t;
	pg_kbuild *kb = NULL;
	char why[2048];

	CHECK(root && cfg);
	if (!root || !cfg)
		goto out;
	make_small_tree(root);
	CHECK_OK(pg_ktree_dir(&t, root));
	CHECK_OK(pg_kbuild_eval(&kb, &t, cfg));
	if (!kb)
		goto out_tree;
	CHECK_STR(pg_kbuild_srcarch(kb), "x86");
	/* plain lists, continuation lines, recursive '=' */
	CHECK(st(kb, "kernel/fork.c", why, sizeof(why)) == PG_KBUILD_BUILTIN);
	CHECK(strstr(why, "kernel/Makefile:2: obj-y = fork.o") && strstr(why, "Kbuild:1: obj-y += kernel/"));
	CHECK(st(kb, "kernel/panic.c", NULL, 0) == PG_KBUILD_BUILTIN);
	CHECK(st(kb, "kernel/foo.c", why, sizeof(why)) == PG_KBUILD_BUILTIN);
	CHECK(strstr(why, "[CONFIG_FOO=y]") != NULL);
	CHECK(st(kb, "kernel/bar.c", why, sizeof(why)) == PG_KBUILD_MODULE);
	CHECK(st(kb, "kernel/baz.c", why, sizeof(why)) == PG_KBUILD_NOT_BUILT);
	CHECK(strstr(why, "kernel/Makefile:6: obj-$(CONFIG_BAZ) += baz.o [CONFIG_BAZ is not set]") != NULL);
	/* conditionals */
	CHECK(st(kb, "kernel/qux.c", NULL, 0) == PG_KBUILD_BUILTIN);
	CHECK(st(kb, "kernel/noqux.c", why, sizeof(why)) == PG_KBUILD_NOT_BUILT);
	CHECK(strstr(why, "inside false") && strstr(why, "ifdef CONFIG_QUX"));
	CHECK(st(kb, "kernel/hz250.c", NULL, 0) == PG_KBUILD_BUILTIN);
	CHECK(st(kb, "kernel/notbaz.c", NULL, 0) == PG_KBUILD_BUILTIN);
	CHECK(st(kb, "kernel/nobaz.c", NULL, 0) == PG_KBUILD_BUILTIN);
	CHECK(st(kb, "kernel/never.c", NULL, 0) == PG_KBUILD_NOT_BUILT);
	CHECK(st(kb, "kernel/bazonly.c", NULL, 0) == PG_KBUILD_NOT_BUILT);
	/* variables referencing variables, $(if), $(patsubst), lib-y */
	CHECK(st(kb, "kernel/a.c", NULL, 0) == PG_KBUILD_BUILTIN);
	CHECK(st(kb, "kernel/b.c", NULL, 0) == PG_KBUILD_BUILTIN);
	CHECK(st(kb, "kernel/ifbar.c", NULL, 0) == PG_KBUILD_BUILTIN);
	CHECK(st(kb, "kernel/ifnotbar.c", NULL, 0) == PG_KBUILD_NOT_BUILT);
	CHECK(st(kb, "kernel/lib1.c", NULL, 0) == PG_KBUILD_BUILTIN);
	CHECK(st(kb, "kernel/two.c", NULL, 0) == PG_KBUILD_BUILTIN);
	/* comments and recipes name no objects */
	CHECK(st(kb, "kernel/fake.c", NULL, 0) == PG_KBUILD_NOT_BUILT);
	CHECK(st(kb, "kernel/recipe.c", NULL, 0) == PG_KBUILD_NOT_BUILT);
	/* subdirectories */
	CHECK(st(kb, "kernel/sched/core.c", NULL, 0) == PG_KBUILD_BUILTIN);
	CHECK(st(kb, "kernel/gone/x.c", why, sizeof(why)) == PG_KBUILD_NOT_BUILT);
	CHECK(strstr(why, "obj-$(CONFIG_BAZ) += gone/ [CONFIG_BAZ is not set]") != NULL);
	CHECK(st(kb, "baz/baz.c", why, sizeof(why)) == PG_KBUILD_NOT_BUILT);
	CHECK(strstr(why, "Kbuild:5:") != NULL);
	CHECK(st(kb, "net/socket.c", NULL, 0) == PG_KBUILD_BUILTIN);
	CHECK(st(kb, "tools/perf/x.c", NULL, 0) == PG_KBUILD_NOT_BUILT);
	/* a directory reached through obj-m caps its objects at module */
	CHECK(st(kb, "drivers/mod/alwaysy.c", NULL, 0) == PG_KBUILD_MODULE);
	CHECK(st(kb, "drivers/mod/m.c", NULL, 0) == PG_KBUILD_MODULE);
	/* composite objects */
	CHECK(st(kb, "drivers/comp/cmain.c", why, sizeof(why)) == PG_KBUILD_MODULE);
	CHECK(strstr(why, "cmod-y := cmain.o") && strstr(why, "obj-$(CONFIG_BAR) += cmod.o [CONFIG_BAR=m]"));
	CHECK(st(kb, "drivers/comp/cfoo.c", NULL, 0) == PG_KBUILD_MODULE);
	CHECK(st(kb, "drivers/comp/cobjs.c", NULL, 0) == PG_KBUILD_MODULE);
	CHECK(st(kb, "drivers/comp/cbaz.c", why, sizeof(why)) == PG_KBUILD_NOT_BUILT);
	CHECK(strstr(why, "cmod-$(CONFIG_BAZ) += cbaz.o [CONFIG_BAZ is not set]") != NULL);
	CHECK(st(kb, "drivers/comp/cmod.c", NULL, 0) == PG_KBUILD_NOT_BUILT);
	CHECK(st(kb, "drivers/comp/b2.c", NULL, 0) == PG_KBUILD_BUILTIN);
	/* unknown syntax: warning with file:line, unlisted files only "possibly" */
	CHECK(st(kb, "drivers/weird/listed.c", NULL, 0) == PG_KBUILD_BUILTIN);
	CHECK(st(kb, "drivers/weird/other.c", why, sizeof(why)) == PG_KBUILD_POSSIBLE);
	CHECK(strstr(why, "drivers/weird/Makefile:") != NULL);
	{
		int saw_syntax = 0;
		for (size_t i = 0; i < pg_kbuild_warning_count(kb); i++)
			saw_syntax |= strstr(pg_kbuild_warning(kb, i), "drivers/weird/Makefile:3: unknown syntax") != NULL;
		CHECK(saw_syntax);
	}
	CHECK(st(kb, "drivers/nomake/x.c", NULL, 0) == PG_KBUILD_POSSIBLE);
	/* arch: BITS exported from arch/x86/Makefile, core-y/drivers-y */
	CHECK(st(kb, "arch/x86/kernel/process_64.c", NULL, 0) == PG_KBUILD_BUILTIN);
	CHECK(st(kb, "arch/x86/kernel/process_32.c", NULL, 0) == PG_KBUILD_NOT_BUILT);
	CHECK(st(kb, "arch/x86/kernel/foo_64.c", NULL, 0) == PG_KBUILD_BUILTIN);
	CHECK(st(kb, "arch/x86/extra/extra.c", why, sizeof(why)) == PG_KBUILD_BUILTIN);
	CHECK(strstr(why, "arch/x86/Makefile:7: core-y += arch/x86/extra/") != NULL);
	CHECK(st(kb, "arch/x86/bazdrv/bazdrv.c", NULL, 0) == PG_KBUILD_NOT_BUILT);
	CHECK(st(kb, "arch/arm64/kernel/setup.c", why, sizeof(why)) == PG_KBUILD_NOT_BUILT);
	CHECK(strstr(why, "another architecture") != NULL);
	/* built outside obj lists: a recipe's $(build)=dir (subdir- is for
	 * cleaning only), objects of custom rules, extra-y linker scripts */
	CHECK(st(kb, "arch/x86/boot/header.S", why, sizeof(why)) == PG_KBUILD_POSSIBLE);
	CHECK(strstr(why, "arch/x86/Makefile:10: $(Q)$(MAKE) $(build)=arch/x86/boot") != NULL);
	CHECK(st(kb, "drivers/vd/vclock.c", why, sizeof(why)) == PG_KBUILD_POSSIBLE);
	CHECK(strstr(why, "vobjs-y") && strstr(why, "custom rule"));
	CHECK(st(kb, "drivers/vd/vma.c", NULL, 0) == PG_KBUILD_BUILTIN);
	CHECK(st(kb, "drivers/vd/vmlinux.lds.S", NULL, 0) == PG_KBUILD_BUILTIN);
	CHECK(st(kb, "drivers/vd/other.c", NULL, 0) == PG_KBUILD_NOT_BUILT);
	/* headers */
	CHECK(st(kb, "include/linux/sched.h", NULL, 0) == PG_KBUILD_POSSIBLE);
	CHECK(st(kb, "arch/x86/include/asm/x.h", NULL, 0) == PG_KBUILD_POSSIBLE);
	CHECK(st(kb, "arch/arm64/include/asm/x.h", NULL, 0) == PG_KBUILD_NOT_BUILT);
	CHECK(st(kb, "drivers/comp/local.h", NULL, 0) == PG_KBUILD_BUILTIN);
	CHECK(st(kb, "drivers/mod/local.h", NULL, 0) == PG_KBUILD_MODULE);
	CHECK(st(kb, "kernel/gone/priv.h", NULL, 0) == PG_KBUILD_NOT_BUILT);
	CHECK(st(kb, "baz/baz.h", NULL, 0) == PG_KBUILD_NOT_BUILT);
	/* non-sources */
	CHECK(st(kb, "kernel/Kconfig", NULL, 0) == PG_KBUILD_POSSIBLE);
	CHECK(st(kb, "Documentation/x.rst", NULL, 0) == PG_KBUILD_NOT_BUILT);
	pg_kbuild_free(kb);
out_tree:
	pg_ktree_release(&t);
out:
	pg_kconfig_free(cfg);
	rm_rf(root);
	free(root);
}

TEST(kbuild_git_tree)
{
	char *root = mktemp_dir();
	char cmd[4400];
	pg_kconfig *cfg = cfg_from(small_config);
	pg_ktree t;
	pg_kbuild *kb = NULL;

	CHECK(root && cfg);
	if (!root || !cfg)
		goto out;
	make_small_tree(root);
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && git init -q && git add -A && git -c user.name=t -c user.email=t@t commit -qm one && "
		 "echo 'obj-y += late.o' >> kernel/Makefile && git add -A && "
		 "git -c user.name=t -c user.email=t@t commit -qm two", root);
	if (system(cmd) != 0) {
		pg_kconfig_free(cfg);
		rm_rf(root);
		free(root);
		SKIP("git not available");
	}
	/* HEAD~1: late.o not listed yet; HEAD: listed */
	CHECK_OK(pg_ktree_git(&t, root, "HEAD~1"));
	CHECK_OK(pg_kbuild_eval(&kb, &t, cfg));
	if (kb) {
		CHECK(st(kb, "kernel/late.c", NULL, 0) == PG_KBUILD_NOT_BUILT);
		CHECK(st(kb, "drivers/comp/cmain.c", NULL, 0) == PG_KBUILD_MODULE);
		CHECK(st(kb, "kernel/hz250.c", NULL, 0) == PG_KBUILD_BUILTIN);
	}
	pg_kbuild_free(kb);
	kb = NULL;
	pg_ktree_release(&t);
	CHECK_OK(pg_ktree_git(&t, root, "HEAD"));
	CHECK_OK(pg_kbuild_eval(&kb, &t, cfg));
	if (kb)
		CHECK(st(kb, "kernel/late.c", NULL, 0) == PG_KBUILD_BUILTIN);
	pg_kbuild_free(kb);
	pg_ktree_release(&t);
	CHECK(pg_ktree_git(&t, root, "no-such-rev") == PG_ENOTFOUND);
	CHECK(pg_ktree_git(&t, "/nonexistent/repo", "HEAD") == PG_ENOTFOUND);
out:
	pg_kconfig_free(cfg);
	rm_rf(root);
	free(root);
}

/* ------------------------------------------- real Debian 6.1 Kbuild files */

struct expect { const char *path; pg_kbuild_state state; const char *why; };

TEST(kbuild_debian_61)
{
	char tarball[4096], why[4096];
	struct memtree *mt = NULL, *cfgt = NULL;
	pg_kconfig *cfg = NULL;
	pg_ktree t;
	pg_kbuild *kb = NULL;
	struct timespec a, b;
	clock_t ca, cb;
	/* Outcomes read off the real Makefiles and Debian's amd64 config
	 * (config.amd64_none_amd64); `why` must appear in the reason. */
	static const struct expect ex[] = {
		{ "kernel/fork.c", PG_KBUILD_BUILTIN, "kernel/Makefile:6: obj-y     = fork.o" },
		{ "mm/slub.c", PG_KBUILD_BUILTIN, "[CONFIG_SLUB=y]" },
		{ "mm/slab.c", PG_KBUILD_NOT_BUILT, "[CONFIG_SLAB is not set]" },
		{ "drivers/net/tun.c", PG_KBUILD_MODULE, "drivers/net/Makefile:31: obj-$(CONFIG_TUN) += tun.o [CONFIG_TUN=m]" },
		{ "net/ipv4/tcp.c", PG_KBUILD_BUILTIN, "net/Makefile:17: obj-$(CONFIG_INET)" },
		/* composite objects: ext4.o = ext4-y parts, plus ext4-$(CONFIG_X) */
		{ "fs/ext4/inode.c", PG_KBUILD_MODULE, "obj-$(CONFIG_EXT4_FS) += ext4.o [CONFIG_EXT4_FS=m]" },
		{ "fs/ext4/verity.c", PG_KBUILD_MODULE, "[CONFIG_FS_VERITY=y]" },
		{ "drivers/net/ethernet/intel/ice/ice_main.c", PG_KBUILD_MODULE, "ice-y := ice_main.o" },
		/* subdirectory guarded by a symbol that is not set */
		{ "fs/ntfs3/super.c", PG_KBUILD_NOT_BUILT, "obj-$(CONFIG_NTFS3_FS)" },
		{ "drivers/net/ethernet/seeq/ether3.c", PG_KBUILD_NOT_BUILT, "[CONFIG_NET_VENDOR_SEEQ is not set]" },
		/* lib-y and arch libs-y */
		{ "lib/string.c", PG_KBUILD_BUILTIN, "lib/Makefile:30: lib-y := ctype.o string.o" },
		{ "arch/x86/lib/memcpy_64.S", PG_KBUILD_BUILTIN, "libs-y  += arch/x86/lib/" },
		/* $(BITS) from arch/x86/Makefile's ifeq ($(CONFIG_X86_32),y) */
		{ "arch/x86/kernel/process_64.c", PG_KBUILD_BUILTIN, "arch/x86/kernel/Makefile:48: obj-y" },
		{ "arch/x86/kernel/process_32.c", PG_KBUILD_NOT_BUILT, "arch/x86/kernel/" },
		/* another architecture's directory */
		{ "arch/arm64/kernel/setup.c", PG_KBUILD_NOT_BUILT, "another architecture" },
		{ "arch/arm64/include/asm/kvm_host.h", PG_KBUILD_NOT_BUILT, "another architecture" },
		/* obj-$(subst m,y,$(CONFIG_HYPERV)) += hyperv/ with HYPERV=m */
		{ "arch/x86/hyperv/hv_init.c", PG_KBUILD_BUILTIN, "obj-$(subst m,y,$(CONFIG_HYPERV)) += hyperv/ [CONFIG_HYPERV=m]" },
		{ "drivers/gpu/drm/nouveau/nouveau_drm.c", PG_KBUILD_MODULE, "[CONFIG_DRM_NOUVEAU=m]" },
		{ "io_uring/io_uring.c", PG_KBUILD_BUILTIN, "Kbuild:" },
		{ "tools/perf/builtin-top.c", PG_KBUILD_NOT_BUILT, "tools/ is not named" },
		/* built outside the obj lists: bzImage's setup code, the vDSO */
		{ "arch/x86/boot/header.S", PG_KBUILD_POSSIBLE, "$(build)=$(boot) $(KBUILD_IMAGE)" },
		{ "arch/x86/entry/vdso/vclock_gettime.c", PG_KBUILD_POSSIBLE, "targets += vdso.lds $(vobjs-y)" },
		{ "arch/x86/kernel/vmlinux.lds.S", PG_KBUILD_BUILTIN, "extra-y" },
		{ "include/linux/skbuff.h", PG_KBUILD_POSSIBLE, "shared header" },
		{ "fs/ext4/ext4.h", PG_KBUILD_MODULE, "header beside built object fs/ext4/" },
		{ "fs/ntfs3/ntfs_fs.h", PG_KBUILD_NOT_BUILT, "obj-$(CONFIG_NTFS3_FS)" },
	};

	SKIP_WITHOUT_SHARED();
	snprintf(tarball, sizeof(tarball), "%s/kbuild-6.1.tar.xz", SHARED_DATA);
	if (access(tarball, R_OK) != 0)
		SKIP("kbuild-6.1.tar.xz not in shared data");
	if (system("xz --version >/dev/null 2>&1") != 0)
		SKIP("xz not installed");
	mt = memtree_load(tarball, "linux-source-6.1/");
	cfgt = memtree_load(tarball, "debian-config/");
	CHECK(mt && cfgt && mt->files.count > 4000);
	if (!mt || !cfgt)
		goto out;
	{
		pg_buf *c = pg_strmap_get(&cfgt->files, "config.amd64_none_amd64", NULL);
		CHECK(c != NULL);
		if (!c)
			goto out;
		CHECK_OK(pg_kconfig_parse(&cfg, pg_buf_cstr(c), c->len, "config.amd64_none_amd64"));
	}
	t.read = memtree_read;
	t.payload = mt;
	t.free_payload = NULL;
	clock_gettime(CLOCK_MONOTONIC, &a);
	ca = clock();
	CHECK_OK(pg_kbuild_eval(&kb, &t, cfg));
	cb = clock();
	clock_gettime(CLOCK_MONOTONIC, &b);
	if (kb) {
		printf("# debian 6.1 amd64: %zu directories, %zu warnings, %.3f s wall, %.3f s cpu\n",
		       pg_kbuild_dir_count(kb), pg_kbuild_warning_count(kb),
		       (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9,
		       (double)(cb - ca) / CLOCKS_PER_SEC);
		CHECK(pg_kbuild_dir_count(kb) > 1000);
		for (size_t i = 0; i < sizeof(ex) / sizeof(ex[0]); i++) {
			pg_kbuild_state s = st(kb, ex[i].path, why, sizeof(why));
			if (s != ex[i].state || !strstr(why, ex[i].why)) {
				fprintf(stderr, "  %s: got %s, expected %s with '%s'; reason:\n%s\n", ex[i].path,
					pg_kbuild_state_name(s), pg_kbuild_state_name(ex[i].state), ex[i].why, why);
				CHECK(0);
			}
		}
	}
	/* the other Debian flavours parse and evaluate too */
	{
		static const char *flavours[] = { "config.amd64_none_cloud-amd64", "config.amd64_rt_amd64" };
		for (size_t f = 0; f < 2; f++) {
			pg_buf *c = pg_strmap_get(&cfgt->files, flavours[f], NULL);
			pg_kconfig *fc = NULL;
			pg_kbuild *fkb = NULL;
			CHECK(c != NULL);
			if (!c)
				continue;
			CHECK_OK(pg_kconfig_parse(&fc, pg_buf_cstr(c), c->len, flavours[f]));
			CHECK_OK(pg_kbuild_eval(&fkb, &t, fc));
			if (fkb) /* the cloud kernel has no sound at all */
				CHECK(st(fkb, "kernel/fork.c", NULL, 0) == PG_KBUILD_BUILTIN);
			if (fkb && f == 0)
				CHECK(st(fkb, "sound/core/pcm.c", NULL, 0) == PG_KBUILD_NOT_BUILT);
			pg_kbuild_free(fkb);
			pg_kconfig_free(fc);
		}
	}
out:
	pg_kbuild_free(kb);
	pg_kconfig_free(cfg);
	memtree_free(mt);
	memtree_free(cfgt);
}

/* ----------------------------------------------------- hunk evaluation */

static const char *c_text =
	"#include <linux/module.h>\n"                        /* 1 */
	"int always;\n"                                      /* 2 */
	"#ifdef CONFIG_FOO\n"                                /* 3 */
	"int foo;\n"                                         /* 4 */
	"#else\n"                                            /* 5 */
	"int nofoo;\n"                                       /* 6 */
	"#endif\n"                                           /* 7 */
	"#ifndef CONFIG_BAZ\n"                               /* 8 */
	"int nobaz;\n"                                       /* 9 */
	"#endif\n"                                           /* 10 */
	"#if IS_ENABLED(CONFIG_BAR) && !defined(CONFIG_BAR)\n" /* 11: BAR=m */
	"int barmod;\n"                                      /* 12 */
	"#elif defined(CONFIG_BAZ) || UNKNOWN_MACRO\n"       /* 13 */
	"int unk;\n"                                         /* 14 */
	"#else\n"                                            /* 15 */
	"int never;\n"                                       /* 16 */
	"#endif\n"                                           /* 17 */
	"/* #if 0\n"                                         /* 18 */
	"#endif */\n"                                        /* 19 */
	"#if IS_BUILTIN(CONFIG_BAR) \\\n"                    /* 20 */
	"    || CONFIG_HZ > 1000\n"                          /* 21 */
	"int builtin;\n"                                     /* 22 */
	"#endif\n"                                           /* 23 */
	"#if IS_MODULE(CONFIG_BAR) && CONFIG_HZ == 250\n"    /* 24 */
	"#ifdef MODULE\n"                                    /* 25 */
	"int modpart;\n"                                     /* 26 */
	"#endif\n"                                           /* 27 */
	"#endif\n"                                           /* 28 */
	"#if 0 /* dead */\n"                                 /* 29 */
	"int dead;\n"                                        /* 30 */
	"#endif\n";                                          /* 31 */

TEST(hunk_conditions)
{
	pg_kconfig *cfg = cfg_from(small_config);
	pg_kline_range r[] = {
		{ 2, 1 }, { 4, 1 }, { 6, 1 }, { 9, 1 }, { 12, 1 }, { 14, 1 }, { 16, 1 }, { 19, 1 },
		{ 22, 1 }, { 26, 1 }, { 30, 1 }, { 3, 3 }, { 200, 1 },
	};
	size_t n = sizeof(r) / sizeof(r[0]);
	pg_kcond_result res[sizeof(r) / sizeof(r[0])];

	if (!cfg)
		return;
	CHECK_OK(pg_kconfig_hunks(res, cfg, "x.c", c_text, strlen(c_text), r, n, PG_KBUILD_BUILTIN));
	CHECK_INT(res[0].cond, PG_KCOND_ENABLED);
	CHECK_INT(res[1].cond, PG_KCOND_ENABLED);
	CHECK_INT(res[2].cond, PG_KCOND_DISABLED);
	CHECK(res[2].evidence && strstr(res[2].evidence, "x.c:5: #else (of x.c:3: #ifdef CONFIG_FOO") &&
	      strstr(res[2].evidence, "[CONFIG_FOO=y]"));
	CHECK_INT(res[3].cond, PG_KCOND_ENABLED);
	CHECK_INT(res[4].cond, PG_KCOND_ENABLED);   /* BAR=m: IS_ENABLED true, defined(CONFIG_BAR) false */
	CHECK_INT(res[5].cond, PG_KCOND_DISABLED);  /* an earlier branch was taken */
	CHECK_INT(res[6].cond, PG_KCOND_DISABLED);
	CHECK_INT(res[7].cond, PG_KCOND_ENABLED);   /* "#endif" inside a comment is not a directive */
	CHECK_INT(res[8].cond, PG_KCOND_DISABLED);  /* IS_BUILTIN(m) false, HZ=250 */
	CHECK(res[8].evidence && strstr(res[8].evidence, "x.c:20:") && strstr(res[8].evidence, "CONFIG_BAR=m"));
	CHECK_INT(res[9].cond, PG_KCOND_DISABLED);  /* built-in file: MODULE not defined */
	CHECK(res[9].evidence && strstr(res[9].evidence, "#ifdef MODULE"));
	CHECK_INT(res[10].cond, PG_KCOND_DISABLED);
	CHECK_INT(res[11].cond, PG_KCOND_ENABLED);  /* range 3..5 has an enabled line */
	CHECK_INT(res[12].cond, PG_KCOND_UNKNOWN);  /* beyond the end */
	for (size_t i = 0; i < n; i++)
		pg_kcond_result_release(&res[i]);

	/* unknown macros give "unknown", the module state decides #ifdef MODULE */
	{
		const char *t2 = "#if defined(CONFIG_NOPE) || SOME_ARCH_MACRO\nint x;\n#endif\n"
				 "#ifdef MODULE\nint m;\n#endif\n#if CONFIG_STR\nint s;\n#endif\n";
		pg_kline_range r2[] = { { 2, 1 }, { 5, 1 }, { 8, 1 } };
		pg_kcond_result res2[3];
		CHECK_OK(pg_kconfig_hunks(res2, cfg, "y.c", t2, strlen(t2), r2, 3, PG_KBUILD_MODULE));
		CHECK_INT(res2[0].cond, PG_KCOND_UNKNOWN);
		CHECK(res2[0].evidence && strstr(res2[0].evidence, "y.c:1:"));
		CHECK_INT(res2[1].cond, PG_KCOND_ENABLED);
		CHECK_INT(res2[2].cond, PG_KCOND_UNKNOWN);
		for (size_t i = 0; i < 3; i++)
			pg_kcond_result_release(&res2[i]);
		CHECK_OK(pg_kconfig_hunks(res2, cfg, "y.c", t2, strlen(t2), r2, 2, PG_KBUILD_POSSIBLE));
		CHECK_INT(res2[1].cond, PG_KCOND_UNKNOWN);
		for (size_t i = 0; i < 2; i++)
			pg_kcond_result_release(&res2[i]);
	}
	pg_kconfig_free(cfg);
}

/* ------------------------------------------------------- diff verdicts */

TEST(diff_verdicts)
{
	char *root = mktemp_dir();
	pg_kconfig *cfg = cfg_from(small_config);
	pg_ktree t;
	pg_kbuild *kb = NULL;
	pg_kpatch_verdict pv;
	pg_buf js = PG_BUF_INIT;
	/* the tree's kernel/fork.c has two extra lines at the top compared to
	 * the patch's pre-image: hunks must still be found */
	static const char fork_c[] =
		"// extra 1\n// extra 2\n"
		"#include <linux/sched.h>\n"
		"int a(void)\n{\n\treturn 1;\n}\n"
		"#ifdef CONFIG_BAZ\n"
		"int b(void)\n{\n\treturn 2;\n}\n"
		"#endif\n"
		"#if IS_ENABLED(CONFIG_BAR)\n"
		"int c(void)\n{\n\treturn 3;\n}\n"
		"#endif\n";
	static const char patch_mixed[] =
		"From abc Mon Sep 17 00:00:00 2001\nSubject: [PATCH] fix\n\n---\n"
		"diff --git a/kernel/fork.c b/kernel/fork.c\nindex 1..2 100644\n"
		"--- a/kernel/fork.c\n+++ b/kernel/fork.c\n"
		"@@ -8,3 +8,3 @@\n int b(void)\n {\n-\treturn 2;\n+\treturn 0;\n"
		"@@ -14,3 +14,4 @@ int c(void)\n {\n \treturn 3;\n+\t/* added */\n }\n"
		"diff --git a/kernel/baz.c b/kernel/baz.c\n--- a/kernel/baz.c\n+++ b/kernel/baz.c\n"
		"@@ -1 +1 @@\n-x\n+y\n";
	static const char patch_disabled[] =
		"diff --git a/kernel/fork.c b/kernel/fork.c\n--- a/kernel/fork.c\n+++ b/kernel/fork.c\n"
		"@@ -8,3 +8,3 @@\n int b(void)\n {\n-\treturn 2;\n+\treturn 0;\n"
		"diff --git a/kernel/baz.c b/kernel/baz.c\n--- a/kernel/baz.c\n+++ b/kernel/baz.c\n"
		"@@ -1 +1 @@\n-x\n+y\n"
		"diff --git a/kernel/new.c b/kernel/new.c\nnew file mode 100644\n--- /dev/null\n+++ b/kernel/new.c\n"
		"@@ -0,0 +1 @@\n+int n;\n";
	/* already fixed in the tree: found through the post-image */
	static const char patch_fixed[] =
		"--- a/kernel/fork.c\n+++ b/kernel/fork.c\n"
		"@@ -5,3 +5,3 @@\n {\n-\treturn 9;\n+\treturn 1;\n }\n";
	static const char patch_stale[] =
		"--- a/kernel/fork.c\n+++ b/kernel/fork.c\n"
		"@@ -5,3 +5,3 @@\n {\n-\treturn 7;\n+\treturn 8;\n }\n";

	if (!root || !cfg)
		goto out;
	make_small_tree(root);
	write_file(root, "kernel/fork.c", fork_c);
	CHECK_OK(pg_ktree_dir(&t, root));
	CHECK_OK(pg_kbuild_eval(&kb, &t, cfg));

	CHECK_OK(pg_kconfig_diff(&pv, kb, &t, cfg, patch_mixed, sizeof(patch_mixed) - 1));
	CHECK_INT(pv.nfiles, 2);
	CHECK_INT(pv.status, PG_VEX_AFFECTED);
	if (pv.nfiles == 2) {
		CHECK_STR(pv.files[0].path, "kernel/fork.c");
		CHECK_INT(pv.files[0].nhunks, 2);
		CHECK_INT(pv.files[0].hunks[0].line, 9); /* the header says 8: found one line further */
		CHECK_INT(pv.files[0].hunks[0].cond, PG_KCOND_DISABLED);
		CHECK(pv.files[0].hunks[0].evidence && strstr(pv.files[0].hunks[0].evidence, "kernel/fork.c:8: #ifdef CONFIG_BAZ"));
		CHECK_INT(pv.files[0].hunks[1].cond, PG_KCOND_ENABLED);
		CHECK_INT(pv.files[0].status, PG_VEX_AFFECTED);
		CHECK_INT(pv.files[1].status, PG_VEX_NOT_AFFECTED);
		CHECK_INT(pv.files[1].justification, PG_VEX_CODE_NOT_PRESENT);
	}
	CHECK_OK(pg_kpatch_verdict_json(&js, &pv));
	CHECK(strstr(pg_buf_cstr(&js), "\"justification\": \"code_not_present\"") != NULL);
	CHECK(strstr(pg_buf_cstr(&js), "\"condition\": \"disabled\"") != NULL);
	pg_kpatch_verdict_release(&pv);

	CHECK_OK(pg_kconfig_diff(&pv, kb, &t, cfg, patch_disabled, sizeof(patch_disabled) - 1));
	CHECK_INT(pv.nfiles, 3);
	CHECK_INT(pv.status, PG_VEX_NOT_AFFECTED);
	CHECK_INT(pv.justification, PG_VEX_VULNERABLE_CODE_NOT_IN_EXECUTE_PATH);
	if (pv.nfiles == 3) {
		CHECK_INT(pv.files[0].justification, PG_VEX_VULNERABLE_CODE_NOT_IN_EXECUTE_PATH);
		CHECK(pv.files[0].evidence && strstr(pv.files[0].evidence, "CONFIG_BAZ is not set"));
		CHECK_STR(pv.files[2].path, "kernel/new.c");
	}
	CHECK(pv.evidence && strstr(pv.evidence, "kernel/baz.c: code_not_present"));
	pg_kpatch_verdict_release(&pv);

	CHECK_OK(pg_kconfig_diff(&pv, kb, &t, cfg, patch_fixed, sizeof(patch_fixed) - 1));
	CHECK(pv.nfiles == 1 && pv.files[0].hunks[0].line == 5 && pv.files[0].hunks[0].cond == PG_KCOND_ENABLED);
	pg_kpatch_verdict_release(&pv);

	CHECK_OK(pg_kconfig_diff(&pv, kb, &t, cfg, patch_stale, sizeof(patch_stale) - 1));
	CHECK(pv.nfiles == 1 && pv.files[0].hunks[0].line == 0 && pv.files[0].status == PG_VEX_UNDER_INVESTIGATION);
	CHECK_INT(pv.status, PG_VEX_UNDER_INVESTIGATION);
	pg_kpatch_verdict_release(&pv);

	/* a header beside built-in objects: "#ifdef MODULE" stays unknown there */
	write_file(root, "kernel/k.h", "#ifdef MODULE\nint m;\n#endif\n");
	{
		static const char patch_h[] = "--- a/kernel/k.h\n+++ b/kernel/k.h\n@@ -2 +2 @@\n-int m;\n+int n;\n";
		CHECK_OK(pg_kconfig_diff(&pv, kb, &t, cfg, patch_h, sizeof(patch_h) - 1));
		CHECK(pv.nfiles == 1 && pv.files[0].build == PG_KBUILD_BUILTIN && pv.files[0].hunks[0].cond == PG_KCOND_UNKNOWN);
		CHECK_INT(pv.status, PG_VEX_AFFECTED);
		pg_kpatch_verdict_release(&pv);
	}
	{
		static const char weird[] = "diff --git weird\n--- /dev/null\n+++ /dev/null\n@@ -0,0 +0,0 @@\n";
		CHECK_OK(pg_kconfig_diff(&pv, kb, &t, cfg, weird, sizeof(weird) - 1));
		CHECK(pv.nfiles == 0 && pv.status == PG_VEX_UNDER_INVESTIGATION);
		pg_kpatch_verdict_release(&pv);
	}
	CHECK(pg_kconfig_diff(&pv, kb, &t, cfg, "hello\nworld\n", 12) == PG_EINVALID);
	CHECK(strstr(pg_error_last(), "no unified diff") != NULL);
	CHECK(pg_kconfig_diff(&pv, kb, &t, cfg, "--- a/x.c\n+++ b/x.c\n@@ -1,3 +1,3 @@\n x\n", 38) == PG_EINVALID);
	CHECK(strstr(pg_error_last(), "inside a hunk") != NULL);
	pg_kbuild_free(kb);
	pg_ktree_release(&t);
out:
	pg_buf_release(&js);
	pg_kconfig_free(cfg);
	rm_rf(root);
	free(root);
}

/* ----------------------------------------------------- robustness (fuzz) */

static unsigned long long rng_state = 0x9e3779b97f4a7c15ull;
static unsigned rnd(unsigned n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (unsigned)(rng_state % n);
}

static void junk(char *buf, size_t size)
{
	static const char *frags[] = {
		"obj-y", "obj-$(CONFIG_FOO)", " += ", " := ", " = ", "?=", "a.o ", "dir/ ", "$(", ")", "${", "}",
		"$(call x,", "$(foreach v,a b,$(v).o)", "$(if ", ",", "ifeq (", "ifdef CONFIG_FOO", "else",
		"endif", "define X", "endef", "\\\n", "\n", "\t", "#", "include ", "-include x", "$(eval ",
		"$(subst a,b,", "$(patsubst %.c,%.o,", "$(x:.o=.c)", "export ", "foo-y", "foo-objs", ":", "$$",
		"#if ", "#ifdef CONFIG_FOO", "#else", "#elif ", "#endif", "IS_ENABLED(", "defined(", "&&", "||",
		"/*", "*/", "\"", "CONFIG_BAR", "CONFIG_", "=y", "=m", "is not set", "\x01", "\xff", "(((((",
		"@@ -1,2 +1,3 @@", "--- a/x.c", "+++ b/x.c", "-", "+", " ", "diff --git a/x b/x",
	};
	size_t len = 0;
	while (len + 64 < size) {
		const char *f = frags[rnd(sizeof(frags) / sizeof(frags[0]))];
		size_t n = strlen(f);
		memcpy(buf + len, f, n);
		len += n;
		if (rnd(8) == 0)
			buf[len++] = (char)rnd(256);
		if (rnd(40) == 0)
			break;
	}
	buf[len] = '\0';
}

static void memtree_put(struct memtree *m, const char *path, const char *text)
{
	pg_buf *b = pg_strmap_get(&m->files, path, NULL);
	if (!b) {
		if (!(b = calloc(1, sizeof(*b))) || pg_strmap_set(&m->files, path, b) < 0) {
			free(b);
			return;
		}
	}
	pg_buf_reset(b);
	if (pg_buf_puts(b, text) < 0 || pg_buf_grow(b, 0) < 0)
		fprintf(stderr, "  memtree_put failed\n");
}

TEST(fuzz_junk)
{
	char buf[4096], buf2[4096];
	pg_kconfig *good = cfg_from(small_config);
	struct memtree *m = calloc(1, sizeof(*m));
	int iters = getenv("PATCHGAP_SANITIZED") ? 300 : 1000;
	pg_ktree t = { memtree_read, m, NULL };

	if (!good || !m)
		goto out;
	for (int i = 0; i < iters; i++) {
		pg_kconfig *c = NULL;
		pg_kbuild *kb = NULL;
		pg_kpatch_verdict pv;
		pg_kline_range r[3] = { { 1, 1 }, { 1 + rnd(20), rnd(4) }, { rnd(50), 1 } };
		pg_kcond_result res[3];

		junk(buf, sizeof(buf));
		if (pg_kconfig_parse(&c, buf, strlen(buf), "junk") == 0)
			pg_kconfig_free(c);
		junk(buf, sizeof(buf));
		memtree_put(m, "Makefile", "\n");
		memtree_put(m, "Kbuild", buf);
		junk(buf2, sizeof(buf2));
		memtree_put(m, "kernel/Makefile", buf2);
		memtree_put(m, "kernel/x.c", buf);
		memtree_put(m, "arch/x86/Makefile", buf2);
		if (pg_kbuild_eval(&kb, &t, good) == 0) {
			pg_kbuild_verdict v;
			if (pg_kbuild_file(&v, kb, "kernel/a.c") == 0)
				pg_kbuild_verdict_release(&v);
			if (pg_kconfig_diff(&pv, kb, &t, good, buf2, strlen(buf2)) == 0)
				pg_kpatch_verdict_release(&pv);
			pg_kbuild_free(kb);
		}
		if (pg_kconfig_hunks(res, good, "j.c", buf, strlen(buf), r, 3, PG_KBUILD_POSSIBLE) == 0)
			for (int k = 0; k < 3; k++)
				pg_kcond_result_release(&res[k]);
	}
	CHECK(1); /* reaching here without a crash or sanitizer report is the test */
out:
	memtree_free(m);
	pg_kconfig_free(good);
}

TEST(make_pathological)
{
	/* exponential and self-referencing expansions must stop, not hang or crash */
	char *root = mktemp_dir();
	pg_kconfig *cfg = cfg_from(small_config);
	pg_ktree t;
	pg_kbuild *kb = NULL;
	if (!root || !cfg)
		goto out;
	write_file(root, "Makefile", "\n");
	write_file(root, "Kbuild",
		   "a = $(a) x\nobj-y += $(a)\n"
		   "x0 := aaaaaaaaaaaaaaaa\nx1 := $(x0)$(x0)$(x0)$(x0)\nx2 := $(x1)$(x1)$(x1)$(x1)\n"
		   "x3 := $(x2)$(x2)$(x2)$(x2)\nx4 := $(x3)$(x3)$(x3)$(x3)\nx5 := $(x4)$(x4)$(x4)$(x4)\n"
		   "x6 := $(x5)$(x5)$(x5)$(x5)\nx7 := $(x6)$(x6)$(x6)$(x6)\nx8 := $(x7)$(x7)$(x7)$(x7)\n"
		   "x9 := $(x8)$(x8)$(x8)$(x8)\nx10 := $(x9)$(x9)$(x9)$(x9)\nobj-y += $(x10)\n"
		   "include Kbuild\n"
		   "obj-y += kernel/\n");
	write_file(root, "kernel/Makefile", "obj-y += k.o\n");
	CHECK_OK(pg_ktree_dir(&t, root));
	CHECK_OK(pg_kbuild_eval(&kb, &t, cfg));
	if (kb)
		CHECK(st(kb, "kernel/k.c", NULL, 0) == PG_KBUILD_BUILTIN);
	pg_kbuild_free(kb);
	pg_ktree_release(&t);
out:
	pg_kconfig_free(cfg);
	rm_rf(root);
	free(root);
}

int main(void)
{
	RUN(config_values);
	RUN(config_rejects_non_config);
	RUN(kbuild_small_tree);
	RUN(kbuild_git_tree);
	RUN(kbuild_debian_61);
	RUN(hunk_conditions);
	RUN(diff_verdicts);
	RUN(fuzz_junk);
	RUN(make_pathological);
	return harness_done();
}
