/*
 * make.c - a small GNU make reader, enough for Kbuild files.
 *
 * It reads one directory's Kbuild/Makefile (plus what it includes) and keeps
 * (a) variables with make's two flavours, expanded with the common functions
 * (subst, patsubst, filter, if, foreach, call, addprefix, ...), and (b) for
 * every variable whose name contains '-' (obj-y, foo-objs, lib-$(CONFIG_X)),
 * the list of words assigned to it with the Makefile line each came from, so
 * the walker can say *which line and which symbol* built or dropped a file.
 *
 * Soundness: anything it cannot evaluate expands to the marker byte
 * PG_MK_UNKNOWN ($(shell), $(wildcard), $(call) of an undefined function,
 * $(eval), too deep recursion, a too large result, an exhausted work budget).  A conditional whose
 * test contains the marker is "unknown": both branches run, their list words
 * are flagged "possible", and ":=" appends instead of replacing.  Lines it
 * does not understand are warnings and make the directory uncertain.  So
 * the reader never drops a word it might have had to keep.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "make_int.h"
#include "util/str.h"
#include "util/banned.h"

#define EXPAND_DEPTH_MAX 48
#define EXPAND_LIMIT ((size_t)4 << 20)
/*
 * Work budget of one directory's expansions, in bytes scanned.  The size
 * limit alone does not bound the time: 40 lines of "Yi = $(Yi-1)$(Yi-1)"
 * expand 2^40 references of results capped at EXPAND_LIMIT.  A real Kbuild
 * directory scans at most 63 KB (Debian 6.1, all 2,784 Makefiles); once the
 * budget is spent every further expansion is unknown (verdicts become
 * "possibly"), with one warning.
 */
#define EXPAND_WORK_MAX ((size_t)8 << 20)
#define INCLUDE_DEPTH_MAX 8

enum { C_FALSE = 0, C_UNKNOWN = 1, C_TRUE = 2 };

struct kvar {
	char *value;             /* NUL-terminated, len bytes, in cap bytes */
	size_t len, cap;
	unsigned char recursive, exported;
};

static void var_free(struct kvar *v)
{
	if (v) {
		free(v->value);
		free(v);
	}
}

static void list_free(struct pg_mk_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->recs.len; i++)
		free(l->recs.ptr[i].tok);
	pg_vec_release(&l->recs);
	free(l);
}

void pg_mk_release(pg_mk *mk)
{
	const char *k;
	void *v;
	for (size_t i = 0; pg_strmap_next(&mk->vars, &i, &k, &v);)
		var_free(v);
	pg_strmap_release(&mk->vars);
	for (size_t i = 0; pg_strmap_next(&mk->lists, &i, &k, &v);)
		list_free(v);
	pg_strmap_release(&mk->lists);
	pg_strmap_release(&mk->exports);
	for (size_t i = 0; i < mk->missing.len; i++)
		free(mk->missing.ptr[i]);
	pg_vec_release(&mk->missing);
	for (size_t i = 0; i < mk->recipe_dirs.len; i++)
		free(mk->recipe_dirs.ptr[i]);
	pg_vec_release(&mk->recipe_dirs);
	for (size_t i = 0; i < mk->origins.len; i++)
		free(mk->origins.ptr[i]);
	pg_vec_release(&mk->origins);
	free(mk->uncertain_reason);
	free(mk->dir);
	memset(mk, 0, sizeof(*mk));
}

int pg_mk_init(pg_mk *mk, const char *dir, const pg_kconfig *cfg, const pg_ktree *tree,
	       pg_mk_warn_fn warn, void *warn_payload)
{
	memset(mk, 0, sizeof(*mk));
	mk->cfg = cfg;
	mk->tree = tree;
	mk->warn = warn;
	mk->warn_payload = warn_payload;
	if (!(mk->dir = pg_strdup(dir)))
		return PG_ENOMEM;
	return 0;
}

static int mk_warn(pg_mk *mk, int uncertain, const char *fmt, ...) PG_PRINTF(3, 4);
static int mk_warn(pg_mk *mk, int uncertain, const char *fmt, ...)
{
	pg_buf b = PG_BUF_INIT;
	va_list ap;
	int error;

	error = pg_buf_printf(&b, "%s:%u: ", mk->file ? mk->file : mk->dir, mk->line);
	va_start(ap, fmt);
	if (!error)
		error = pg_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (error < 0)
		goto out;
	if (uncertain) {
		mk->uncertain = 1;
		if (!mk->uncertain_reason && !(mk->uncertain_reason = pg_strdup(pg_buf_cstr(&b)))) {
			error = PG_ENOMEM;
			goto out;
		}
	}
	if (mk->warn)
		error = mk->warn(pg_buf_cstr(&b), mk->warn_payload);
out:
	pg_buf_release(&b);
	return error;
}

/* ------------------------------------------------------------- variables */

int pg_mk_set(pg_mk *mk, const char *name, const char *value, int recursive, int exported)
{
	struct kvar *v = pg_strmap_get(&mk->vars, name, NULL);
	char *copy = pg_strdup(value ? value : "");
	if (!copy)
		return PG_ENOMEM;
	if (!v) {
		if (!(v = calloc(1, sizeof(*v))) || pg_strmap_set(&mk->vars, name, v) < 0) {
			free(v);
			free(copy);
			return pg_error_setc(PG_ENOMEM, "out of memory");
		}
	}
	free(v->value);
	v->value = copy;
	v->len = strlen(copy);
	v->cap = v->len + 1;
	v->recursive = (unsigned char)recursive;
	v->exported |= (unsigned char)exported;
	return 0;
}

/*
 * "NAME += text" on a variable that has a value: append " text" in place.
 * The buffer grows geometrically, so a makefile of n appends to one list
 * (obj-y += a.o, thousands of times) costs O(n), not O(n^2) copies.  A value
 * is capped at EXPAND_LIMIT bytes like any expansion: 1 when the append was
 * cut there (the caller warns once: the rest is unknown), 2 when the value
 * was already full.
 */
static int var_append(struct kvar *v, const char *text)
{
	size_t tl = strlen(text), need;
	int cut = 0;
	if (v->len + 2 >= EXPAND_LIMIT)
		return 2; /* already full and warned about */
	if (v->len + 1 + tl > EXPAND_LIMIT) {
		tl = v->len + 1 < EXPAND_LIMIT ? EXPAND_LIMIT - v->len - 1 : 0;
		cut = 1;
	}
	need = v->len + 1 + tl + 1;
	if (need > v->cap) {
		size_t nc = v->cap * 2 > need ? v->cap * 2 : need;
		char *nv = realloc(v->value, nc);
		if (!nv)
			return pg_error_setc(PG_ENOMEM, "out of memory");
		v->value = nv;
		v->cap = nc;
	}
	v->value[v->len++] = ' ';
	memcpy(v->value + v->len, text, tl);
	v->len += tl;
	v->value[v->len] = '\0';
	return cut;
}

const char *pg_mk_get_raw(const pg_mk *mk, const char *name, int *recursive)
{
	struct kvar *v = pg_strmap_get(&mk->vars, name, NULL);
	if (v) {
		if (recursive)
			*recursive = v->recursive;
		return v->value;
	}
	if (recursive)
		*recursive = 0;
	if (!strncmp(name, "CONFIG_", 7))
		return pg_kconfig_get(mk->cfg, name);
	return NULL;
}

int pg_mk_copy_exports(pg_mk *dst, const pg_mk *src)
{
	const char *k;
	void *val;
	for (size_t i = 0; pg_strmap_next(&src->vars, &i, &k, &val);) {
		struct kvar *v = val;
		int error;
		if (v && (v->exported || pg_strmap_get(&src->exports, k, NULL)) && (error = pg_mk_set(dst, k, v->value, v->recursive, 1)) < 0)
			return error;
	}
	return 0;
}

/* ------------------------------------------------------------- expansion */

static int expand(pg_mk *mk, const char *s, size_t len, pg_buf *out);
struct reader;
static int read_text(pg_mk *mk, const char *text, size_t len, struct reader *r);

static int put_unknown(pg_buf *out)
{
	char m = PG_MK_UNKNOWN;
	/* Never let a size limit turn "unknown" into an error. */
	if (out->len < out->limit || out->limit == 0)
		return pg_buf_put(out, &m, 1) < 0 ? 0 : 0;
	return 0;
}

/* Index of the matching close of the open bracket at s[0] ('(' or '{'); len if none. */
static size_t match_close(const char *s, size_t len)
{
	char open = s[0], close = open == '(' ? ')' : '}';
	int depth = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == open)
			depth++;
		else if (s[i] == close && --depth == 0)
			return i;
	}
	return len;
}

/* Split s at top-level commas into at most max args (the last takes the rest). */
static size_t split_args(const char *s, size_t len, size_t max, const char **args, size_t *lens)
{
	size_t n = 0, start = 0;
	int depth = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && (s[i] == '(' || s[i] == '{'))
			depth++;
		else if (i < len && (s[i] == ')' || s[i] == '}'))
			depth--;
		else if (i == len || (s[i] == ',' && depth == 0 && n + 1 < max)) {
			args[n] = s + start;
			lens[n] = i - start;
			n++;
			start = i + 1;
		}
	}
	return n;
}

static int expand_to(pg_mk *mk, const char *s, size_t len, pg_buf *tmp)
{
	pg_buf_init(tmp, EXPAND_LIMIT);
	return expand(mk, s, len, tmp);
}

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

/* Iterate words: for (w = NULL; next_word(s, &w, &wl);) */
static int next_word(const char *s, const char **w, size_t *wl)
{
	const char *p = *w ? *w + *wl : s;
	while (*p && is_ws(*p))
		p++;
	if (!*p)
		return 0;
	*w = p;
	while (*p && !is_ws(*p))
		p++;
	*wl = (size_t)(p - *w);
	return 1;
}

/* make's pattern match: pattern with at most one '%'. stem gets the match. */
static int pat_match(const char *pat, size_t plen, const char *w, size_t wl, const char **stem, size_t *slen)
{
	const char *pc = memchr(pat, '%', plen);
	size_t pre, suf;
	if (!pc) {
		if (stem)
			*stem = NULL, *slen = 0;
		return plen == wl && !memcmp(pat, w, wl);
	}
	pre = (size_t)(pc - pat);
	suf = plen - pre - 1;
	if (wl < pre + suf || memcmp(pat, w, pre) || memcmp(pc + 1, w + wl - suf, suf))
		return 0;
	if (stem)
		*stem = w + pre, *slen = wl - pre - suf;
	return 1;
}

static int put_patsubst(pg_buf *out, const char *repl, size_t rlen, const char *stem, size_t slen,
			const char *w, size_t wl, int matched)
{
	const char *rc;
	if (!matched)
		return pg_buf_put(out, w, wl);
	if (!stem || !(rc = memchr(repl, '%', rlen)))
		return pg_buf_put(out, repl, rlen);
	if (pg_buf_put(out, repl, (size_t)(rc - repl)) < 0 || pg_buf_put(out, stem, slen) < 0)
		return PG_EINVALID;
	return pg_buf_put(out, rc + 1, rlen - (size_t)(rc - repl) - 1);
}

static int do_patsubst(pg_buf *out, const char *pat, const char *repl, const char *text)
{
	const char *w = NULL, *stem;
	size_t wl, slen;
	int first = 1, error = 0;
	size_t plen = strlen(pat), rlen = strlen(repl);
	while (!error && next_word(text, &w, &wl)) {
		int m = pat_match(pat, plen, w, wl, &stem, &slen);
		if (!first)
			error = pg_buf_putc(out, ' ');
		first = 0;
		if (!error)
			error = put_patsubst(out, repl, rlen, stem, slen, w, wl, m);
	}
	return error;
}

static char *trim_dup(const pg_buf *b)
{
	char *s = pg_strdup(pg_buf_cstr(b));
	if (s) {
		char *t = pg_str_trim(s);
		memmove(s, t, strlen(t) + 1);
	}
	return s;
}

/* Expand the n args of a function call; args[i] NUL-terminated and owned in tmp[i]. */
static int expand_args(pg_mk *mk, const char *body, size_t blen, size_t max, pg_buf *tmp, size_t *n)
{
	const char *a[8];
	size_t l[8];
	int error = 0;
	*n = split_args(body, blen, max, a, l);
	for (size_t i = 0; i < *n; i++) {
		pg_buf_init(&tmp[i], EXPAND_LIMIT);
		if ((error = expand(mk, a[i], l[i], &tmp[i])) < 0)
			return error;
		if ((error = pg_buf_grow(&tmp[i], 0)) < 0)
			return error;
	}
	return 0;
}

static int call_function(pg_mk *mk, const char *fn, size_t fnlen, const char *body, size_t blen,
			 pg_buf *out, int *handled)
{
	pg_buf t[8];
	size_t n = 0;
	int error = 0;
	const char *w = NULL;
	size_t wl;
	int first = 1;

	memset(t, 0, sizeof(t));
	*handled = 1;
#define FN(name) (fnlen == sizeof(name) - 1 && !memcmp(fn, name, fnlen))
	if (FN("if") || FN("or") || FN("and")) {
		/* lazy: expand arguments one by one */
		const char *a[3];
		size_t l[3], na = split_args(body, blen, FN("if") ? 3 : 8, a, l);
		if (FN("if")) {
			char *c;
			if ((error = expand_to(mk, a[0], l[0], &t[0])) < 0)
				goto out;
			if (!(c = trim_dup(&t[0]))) {
				error = PG_ENOMEM;
				goto out;
			}
			if (strchr(c, PG_MK_UNKNOWN)) {
				/* unknown test: keep both branches' words, marked unknown */
				error = put_unknown(out);
				for (size_t i = 1; !error && i < na; i++) {
					error = expand(mk, a[i], l[i], out);
					if (!error)
						error = pg_buf_putc(out, ' ');
				}
			} else if (*c && na > 1)
				error = expand(mk, a[1], l[1], out);
			else if (!*c && na > 2)
				error = expand(mk, a[2], l[2], out);
			free(c);
			goto out;
		}
		/* or/and: up to 8 args */
		{
			const char *aa[8];
			size_t ll[8], nn = split_args(body, blen, 8, aa, ll);
			int is_or = FN("or");
			pg_buf last = PG_BUF_INIT;
			for (size_t i = 0; i < nn; i++) {
				char *c;
				pg_buf_release(&last);
				if ((error = expand_to(mk, aa[i], ll[i], &last)) < 0)
					break;
				if (!(c = trim_dup(&last))) {
					error = PG_ENOMEM;
					break;
				}
				if (strchr(c, PG_MK_UNKNOWN)) {
					free(c);
					error = put_unknown(out);
					break;
				}
				if (is_or ? *c != '\0' : *c == '\0') {
					error = pg_buf_puts(out, c);
					free(c);
					pg_buf_release(&last);
					goto out;
				}
				free(c);
				if (i + 1 == nn && !is_or)
					error = pg_buf_puts(out, pg_buf_cstr(&last));
			}
			pg_buf_release(&last);
		}
		goto out;
	}
	if (FN("foreach")) {
		const char *a[3];
		size_t l[3], na = split_args(body, blen, 3, a, l);
		char *var = NULL, *list = NULL;
		struct kvar *saved;
		if (na < 3) {
			error = put_unknown(out);
			goto out;
		}
		if ((error = expand_to(mk, a[0], l[0], &t[0])) < 0 || (error = expand_to(mk, a[1], l[1], &t[1])) < 0)
			goto out;
		if (!(var = trim_dup(&t[0])) || !(list = pg_strdup(pg_buf_cstr(&t[1])))) {
			free(var);
			error = PG_ENOMEM;
			goto out;
		}
		/* bind var for each word, restoring the outer binding afterwards */
		saved = pg_strmap_get(&mk->vars, var, NULL);
		if (saved && pg_strmap_set(&mk->vars, var, NULL) < 0)
			error = PG_ENOMEM;
		for (w = NULL; !error && next_word(list, &w, &wl);) {
			char *word = pg_strndup(w, wl);
			if (!word || (error = pg_mk_set(mk, var, word, 0, 0)) < 0) {
				free(word);
				error = error ? error : PG_ENOMEM;
				break;
			}
			free(word);
			if (!first)
				error = pg_buf_putc(out, ' ');
			first = 0;
			if (!error)
				error = expand(mk, a[2], l[2], out);
		}
		var_free(pg_strmap_get(&mk->vars, var, NULL));
		if (pg_strmap_set(&mk->vars, var, saved) < 0 && !error)
			error = PG_ENOMEM;
		free(var);
		free(list);
		goto out;
	}
	if (FN("call")) {
		const char *a[8];
		size_t l[8], na = split_args(body, blen, 8, a, l);
		char *fname;
		int rec;
		const char *def;
		struct kvar *saved[8];
		char num[24];

		if ((error = expand_to(mk, a[0], l[0], &t[0])) < 0)
			goto out;
		if (!(fname = trim_dup(&t[0]))) {
			error = PG_ENOMEM;
			goto out;
		}
		def = pg_mk_get_raw(mk, fname, &rec);
		if (!def || strchr(fname, PG_MK_UNKNOWN)) {
			free(fname);
			error = put_unknown(out); /* defined in scripts/Kbuild.include etc. */
			goto out;
		}
		for (size_t i = 0; i < na && !error; i++) {
			pg_buf_release(&t[1]);
			if (i && (error = expand_to(mk, a[i], l[i], &t[1])) < 0)
				break;
			snprintf(num, sizeof(num), "%zu", i);
			saved[i] = pg_strmap_get(&mk->vars, num, NULL);
			if (pg_strmap_set(&mk->vars, num, NULL) < 0 ||
			    (error = pg_mk_set(mk, num, i ? pg_buf_cstr(&t[1]) : fname, 0, 0)) < 0) {
				error = error ? error : PG_ENOMEM;
				na = i + 1;
				break;
			}
		}
		if (!error) {
			char *body2 = pg_strdup(pg_mk_get_raw(mk, fname, NULL));
			if (!body2)
				error = PG_ENOMEM;
			else
				error = rec ? expand(mk, body2, strlen(body2), out) : pg_buf_puts(out, body2);
			free(body2);
		}
		for (size_t i = 0; i < na; i++) {
			snprintf(num, sizeof(num), "%zu", i);
			var_free(pg_strmap_get(&mk->vars, num, NULL));
			pg_strmap_set(&mk->vars, num, saved[i]);
		}
		free(fname);
		goto out;
	}
	if (FN("subst") || FN("patsubst")) {
		if ((error = expand_args(mk, body, blen, 3, t, &n)) < 0)
			goto out;
		if (n < 3) {
			error = put_unknown(out);
			goto out;
		}
		if (FN("patsubst")) {
			error = do_patsubst(out, pg_str_trim(t[0].ptr), pg_str_trim(t[1].ptr), t[2].ptr);
		} else {
			const char *s = t[2].ptr, *f = t[0].ptr, *p;
			size_t fl = t[0].len;
			if (!fl) {
				error = pg_buf_puts(out, s);
				goto out;
			}
			while (!error && (p = strstr(s, f)) != NULL) {
				error = pg_buf_put(out, s, (size_t)(p - s));
				if (!error)
					error = pg_buf_puts(out, t[1].ptr);
				s = p + fl;
			}
			if (!error)
				error = pg_buf_puts(out, s);
		}
		goto out;
	}
	if (FN("filter") || FN("filter-out")) {
		int keep_match = FN("filter");
		if ((error = expand_args(mk, body, blen, 2, t, &n)) < 0)
			goto out;
		if (n < 2) {
			error = put_unknown(out);
			goto out;
		}
		for (w = NULL; !error && next_word(t[1].ptr, &w, &wl);) {
			const char *p = NULL;
			size_t pl;
			int m = 0;
			if (memchr(w, PG_MK_UNKNOWN, wl)) {
				m = keep_match; /* keep unknown words: they may match */
			} else {
				while (!m && next_word(t[0].ptr, &p, &pl))
					m = pat_match(p, pl, w, wl, NULL, NULL);
			}
			if (m == keep_match) {
				if (!first)
					error = pg_buf_putc(out, ' ');
				first = 0;
				if (!error)
					error = pg_buf_put(out, w, wl);
			}
		}
		goto out;
	}
	if (FN("strip") || FN("sort") || FN("firstword") || FN("lastword") || FN("words") ||
	    FN("notdir") || FN("dir") || FN("basename") || FN("suffix") || FN("value")) {
		size_t count = 0;
		const char *lastw = NULL;
		size_t lastl = 0;
		if (FN("value")) {
			const char *v;
			if ((error = expand_args(mk, body, blen, 1, t, &n)) < 0)
				goto out;
			v = pg_mk_get_raw(mk, pg_str_trim(t[0].ptr), NULL);
			error = pg_buf_puts(out, v ? v : "");
			goto out;
		}
		if ((error = expand_args(mk, body, blen, 1, t, &n)) < 0)
			goto out;
		for (w = NULL; !error && next_word(t[0].ptr, &w, &wl);) {
			const char *slash, *dot;
			count++;
			lastw = w, lastl = wl;
			if (FN("words") || FN("lastword") || (FN("firstword") && count > 1))
				continue;
			if (!first)
				error = pg_buf_putc(out, ' ');
			first = 0;
			if (error)
				break;
			slash = NULL;
			for (size_t i = 0; i < wl; i++)
				if (w[i] == '/')
					slash = w + i;
			dot = NULL;
			for (size_t i = slash ? (size_t)(slash - w) : 0; i < wl; i++)
				if (w[i] == '.')
					dot = w + i;
			if (FN("notdir"))
				error = slash ? pg_buf_put(out, slash + 1, wl - (size_t)(slash + 1 - w)) : pg_buf_put(out, w, wl);
			else if (FN("dir"))
				error = slash ? pg_buf_put(out, w, (size_t)(slash + 1 - w)) : pg_buf_puts(out, "./");
			else if (FN("basename"))
				error = pg_buf_put(out, w, dot ? (size_t)(dot - w) : wl);
			else if (FN("suffix"))
				error = dot ? pg_buf_put(out, dot, wl - (size_t)(dot - w)) : 0;
			else
				error = pg_buf_put(out, w, wl); /* strip, sort (order is irrelevant here), firstword */
		}
		if (!error && FN("words"))
			error = pg_buf_printf(out, "%zu", count);
		if (!error && FN("lastword") && lastw)
			error = pg_buf_put(out, lastw, lastl);
		goto out;
	}
	if (FN("addprefix") || FN("addsuffix")) {
		if ((error = expand_args(mk, body, blen, 2, t, &n)) < 0)
			goto out;
		if (n < 2) {
			error = put_unknown(out);
			goto out;
		}
		for (w = NULL; !error && next_word(t[1].ptr, &w, &wl);) {
			if (!first)
				error = pg_buf_putc(out, ' ');
			first = 0;
			if (!error && FN("addprefix"))
				error = pg_buf_puts(out, pg_str_trim(t[0].ptr));
			if (!error)
				error = pg_buf_put(out, w, wl);
			if (!error && FN("addsuffix"))
				error = pg_buf_puts(out, pg_str_trim(t[0].ptr));
		}
		goto out;
	}
	if (FN("findstring")) {
		if ((error = expand_args(mk, body, blen, 2, t, &n)) < 0)
			goto out;
		if (n < 2)
			error = put_unknown(out);
		else if (strchr(t[0].ptr, PG_MK_UNKNOWN) || strchr(t[1].ptr, PG_MK_UNKNOWN))
			error = put_unknown(out);
		else if (strstr(t[1].ptr, t[0].ptr))
			error = pg_buf_puts(out, t[0].ptr);
		goto out;
	}
	if (FN("info") || FN("warning") || FN("error") || FN("origin") || FN("flavor"))
		goto out; /* no words; $(error) aborts real builds only on misconfiguration */
	if (FN("eval") && mk->cur_reader && !mk->no_eval) {
		/* run the expanded text as makefile lines (Kbuild uses it for
		 * per-file flags in foreach loops) */
		unsigned saved_line = mk->line;
		if ((error = expand_to(mk, body, blen, &t[0])) < 0 || (error = pg_buf_grow(&t[0], 0)) < 0)
			goto out;
		if (strchr(t[0].ptr, PG_MK_UNKNOWN)) {
			error = put_unknown(out);
			goto out;
		}
		mk->depth++;
		error = read_text(mk, t[0].ptr, t[0].len, mk->cur_reader);
		mk->depth--;
		mk->line = saved_line;
		goto out;
	}
	if (FN("shell") || FN("wildcard") || FN("eval") || FN("realpath") || FN("abspath") ||
	    FN("file") || FN("join") || FN("word") || FN("wordlist") || FN("guile")) {
		error = put_unknown(out);
		goto out;
	}
	*handled = 0;
#undef FN
out:
	for (size_t i = 0; i < 8; i++)
		pg_buf_release(&t[i]);
	return error;
}

/* Expand a variable reference body (inside $( )): a function or a variable. */
static int expand_ref(pg_mk *mk, const char *body, size_t blen, pg_buf *out)
{
	size_t i = 0;
	pg_buf name = PG_BUF_INIT;
	int error = 0, handled = 0;
	const char *colon = NULL, *eq = NULL;
	int depth = 0;

	/* function? "name " with name made of [a-z-] */
	while (i < blen && ((body[i] >= 'a' && body[i] <= 'z') || body[i] == '-'))
		i++;
	if (i > 0 && i < blen && (body[i] == ' ' || body[i] == '\t')) {
		size_t j = i;
		while (j < blen && (body[j] == ' ' || body[j] == '\t'))
			j++;
		if ((error = call_function(mk, body, i, body + j, blen - j, out, &handled)) < 0 || handled)
			return error;
		return put_unknown(out); /* some function we do not know */
	}
	/* substitution reference $(var:a=b)? */
	for (i = 0; i < blen; i++) {
		if (body[i] == '(' || body[i] == '{')
			depth++;
		else if (body[i] == ')' || body[i] == '}')
			depth--;
		else if (depth == 0 && body[i] == ':' && !colon)
			colon = body + i;
		else if (depth == 0 && body[i] == '=' && colon && !eq)
			eq = body + i;
	}
	pg_buf_init(&name, EXPAND_LIMIT);
	if ((error = expand(mk, body, colon && eq ? (size_t)(colon - body) : blen, &name)) < 0)
		goto out;
	if ((error = pg_buf_grow(&name, 0)) < 0)
		goto out;
	{
		char *nm = pg_str_trim(name.ptr);
		int rec;
		const char *v;
		pg_buf val = PG_BUF_INIT;

		if (strchr(nm, PG_MK_UNKNOWN)) {
			error = put_unknown(out);
			goto out;
		}
		v = pg_mk_get_raw(mk, nm, &rec);
		if (!v)
			goto out;
		if (!colon || !eq) {
			if (rec) {
				char *copy = pg_strdup(v); /* the value may be replaced while expanding */
				if (!copy) {
					error = PG_ENOMEM;
					goto out;
				}
				error = expand(mk, copy, strlen(copy), out);
				free(copy);
			} else
				error = pg_buf_puts(out, v);
			goto out;
		}
		/* $(var:from=to): suffix or pattern replacement on each word */
		{
			pg_buf from = PG_BUF_INIT, to = PG_BUF_INIT;
			char *copy = pg_strdup(v);
			if (!copy) {
				error = PG_ENOMEM;
				goto out;
			}
			pg_buf_init(&val, EXPAND_LIMIT);
			if (!(error = rec ? expand(mk, copy, strlen(copy), &val) : pg_buf_puts(&val, copy)) &&
			    !(error = expand_to(mk, colon + 1, (size_t)(eq - colon - 1), &from)) &&
			    !(error = expand_to(mk, eq + 1, blen - (size_t)(eq + 1 - body), &to)) &&
			    !(error = pg_buf_grow(&from, 0)) && !(error = pg_buf_grow(&to, 0)) &&
			    !(error = pg_buf_grow(&val, 0))) {
				if (strchr(from.ptr, '%'))
					error = do_patsubst(out, from.ptr, to.ptr, val.ptr);
				else {
					pg_buf pf = PG_BUF_INIT, pt = PG_BUF_INIT;
					if (!(error = pg_buf_printf(&pf, "%%%s", from.ptr)) &&
					    !(error = pg_buf_printf(&pt, "%%%s", to.ptr)))
						error = do_patsubst(out, pf.ptr, pt.ptr, val.ptr);
					pg_buf_release(&pf);
					pg_buf_release(&pt);
				}
			}
			free(copy);
			pg_buf_release(&from);
			pg_buf_release(&to);
			pg_buf_release(&val);
		}
	}
out:
	pg_buf_release(&name);
	return error;
}

static int expand(pg_mk *mk, const char *s, size_t len, pg_buf *out)
{
	size_t i = 0, start = 0;
	int error = 0;

	if (mk->work_exhausted)
		return put_unknown(out);
	if ((mk->work += len + 1) > EXPAND_WORK_MAX) {
		mk->work_exhausted = 1;
		if ((error = mk_warn(mk, 1, "variable expansion exceeds its budget of %zu MiB (exponential"
				     " definitions?): the rest of this directory is evaluated as unknown",
				     EXPAND_WORK_MAX >> 20)) < 0)
			return error;
		return put_unknown(out);
	}
	if (++mk->depth > EXPAND_DEPTH_MAX) {
		mk->depth--;
		return put_unknown(out);
	}
	while (i < len) {
		if (s[i] != '$') {
			i++;
			continue;
		}
		if (i > start && pg_buf_put(out, s + start, i - start) < 0)
			goto too_big;
		if (i + 1 >= len) {
			start = i = len;
			break;
		}
		if (s[i + 1] == '$') {
			if (pg_buf_putc(out, '$') < 0)
				goto too_big;
			i += 2;
		} else if (s[i + 1] == '(' || s[i + 1] == '{') {
			size_t close = match_close(s + i + 1, len - i - 1);
			if (close >= len - i - 1) {
				/* unterminated: treat the rest as unknown */
				put_unknown(out);
				start = i = len;
				break;
			}
			if ((error = expand_ref(mk, s + i + 2, close - 1, out)) < 0) {
				if (error != PG_EINVALID)
					goto out;
				goto too_big;
			}
			i += close + 2;
		} else {
			char nm[2] = { s[i + 1], 0 };
			const char *v = pg_mk_get_raw(mk, nm, NULL);
			if (v && pg_buf_puts(out, v) < 0)
				goto too_big;
			i += 2;
		}
		start = i;
	}
	if (i > start && pg_buf_put(out, s + start, i - start) < 0)
		goto too_big;
	goto out;
too_big:
	error = 0;
	pg_buf_reset(out);
	put_unknown(out);
out:
	mk->depth--;
	return error;
}

int pg_mk_expand(pg_mk *mk, const char *s, pg_buf *out)
{
	int error = expand(mk, s, strlen(s), out);
	if (!error)
		error = pg_buf_grow(out, 0);
	return error;
}

/* -------------------------------------------------------------- lists */

static int is_list_name(const char *name)
{
	return strchr(name, '-') != NULL || !strcmp(name, "targets");
}

struct pg_mk_list *pg_mk_list_get(const pg_mk *mk, const char *name)
{
	return pg_strmap_get(&mk->lists, name, NULL);
}

static int list_add(pg_mk *mk, const char *name, const char *words, uint32_t origin, int flags, int reset)
{
	struct pg_mk_list *l = pg_strmap_get(&mk->lists, name, NULL);
	const char *w = NULL;
	size_t wl;

	if (!l) {
		if (!(l = calloc(1, sizeof(*l))) || pg_strmap_set(&mk->lists, name, l) < 0) {
			free(l);
			return pg_error_setc(PG_ENOMEM, "out of memory");
		}
	}
	if (reset) {
		/* keep the records of words that can no longer be assigned: they
		 * are dropped by a real make too, so just forget them */
		for (size_t i = 0; i < l->recs.len; i++)
			free(l->recs.ptr[i].tok);
		l->recs.len = 0;
	}
	/* An unknown part makes every word of this assignment only "possible",
	 * and leaves one marker word so the walker knows the list is incomplete. */
	if (strchr(words, PG_MK_UNKNOWN))
		flags |= PG_MK_REC_POSSIBLE;
	while (next_word(words, &w, &wl)) {
		struct pg_mk_rec r;
		size_t o = 0;
		r.tok = pg_strndup(w, wl);
		if (!r.tok)
			return pg_error_setc(PG_ENOMEM, "out of memory");
		for (size_t i = 0; i < wl; i++)
			if (r.tok[i] != PG_MK_UNKNOWN)
				r.tok[o++] = r.tok[i];
		r.tok[o] = '\0';
		if (!o) {
			free(r.tok);
			continue;
		}
		r.origin = origin;
		r.flags = (unsigned char)flags;
		if (pg_vec_push(&l->recs, r) < 0) {
			free(r.tok);
			return pg_error_setc(PG_ENOMEM, "out of memory");
		}
	}
	if (strchr(words, PG_MK_UNKNOWN)) {
		struct pg_mk_rec r;
		char m[2] = { PG_MK_UNKNOWN, 0 };
		r.tok = pg_strdup(m);
		r.origin = origin;
		r.flags = (unsigned char)flags;
		if (!r.tok || pg_vec_push(&l->recs, r) < 0) {
			free(r.tok);
			return pg_error_setc(PG_ENOMEM, "out of memory");
		}
	}
	return 0;
}

/* ---------------------------------------------------------- line reader */

struct cond {
	unsigned char state;  /* C_TRUE / C_FALSE / C_UNKNOWN of the current branch */
	unsigned char taken;  /* some earlier branch: C_TRUE / C_FALSE / C_UNKNOWN */
	uint32_t origin;      /* index into origins of the directive text, or UINT32_MAX */
};

struct reader {
	struct cond conds[64];
	int ncond, overflow;
	int rule_ctx;         /* after a rule line: tab lines are recipes */
	char *define_name;    /* inside define ... endef */
	int define_rec, define_depth, define_active;
	pg_buf define_body;
};

static int tri_and(int a, int b)
{
	if (a == C_FALSE || b == C_FALSE)
		return C_FALSE;
	if (a == C_TRUE && b == C_TRUE)
		return C_TRUE;
	return C_UNKNOWN;
}

static int tri_or(int a, int b)
{
	if (a == C_TRUE || b == C_TRUE)
		return C_TRUE;
	if (a == C_FALSE && b == C_FALSE)
		return C_FALSE;
	return C_UNKNOWN;
}

static int ctx_state(const struct reader *r)
{
	int s = C_TRUE;
	for (int i = 0; i < r->ncond; i++)
		s = tri_and(s, r->conds[i].state);
	return s;
}

static int add_origin(pg_mk *mk, const char *text, const char *suffix, uint32_t *out)
{
	pg_buf b = PG_BUF_INIT;
	char *s;
	int error;
	if ((error = pg_buf_printf(&b, "%s:%u: %.200s", mk->file, mk->line, text)) < 0 ||
	    (error = pg_kconfig__annotate(&b, mk->cfg, text)) < 0 ||
	    (suffix && (error = pg_buf_puts(&b, suffix)) < 0)) {
		pg_buf_release(&b);
		return error;
	}
	s = pg_buf_detach(&b);
	if (!s || pg_vec_push(&mk->origins, s) < 0) {
		free(s);
		return pg_error_setc(PG_ENOMEM, "out of memory");
	}
	*out = (uint32_t)(mk->origins.len - 1);
	return 0;
}

/* Origin for an assignment line: the line, its symbols, and the innermost
 * enclosing conditional that decided it. */
static int line_origin(pg_mk *mk, const struct reader *r, const char *text, uint32_t *out)
{
	pg_buf sfx = PG_BUF_INIT;
	int error = 0;
	for (int i = r->ncond - 1; i >= 0 && i >= r->ncond - 2; i--) {
		const struct cond *c = &r->conds[i];
		if (c->origin == UINT32_MAX)
			continue;
		if ((error = pg_buf_printf(&sfx, " (%s %s)",
					   c->state == C_FALSE ? "inside false" :
					   c->state == C_UNKNOWN ? "inside undecidable" : "inside",
					   mk->origins.ptr[c->origin])) < 0)
			goto out;
	}
	error = add_origin(mk, text, sfx.len ? sfx.ptr : NULL, out);
out:
	pg_buf_release(&sfx);
	return error;
}

/* Evaluate an ifeq/ifneq/ifdef/ifndef test: C_TRUE/C_FALSE/C_UNKNOWN. */
static int eval_test(pg_mk *mk, const char *kw, const char *arg, int *out)
{
	pg_buf a = PG_BUF_INIT, b = PG_BUF_INIT;
	int error = 0, neg = kw[2] == 'n';
	const char *x = NULL, *y = NULL;
	size_t xl = 0, yl = 0;

	*out = C_UNKNOWN;
	if (!strcmp(kw, "ifdef") || !strcmp(kw, "ifndef")) {
		char *nm;
		const char *v;
		if ((error = expand_to(mk, arg, strlen(arg), &a)) < 0 || (error = pg_buf_grow(&a, 0)) < 0)
			goto out;
		nm = pg_str_trim(a.ptr);
		if (strchr(nm, PG_MK_UNKNOWN))
			goto out;
		v = pg_mk_get_raw(mk, nm, NULL);
		/* ifdef is true when the value is non-empty (without expanding it) */
		*out = (v && *v) ? C_TRUE : C_FALSE;
		if (!strcmp(kw, "ifndef"))
			*out = *out == C_TRUE ? C_FALSE : C_TRUE;
		goto out;
	}
	/* ifeq (a,b) | ifeq "a" "b" | ifeq 'a' 'b' */
	if (arg[0] == '(') {
		size_t len = strlen(arg), close = match_close(arg, len);
		const char *args[2];
		size_t lens[2];
		if (close >= len || split_args(arg + 1, close - 1, 2, args, lens) != 2) {
			*out = -1;
			goto out;
		}
		x = args[0], xl = lens[0], y = args[1], yl = lens[1];
	} else if (arg[0] == '"' || arg[0] == '\'') {
		const char *e1 = strchr(arg + 1, arg[0]), *s2;
		if (!e1) {
			*out = -1;
			goto out;
		}
		x = arg + 1, xl = (size_t)(e1 - x);
		s2 = e1 + 1;
		while (is_ws(*s2))
			s2++;
		if ((*s2 != '"' && *s2 != '\'') || !strchr(s2 + 1, *s2)) {
			*out = -1;
			goto out;
		}
		y = s2 + 1, yl = (size_t)(strchr(s2 + 1, *s2) - y);
	} else {
		*out = -1;
		goto out;
	}
	if ((error = expand_to(mk, x, xl, &a)) < 0 || (error = expand_to(mk, y, yl, &b)) < 0 ||
	    (error = pg_buf_grow(&a, 0)) < 0 || (error = pg_buf_grow(&b, 0)) < 0)
		goto out;
	{
		char *sa = pg_str_trim(a.ptr), *sb = pg_str_trim(b.ptr);
		if (strchr(sa, PG_MK_UNKNOWN) || strchr(sb, PG_MK_UNKNOWN))
			goto out;
		*out = !strcmp(sa, sb) ? C_TRUE : C_FALSE;
		if (neg)
			*out = *out == C_TRUE ? C_FALSE : C_TRUE;
	}
out:
	pg_buf_release(&a);
	pg_buf_release(&b);
	return error;
}

static int is_cond_kw(const char *s, const char **kw_end)
{
	static const char *kws[] = { "ifeq", "ifneq", "ifdef", "ifndef" };
	for (size_t i = 0; i < 4; i++) {
		size_t n = strlen(kws[i]);
		if (!strncmp(s, kws[i], n) && (is_ws(s[n]) || s[n] == '(' || s[n] == '\0')) {
			*kw_end = s + n;
			return (int)i + 1;
		}
	}
	return 0;
}

static int handle_cond(pg_mk *mk, struct reader *r, const char *l, int kwi, const char *rest, int is_else)
{
	static const char *kws[] = { "", "ifeq", "ifneq", "ifdef", "ifndef" };
	int v = C_UNKNOWN, error;
	int outer = C_TRUE;
	struct cond *c;

	for (int i = 0; i < r->ncond - (is_else ? 1 : 0); i++)
		outer = tri_and(outer, r->conds[i].state);
	while (is_ws(*rest))
		rest++;
	if (kwi == 0) {
		v = C_TRUE; /* plain else */
	} else if (outer != C_FALSE) {
		if ((error = eval_test(mk, kws[kwi], rest, &v)) < 0)
			return error;
		if (v < 0) {
			if ((error = mk_warn(mk, 1, "cannot parse conditional '%.120s'; treating it as undecidable", l)) < 0)
				return error;
			v = C_UNKNOWN;
		} else if (v == C_UNKNOWN) {
			if ((error = mk_warn(mk, 0, "cannot evaluate '%.120s'; both branches count as possible", l)) < 0)
				return error;
		}
	}
	if (is_else) {
		c = &r->conds[r->ncond - 1];
		c->state = (unsigned char)tri_and(c->taken == C_TRUE ? C_FALSE : c->taken == C_FALSE ? C_TRUE : C_UNKNOWN, v);
		c->taken = (unsigned char)tri_or(c->taken, c->state);
	} else {
		if (r->ncond >= 64) {
			r->overflow++;
			return mk_warn(mk, 1, "conditionals nested too deep");
		}
		c = &r->conds[r->ncond++];
		c->state = (unsigned char)v;
		c->taken = (unsigned char)v;
	}
	if (outer == C_FALSE) {
		c->origin = UINT32_MAX;
		return 0;
	}
	if (is_else && c->origin != UINT32_MAX) {
		/* "else (of Makefile:3: ifdef CONFIG_X [CONFIG_X=y])" */
		pg_buf t = PG_BUF_INIT;
		const char *open = mk->origins.ptr[c->origin];
		if ((error = pg_buf_printf(&t, "%s (of %s)", l, open)) == 0)
			error = add_origin(mk, t.ptr, NULL, &c->origin);
		pg_buf_release(&t);
		return error;
	}
	c->origin = UINT32_MAX;
	return add_origin(mk, l, NULL, &c->origin);
}

static int read_file(pg_mk *mk, const char *path, int optional, struct reader *outer_r);

/* Handle one logical line (continuations joined, comment stripped). */
static int handle_line(pg_mk *mk, struct reader *r, char *raw, int tab_start)
{
	char *l = pg_str_trim(raw);
	const char *kw_end;
	int kwi, state, error = 0, exported = 0;
	size_t n;

	if (r->define_name) {
		if (!strncmp(l, "endef", 5) && (l[5] == '\0' || is_ws(l[5]))) {
			if (r->define_depth-- == 0) {
				if (r->define_active)
					error = pg_mk_set(mk, r->define_name, pg_buf_cstr(&r->define_body), r->define_rec, 0);
				free(r->define_name);
				r->define_name = NULL;
				pg_buf_release(&r->define_body);
				return error;
			}
		} else if (!strncmp(l, "define", 6) && (l[6] == '\0' || is_ws(l[6])))
			r->define_depth++;
		if (r->define_body.len && (error = pg_buf_putc(&r->define_body, '\n')) < 0)
			return error;
		return pg_buf_puts(&r->define_body, raw);
	}
	if (!*l)
		return 0;
	if (tab_start && r->rule_ctx) {
		/* A recipe.  "$(MAKE) $(build)=dir" builds dir outside the obj-y
		 * lists (arch/x86/boot for bzImage, vdso...): remember dir. */
		const char *b = strstr(l, "$(build)=");
		if (b && ctx_state(r) != C_FALSE) {
			pg_buf d = PG_BUF_INIT, e = PG_BUF_INIT;
			const char *p = b + 9, *q = p;
			int depth = 0;
			while (*q && (depth || !is_ws(*q))) {
				depth += *q == '(' ? 1 : *q == ')' ? -1 : 0;
				q++;
			}
			if (!(error = expand_to(mk, p, (size_t)(q - p), &d)) && !(error = pg_buf_grow(&d, 0))) {
				char *dir = pg_str_trim(d.ptr);
				if (*dir && !strchr(dir, PG_MK_UNKNOWN) && !strchr(dir, ' ')) {
					char *item;
					if (!(error = pg_buf_printf(&e, "%s\t%s:%u: %.120s", dir, mk->file, mk->line, l))) {
						item = pg_buf_detach(&e);
						if (!item || pg_vec_push(&mk->recipe_dirs, item) < 0) {
							free(item);
							error = pg_error_setc(PG_ENOMEM, "out of memory");
						}
					}
				}
			}
			pg_buf_release(&d);
			pg_buf_release(&e);
		}
		return error;
	}
	/* conditionals are seen even in false branches, to track nesting */
	if ((kwi = is_cond_kw(l, &kw_end)) != 0)
		return handle_cond(mk, r, l, kwi, kw_end, 0);
	if (!strncmp(l, "else", 4) && (l[4] == '\0' || is_ws(l[4]))) {
		const char *rest = l + 4;
		if (r->ncond == 0)
			return mk_warn(mk, 1, "'else' without a conditional");
		while (is_ws(*rest))
			rest++;
		if (!*rest)
			return handle_cond(mk, r, l, 0, "", 1);
		if ((kwi = is_cond_kw(rest, &kw_end)) != 0)
			return handle_cond(mk, r, l, kwi, kw_end, 1);
		return mk_warn(mk, 1, "cannot parse '%.120s'", l);
	}
	if (!strncmp(l, "endif", 5) && (l[5] == '\0' || is_ws(l[5]))) {
		if (r->overflow)
			r->overflow--;
		else if (r->ncond > 0)
			r->ncond--;
		else
			return mk_warn(mk, 1, "'endif' without a conditional");
		return 0;
	}
	if (!strncmp(l, "define", 6) && (l[6] == '\0' || is_ws(l[6]))) {
		char *nm = pg_str_trim(l + 6);
		n = strlen(nm);
		r->define_rec = 1;
		if (n >= 2 && !strcmp(nm + n - 2, ":=")) {
			r->define_rec = 0;
			nm[n - 2] = '\0';
		} else if (n >= 1 && nm[n - 1] == '=')
			nm[n - 1] = '\0';
		nm = pg_str_trim(nm);
		if (!(r->define_name = pg_strdup(nm)))
			return PG_ENOMEM;
		r->define_depth = 0;
		r->define_active = ctx_state(r) != C_FALSE;
		pg_buf_init(&r->define_body, EXPAND_LIMIT);
		return 0;
	}
	state = ctx_state(r);
	if (state == C_FALSE) {
		/* Evidence for "not built": remember list words of obj-/lib-
		 * assignments we skip, flagged inactive. */
		const char *op = strstr(l, "+=");
		if (!op)
			op = strstr(l, ":=");
		if (op && (!strncmp(l, "obj-", 4) || !strncmp(l, "lib-", 4) || strstr(l, "-objs") || strstr(l, "-y"))) {
			pg_buf name = PG_BUF_INIT, val = PG_BUF_INIT;
			uint32_t origin;
			char *nm, saved = *op;
			*(char *)op = '\0';
			mk->no_eval = 1;
			if (!(error = expand_to(mk, l, strlen(l), &name)) && !(error = pg_buf_grow(&name, 0)) &&
			    !(error = expand_to(mk, op + 2, strlen(op + 2), &val)) && !(error = pg_buf_grow(&val, 0))) {
				nm = pg_str_trim(name.ptr);
				*(char *)op = saved;
				if (!strchr(nm, PG_MK_UNKNOWN) && is_list_name(nm) &&
				    !(error = line_origin(mk, r, l, &origin)))
					error = list_add(mk, nm, val.ptr, origin, PG_MK_REC_INACTIVE, 0);
			}
			*(char *)op = saved;
			mk->no_eval = 0;
			pg_buf_release(&name);
			pg_buf_release(&val);
		}
		return error;
	}
	r->rule_ctx = 0;
	/* directives */
	if (!strncmp(l, "include", 7) || !strncmp(l, "-include", 8) || !strncmp(l, "sinclude", 8)) {
		int optional = l[0] != 'i';
		const char *arg = l + (l[0] == 'i' ? 7 : 8);
		if (is_ws(*arg)) {
			pg_buf files = PG_BUF_INIT;
			const char *w = NULL;
			size_t wl;
			if ((error = expand_to(mk, arg, strlen(arg), &files)) < 0 || (error = pg_buf_grow(&files, 0)) < 0)
				goto inc_out;
			if (strchr(files.ptr, PG_MK_UNKNOWN)) {
				error = optional ? 0 : mk_warn(mk, 1, "cannot evaluate '%.120s'", l);
				goto inc_out;
			}
			while (!error && next_word(files.ptr, &w, &wl)) {
				char *p = pg_strndup(w, wl);
				if (!p) {
					error = PG_ENOMEM;
					break;
				}
				pg_kconfig__normpath(p, 0);
				error = read_file(mk, p, optional, r);
				free(p);
			}
inc_out:
			pg_buf_release(&files);
			return error;
		}
	}
	if (!strncmp(l, "override ", 8) || !strncmp(l, "private ", 8))
		l = pg_str_trim(l + 8);
	if (!strncmp(l, "export", 6) && (is_ws(l[6]) || !l[6])) {
		exported = 1;
		l = pg_str_trim(l + 6);
		if (!*l)
			return 0;
	} else if (!strncmp(l, "unexport", 8) && (is_ws(l[8]) || !l[8]))
		return 0;
	if (!strncmp(l, "vpath", 5) || !strncmp(l, "undefine ", 9) || !strncmp(l, ".PHONY", 6))
		return 0;

	/* assignment or rule: find the first top-level '=' or ':' */
	{
		int depth = 0;
		char *p, *op = NULL, *colon = NULL;
		for (p = l; *p; p++) {
			if (*p == '(' || *p == '{')
				depth++;
			else if (*p == ')' || *p == '}')
				depth--;
			else if (depth == 0 && *p == '=') {
				op = p;
				break;
			} else if (depth == 0 && *p == ':' && !colon) {
				if (p[1] == '=' || (p[1] == ':' && p[2] == '=') ||
				    (p[1] == ':' && p[2] == ':' && p[3] == '='))
					continue;
				colon = p;
			}
		}
		if (colon && (!op || colon < op)) {
			r->rule_ctx = 1;
			return 0; /* a rule (or a target-specific variable): no objects here */
		}
		if (op) {
			char *name_end = op;
			int kind = '=';
			pg_buf name = PG_BUF_INIT, val = PG_BUF_INIT;
			char *nm, *rhs = op + 1;
			int uncertain = state == C_UNKNOWN;

			if (op > l && (op[-1] == '+' || op[-1] == '?' || op[-1] == '!' || op[-1] == ':')) {
				kind = op[-1];
				name_end = op - 1;
				if (kind == ':' && name_end > l && name_end[-1] == ':')
					name_end--;
				if (kind == ':' && name_end > l && name_end[-1] == ':')
					name_end--;
			}
			*name_end = '\0';
			if ((error = expand_to(mk, l, strlen(l), &name)) < 0 || (error = pg_buf_grow(&name, 0)) < 0)
				goto asg_out;
			nm = pg_str_trim(name.ptr);
			while (is_ws(*rhs))
				rhs++;
			if (strchr(nm, PG_MK_UNKNOWN) || !*nm || strchr(nm, ' ')) {
				/* we cannot tell which variable this sets */
				if (strstr(l, "obj") || strstr(l, "lib-") || strstr(l, "-y") || strstr(l, "-objs"))
					error = mk_warn(mk, 1, "cannot evaluate the variable name in '%.120s'", l);
				goto asg_out;
			}
			if (kind == '!') {
				error = pg_mk_set(mk, nm, "\x01", 0, exported);
				goto asg_out;
			}
			if (kind == '?' && pg_mk_get_raw(mk, nm, NULL))
				goto asg_out;
			{
				int rec_old = 0;
				const char *old = pg_strmap_get(&mk->vars, nm, NULL) ? pg_mk_get_raw(mk, nm, &rec_old) : NULL;
				int recursive = kind == '=' || kind == '?' || (kind == '+' && (!old || rec_old));
				int append = kind == '+' || (uncertain && old);
				pg_buf nv = PG_BUF_INIT;

				pg_buf_init(&nv, EXPAND_LIMIT);
				if (recursive && kind != '+') {
					error = pg_buf_puts(&nv, rhs);
				} else if (recursive) {
					error = pg_buf_puts(&nv, rhs);
				} else {
					error = expand_to(mk, rhs, strlen(rhs), &val);
					if (!error)
						error = pg_buf_put(&nv, pg_buf_cstr(&val), val.len);
				}
				if (!error && append && old && *old && pg_strmap_get(&mk->vars, nm, NULL)) {
					/* appending to a simple variable expands the new text now (done above) */
					struct kvar *v = pg_strmap_get(&mk->vars, nm, NULL);
					if ((error = var_append(v, pg_buf_cstr(&nv))) == 2)
						error = 0;
					else if (error == 1)
						error = mk_warn(mk, 1, "variable %s is over %zu bytes: the rest is unknown",
								nm, EXPAND_LIMIT);
					v->recursive = (unsigned char)recursive;
					v->exported |= (unsigned char)exported;
				} else if (!error && append && old && *old) {
					/* old is a CONFIG_ value or an environment default, not a variable yet */
					pg_buf joined = PG_BUF_INIT;
					if (!(error = pg_buf_printf(&joined, "%s %s", old, pg_buf_cstr(&nv))))
						error = pg_mk_set(mk, nm, joined.ptr, recursive, exported);
					pg_buf_release(&joined);
				} else if (!error)
					error = pg_mk_set(mk, nm, pg_buf_cstr(&nv), recursive, exported);
				pg_buf_release(&nv);
				if (error < 0)
					goto asg_out;
			}
			if (is_list_name(nm)) {
				uint32_t origin;
				if (!val.ptr && (error = expand_to(mk, rhs, strlen(rhs), &val)) < 0)
					goto asg_out;
				if ((error = pg_buf_grow(&val, 0)) < 0)
					goto asg_out;
				*name_end = kind == '=' ? '=' : (char)kind; /* restore for the origin text */
				if ((error = line_origin(mk, r, l, &origin)) < 0)
					goto asg_out;
				error = list_add(mk, nm, val.ptr, origin, uncertain ? PG_MK_REC_POSSIBLE : 0,
						 (kind == '=' || kind == ':') && !uncertain);
			}
asg_out:
			pg_buf_release(&name);
			pg_buf_release(&val);
			return error;
		}
	}
	if (exported) {
		/* "export VAR ..." */
		pg_buf names = PG_BUF_INIT;
		const char *w = NULL;
		size_t wl;
		if (!(error = expand_to(mk, l, strlen(l), &names)) && !(error = pg_buf_grow(&names, 0)))
			while (!error && next_word(names.ptr, &w, &wl)) {
				char *nm = pg_strndup(w, wl);
				struct kvar *v;
				if (!nm) {
					error = PG_ENOMEM;
					break;
				}
				if ((v = pg_strmap_get(&mk->vars, nm, NULL)) != NULL)
					v->exported = 1;
				if (pg_strmap_set(&mk->exports, nm, (void *)1) < 0)
					error = pg_error_setc(PG_ENOMEM, "out of memory");
				free(nm);
			}
		pg_buf_release(&names);
		return error;
	}
	if (l[0] == '$' && (l[1] == '(' || l[1] == '{')) {
		/* a bare function call: $(info ...), $(error ...), $(eval ...) */
		pg_buf res = PG_BUF_INIT;
		pg_buf_init(&res, EXPAND_LIMIT);
		error = expand(mk, l, strlen(l), &res);
		if (!error && memchr(pg_buf_cstr(&res), PG_MK_UNKNOWN, res.len) && (strstr(l, "eval") || strstr(l, "obj")))
			error = mk_warn(mk, 1, "cannot evaluate '%.120s'", l);
		pg_buf_release(&res);
		return error;
	}
	return mk_warn(mk, 1, "unknown syntax '%.120s'", l);
}

static int read_text(pg_mk *mk, const char *text, size_t len, struct reader *r)
{
	pg_buf line = PG_BUF_INIT;
	size_t pos = 0;
	unsigned lineno = 0;
	int error = 0;
	void *saved_reader = mk->cur_reader;

	mk->cur_reader = r;

	while (pos < len && !error) {
		int tab_start = text[pos] == '\t';
		unsigned first = lineno + 1;
		int cont;

		pg_buf_reset(&line);
		/* join continuation lines; make collapses "\\\n + leading blanks" to one space */
		do {
			size_t end = pos;
			cont = 0;
			while (end < len && text[end] != '\n')
				end++;
			lineno++;
			{
				size_t n = end - pos;
				const char *s = text + pos;
				if (n && s[n - 1] == '\r')
					n--;
				if (n && s[n - 1] == '\\') {
					size_t bs = 0;
					while (bs < n && s[n - 1 - bs] == '\\')
						bs++;
					if (bs % 2 == 1) {
						cont = 1;
						n--;
					}
				}
				if (line.len && (error = pg_buf_putc(&line, ' ')) < 0)
					break;
				if (line.len) {
					while (n && (*s == ' ' || *s == '\t'))
						s++, n--;
				}
				if ((error = pg_buf_put(&line, s, n)) < 0)
					break;
			}
			pos = end + 1;
		} while (cont && pos < len);
		if (error)
			break;
		if ((error = pg_buf_grow(&line, 0)) < 0)
			break;
		mk->line = first;
		if (!r->define_name && !(tab_start && r->rule_ctx)) {
			/* strip the comment: first '#' not escaped */
			for (size_t i = 0; i < line.len; i++) {
				if (line.ptr[i] == '#' && (i == 0 || line.ptr[i - 1] != '\\')) {
					line.ptr[i] = '\0';
					line.len = i;
					break;
				}
			}
		}
		for (size_t i = 0; i < line.len; i++)
			if (line.ptr[i] == PG_MK_UNKNOWN || line.ptr[i] == '\0')
				line.ptr[i] = ' '; /* our marker byte must only come from expansion */
		error = handle_line(mk, r, line.ptr, tab_start);
	}
	mk->cur_reader = saved_reader;
	pg_buf_release(&line);
	return error;
}

static int read_file(pg_mk *mk, const char *path, int optional, struct reader *outer_r)
{
	pg_buf text = PG_BUF_INIT;
	const char *saved_file = mk->file;
	unsigned saved_line = mk->line;
	struct reader local;
	struct reader *r = outer_r ? outer_r : &local;
	int error;

	if (mk->include_depth >= INCLUDE_DEPTH_MAX)
		return mk_warn(mk, 1, "includes nested too deep at '%s'", path);
	error = mk->tree->read(&text, path, mk->tree->payload);
	if (error == PG_ENOTFOUND) {
		pg_buf_release(&text);
		if (optional == 2)
			return PG_ENOTFOUND;
		if (optional)
			return 0;
		{
			/* remember it: the missing file may name objects in its own directory */
			char *copy = pg_strdup(path);
			if (!copy || pg_vec_push(&mk->missing, copy) < 0) {
				free(copy);
				return pg_error_setc(PG_ENOMEM, "out of memory");
			}
		}
		return mk_warn(mk, 1, "included file '%s' not found", path);
	}
	if (error < 0) {
		pg_buf_release(&text);
		return error;
	}
	if (!outer_r)
		memset(&local, 0, sizeof(local));
	mk->include_depth++;
	mk->file = path;
	mk->line = 0;
	error = read_text(mk, pg_buf_cstr(&text), text.len, r);
	if (!error && !outer_r) {
		if (r->ncond > 0 || r->overflow)
			error = mk_warn(mk, 1, "missing 'endif' at end of file");
		if (!error && r->define_name)
			error = mk_warn(mk, 1, "missing 'endef' at end of file");
	}
	if (!outer_r) {
		free(local.define_name);
		pg_buf_release(&local.define_body);
	}
	mk->include_depth--;
	mk->file = saved_file;
	mk->line = saved_line;
	pg_buf_release(&text);
	return error;
}

int pg_mk_read(pg_mk *mk, const char *path)
{
	return read_file(mk, path, 2, NULL);
}

int pg_mk_read_text(pg_mk *mk, const char *name, const char *text, size_t len)
{
	struct reader r;
	int error;
	memset(&r, 0, sizeof(r));
	mk->file = name;
	error = read_text(mk, text, len, &r);
	if (!error && (r.ncond > 0 || r.overflow))
		error = mk_warn(mk, 1, "missing 'endif' at end of file");
	free(r.define_name);
	pg_buf_release(&r.define_body);
	return error;
}
