/*
 * livepatch.c - can this fix be applied as a live patch (kpatch/klp)?
 *
 * A pure function over unified diff text (no repository), so `show`, the
 * advisories and the backport result can all use it.  The diff is read file
 * by file; inside a C file each changed line is classified by the scope it
 * sits in, found from the hunk header's function context and the
 * column-0 lines of the hunk (kernel style puts a function's or a struct's
 * opening and closing braces in column 0):
 *   FUNC    inside a function body        -> fine (counted)
 *   STRUCT  inside struct/union/enum      -> struct-layout (shadow variables)
 *   DATA    inside a global initializer   -> data-init (not)
 *   GLOBAL  file scope                    -> global-var / data-init / signature
 * and by what it contains (__init/__exit, static keys, registration and
 * notifier calls, EXPORT_SYMBOL).  Assembly files and Kconfig/Makefiles are
 * rejected as a whole.  Every reason carries file:line; the verdict is the
 * worst level among them.  Heuristic by nature: it answers "plausible or
 * not", it does not build a patch module.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "backport/backport_int.h"
#include "util/buf.h"
#include "util/str.h"
#include "util/vec.h"
#include "util/diff.h"
#include "util/banned.h"

enum scope { S_GLOBAL, S_FUNC, S_STRUCT, S_DATA };
enum ftype { F_C, F_HEADER, F_ASM, F_BUILD, F_OTHER };

typedef PG_VEC(pg_livepatch_reason) reason_vec;
typedef PG_VEC(char *) str_vec;

struct lp_state {
	reason_vec reasons;
	str_vec funcs;            /* "file\nfunc" of changed function bodies */
	str_vec sig_removed, sig_added, exported; /* names, per file */
	char *file;
	enum ftype ftype;
	int file_reported;        /* asm/build: one reason per file */
	enum scope scope;
	char scope_name[128];
	int scope_init;           /* the enclosing function is __init/__exit */
	int pending_func;         /* saw a signature, waiting for '{' */
	char pending_name[128];
	int pending_init;
	unsigned files;
};

static void str_vec_release(str_vec *v)
{
	for (size_t i = 0; i < v->len; i++)
		free(v->ptr[i]);
	pg_vec_release(v);
}

static int str_vec_has(const str_vec *v, const char *s)
{
	for (size_t i = 0; i < v->len; i++)
		if (!strcmp(v->ptr[i], s))
			return 1;
	return 0;
}

static int str_vec_add(str_vec *v, const char *s)
{
	char *d;
	if (str_vec_has(v, s))
		return 0;
	if (!(d = pg_strdup(s)) || pg_vec_push(v, d) < 0) {
		free(d);
		return PG_ENOMEM;
	}
	return 0;
}

static int add_reason(struct lp_state *st, pg_livepatch_level level, const char *rule,
		      unsigned line, const char *fmt, ...) PG_PRINTF(5, 6);

static int add_reason(struct lp_state *st, pg_livepatch_level level, const char *rule,
		      unsigned line, const char *fmt, ...)
{
	pg_livepatch_reason r = { level, rule, NULL, line, NULL };
	pg_buf b = PG_BUF_INIT;
	va_list ap;

	/* one reason per rule and scope keeps the report readable */
	for (size_t i = 0; i < st->reasons.len; i++) {
		pg_livepatch_reason *o = &st->reasons.ptr[i];
		if (o->rule == rule && !strcmp(o->file, st->file) && line - o->line < 40 && line >= o->line)
			return 0;
	}
	va_start(ap, fmt);
	if (pg_buf_vprintf(&b, fmt, ap) < 0) {
		va_end(ap);
		return PG_ENOMEM;
	}
	va_end(ap);
	r.detail = pg_buf_detach(&b);
	r.file = pg_strdup(st->file);
	if (!r.detail || !r.file || pg_vec_push(&st->reasons, r) < 0) {
		free(r.detail);
		free(r.file);
		return PG_ENOMEM;
	}
	return 0;
}

static enum ftype file_type(const char *path)
{
	const char *base = strrchr(path, '/'), *dot;
	base = base ? base + 1 : path;
	dot = strrchr(base, '.');
	if (pg_str_starts_with(base, "Kconfig") || pg_str_starts_with(base, "Makefile") ||
	    pg_str_starts_with(base, "Kbuild") || (dot && !strcmp(dot, ".mk")))
		return F_BUILD;
	if (dot && (!strcmp(dot, ".S") || !strcmp(dot, ".s")))
		return F_ASM;
	if (dot && !strcmp(dot, ".c"))
		return F_C;
	if (dot && !strcmp(dot, ".h"))
		return F_HEADER;
	return F_OTHER;
}

/* Identifier right before the first '(' of s, or "" (buf >= 128). */
static void name_before_paren(char *buf, size_t size, const char *s)
{
	const char *p = strchr(s, '('), *e;
	buf[0] = '\0';
	if (!p)
		return;
	e = p;
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	p = e;
	while (p > s && (isalnum((unsigned char)p[-1]) || p[-1] == '_'))
		p--;
	snprintf(buf, size, "%.*s", (int)(e - p), p);
}

static int has_word(const char *s, const char *w)
{
	size_t n = strlen(w);
	for (const char *p = strstr(s, w); p; p = strstr(p + 1, w)) {
		int left = p == s || !(isalnum((unsigned char)p[-1]) || p[-1] == '_');
		int right = !(isalnum((unsigned char)p[n]) || p[n] == '_');
		if (left && right)
			return 1;
	}
	return 0;
}

static int is_init_exit(const char *s)
{
	return has_word(s, "__init") || has_word(s, "__exit") || has_word(s, "__initdata") ||
	       has_word(s, "__exitdata") || has_word(s, "__initconst") || has_word(s, "__meminit") ||
	       has_word(s, "__ref") || has_word(s, "__devinit");
}

/* A column-0 line opening a struct/union/enum type definition. */
static int opens_type(const char *s)
{
	const char *p = s;
	if (strchr(s, '=') || strchr(s, '('))
		return 0;
	if (pg_str_starts_with(p, "typedef "))
		p += 8;
	return (pg_str_starts_with(p, "struct ") || pg_str_starts_with(p, "union ") ||
		pg_str_starts_with(p, "enum ")) && (strchr(p, '{') || !strchr(p, ';'));
}

/* A column-0 line that starts a function definition or prototype. */
static int looks_like_function(const char *s)
{
	const char *paren = strchr(s, '('), *eq = strchr(s, '=');
	char name[128];
	if (!paren || (eq && eq < paren) || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return 0;
	if (pg_str_starts_with(s, "EXPORT_SYMBOL") || pg_str_starts_with(s, "MODULE_") ||
	    pg_str_starts_with(s, "module_") || pg_str_starts_with(s, "DEFINE_") ||
	    pg_str_starts_with(s, "DECLARE_") || strstr(s, "initcall("))
		return 0;
	name_before_paren(name, sizeof(name), s);
	if (!name[0])
		return 0;
	/* "static int x = f(...)" was excluded by eq; macro calls at file
	 * scope ("LIST_HEAD(foo);") have no return type before the name */
	return strchr(s, ' ') != NULL && strchr(s, ' ') < paren;
}

static int starts_global_data(const char *s)
{
	const char *eq = strchr(s, '=');
	return eq && (isalpha((unsigned char)s[0]) || s[0] == '_') && strchr(eq, '{') && !strchr(eq, ';');
}

/* Track scope from a column-0 line (context or changed). */
static void track_scope(struct lp_state *st, const char *s)
{
	if (s[0] == '}') {
		st->scope = S_GLOBAL;
		st->scope_name[0] = '\0';
		st->scope_init = 0;
		st->pending_func = 0;
		return;
	}
	if (s[0] == '{' && st->pending_func) {
		st->scope = S_FUNC;
		snprintf(st->scope_name, sizeof(st->scope_name), "%s", st->pending_name);
		st->scope_init = st->pending_init;
		st->pending_func = 0;
		return;
	}
	if (!(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return;
	if (opens_type(s)) {
		st->scope = S_STRUCT;
		snprintf(st->scope_name, sizeof(st->scope_name), "%s", s);
		st->pending_func = 0;
	} else if (starts_global_data(s)) {
		st->scope = S_DATA;
		snprintf(st->scope_name, sizeof(st->scope_name), "%s", s);
		st->scope_init = is_init_exit(s);
		st->pending_func = 0;
	} else if (looks_like_function(s)) {
		size_t n = strlen(s);
		while (n && isspace((unsigned char)s[n - 1]))
			n--;
		if (n && s[n - 1] == ';') { /* a prototype */
			st->pending_func = 0;
			st->scope = S_GLOBAL;
			return;
		}
		name_before_paren(st->pending_name, sizeof(st->pending_name), s);
		st->pending_init = is_init_exit(s);
		st->pending_func = 1;
		st->scope = S_GLOBAL;
		if (n && s[n - 1] == '{') { /* "int f(void) {" */
			st->scope = S_FUNC;
			snprintf(st->scope_name, sizeof(st->scope_name), "%s", st->pending_name);
			st->scope_init = st->pending_init;
			st->pending_func = 0;
		}
	} else if (st->pending_func && !strchr(s, ';')) {
		/* continuation of a multi-line signature starts with a type or name */
	} else {
		st->scope = S_GLOBAL;
		st->pending_func = 0;
	}
}

static void heading_scope(struct lp_state *st, const char *heading)
{
	st->scope = S_GLOBAL;
	st->scope_name[0] = '\0';
	st->scope_init = 0;
	st->pending_func = 0;
	while (*heading == ' ')
		heading++;
	if (!*heading)
		return;
	track_scope(st, heading);
	if (st->pending_func) { /* the hunk header names the enclosing function */
		st->scope = S_FUNC;
		snprintf(st->scope_name, sizeof(st->scope_name), "%s", st->pending_name);
		st->scope_init = st->pending_init;
		st->pending_func = 0;
	}
}

static int blank_or_comment(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return !*s || pg_str_starts_with(s, "/*") || pg_str_starts_with(s, "*") || pg_str_starts_with(s, "//");
}

static int registration_call(const char *s)
{
	static const char *const words[] = { "notifier_block", "module_init", "module_exit",
		"late_initcall", "subsys_initcall", "device_initcall", "core_initcall",
		"arch_initcall", "fs_initcall", "postcore_initcall", NULL };
	char id[128];
	const char *p;
	for (int i = 0; words[i]; i++)
		if (strstr(s, words[i]))
			return 1;
	/* any call whose name contains "register" or "notifier" */
	for (p = strchr(s, '('); p; p = strchr(p + 1, '(')) {
		const char *e = p, *b;
		while (e > s && isspace((unsigned char)e[-1]))
			e--;
		b = e;
		while (b > s && (isalnum((unsigned char)b[-1]) || b[-1] == '_'))
			b--;
		snprintf(id, sizeof(id), "%.*s", (int)(e - b), b);
		if (strstr(id, "register") || strstr(id, "notifier"))
			return 1;
	}
	return 0;
}

static int changed_line(struct lp_state *st, char sign, const char *s, unsigned line)
{
	int error = 0;
	char name[128];
	const char *what = sign == '+' ? "added" : "removed";

	if (st->ftype == F_OTHER)
		return 0;
	if (st->ftype == F_ASM || st->ftype == F_BUILD) {
		if (st->file_reported)
			return 0;
		st->file_reported = 1;
		return st->ftype == F_ASM
			? add_reason(st, PG_LP_NOT, "asm", line, "assembly file changed: %s", st->file)
			: add_reason(st, PG_LP_NOT, "build", line, "build configuration changed (Kconfig/Makefile): %s", st->file);
	}
	if (blank_or_comment(s))
		return 0;
	if (strstr(s, "EXPORT_SYMBOL")) {
		name_before_paren(name, sizeof(name), strchr(s, ')') ? strchr(s, ')') : s);
		return add_reason(st, PG_LP_NOT, "export", line, "exported symbol list changed: %s '%s'", what, s);
	}
	if (strstr(s, "static_key") || strstr(s, "static_branch") || strstr(s, "STATIC_KEY") ||
	    strstr(s, "jump_label"))
		return add_reason(st, PG_LP_NOT, "static-key", line, "static key / jump label: %s '%s'", what, s);
	if (is_init_exit(s) || (st->scope == S_FUNC && st->scope_init) || (st->scope == S_DATA && st->scope_init))
		return add_reason(st, PG_LP_NOT, "init-exit", line,
				  "__init/__exit code runs only at load/unload: %s '%s'%s%s", what, s,
				  st->scope_name[0] ? " in " : "", st->scope_name);
	if (registration_call(s))
		return add_reason(st, PG_LP_NOT, "registration", line,
				  "notifier/registration path: %s '%s'", what, s);
	if (s[0] == '#') {
		if (pg_str_starts_with(s, "#define"))
			return add_reason(st, PG_LP_LIKELY, "macro", line,
					  "macro changed: every user must be in the patch: '%s'", s);
		return 0;
	}
	if (isalpha((unsigned char)s[0]) || s[0] == '_') {
		/* column 0: a declaration, a signature or the start of a type/data */
		if (looks_like_function(s)) {
			name_before_paren(name, sizeof(name), s);
			if ((error = str_vec_add(sign == '+' ? &st->sig_added : &st->sig_removed, name)) < 0)
				return error;
			return 0; /* judged per file once both sides are known */
		}
		if (opens_type(s))
			return add_reason(st, PG_LP_SHADOW, "struct-layout", line,
					  "type definition %s: '%s'", what, s);
		if (starts_global_data(s) || (strchr(s, '=') && strchr(s, ';')))
			return add_reason(st, PG_LP_NOT, "data-init", line,
					  "global/static data initializer %s: '%s'", what, s);
		if (strchr(s, ';') && !strchr(s, '(') && !pg_str_starts_with(s, "typedef"))
			return add_reason(st, PG_LP_SHADOW, "global-var", line,
					  "global variable %s: '%s' (needs a shadow variable)", what, s);
		return 0;
	}
	switch (st->scope) {
	case S_STRUCT:
		return add_reason(st, PG_LP_SHADOW, "struct-layout", line,
				  "struct/union layout change in '%s': %s '%s'", st->scope_name, what, s);
	case S_DATA:
		return add_reason(st, PG_LP_NOT, "data-init", line,
				  "global/static data initializer '%s' changed: %s '%s'", st->scope_name, what, s);
	case S_FUNC: {
		pg_buf key = PG_BUF_INIT;
		if (pg_buf_printf(&key, "%s\n%s", st->file, st->scope_name) < 0)
			return PG_ENOMEM;
		error = str_vec_add(&st->funcs, key.ptr);
		pg_buf_release(&key);
		return error;
	}
	default:
		return 0;
	}
}

/* End of a file's diff: judge signature changes now both sides are known. */
static int finish_file(struct lp_state *st, unsigned line)
{
	int error = 0;
	for (size_t i = 0; i < st->sig_added.len && !error; i++) {
		const char *n = st->sig_added.ptr[i];
		if (!str_vec_has(&st->sig_removed, n))
			continue; /* a new function: fine for kpatch */
		if (str_vec_has(&st->exported, n) || st->ftype == F_HEADER)
			error = add_reason(st, PG_LP_NOT, "exported-signature", line,
					   "signature of exported function %s() changed", n);
		else
			error = add_reason(st, PG_LP_LIKELY, "signature", line,
					   "signature of static function %s() changed: all callers must be patched", n);
	}
	str_vec_release(&st->sig_added);
	str_vec_release(&st->sig_removed);
	str_vec_release(&st->exported);
	return error;
}

static int collect_exports(struct lp_state *st, const char *s)
{
	const char *p = strstr(s, "EXPORT_SYMBOL");
	char name[128];
	size_t n = 0;
	if (!p || !(p = strchr(p, '(')))
		return 0;
	p++;
	while (isspace((unsigned char)*p))
		p++;
	while ((isalnum((unsigned char)p[n]) || p[n] == '_') && n < sizeof(name) - 1)
		n++;
	snprintf(name, sizeof(name), "%.*s", (int)n, p);
	return n ? str_vec_add(&st->exported, name) : 0;
}

int pg_livepatch_assess(pg_livepatch_verdict **out, const char *diff, size_t len)
{
	struct lp_state st;
	pg_livepatch_verdict *v = NULL;
	size_t pos = 0;
	unsigned old_line = 0, new_line = 0, last_line = 0, lineno = 0, headers = 0;
	int in_hunk = 0, error = 0;
	char *line = NULL;

	memset(&st, 0, sizeof(st));
	*out = NULL;
	/* first pass: EXPORT_SYMBOL names anywhere in the diff (exports usually
	 * sit right after the function, possibly in another hunk) */
	while (pos < len) {
		const char *l = diff + pos, *nl = memchr(l, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - l) : len - pos;
		pos += n + (nl ? 1 : 0);
		if (n > 1 && (l[0] == ' ' || l[0] == '+' || l[0] == '-') && memmem(l, n, "EXPORT_SYMBOL", 13)) {
			char *t = pg_strndup(l + 1, n - 1);
			if (!t || (error = collect_exports(&st, t)) < 0) {
				free(t);
				error = PG_ENOMEM;
				goto out;
			}
			free(t);
		}
	}
	{ /* keep the export list across files: a header change and its .c export */
		str_vec all = st.exported;
		memset(&st.exported, 0, sizeof(st.exported));
		pos = 0;
		while (pos < len) {
			const char *l = diff + pos, *nl = memchr(l, '\n', len - pos);
			size_t n = nl ? (size_t)(nl - l) : len - pos;
			pos += n + (nl ? 1 : 0);
			lineno++;
			free(line);
			if (!(line = pg_strndup(l, n))) {
				error = PG_ENOMEM;
				str_vec_release(&all);
				goto out;
			}
			n = strlen(line); /* a NUL byte ends the copy early */
			if (n && line[n - 1] == '\r')
				line[n - 1] = '\0';
			if (pg_str_starts_with(line, "diff --git ") ||
			    (!in_hunk && pg_str_starts_with(line, "+++ "))) {
				const char *path = NULL;
				headers++;
				if (pg_str_starts_with(line, "diff --git ")) {
					const char *b = strstr(line, " b/");
					path = b ? b + 3 : line + 11;
				} else if (strcmp(line + 4, "/dev/null")) {
					path = pg_str_starts_with(line + 4, "b/") ? line + 6 : line + 4;
				}
				if (path && (!st.file || strcmp(st.file, path) || pg_str_starts_with(line, "diff "))) {
					if (st.file && (error = finish_file(&st, last_line)) < 0) {
						str_vec_release(&all);
						goto out;
					}
					if (!st.file || strcmp(st.file, path))
						st.files += file_type(path) == F_C || file_type(path) == F_HEADER;
					free(st.file);
					if (!(st.file = pg_strdup(path))) {
						error = PG_ENOMEM;
						str_vec_release(&all);
						goto out;
					}
					st.ftype = file_type(path);
					st.file_reported = 0;
					for (size_t i = 0; i < all.len; i++)
						if ((error = str_vec_add(&st.exported, all.ptr[i])) < 0) {
							str_vec_release(&all);
							goto out;
						}
				}
				in_hunk = 0;
				continue;
			}
			if (pg_str_starts_with(line, "@@ -")) {
				pg_diff_hunk hh;
				if (!pg_diff_hunk_parse(&hh, line, strlen(line))) {
					/* its lines cannot be placed: a verdict would be a guess */
					error = pg_error_setc(PG_EINVALID, "diff line %u: malformed hunk header '%.60s'",
							      lineno, line);
					str_vec_release(&all);
					goto out;
				}
				old_line = hh.old_start;
				new_line = hh.new_start;
				heading_scope(&st, hh.heading);
				in_hunk = st.file != NULL;
				continue;
			}
			if (!in_hunk)
				continue;
			if (line[0] == ' ' || line[0] == '\0') {
				track_scope(&st, line[0] ? line + 1 : "");
				old_line++, new_line++;
			} else if (line[0] == '+' || line[0] == '-') {
				unsigned at = line[0] == '+' ? new_line : old_line;
				last_line = at;
				if ((error = changed_line(&st, line[0], line + 1, at)) < 0) {
					str_vec_release(&all);
					goto out;
				}
				track_scope(&st, line + 1);
				if (line[0] == '+')
					new_line++;
				else
					old_line++;
			} else if (line[0] != '\\')
				in_hunk = 0;
		}
		if (st.file && (error = finish_file(&st, last_line)) < 0) {
			str_vec_release(&all);
			goto out;
		}
		str_vec_release(&all);
	}
	if (!headers) {
		/* empty, random or truncated input is no evidence of a live-patchable fix */
		error = pg_error_setc(PG_EINVALID, "no unified diff found (no 'diff --git' or '+++' file header)");
		goto out;
	}

	if (!(v = calloc(1, sizeof(*v)))) {
		error = pg_error_setc(PG_ENOMEM, "out of memory");
		goto out;
	}
	v->level = PG_LP_LIKELY;
	v->reasons = st.reasons.ptr;
	v->nreasons = st.reasons.len;
	st.reasons.ptr = NULL;
	st.reasons.len = st.reasons.alloc = 0;
	for (size_t i = 0; i < v->nreasons; i++)
		if (v->reasons[i].level > v->level)
			v->level = v->reasons[i].level;
	v->files = st.files;
	v->functions = (unsigned)st.funcs.len;
	*out = v;
out:
	free(line);
	for (size_t i = 0; i < st.reasons.len; i++) {
		free(st.reasons.ptr[i].file);
		free(st.reasons.ptr[i].detail);
	}
	pg_vec_release(&st.reasons);
	str_vec_release(&st.funcs);
	str_vec_release(&st.sig_added);
	str_vec_release(&st.sig_removed);
	str_vec_release(&st.exported);
	free(st.file);
	return error;
}

void pg_livepatch_free(pg_livepatch_verdict *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->nreasons; i++) {
		free(v->reasons[i].file);
		free(v->reasons[i].detail);
	}
	free(v->reasons);
	free(v);
}

const char *pg_livepatch_level_name(pg_livepatch_level l)
{
	switch (l) {
	case PG_LP_LIKELY: return "likely";
	case PG_LP_SHADOW: return "shadow";
	default: return "not";
	}
}



json_t *pg_livepatch__to_json(const pg_livepatch_verdict *v)
{
	json_t *o = json_object(), *a = json_array();
	if (!o || !a) {
		json_decref(o);
		json_decref(a);
		return NULL;
	}
	json_object_set_new(o, "verdict", json_string(pg_livepatch_level_name(v->level)));
	json_object_set_new(o, "files", json_integer(v->files));
	json_object_set_new(o, "functions", json_integer(v->functions));
	for (size_t i = 0; i < v->nreasons; i++) {
		const pg_livepatch_reason *r = &v->reasons[i];
		json_t *e = json_pack("{s:s, s:s, s:s, s:I, s:s}", "level", pg_livepatch_level_name(r->level),
				      "rule", r->rule, "file", r->file, "line", (json_int_t)r->line,
				      "detail", r->detail);
		if (!e || json_array_append_new(a, e) < 0) {
			json_decref(o);
			json_decref(a);
			return NULL;
		}
	}
	json_object_set_new(o, "reasons", a);
	return o;
}

int pg_livepatch_json(char **out, const pg_livepatch_verdict *v)
{
	json_t *o = pg_livepatch__to_json(v);
	*out = o ? json_dumps(o, JSON_SORT_KEYS | JSON_INDENT(2)) : NULL;
	json_decref(o);
	return *out ? 0 : pg_error_setc(PG_ENOMEM, "cannot format the live-patch verdict as JSON");
}
