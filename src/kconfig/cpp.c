/*
 * cpp.c - which preprocessor conditions enclose a line of a C file, and are
 * they true under the .config?
 *
 * The file is scanned once, keeping the #if/#ifdef/#ifndef/#elif/#else/#endif
 * stack (comments and string literals are skipped so a "#if" inside a block
 * comment does not count).  Each frame's condition is evaluated with a small
 * #if expression evaluator that knows what a .config implies for the
 * generated autoconf.h: CONFIG_X=y defines CONFIG_X as 1, =m defines
 * CONFIG_X_MODULE instead, values define CONFIG_X as the value; and the
 * IS_ENABLED/IS_BUILTIN/IS_MODULE/IS_REACHABLE macros.  Every other macro is
 * unknown, and unknown propagates (except through && / || / ?: short-cuts),
 * so "disabled" is only claimed when the config alone decides it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kconfig_int.h"
#include "util/str.h"
#include "util/vec.h"
#include "util/banned.h"

enum { T_FALSE = 0, T_UNKNOWN = 1, T_TRUE = 2 };

const char *pg_kcond_name(pg_kcond c)
{
	switch (c) {
	case PG_KCOND_DISABLED: return "disabled";
	case PG_KCOND_ENABLED: return "enabled";
	default: return "unknown";
	}
}

void pg_kcond_result_release(pg_kcond_result *r)
{
	if (r) {
		free(r->evidence);
		r->evidence = NULL;
	}
}

/* ------------------------------------------------------ expression eval */

struct val { int known; long long v; };

struct ex {
	const char *p;
	const pg_kconfig *cfg;
	pg_kbuild_state file_state;
	int error; /* syntax error: the whole expression is unknown */
};

static struct val known(long long v) { struct val r = { 1, v }; return r; }
static struct val unknown(void) { struct val r = { 0, 0 }; return r; }

static void skip_ws(struct ex *e)
{
	while (*e->p == ' ' || *e->p == '\t' || *e->p == '\r' || *e->p == '\n')
		e->p++;
}

static int is_id(char c, int first)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || (!first && c >= '0' && c <= '9');
}

static size_t read_id(struct ex *e, char *buf, size_t size)
{
	size_t n = 0;
	skip_ws(e);
	if (!is_id(*e->p, 1))
		return 0;
	while (is_id(*e->p, 0)) {
		if (n + 1 < size)
			buf[n++] = *e->p;
		e->p++;
	}
	buf[n] = '\0';
	return n;
}

/* defined(X) as autoconf.h would answer it. */
static struct val defined_sym(const struct ex *e, const char *id)
{
	size_t n = strlen(id);
	if (!strncmp(id, "CONFIG_", 7)) {
		if (n > 14 && !strcmp(id + n - 7, "_MODULE")) {
			char base[256];
			snprintf(base, sizeof(base), "%.*s", (int)(n - 7), id);
			if (pg_kconfig_tristate(e->cfg, base) == 'm')
				return known(1);
			/* CONFIG_FOO_MODULE could also be a real symbol */
			return known(pg_kconfig_get(e->cfg, id) != NULL);
		}
		{
			char t = pg_kconfig_tristate(e->cfg, id);
			return known(t == 'y' || t == 'v');
		}
	}
	if (!strcmp(id, "MODULE")) {
		if (e->file_state == PG_KBUILD_MODULE)
			return known(1);
		if (e->file_state == PG_KBUILD_BUILTIN)
			return known(0);
		return unknown();
	}
	if (!strcmp(id, "__KERNEL__"))
		return known(1);
	return unknown();
}

static struct val parse_cond(struct ex *e);

static struct val parse_primary(struct ex *e)
{
	char id[256];
	skip_ws(e);
	if (*e->p == '(') {
		struct val v;
		e->p++;
		v = parse_cond(e);
		skip_ws(e);
		if (*e->p == ')')
			e->p++;
		else
			e->error = 1;
		return v;
	}
	if (*e->p == '!' && e->p[1] != '=') {
		struct val v;
		e->p++;
		v = parse_primary(e);
		return v.known ? known(!v.v) : v;
	}
	if (*e->p == '~' || *e->p == '-' || *e->p == '+') {
		char op = *e->p++;
		struct val v = parse_primary(e);
		if (!v.known)
			return v;
		return known(op == '~' ? ~v.v : op == '-' ? -v.v : v.v);
	}
	if (*e->p >= '0' && *e->p <= '9') {
		char *end;
		long long v = (long long)strtoull(e->p, &end, 0);
		e->p = end;
		while (*e->p == 'u' || *e->p == 'U' || *e->p == 'l' || *e->p == 'L')
			e->p++;
		return known(v);
	}
	if (*e->p == '\'') {
		/* character constant: rare in #if; value unknown but skip it */
		const char *q = strchr(e->p + 1, '\'');
		e->p = q ? q + 1 : e->p + strlen(e->p);
		return unknown();
	}
	if (read_id(e, id, sizeof(id))) {
		if (!strcmp(id, "defined")) {
			int paren;
			char sym[256];
			skip_ws(e);
			paren = *e->p == '(';
			if (paren)
				e->p++;
			if (!read_id(e, sym, sizeof(sym))) {
				e->error = 1;
				return unknown();
			}
			skip_ws(e);
			if (paren) {
				if (*e->p == ')')
					e->p++;
				else
					e->error = 1;
			}
			return defined_sym(e, sym);
		}
		skip_ws(e);
		if (*e->p == '(') {
			/* function-like macro: IS_ENABLED() and friends, else unknown */
			const char *args = e->p + 1;
			int depth = 0;
			char sym[256];
			struct ex sub = *e;
			while (*e->p) {
				if (*e->p == '(')
					depth++;
				else if (*e->p == ')' && --depth == 0)
					break;
				e->p++;
			}
			if (*e->p != ')') {
				e->error = 1;
				return unknown();
			}
			e->p++;
			sub.p = args;
			if (read_id(&sub, sym, sizeof(sym)) && !strncmp(sym, "CONFIG_", 7)) {
				skip_ws(&sub);
				if (*sub.p == ')') {
					char t = pg_kconfig_tristate(e->cfg, sym);
					if (!strcmp(id, "IS_ENABLED"))
						return known(t == 'y' || t == 'm');
					if (!strcmp(id, "IS_BUILTIN"))
						return known(t == 'y');
					if (!strcmp(id, "IS_MODULE"))
						return known(t == 'm');
					if (!strcmp(id, "IS_REACHABLE")) {
						if (t == 'y')
							return known(1);
						if (t != 'm')
							return known(0);
						if (e->file_state == PG_KBUILD_MODULE)
							return known(1);
						if (e->file_state == PG_KBUILD_BUILTIN)
							return known(0);
						return unknown();
					}
				}
			}
			return unknown();
		}
		if (!strncmp(id, "CONFIG_", 7)) {
			const char *v = pg_kconfig_get(e->cfg, id);
			char *end;
			long long n;
			if (!v || !strcmp(v, "m"))
				return known(0); /* not defined (=m defines CONFIG_X_MODULE) */
			if (!strcmp(v, "y"))
				return known(1);
			n = (long long)strtoull(v, &end, 0);
			if (*v && !*end)
				return known(n);
			return unknown(); /* a string value */
		}
		return unknown();
	}
	e->error = 1;
	return unknown();
}

/* Binary operators by precedence level (C's), lowest first. */
static int binop(struct ex *e, int level, char *op)
{
	static const char *levels[][4] = {
		{ "||" }, { "&&" }, { "|" }, { "^" }, { "&" }, { "==", "!=" },
		{ "<=", ">=", "<", ">" }, { "<<", ">>" }, { "+", "-" }, { "*", "/", "%" },
	};
	skip_ws(e);
	for (size_t i = 0; i < 4 && levels[level][i]; i++) {
		const char *o = levels[level][i];
		size_t n = strlen(o);
		if (strncmp(e->p, o, n))
			continue;
		/* "|" must not match "||", "&" not "&&", "<" not "<<" */
		if (n == 1 && (e->p[1] == o[0] || ((o[0] == '<' || o[0] == '>') && e->p[1] == '=')))
			continue;
		op[0] = o[0];
		op[1] = n > 1 ? o[1] : '\0';
		e->p += n;
		return 1;
	}
	return 0;
}

static struct val apply(const char *op, struct val a, struct val b)
{
	if (!strcmp(op, "||")) {
		if ((a.known && a.v) || (b.known && b.v))
			return known(1);
		return a.known && b.known ? known(0) : unknown();
	}
	if (!strcmp(op, "&&")) {
		if ((a.known && !a.v) || (b.known && !b.v))
			return known(0);
		return a.known && b.known ? known(1) : unknown();
	}
	if (!a.known || !b.known)
		return unknown();
	switch (op[0]) {
	case '|': return known(a.v | b.v);
	case '^': return known(a.v ^ b.v);
	case '&': return known(a.v & b.v);
	case '=': return known(a.v == b.v);
	case '!': return known(a.v != b.v);
	case '<':
		if (op[1] == '<')
			return b.v >= 0 && b.v < 63 ? known((long long)((unsigned long long)a.v << b.v)) : unknown();
		return known(op[1] == '=' ? a.v <= b.v : a.v < b.v);
	case '>':
		if (op[1] == '>')
			return b.v >= 0 && b.v < 63 ? known(a.v >> b.v) : unknown();
		return known(op[1] == '=' ? a.v >= b.v : a.v > b.v);
	case '+': return known((long long)((unsigned long long)a.v + (unsigned long long)b.v));
	case '-': return known((long long)((unsigned long long)a.v - (unsigned long long)b.v));
	case '*': return known((long long)((unsigned long long)a.v * (unsigned long long)b.v));
	case '/': return b.v && !(a.v == INT64_MIN && b.v == -1) ? known(a.v / b.v) : unknown();
	case '%': return b.v && !(a.v == INT64_MIN && b.v == -1) ? known(a.v % b.v) : unknown();
	}
	return unknown();
}

static struct val parse_level(struct ex *e, int level)
{
	struct val a;
	char op[3] = "";
	if (level >= 10)
		return parse_primary(e);
	a = parse_level(e, level + 1);
	while (!e->error && binop(e, level, op)) {
		struct val b = parse_level(e, level + 1);
		a = apply(op, a, b);
	}
	return a;
}

static struct val parse_cond(struct ex *e)
{
	struct val c = parse_level(e, 0), t, f;
	skip_ws(e);
	if (*e->p != '?')
		return c;
	e->p++;
	t = parse_cond(e);
	skip_ws(e);
	if (*e->p != ':') {
		e->error = 1;
		return unknown();
	}
	e->p++;
	f = parse_cond(e);
	if (!c.known)
		return t.known && f.known && !!t.v == !!f.v ? t : unknown();
	return c.v ? t : f;
}

/* Evaluate an #if expression: T_TRUE / T_FALSE / T_UNKNOWN. */
static int eval_expr(const char *expr, const pg_kconfig *cfg, pg_kbuild_state fs)
{
	struct ex e = { expr, cfg, fs, 0 };
	struct val v = parse_cond(&e);
	skip_ws(&e);
	if (e.error || *e.p)
		return T_UNKNOWN;
	if (!v.known)
		return T_UNKNOWN;
	return v.v ? T_TRUE : T_FALSE;
}

/* ------------------------------------------------------------ scanning */

struct frame {
	int state;      /* this branch: T_* */
	int taken;      /* some earlier branch of this #if chain */
	char *evidence; /* "path:line: #ifdef CONFIG_X [CONFIG_X is not set]" */
	char *open;     /* "path:line: #ifdef CONFIG_X" of the chain's opening directive */
};

static int tri_and(int a, int b)
{
	if (a == T_FALSE || b == T_FALSE)
		return T_FALSE;
	return a == T_TRUE && b == T_TRUE ? T_TRUE : T_UNKNOWN;
}

static int tri_not(int a) { return a == T_TRUE ? T_FALSE : a == T_FALSE ? T_TRUE : T_UNKNOWN; }
static int tri_or(int a, int b)
{
	if (a == T_TRUE || b == T_TRUE)
		return T_TRUE;
	return a == T_FALSE && b == T_FALSE ? T_FALSE : T_UNKNOWN;
}

/* Effective condition of the stack and the frame that decides it. */
static int stack_state(const struct frame *st, size_t n, const struct frame **decider)
{
	int s = T_TRUE;
	*decider = NULL;
	for (size_t i = 0; i < n; i++) {
		if (st[i].state == T_FALSE) {
			*decider = &st[i];
			return T_FALSE;
		}
		if (st[i].state == T_UNKNOWN && s == T_TRUE) {
			s = T_UNKNOWN;
			*decider = &st[i];
		}
	}
	return s;
}

/* Remove comments from a directive (in place); returns the new text. */
static void strip_comments(char *s)
{
	char *o = s;
	for (char *p = s; *p;) {
		if (p[0] == '/' && p[1] == '*') {
			char *end = strstr(p + 2, "*/");
			*o++ = ' ';
			if (!end)
				break;
			p = end + 2;
		} else if (p[0] == '/' && p[1] == '/') {
			break;
		} else
			*o++ = *p++;
	}
	*o = '\0';
}

static int make_evidence(char **out, const pg_kconfig *cfg, const char *path, unsigned line,
			 const char *text, const char *of)
{
	pg_buf b = PG_BUF_INIT;
	int error;
	if ((error = pg_buf_printf(&b, "%s:%u: %.200s", path, line, text)) < 0 ||
	    (of && (error = pg_buf_printf(&b, " (of %s)", of)) < 0) ||
	    (error = pg_kconfig__annotate(&b, cfg, of ? of : text)) < 0) {
		pg_buf_release(&b);
		return error;
	}
	*out = pg_buf_detach(&b);
	return *out ? 0 : PG_ENOMEM;
}

int pg_kconfig_hunks(pg_kcond_result *out, const pg_kconfig *cfg, const char *path,
		     const char *text, size_t len, const pg_kline_range *ranges, size_t n,
		     pg_kbuild_state file_state)
{
	PG_VEC(struct frame) st = PG_VEC_INIT;
	pg_buf dir = PG_BUF_INIT;
	size_t pos = 0;
	unsigned lineno = 0;
	int in_comment = 0, error = 0;
	int *seen = NULL;  /* per range: best state seen, -1 none */

	if (!path)
		path = "<file>";
	for (size_t i = 0; i < n; i++) {
		out[i].cond = PG_KCOND_ENABLED;
		out[i].evidence = NULL;
	}
	if (n && !(seen = malloc(n * sizeof(*seen))))
		return pg_error_setc(PG_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		seen[i] = -1;

	while (pos <= len) {
		size_t start = pos, end = pos;
		unsigned first = lineno + 1;
		const char *p;
		int is_directive = 0;

		/* the state that applies to line `first` is the stack now */
		{
			const struct frame *dec;
			int s = stack_state(st.ptr, st.len, &dec);
			for (size_t i = 0; i < n; i++) {
				unsigned lo = ranges[i].start, hi = ranges[i].start + (ranges[i].count ? ranges[i].count - 1 : 0);
				if (first < lo || first > hi || seen[i] == T_TRUE)
					continue;
				if (seen[i] < 0 || s > seen[i] || (s == seen[i] && !out[i].evidence && dec)) {
					seen[i] = s;
					free(out[i].evidence);
					out[i].evidence = NULL;
					if (dec && s != T_TRUE && !(out[i].evidence = pg_strdup(dec->evidence))) {
						error = PG_ENOMEM;
						goto out;
					}
				}
			}
		}
		if (pos == len)
			break;
		/* one physical line, plus continuation lines for directives */
		while (end < len && text[end] != '\n')
			end++;
		lineno++;
		p = text + start;
		while (p < text + end && (*p == ' ' || *p == '\t'))
			p++;
		if (!in_comment && p < text + end && *p == '#') {
			is_directive = 1;
			pg_buf_reset(&dir);
			for (;;) {
				size_t l = end - start;
				int cont = l && text[end - 1] == '\\';
				if (l && text[end - 1] == '\r')
					cont = l > 1 && text[end - 2] == '\\', l--;
				if ((error = pg_buf_put(&dir, text + start, cont ? l - 1 : l)) < 0)
					goto out;
				if (!cont || end >= len)
					break;
				start = end + 1;
				end = start;
				while (end < len && text[end] != '\n')
					end++;
				lineno++;
			}
			if ((error = pg_buf_grow(&dir, 0)) < 0)
				goto out;
		}
		/* track block comments through this line (ignoring string literals) */
		for (const char *q = text + (is_directive ? end : start); !is_directive && q < text + end; q++) {
			if (in_comment) {
				if (q[0] == '*' && q + 1 < text + end && q[1] == '/')
					in_comment = 0, q++;
			} else if (q[0] == '/' && q + 1 < text + end && q[1] == '*') {
				in_comment = 1, q++;
			} else if (q[0] == '/' && q + 1 < text + end && q[1] == '/') {
				break;
			} else if (q[0] == '"' || q[0] == '\'') {
				char qc = q[0];
				for (q++; q < text + end && *q != qc; q++)
					if (*q == '\\')
						q++;
				if (q >= text + end)
					break;
			}
		}
		if (is_directive) {
			char *d = dir.ptr, *kw, *arg;
			size_t kwl;
			/* a directive may open a comment that continues: track it */
			{
				const char *c = strstr(d, "/*");
				while (c) {
					const char *e2 = strstr(c + 2, "*/");
					if (!e2) {
						in_comment = 1;
						break;
					}
					c = strstr(e2 + 2, "/*");
				}
			}
			strip_comments(d);
			d = pg_str_trim(d);
			kw = pg_str_trim(d + 1);
			kwl = 0;
			while (is_id(kw[kwl], 0))
				kwl++;
			arg = kw + kwl;
			while (*arg == ' ' || *arg == '\t')
				arg++;
#define KW(s) (kwl == sizeof(s) - 1 && !strncmp(kw, s, kwl))
			if (KW("if") || KW("ifdef") || KW("ifndef")) {
				struct frame f = { T_UNKNOWN, T_UNKNOWN, NULL, NULL };
				pg_buf ob = PG_BUF_INIT;
				if (KW("if"))
					f.state = eval_expr(arg, cfg, file_state);
				else {
					struct ex e = { arg, cfg, file_state, 0 };
					char sym[256];
					if (read_id(&e, sym, sizeof(sym))) {
						struct val v = defined_sym(&e, sym);
						f.state = !v.known ? T_UNKNOWN : (v.v ? T_TRUE : T_FALSE);
						if (KW("ifndef"))
							f.state = tri_not(f.state);
					}
				}
				f.taken = f.state;
				if ((error = make_evidence(&f.evidence, cfg, path, first, d, NULL)) < 0)
					goto out;
				if ((error = pg_buf_printf(&ob, "%s:%u: %.200s", path, first, d)) < 0 ||
				    !(f.open = pg_buf_detach(&ob))) {
					pg_buf_release(&ob);
					free(f.evidence);
					error = error < 0 ? error : PG_ENOMEM;
					goto out;
				}
				if (pg_vec_push(&st, f) < 0) {
					free(f.evidence);
					free(f.open);
					error = pg_error_setc(PG_ENOMEM, "out of memory");
					goto out;
				}
			} else if ((KW("elif") || KW("else") || KW("elifdef") || KW("elifndef")) && st.len) {
				struct frame *f = &st.ptr[st.len - 1];
				int c = T_TRUE;
				char *ev = NULL;
				if (KW("elif"))
					c = eval_expr(arg, cfg, file_state);
				else if (!KW("else")) {
					struct ex e = { arg, cfg, file_state, 0 };
					char sym[256];
					c = T_UNKNOWN;
					if (read_id(&e, sym, sizeof(sym))) {
						struct val v = defined_sym(&e, sym);
						c = !v.known ? T_UNKNOWN : (v.v ? T_TRUE : T_FALSE);
						if (KW("elifndef"))
							c = tri_not(c);
					}
				}
				f->state = tri_and(tri_not(f->taken), c);
				f->taken = tri_or(f->taken, f->state);
				/* evidence names this branch and the chain's opening line */
				if ((error = make_evidence(&ev, cfg, path, first, d, f->open)) < 0)
					goto out;
				if (KW("elif")) {
					/* the elif's own symbols matter most: annotate them too */
					pg_buf b = PG_BUF_INIT;
					if ((error = pg_buf_puts(&b, ev)) < 0 || (error = pg_kconfig__annotate(&b, cfg, arg)) < 0) {
						pg_buf_release(&b);
						free(ev);
						goto out;
					}
					free(ev);
					ev = pg_buf_detach(&b);
				}
				free(f->evidence);
				f->evidence = ev;
			} else if (KW("endif") && st.len) {
				free(st.ptr[st.len - 1].open);
				free(st.ptr[st.len - 1].evidence);
				st.len--;
			}
#undef KW
		}
		pos = end + 1;
	}
	for (size_t i = 0; i < n; i++) {
		int s = seen[i] < 0 ? T_UNKNOWN : seen[i];
		out[i].cond = s == T_TRUE ? PG_KCOND_ENABLED : s == T_FALSE ? PG_KCOND_DISABLED : PG_KCOND_UNKNOWN;
		if (seen[i] < 0 && !out[i].evidence) {
			pg_buf b = PG_BUF_INIT;
			if ((error = pg_buf_printf(&b, "%s: line %u is beyond the end of the file (%u lines)", path,
						   ranges[i].start, lineno)) < 0)
				goto out;
			out[i].evidence = pg_buf_detach(&b);
		}
	}
out:
	for (size_t i = 0; i < st.len; i++) {
		free(st.ptr[i].evidence);
		free(st.ptr[i].open);
	}
	pg_vec_release(&st);
	pg_buf_release(&dir);
	free(seen);
	if (error < 0)
		for (size_t i = 0; i < n; i++)
			pg_kcond_result_release(&out[i]);
	return error;
}
