/*
 * kbuild.c - walk a kernel tree's Kbuild files for one .config and decide,
 * per source file, built-in / module / not built / possibly built.
 *
 * The walk mirrors kbuild: the top-level Kbuild's obj-y list (plus
 * arch/$(SRCARCH)/Makefile's core-y/drivers-y/libs-y, which the real top
 * Makefile feeds in as ARCH_CORE/ARCH_DRIVERS/ARCH_LIB), then every directory
 * named by obj-y/obj-m/subdir-y, each with the state of the line that named
 * it.  In each directory obj-y/obj-m/lib-y words become objects; composite
 * objects (foo.o with foo-y/foo-objs/foo-m parts) give their state to their
 * parts.  An object's state is capped by its directory's (a built-in object in
 * a directory only reached through obj-m is at most a module).
 *
 * Invariants: "not built" always carries evidence - the Makefile line with
 * the CONFIG symbol that dropped the object or directory, or "directory X was
 * evaluated and does not list it".  A directory whose Makefile had syntax we
 * could not evaluate is "uncertain": what it does not list is "possibly
 * built".  Reasons are '\n'-joined chains, innermost first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "make_int.h"
#include "util/str.h"
#include "util/banned.h"

#define MAX_WARNINGS 20000
#define COMPOSITE_DEPTH_MAX 4

struct kobj {
	pg_kbuild_state state;
	char *reason;
};

struct kdir {
	pg_kbuild_state state;
	char *reason;            /* how the walk got here */
	int uncertain;
	char *uncertain_reason;
	int evaluated;           /* its makefile was read with this state */
};

struct pg_kbuild {
	char srcarch[32];
	char srcarch_reason[96];
	pg_strmap objs;          /* "a/b.o" objects and "a/b/" subdirectories -> kobj */
	pg_strmap dirs;          /* "a/b" ("" = top) -> kdir, directories walked */
	pg_strmap dirmax;        /* "a/b" -> kobj (borrowed): best built object at or below */
	pg_strmap maybe;         /* "a/b" -> owned reason: a missing included makefile lives here */
	PG_VEC(char *) warnings;
	size_t warnings_dropped;
};

struct walk_item {
	char *dir;
	pg_kbuild_state state;
	char *reason;
};

struct walk {
	pg_kbuild *kb;
	const pg_ktree *tree;
	const pg_kconfig *cfg;
	pg_mk *arch;             /* arch Makefile, for exported variables */
	PG_VEC(struct walk_item) queue;
};

const char *pg_kbuild_state_name(pg_kbuild_state s)
{
	switch (s) {
	case PG_KBUILD_BUILTIN: return "built-in";
	case PG_KBUILD_MODULE: return "module";
	case PG_KBUILD_POSSIBLE: return "possibly";
	default: return "not-built";
	}
}

static pg_kbuild_state state_min(pg_kbuild_state a, pg_kbuild_state b)
{
	return a < b ? a : b;
}

static int add_warning(const char *msg, void *payload)
{
	pg_kbuild *kb = payload;
	char *s;
	if (kb->warnings.len >= MAX_WARNINGS) {
		kb->warnings_dropped++;
		return 0;
	}
	if (!(s = pg_strdup(msg)) || pg_vec_push(&kb->warnings, s) < 0) {
		free(s);
		return pg_error_setc(PG_ENOMEM, "out of memory");
	}
	return 0;
}

void pg_kbuild_free(pg_kbuild *kb)
{
	const char *k;
	void *v;
	if (!kb)
		return;
	for (size_t i = 0; pg_strmap_next(&kb->objs, &i, &k, &v);) {
		struct kobj *o = v;
		free(o->reason);
		free(o);
	}
	for (size_t i = 0; pg_strmap_next(&kb->dirs, &i, &k, &v);) {
		struct kdir *d = v;
		free(d->reason);
		free(d->uncertain_reason);
		free(d);
	}
	for (size_t i = 0; pg_strmap_next(&kb->dirmax, &i, &k, &v);)
		free(v);
	for (size_t i = 0; pg_strmap_next(&kb->maybe, &i, &k, &v);)
		free(v);
	pg_strmap_release(&kb->maybe);
	pg_strmap_release(&kb->objs);
	pg_strmap_release(&kb->dirs);
	pg_strmap_release(&kb->dirmax);
	for (size_t i = 0; i < kb->warnings.len; i++)
		free(kb->warnings.ptr[i]);
	pg_vec_release(&kb->warnings);
	free(kb);
}

size_t pg_kbuild_warning_count(const pg_kbuild *kb) { return kb->warnings.len; }
const char *pg_kbuild_warning(const pg_kbuild *kb, size_t i) { return i < kb->warnings.len ? kb->warnings.ptr[i] : NULL; }
size_t pg_kbuild_dir_count(const pg_kbuild *kb) { return kb->dirs.count; }
const char *pg_kbuild_srcarch(const pg_kbuild *kb) { return kb->srcarch; }

static char *join_reason(const char *a, const char *b)
{
	pg_buf r = PG_BUF_INIT;
	if (pg_buf_puts(&r, a) < 0 || (b && *b && (pg_buf_putc(&r, '\n') < 0 || pg_buf_puts(&r, b) < 0))) {
		pg_buf_release(&r);
		return NULL;
	}
	return pg_buf_detach(&r);
}

/* Record obj (path "a/b.o" or "a/b/") with state, keeping the best state. */
static int record(pg_kbuild *kb, const char *path, pg_kbuild_state state, const char *reason, int *improved)
{
	struct kobj *o = pg_strmap_get(&kb->objs, path, NULL);
	char *r;
	if (improved)
		*improved = 0;
	if (o && (o->state > state || (o->state == state && state != PG_KBUILD_NOT_BUILT) ||
		  (o->state == PG_KBUILD_NOT_BUILT && state == PG_KBUILD_NOT_BUILT)))
		return 0;
	if (!(r = pg_strdup(reason)))
		return PG_ENOMEM;
	if (!o) {
		if (!(o = calloc(1, sizeof(*o))) || pg_strmap_set(&kb->objs, path, o) < 0) {
			free(o);
			free(r);
			return pg_error_setc(PG_ENOMEM, "out of memory");
		}
	}
	free(o->reason);
	o->reason = r;
	o->state = state;
	if (improved)
		*improved = 1;
	return 0;
}

static char *path_join(const char *dir, const char *tok)
{
	pg_buf b = PG_BUF_INIT;
	int slash = tok[0] && tok[strlen(tok) - 1] == '/';
	char *s;
	if ((*dir && (pg_buf_puts(&b, dir) < 0 || pg_buf_putc(&b, '/') < 0)) || pg_buf_puts(&b, tok) < 0) {
		pg_buf_release(&b);
		return NULL;
	}
	s = pg_buf_detach(&b);
	if (s)
		pg_kconfig__normpath(s, slash);
	return s;
}

static int enqueue(struct walk *w, const char *dir, pg_kbuild_state state, const char *reason)
{
	struct walk_item it;
	it.dir = pg_strdup(dir);
	it.reason = pg_strdup(reason);
	it.state = state;
	if (!it.dir || !it.reason || pg_vec_push(&w->queue, it) < 0) {
		free(it.dir);
		free(it.reason);
		return pg_error_setc(PG_ENOMEM, "out of memory");
	}
	return 0;
}

/* One word of obj-y/obj-m/lib-y/subdir-y (or a composite part). */
static int add_word(struct walk *w, pg_mk *mk, const char *dir, const char *tok, pg_kbuild_state state,
		    const char *reason, int depth)
{
	size_t n = strlen(tok);
	char *path = NULL;
	int error = 0, improved;

	if (n == 0)
		return 0;
	if (tok[n - 1] == '/') {
		char *sub;
		if (!(path = path_join(dir, tok)))
			return PG_ENOMEM;
		if ((error = record(w->kb, path, state, reason, &improved)) < 0 || !improved ||
		    state == PG_KBUILD_NOT_BUILT)
			goto out;
		sub = path;
		if (!sub[0] || !strcmp(sub, "/"))
			goto out; /* "obj-y += /": names no directory (found by fuzz_kconfig) */
		sub[strlen(sub) - 1] = '\0';
		error = enqueue(w, sub, state, reason);
		goto out;
	}
	if (n > 2 && !strcmp(tok + n - 2, ".o")) {
		/* composite?  parts from foo-objs, foo-y (and foo-m for modules) */
		char base[512];
		static const char *sfx[] = { "-objs", "-y", "-m" };
		int composite = 0;
		if (n - 2 + 8 >= sizeof(base))
			return 0;
		memcpy(base, tok, n - 2);
		if (depth < COMPOSITE_DEPTH_MAX) {
			for (size_t s = 0; s < 3; s++) {
				struct pg_mk_list *l;
				if (s == 2 && state == PG_KBUILD_BUILTIN)
					continue;
				snprintf(base + n - 2, sizeof(base) - (n - 2), "%s", sfx[s]);
				if (!(l = pg_mk_list_get(mk, base)))
					continue;
				for (size_t i = 0; i < l->recs.len && !error; i++) {
					const struct pg_mk_rec *rec = &l->recs.ptr[i];
					pg_kbuild_state ps = state;
					char *chain;
					if (rec->flags & PG_MK_REC_INACTIVE)
						continue;
					composite = 1;
					if (rec->tok[0] == PG_MK_UNKNOWN) {
						mk->uncertain = 1;
						continue;
					}
					if (!strcmp(rec->tok, tok))
						continue; /* foo-y := foo.o: kbuild rejects it; avoid looping */
					if (rec->flags & PG_MK_REC_POSSIBLE)
						ps = state_min(ps, PG_KBUILD_POSSIBLE);
					if (!(chain = join_reason(mk->origins.ptr[rec->origin], reason)))
						return PG_ENOMEM;
					error = add_word(w, mk, dir, rec->tok, ps, chain, depth + 1);
					free(chain);
				}
			}
			/* parts dropped by foo-$(CONFIG_X) with X unset: evidence for them */
			for (size_t s = 0; s < 3 && !error; s++) {
				static const char *nsfx[] = { "-", "-n", "-m" };
				struct pg_mk_list *l;
				if (s == 2 && state != PG_KBUILD_BUILTIN)
					continue;
				snprintf(base + n - 2, sizeof(base) - (n - 2), "%s", nsfx[s]);
				if (!(l = pg_mk_list_get(mk, base)))
					continue;
				for (size_t i = 0; i < l->recs.len && !error; i++) {
					char *chain, *p;
					if (l->recs.ptr[i].tok[0] == PG_MK_UNKNOWN)
						continue;
					if (!(chain = join_reason(mk->origins.ptr[l->recs.ptr[i].origin], reason)))
						return PG_ENOMEM;
					if ((p = path_join(dir, l->recs.ptr[i].tok)) != NULL)
						error = record(w->kb, p, PG_KBUILD_NOT_BUILT, chain, NULL);
					else
						error = PG_ENOMEM;
					free(p);
					free(chain);
				}
			}
		}
		if (composite || error)
			return error;
		if (!(path = path_join(dir, tok)))
			return PG_ENOMEM;
		error = record(w->kb, path, state, reason, NULL);
	}
	else if (n > 4 && !strcmp(tok + n - 4, ".lds")) {
		/* linker scripts come from x.lds.S */
		pg_buf p = PG_BUF_INIT;
		if ((error = pg_buf_printf(&p, "%s.o", tok)) == 0 && (path = path_join(dir, p.ptr)) != NULL)
			error = record(w->kb, path, state, reason, NULL);
		else if (!error)
			error = PG_ENOMEM;
		pg_buf_release(&p);
	}
	/* other words (foo.a, flags) name no source file */
out:
	free(path);
	return error;
}

static int add_list(struct walk *w, pg_mk *mk, const char *dir, const char *name, pg_kbuild_state state,
		    pg_kbuild_state dir_state, const char *dir_reason, int dirs_only)
{
	struct pg_mk_list *l = pg_mk_list_get(mk, name);
	int error = 0;
	if (!l)
		return 0;
	for (size_t i = 0; i < l->recs.len && !error; i++) {
		const struct pg_mk_rec *rec = &l->recs.ptr[i];
		pg_kbuild_state s = state;
		char *chain, *tok = rec->tok, *tmp = NULL;
		if (tok[0] == PG_MK_UNKNOWN) {
			if (!mk->uncertain_reason)
				mk->uncertain_reason = pg_strdup(mk->origins.ptr[rec->origin]);
			mk->uncertain = 1;
			continue;
		}
		if (rec->flags & PG_MK_REC_INACTIVE)
			s = PG_KBUILD_NOT_BUILT;
		else if (rec->flags & PG_MK_REC_POSSIBLE && s != PG_KBUILD_NOT_BUILT)
			s = PG_KBUILD_POSSIBLE;
		if (s != PG_KBUILD_NOT_BUILT)
			s = state_min(s, dir_state);
		if (dirs_only && tok[strlen(tok) - 1] != '/') {
			/* subdir-y names directories without the slash */
			size_t n = strlen(tok);
			if (!(tmp = malloc(n + 2)))
				return PG_ENOMEM;
			memcpy(tmp, tok, n);
			tmp[n] = '/';
			tmp[n + 1] = '\0';
			tok = tmp;
		}
		if (!(chain = join_reason(mk->origins.ptr[rec->origin], dir_reason))) {
			free(tmp);
			return PG_ENOMEM;
		}
		error = add_word(w, mk, dir, tok, s, chain, 0);
		free(chain);
		free(tmp);
	}
	return error;
}

static int setup_mk(struct walk *w, pg_mk *mk, const char *dir)
{
	int error;
	if ((error = pg_mk_init(mk, dir, w->cfg, w->tree, add_warning, w->kb)) < 0)
		return error;
	if (w->arch && (error = pg_mk_copy_exports(mk, w->arch)) < 0)
		return error;
	if ((error = pg_mk_set(mk, "SRCARCH", w->kb->srcarch, 0, 1)) < 0 ||
	    (error = pg_mk_set(mk, "ARCH", w->kb->srcarch, 0, 1)) < 0 ||
	    (error = pg_mk_set(mk, "srctree", ".", 0, 1)) < 0 ||
	    (error = pg_mk_set(mk, "objtree", ".", 0, 1)) < 0 ||
	    (error = pg_mk_set(mk, "obj", *dir ? dir : ".", 0, 0)) < 0 ||
	    (error = pg_mk_set(mk, "src", *dir ? dir : ".", 0, 0)) < 0)
		return error;
	return 0;
}

/* Read dir's Kbuild or Makefile; PG_ENOTFOUND when it has neither. */
static int read_dir_makefile(pg_mk *mk, const char *dir)
{
	static const char *names[] = { "Kbuild", "Makefile" };
	for (size_t i = 0; i < 2; i++) {
		char *p = path_join(dir, names[i]);
		int error;
		if (!p)
			return PG_ENOMEM;
		error = pg_mk_read(mk, p);
		free(p);
		if (error == PG_ENOTFOUND)
			continue;
		return error;
	}
	return PG_ENOTFOUND;
}

/* Lists whose words are not built.  Not "subdir-": Kbuild uses it for
 * "make clean" of directories built by other means (arch/x86/boot). */
static const char *const dropped_lists[] = { "obj-", "obj-n", "lib-", "lib-n" };

/* Directories a recipe builds with $(MAKE) $(build)=dir: possibly built, whole subtree. */
static int note_recipe_dirs(pg_kbuild *kb, const pg_mk *mk)
{
	for (size_t i = 0; i < mk->recipe_dirs.len; i++) {
		char *item = pg_strdup(mk->recipe_dirs.ptr[i]), *tab, *why;
		pg_buf msg = PG_BUF_INIT;
		int error;
		if (!item)
			return PG_ENOMEM;
		tab = strchr(item, '\t');
		*tab = '\0';
		pg_kconfig__normpath(item, 0);
		error = pg_buf_printf(&msg, "%s/ is built by a recipe, outside the obj-y lists: %s", item, tab + 1);
		why = error < 0 ? NULL : pg_buf_detach(&msg);
		pg_buf_release(&msg);
		if (!why || pg_strmap_get(&kb->maybe, item, NULL) || pg_strmap_set(&kb->maybe, item, why) < 0)
			free(why);
		free(item);
		if (error < 0)
			return error;
	}
	return 0;
}

/* Is base.o named by an obj-/lib- list of this directory (any state)? */
static int listed_object(const pg_mk *mk, const char *base)
{
	const char *k;
	void *v;
	size_t n = strlen(base);
	for (size_t i = 0; pg_strmap_next(&mk->lists, &i, &k, &v);) {
		const struct pg_mk_list *l = v;
		if (strncmp(k, "obj-", 4) && strncmp(k, "lib-", 4))
			continue;
		for (size_t j = 0; j < l->recs.len; j++) {
			const char *t = l->recs.ptr[j].tok;
			if (!strncmp(t, base, n) && !strcmp(t + n, ".o"))
				return 1;
		}
	}
	return 0;
}

/*
 * Objects built by custom rules, not by obj-y/obj-m: words of "targets" and of
 * X-y/X-objs/X-m lists where X.o is no object of this directory (the vDSO's
 * vobjs-y, for instance).  They are only "possibly built".
 */
static int other_lists(struct walk *w, const pg_mk *mk, const struct walk_item *it)
{
	static const char *const kbuild_vars[] = { "obj", "lib", "subdir", "ccflags", "asflags", "ldflags",
		"cflags", "subdir-ccflags", "subdir-asflags", "hostprogs", "always", "extra", "userprogs",
		"header-test", "no-header-test", "clean-files", "clean-dirs", "host-csharedlibs", "targets", NULL };
	const char *k;
	void *v;
	int error = 0;
	for (size_t i = 0; !error && pg_strmap_next(&mk->lists, &i, &k, &v);) {
		const struct pg_mk_list *l = v;
		const char *dash = strrchr(k, '-');
		char base[256];
		int skip = 0;
		if (strcmp(k, "targets")) {
			if (!dash || (size_t)(dash - k) >= sizeof(base))
				continue;
			if (strcmp(dash + 1, "y") && strcmp(dash + 1, "m") && strcmp(dash + 1, "objs"))
				continue;
			memcpy(base, k, (size_t)(dash - k));
			base[dash - k] = '\0';
			for (size_t j = 0; kbuild_vars[j]; j++)
				skip |= !strcmp(base, kbuild_vars[j]) || !strncmp(base, "CFLAGS_", 7) ||
					!strncmp(base, "AFLAGS_", 7);
			if (skip || listed_object(mk, base))
				continue;
		}
		for (size_t j = 0; !error && j < l->recs.len; j++) {
			const struct pg_mk_rec *rec = &l->recs.ptr[j];
			size_t n = strlen(rec->tok);
			char *path, *chain;
			pg_buf why = PG_BUF_INIT;
			if ((rec->flags & PG_MK_REC_INACTIVE) || n < 3 || strcmp(rec->tok + n - 2, ".o"))
				continue;
			if (!(path = path_join(mk->dir, rec->tok)))
				return PG_ENOMEM;
			if ((error = pg_buf_printf(&why, "%s (not an obj-y/obj-m list: built by a custom rule?)",
						   mk->origins.ptr[rec->origin])) == 0) {
				chain = join_reason(why.ptr, it->reason);
				error = chain ? record(w->kb, path, state_min(PG_KBUILD_POSSIBLE, it->state), chain, NULL)
					      : PG_ENOMEM;
				free(chain);
			}
			pg_buf_release(&why);
			free(path);
		}
	}
	return error;
}

static int eval_dir(struct walk *w, const struct walk_item *it)
{
	pg_kbuild *kb = w->kb;
	struct kdir *d = pg_strmap_get(&kb->dirs, it->dir, NULL);
	pg_mk mk;
	int error = 0;

	memset(&mk, 0, sizeof(mk));
	if (d && d->evaluated && d->state >= it->state)
		return 0;
	if (!d) {
		if (!(d = calloc(1, sizeof(*d))) || pg_strmap_set(&kb->dirs, it->dir, d) < 0) {
			free(d);
			return pg_error_setc(PG_ENOMEM, "out of memory");
		}
	}
	free(d->reason);
	if (!(d->reason = pg_strdup(it->reason)))
		return PG_ENOMEM;
	d->state = it->state;
	d->evaluated = 1;
	if ((error = setup_mk(w, &mk, it->dir)) < 0)
		goto out;
	error = read_dir_makefile(&mk, it->dir);
	if (error == PG_ENOTFOUND) {
		pg_buf msg = PG_BUF_INIT;
		error = pg_buf_printf(&msg, "%s/: named as a subdirectory but has no Kbuild or Makefile", it->dir);
		if (!error)
			error = add_warning(msg.ptr, kb);
		if (!error && !d->uncertain_reason)
			d->uncertain_reason = pg_buf_detach(&msg);
		pg_buf_release(&msg);
		d->uncertain = 1;
		goto out;
	}
	if (error < 0)
		goto out;
	if ((error = add_list(w, &mk, it->dir, "obj-y", PG_KBUILD_BUILTIN, it->state, it->reason, 0)) < 0 ||
	    (error = add_list(w, &mk, it->dir, "obj-m", PG_KBUILD_MODULE, it->state, it->reason, 0)) < 0 ||
	    (error = add_list(w, &mk, it->dir, "lib-y", PG_KBUILD_BUILTIN, it->state, it->reason, 0)) < 0 ||
	    (error = add_list(w, &mk, it->dir, "subdir-y", PG_KBUILD_BUILTIN, it->state, it->reason, 1)) < 0 ||
	    (error = add_list(w, &mk, it->dir, "subdir-ym", PG_KBUILD_BUILTIN, it->state, it->reason, 1)) < 0 ||
	    (error = add_list(w, &mk, it->dir, "subdir-m", PG_KBUILD_MODULE, it->state, it->reason, 1)) < 0 ||
	    (error = add_list(w, &mk, it->dir, "extra-y", PG_KBUILD_BUILTIN, it->state, it->reason, 0)) < 0 ||
	    (error = add_list(w, &mk, it->dir, "always-y", PG_KBUILD_BUILTIN, it->state, it->reason, 0)) < 0)
		goto out;
	if ((error = note_recipe_dirs(kb, &mk)) < 0 || (error = other_lists(w, &mk, it)) < 0)
		goto out;
	for (size_t i = 0; i < sizeof(dropped_lists) / sizeof(dropped_lists[0]); i++)
		if ((error = add_list(w, &mk, it->dir, dropped_lists[i], PG_KBUILD_NOT_BUILT, it->state,
				      it->reason, !strncmp(dropped_lists[i], "subdir", 6))) < 0)
			goto out;
	for (size_t i = 0; i < mk.missing.len; i++) {
		char *md = pg_strdup(mk.missing.ptr[i]), *slash, *why;
		pg_buf msg = PG_BUF_INIT;
		if (!md) {
			error = PG_ENOMEM;
			goto out;
		}
		if ((slash = strrchr(md, '/')) != NULL)
			*slash = '\0';
		else
			md[0] = '\0';
		error = pg_buf_printf(&msg, "%s (included from %s/, which may build files here) is missing",
				      mk.missing.ptr[i], it->dir);
		why = error < 0 ? NULL : pg_buf_detach(&msg);
		pg_buf_release(&msg);
		if (!why || pg_strmap_get(&kb->maybe, md, NULL) || pg_strmap_set(&kb->maybe, md, why) < 0)
			free(why);
		free(md);
		if (error < 0)
			goto out;
	}
	if (mk.uncertain) {
		d->uncertain = 1;
		if (!d->uncertain_reason && mk.uncertain_reason &&
		    !(d->uncertain_reason = pg_strdup(mk.uncertain_reason)))
			error = PG_ENOMEM;
	}
out:
	pg_mk_release(&mk);
	return error;
}

/* Top directories for trees without a top-level Kbuild (before v5.x). */
static const char fallback_top[] =
	"obj-y += init/ usr/ arch/$(SRCARCH)/ kernel/ certs/ mm/ fs/ ipc/ security/ crypto/\n"
	"obj-$(CONFIG_BLOCK) += block/\n"
	"obj-$(CONFIG_IO_URING) += io_uring/\n"
	"obj-y += drivers/ sound/\n"
	"obj-$(CONFIG_NET) += net/\n"
	"obj-y += virt/\n"
	"obj-$(CONFIG_SAMPLES) += samples/\n";

/* What the top-level Makefile sets before including arch/$(SRCARCH)/Makefile. */
static const char arch_defaults[] = "core-y :=\ndrivers-y :=\nlibs-y := lib/\n";

struct dmax {
	const char *path; /* borrowed key of objs */
	struct kobj *o;
};

static int build_dirmax(pg_kbuild *kb)
{
	const char *k;
	void *v;
	for (size_t i = 0; pg_strmap_next(&kb->objs, &i, &k, &v);) {
		struct kobj *o = v;
		size_t n = strlen(k);
		char *p;
		if (o->state == PG_KBUILD_NOT_BUILT || n < 3 || strcmp(k + n - 2, ".o"))
			continue;
		if (!(p = pg_strdup(k)))
			return PG_ENOMEM;
		for (char *slash = strrchr(p, '/'); slash; slash = strrchr(p, '/')) {
			struct dmax *m;
			*slash = '\0';
			m = pg_strmap_get(&kb->dirmax, p, NULL);
			if (m && m->o->state >= o->state)
				continue;
			if (!m) {
				if (!(m = calloc(1, sizeof(*m))) || pg_strmap_set(&kb->dirmax, p, m) < 0) {
					free(m);
					free(p);
					return pg_error_setc(PG_ENOMEM, "out of memory");
				}
			}
			m->path = k;
			m->o = o;
		}
		free(p);
	}
	return 0;
}

int pg_kbuild_eval(pg_kbuild **out, const pg_ktree *tree, const pg_kconfig *cfg)
{
	pg_kbuild *kb = NULL;
	struct walk w;
	pg_mk arch, root;
	const char *srcarch;
	char archmk[64];
	int error = 0;
	static const char *arch_lists[] = { "core-y", "drivers-y", "drivers-m", "libs-y" };

	*out = NULL;
	memset(&w, 0, sizeof(w));
	memset(&arch, 0, sizeof(arch));
	memset(&root, 0, sizeof(root));
	if (!(kb = calloc(1, sizeof(*kb))))
		return pg_error_setc(PG_ENOMEM, "out of memory");
	w.kb = kb;
	w.tree = tree;
	w.cfg = cfg;
	srcarch = pg_kconfig_srcarch(cfg);
	if (srcarch) {
		snprintf(kb->srcarch, sizeof(kb->srcarch), "%s", srcarch);
		snprintf(kb->srcarch_reason, sizeof(kb->srcarch_reason), "SRCARCH=%s from the config's architecture symbols", srcarch);
	} else if ((error = add_warning("config: no known architecture symbol (CONFIG_X86, CONFIG_ARM64...); "
					"arch/ files are only 'possibly built'", kb)) < 0)
		goto out;

	/* arch/$(SRCARCH)/Makefile: core-y, drivers-y, libs-y and exported variables (BITS...) */
	if ((error = setup_mk(&w, &arch, "")) < 0)
		goto out;
	if ((error = pg_mk_read_text(&arch, "top-level Makefile defaults", arch_defaults, sizeof(arch_defaults) - 1)) < 0)
		goto out;
	if (srcarch) {
		snprintf(archmk, sizeof(archmk), "arch/%s/Makefile", srcarch);
		error = pg_mk_read(&arch, archmk);
		if (error == PG_ENOTFOUND) {
			char msg[128];
			snprintf(msg, sizeof(msg), "%s: not found; only the top-level directories are walked", archmk);
			error = add_warning(msg, kb);
		}
		if (error < 0)
			goto out;
	}
	w.arch = &arch;
	if ((error = note_recipe_dirs(kb, &arch)) < 0)
		goto out;

	/* the top: Kbuild's obj-y, plus the arch lists */
	if ((error = setup_mk(&w, &root, "")) < 0)
		goto out;
	if ((error = pg_mk_set(&root, "ARCH_CORE", "", 0, 0)) < 0 || (error = pg_mk_set(&root, "ARCH_LIB", "", 0, 0)) < 0 ||
	    (error = pg_mk_set(&root, "ARCH_DRIVERS", "", 0, 0)) < 0)
		goto out;
	error = pg_mk_read(&root, "Kbuild");
	if (error == PG_ENOTFOUND)
		error = pg_mk_read_text(&root, "(top-level directories)", fallback_top, sizeof(fallback_top) - 1);
	if (error < 0)
		goto out;
	{
		struct kdir *d = calloc(1, sizeof(*d));
		if (!d || !(d->reason = pg_strdup("top of the tree")) || pg_strmap_set(&kb->dirs, "", d) < 0) {
			if (d)
				free(d->reason);
			free(d);
			error = pg_error_setc(PG_ENOMEM, "out of memory");
			goto out;
		}
		d->state = PG_KBUILD_BUILTIN;
		d->evaluated = 1;
		d->uncertain = root.uncertain;
		if (root.uncertain_reason && !(d->uncertain_reason = pg_strdup(root.uncertain_reason))) {
			error = PG_ENOMEM;
			goto out;
		}
	}
	if ((error = add_list(&w, &root, "", "obj-y", PG_KBUILD_BUILTIN, PG_KBUILD_BUILTIN, "top-level Kbuild", 0)) < 0)
		goto out;
	for (size_t i = 0; i < sizeof(dropped_lists) / sizeof(dropped_lists[0]); i++)
		if ((error = add_list(&w, &root, "", dropped_lists[i], PG_KBUILD_NOT_BUILT, PG_KBUILD_BUILTIN,
				      "top-level Kbuild", 0)) < 0)
			goto out;
	for (size_t i = 0; i < sizeof(arch_lists) / sizeof(arch_lists[0]); i++)
		if ((error = add_list(&w, &arch, "", arch_lists[i], PG_KBUILD_BUILTIN, PG_KBUILD_BUILTIN,
				      "top-level Makefile: ARCH_CORE/ARCH_DRIVERS/ARCH_LIB", 0)) < 0)
			goto out;
	for (size_t i = 0; i < sizeof(dropped_lists) / sizeof(dropped_lists[0]); i++) {
		char nm[32];
		snprintf(nm, sizeof(nm), "drivers%s", dropped_lists[i] + 3);
		if ((error = add_list(&w, &arch, "", nm, PG_KBUILD_NOT_BUILT, PG_KBUILD_BUILTIN,
				      "top-level Makefile: ARCH_DRIVERS", 0)) < 0)
			goto out;
	}
	/* walk breadth-first; the queue grows while we go */
	for (size_t i = 0; i < w.queue.len; i++) {
		struct walk_item it = w.queue.ptr[i]; /* copy: eval_dir grows the queue */
		if ((error = eval_dir(&w, &it)) < 0)
			goto out;
	}
	if ((error = build_dirmax(kb)) < 0)
		goto out;
	*out = kb;
	kb = NULL;
out:
	for (size_t i = 0; i < w.queue.len; i++) {
		free(w.queue.ptr[i].dir);
		free(w.queue.ptr[i].reason);
	}
	pg_vec_release(&w.queue);
	pg_mk_release(&arch);
	pg_mk_release(&root);
	pg_kbuild_free(kb);
	return error;
}

/* ------------------------------------------------------------- verdicts */

static int set_verdict(pg_kbuild_verdict *out, pg_kbuild_state s, const char *first, const char *rest)
{
	out->state = s;
	if (!(out->reason = join_reason(first, rest)))
		return pg_error_setc(PG_ENOMEM, "out of memory");
	return 0;
}

/* The verdict for a directory: walked, or not named by its nearest walked ancestor. */
static int dir_verdict(pg_kbuild_verdict *out, const pg_kbuild *kb, const char *dir)
{
	char *d = pg_strdup(dir);
	int error = 0;
	if (!d)
		return PG_ENOMEM;
	for (;;) {
		struct kdir *kd = pg_strmap_get(&kb->dirs, d, NULL);
		if (kd) {
			if (!strcmp(d, dir)) {
				error = set_verdict(out, kd->state, kd->reason, NULL);
			} else {
				/* the child of d on the way to dir */
				const char *rest = dir + strlen(d) + (*d ? 1 : 0);
				const char *slash = strchr(rest, '/');
				pg_buf key = PG_BUF_INIT, msg = PG_BUF_INIT;
				struct kobj *o;
				size_t clen = slash ? (size_t)(slash - rest) : strlen(rest);
				if ((error = pg_buf_printf(&key, "%s%s%.*s/", d, *d ? "/" : "", (int)clen, rest)) < 0)
					goto loop_out;
				o = pg_strmap_get(&kb->objs, key.ptr, NULL);
				if (o)
					error = set_verdict(out, o->state, o->reason, NULL);
				else if (kd->uncertain)
					error = set_verdict(out, PG_KBUILD_POSSIBLE, kd->uncertain_reason, kd->reason);
				else if (!(error = pg_buf_printf(&msg, "%s is not named by obj-y/obj-m/subdir-y in %s%sKbuild or Makefile",
								 key.ptr, d, *d ? "/" : "")))
					error = set_verdict(out, PG_KBUILD_NOT_BUILT, msg.ptr, kd->reason);
loop_out:
				pg_buf_release(&key);
				pg_buf_release(&msg);
			}
			break;
		}
		if (!*d) {
			error = set_verdict(out, PG_KBUILD_POSSIBLE, "top-level Kbuild was not evaluated", NULL);
			break;
		}
		{
			/* named as "a/b/" by a Makefile higher up (obj-$(CONFIG_X) += a/b/)? */
			pg_buf key = PG_BUF_INIT;
			struct kobj *o;
			if ((error = pg_buf_printf(&key, "%s/", d)) < 0)
				break;
			o = pg_strmap_get(&kb->objs, key.ptr, NULL);
			pg_buf_release(&key);
			if (o) {
				error = set_verdict(out, o->state, o->reason, NULL);
				break;
			}
		}
		{
			char *slash = strrchr(d, '/');
			if (slash)
				*slash = '\0';
			else
				d[0] = '\0';
		}
	}
	free(d);
	return error;
}

void pg_kbuild_verdict_release(pg_kbuild_verdict *v)
{
	if (v) {
		free(v->reason);
		v->reason = NULL;
	}
}

/* A missing included makefile in dir or above: it may build anything here. */
static const char *maybe_reason(const pg_kbuild *kb, const char *dir)
{
	char buf[4096];
	snprintf(buf, sizeof(buf), "%s", dir);
	for (;;) {
		const char *r = pg_strmap_get(&kb->maybe, buf, NULL);
		char *slash;
		if (r)
			return r;
		if (!buf[0])
			return NULL;
		slash = strrchr(buf, '/');
		if (slash)
			*slash = '\0';
		else
			buf[0] = '\0';
	}
}

static int file_verdict(pg_kbuild_verdict *out, const pg_kbuild *kb, const char *path_in);

int pg_kbuild_file(pg_kbuild_verdict *out, const pg_kbuild *kb, const char *path_in)
{
	int error = file_verdict(out, kb, path_in);
	const char *why;
	if (error < 0 || out->state != PG_KBUILD_NOT_BUILT || strstr(out->reason, "is another architecture") ||
	    !(why = maybe_reason(kb, path_in)))
		return error;
	{
		char *old = out->reason;
		out->reason = NULL;
		error = set_verdict(out, PG_KBUILD_POSSIBLE, why, old);
		free(old);
	}
	return error;
}

static int file_verdict(pg_kbuild_verdict *out, const pg_kbuild *kb, const char *path_in)
{
	char *path = pg_strdup(path_in), *dir = NULL, *dot, *slash;
	pg_buf msg = PG_BUF_INIT;
	pg_kbuild_verdict dv = { PG_KBUILD_POSSIBLE, NULL };
	int error = 0;

	memset(out, 0, sizeof(*out));
	if (!path)
		return PG_ENOMEM;
	pg_kconfig__normpath(path, 0);
	if (!(dir = pg_strdup(path))) {
		error = PG_ENOMEM;
		goto out;
	}
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	else
		dir[0] = '\0';

	/* another architecture's tree is never built */
	if (kb->srcarch[0] && !strncmp(path, "arch/", 5)) {
		const char *a = path + 5, *e = strchr(a, '/');
		size_t alen = e ? (size_t)(e - a) : strlen(a);
		if (e && (alen != strlen(kb->srcarch) || strncmp(a, kb->srcarch, alen))) {
			if ((error = pg_buf_printf(&msg, "arch/%.*s/ is another architecture (%s)", (int)alen, a,
						   kb->srcarch_reason)) < 0)
				goto out;
			error = set_verdict(out, PG_KBUILD_NOT_BUILT, msg.ptr, NULL);
			goto out;
		}
	}
	dot = strrchr(path, '.');
	if (dot && strchr(dot, '/'))
		dot = NULL;
	if (dot && (!strcmp(dot, ".c") || !strcmp(dot, ".S") || !strcmp(dot, ".s") || !strcmp(dot, ".rs"))) {
		struct kobj *o;
		struct kdir *kd;
		if ((error = pg_buf_put(&msg, path, (size_t)(dot - path))) < 0 || (error = pg_buf_puts(&msg, ".o")) < 0)
			goto out;
		if ((o = pg_strmap_get(&kb->objs, msg.ptr, NULL)) != NULL) {
			error = set_verdict(out, o->state, o->reason, NULL);
			goto out;
		}
		if ((error = dir_verdict(&dv, kb, dir)) < 0)
			goto out;
		kd = pg_strmap_get(&kb->dirs, dir, NULL);
		pg_buf_reset(&msg);
		if (dv.state == PG_KBUILD_NOT_BUILT) {
			error = set_verdict(out, PG_KBUILD_NOT_BUILT, dv.reason, NULL);
		} else if (kd && kd->uncertain) {
			error = set_verdict(out, PG_KBUILD_POSSIBLE, kd->uncertain_reason, kd->reason);
		} else if (kd) {
			const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
			if ((error = pg_buf_printf(&msg, "%s/: no obj-y/obj-m/lib-y word names %.*s.o under this config",
						   *dir ? dir : ".", (int)(dot - base), base)) < 0)
				goto out;
			error = set_verdict(out, PG_KBUILD_NOT_BUILT, msg.ptr, kd->reason);
		} else {
			error = set_verdict(out, dv.state == PG_KBUILD_POSSIBLE ? PG_KBUILD_POSSIBLE : PG_KBUILD_NOT_BUILT,
					    dv.state == PG_KBUILD_POSSIBLE ? dv.reason : "no Makefile in or above this directory lists it",
					    dv.state == PG_KBUILD_POSSIBLE ? NULL : dv.reason);
		}
		goto out;
	}
	if (dot && !strcmp(dot, ".h")) {
		struct dmax *m;
		char archinc[64];
		snprintf(archinc, sizeof(archinc), "arch/%s/include/", kb->srcarch);
		if (!strncmp(path, "include/", 8) || (kb->srcarch[0] && !strncmp(path, archinc, strlen(archinc)))) {
			error = set_verdict(out, PG_KBUILD_POSSIBLE,
					    "shared header (include/ or arch/$(SRCARCH)/include/): any built unit may include it", NULL);
			goto out;
		}
		if ((m = pg_strmap_get(&kb->dirmax, dir, NULL)) != NULL && m->o->state >= PG_KBUILD_MODULE) {
			if ((error = pg_buf_printf(&msg, "header beside built object %s", m->path)) < 0)
				goto out;
			error = set_verdict(out, m->o->state, msg.ptr, m->o->reason);
			goto out;
		}
		if ((error = dir_verdict(&dv, kb, dir)) < 0)
			goto out;
		if (dv.state == PG_KBUILD_NOT_BUILT && !pg_strmap_get(&kb->dirs, dir, NULL)) {
			error = set_verdict(out, PG_KBUILD_NOT_BUILT, "header in a directory that is not built", dv.reason);
			goto out;
		}
		error = set_verdict(out, PG_KBUILD_POSSIBLE,
				    "header with no built object beside it; units elsewhere may include it", NULL);
		goto out;
	}
	/* Kconfig, Makefiles, dts, docs...: not compiled themselves */
	if ((error = dir_verdict(&dv, kb, dir)) < 0)
		goto out;
	if (dv.state == PG_KBUILD_NOT_BUILT && !pg_strmap_get(&kb->dirs, dir, NULL))
		error = set_verdict(out, PG_KBUILD_NOT_BUILT, "file in a directory that is not built", dv.reason);
	else
		error = set_verdict(out, PG_KBUILD_POSSIBLE, "not a C or assembly source; may still affect the build", NULL);
out:
	pg_kbuild_verdict_release(&dv);
	pg_buf_release(&msg);
	free(path);
	free(dir);
	return error;
}
