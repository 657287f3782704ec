/*
 * trailer.c - parse the trailers and annotations of a kernel commit message
 * (see include/patchgap/trailer.h for the kinds and doc/internals/trailer.md
 * for the rules).
 *
 * It runs on every commit of the history during ingest, so it works on
 * (pointer, length) spans of the caller's bytes and allocates only the
 * trailers it returns: one block per trailer holding all of its strings.
 *
 * Two passes over the lines:
 *   1. classify every line (blank, text, "Key: value", note, continuation)
 *      to find where the final trailer block starts;
 *   2. emit annotations (upstream, cherry_pick, revert, cve, depends_on) from
 *      any line and trailers from the lines of the block.
 *
 * Invariants: nothing reads outside [msg, msg + len); input may hold NULs and
 * invalid UTF-8; every returned string is NUL-terminated; ref_id is 8..40
 * lowercase hex digits or NULL; line numbers are 1-based and within the
 * message.  Strings of one trailer share the allocation starting at `raw`.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "patchgap/trailer.h"
#include "util/banned.h"

#define MAX_MESSAGE ((size_t)16 << 20)
#define MAX_KEY 64
/* Per message: real commits have < 200 trailers and a few CVE ids; a hostile
 * message must not make us allocate gigabytes or scan quadratically. */
#define MAX_TRAILERS 10000
#define MAX_CVES 1024
/* Lines after a sign-off block that do not stop it from being the trailer block. */
#define MAX_JUNK_LINES 3

typedef struct {
	const char *s, *e; /* [s, e): line without "\n", trailing whitespace and "\r" */
} span;

/* ---- character helpers (ASCII only: input is bytes, not locale text) ---- */

static inline int is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

static inline int is_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

static inline int is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static inline int is_sp(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static inline unsigned char lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c | 0x20) : c;
}

/* Skip ASCII blanks and UTF-8 no-break spaces (C2 A0), seen in mailed patches. */
static const char *skip_ws(const char *p, const char *e)
{
	for (;;) {
		if (p < e && is_sp((unsigned char)*p))
			p++;
		else if (e - p >= 2 && (unsigned char)p[0] == 0xc2 && (unsigned char)p[1] == 0xa0)
			p += 2;
		else
			return p;
	}
}

/* Same, also crossing newlines (for wrapped "This reverts\ncommit X"). */
static const char *skip_ws_nl(const char *p, const char *e)
{
	for (;;) {
		p = skip_ws(p, e);
		if (p < e && *p == '\n')
			p++;
		else
			return p;
	}
}

static span trim(span l)
{
	l.s = skip_ws(l.s, l.e);
	while (l.e > l.s && (is_sp((unsigned char)l.e[-1]) ||
			     (l.e - l.s >= 2 && (unsigned char)l.e[-2] == 0xc2 &&
			      (unsigned char)l.e[-1] == 0xa0)))
		l.e -= is_sp((unsigned char)l.e[-1]) ? 1 : 2;
	return l;
}

/* Case-insensitive prefix: pointer after the word in [p, e), or NULL. */
static const char *ci_word(const char *p, const char *e, const char *w)
{
	for (; *w; w++, p++)
		if (p >= e || lower((unsigned char)*p) != (unsigned char)*w)
			return NULL;
	return p;
}

static int ci_eq(const char *p, size_t n, const char *w)
{
	return strlen(w) == n && ci_word(p, p + n, w) != NULL;
}

/* Case-insensitive substring test; needle is lowercase ASCII. */
static const char *ci_find(const char *p, const char *e, const char *needle)
{
	size_t n = strlen(needle);
	for (; (size_t)(e - p) >= n; p++)
		if (lower((unsigned char)*p) == (unsigned char)needle[0] && ci_word(p, e, needle))
			return p;
	return NULL;
}

static const char *find2(const char *p, const char *e, const char *two)
{
	for (; e - p >= 2; p++)
		if (p[0] == two[0] && p[1] == two[1])
			return p;
	return NULL;
}

/* Length of the hex run at p, if it stands alone (not followed by [A-Za-z0-9_]). */
static size_t hex_word(const char *p, const char *e, size_t *run)
{
	const char *q = p;
	while (q < e && is_hex((unsigned char)*q))
		q++;
	*run = (size_t)(q - p);
	if (q < e && (is_alnum((unsigned char)*q) || *q == '_'))
		return 0;
	return (size_t)(q - p);
}

/* A commit id for annotations: 8..40 standalone hex digits. */
static size_t commit_id(const char *p, const char *e)
{
	size_t run, n = hex_word(p, e, &run);
	return (n >= 8 && n <= 40) ? n : 0;
}

/* ---- the kinds of keys ---- */

typedef struct {
	const char *name;        /* lowercase key */
	size_t len;
	pg_trailer_kind kind;
} key_def;

#define KEY(name, kind) { name, sizeof(name) - 1, kind }
static const key_def known_keys[] = {
	KEY("signed-off-by", PG_TR_SIGNED_OFF_BY), /* most frequent first */
	KEY("cc", PG_TR_CC),
	KEY("fixes", PG_TR_FIXES),
	KEY("link", PG_TR_LINK),
	KEY("reviewed-by", PG_TR_REVIEWED_BY),
	KEY("acked-by", PG_TR_ACKED_BY),
	KEY("reported-by", PG_TR_REPORTED_BY),
	KEY("tested-by", PG_TR_TESTED_BY),
	KEY("reported-and-tested-by", PG_TR_REPORTED_BY),
	KEY("closes", PG_TR_CLOSES),
	KEY("suggested-by", PG_TR_SUGGESTED_BY),
	KEY("co-developed-by", PG_TR_CO_DEVELOPED_BY),
	KEY("depends-on", PG_TR_DEPENDS_ON),
	KEY("stable-dep-of", PG_TR_DEPENDS_ON),
	KEY("prerequisite-patch-id", PG_TR_DEPENDS_ON),
	/* common in the kernel: count as "known" for finding the block, kind other */
	KEY("reported-and-bisected-by", PG_TR_OTHER),
	KEY("bisected-by", PG_TR_OTHER),
	KEY("message-id", PG_TR_OTHER),
	KEY("buglink", PG_TR_OTHER),
	KEY("change-id", PG_TR_OTHER),
	KEY("requested-by", PG_TR_OTHER),
	KEY("debugged-by", PG_TR_OTHER),
	KEY("originally-by", PG_TR_OTHER),
};
#undef KEY

typedef struct {
	span key;        /* as written, without the spaces before ':' */
	span value;      /* trimmed text after ':' on this line */
	pg_trailer_kind kind;
	int known;
	int nocolon;     /* "Fixes <id>" without the ':' */
} keyline;

/* "Key: value" at column 0; key is [A-Za-z0-9][A-Za-z0-9_-]*, <= 64 chars. */
static int parse_key(const span *l, keyline *k)
{
	const char *p = l->s, *ke;
	size_t n;

	if (p >= l->e || !is_alnum((unsigned char)*p))
		return 0;
	while (p < l->e && (is_alnum((unsigned char)*p) || *p == '-' || *p == '_'))
		p++;
	ke = p;
	n = (size_t)(ke - l->s);
	if (n > MAX_KEY)
		return 0;
	/* "v2: changed foo" is a changelog line, not a trailer */
	if (n >= 2 && (*l->s == 'v' || *l->s == 'V')) {
		const char *d = l->s + 1;
		while (d < ke && is_digit((unsigned char)*d))
			d++;
		if (d == ke)
			return 0;
	}
	while (p < l->e && (*p == ' ' || *p == '\t'))
		p++;
	k->nocolon = 0;
	if (p >= l->e || *p != ':') {
		/* "Fixes 1234abcd5678 (...)": a Fixes: tag that lost its colon */
		if (p > ke && ci_eq(l->s, n, "fixes") && commit_id(p, l->e)) {
			k->nocolon = 1;
			p--;
		} else {
			return 0;
		}
	}
	p++;
	/* "https://..." is a URL, not a key */
	if (l->e - p >= 2 && p[0] == '/' && p[1] == '/')
		return 0;
	k->key.s = l->s;
	k->key.e = ke;
	k->value.s = p;
	k->value.e = l->e;
	k->value = trim(k->value);
	k->kind = PG_TR_OTHER;
	k->known = 0;
	for (size_t i = 0; i < sizeof(known_keys) / sizeof(*known_keys); i++) {
		if (known_keys[i].len == n && ci_word(l->s, ke, known_keys[i].name)) {
			k->kind = known_keys[i].kind;
			k->known = 1;
			break;
		}
	}
	return 1;
}

/* ---- line classification (pass 1, and continuation look-ahead in pass 2) ---- */

enum line_class { L_BLANK, L_TEXT, L_KEY, L_NOTE, L_CONT };

typedef struct {
	int run;             /* inside a run of trailer-ish lines */
	int fixes_open;      /* continuation lines still allowed for a wrapped Fixes: */
	int paren_only;      /* ... but only lines starting with '(' or a quote */
	char close[3];       /* what closes the wrapped subject */
} cls_state;

/* After "Fixes: <id>": is the subject wrapped onto the next line(s)? */
static void fixes_openness(cls_state *st, span v)
{
	const char *p = v.s;
	size_t run;

	st->fixes_open = 0;
	if (ci_word(p, v.e, "commit") && p + 6 < v.e && is_sp((unsigned char)p[6]))
		p = skip_ws(p + 6, v.e);
	hex_word(p, v.e, &run);
	if (run == 0)
		return;
	p = skip_ws(p + run, v.e);
	if (p >= v.e) {
		/* "Fixes: 1234abcd" with the subject on the next line */
		st->fixes_open = 1;
		st->paren_only = 1;
		memcpy(st->close, ")", 2);
		return;
	}
	if (*p == '(' && p + 1 < v.e && (p[1] == '"' || p[1] == '\'')) {
		st->close[0] = p[1];
		st->close[1] = ')';
		st->close[2] = '\0';
		p += 2;
	} else if (*p == '(') {
		memcpy(st->close, ")", 2);
		p++;
	} else if (*p == '"' || *p == '\'') {
		st->close[0] = *p;
		st->close[1] = '\0';
		p++;
	} else {
		return;
	}
	if (st->close[1] ? find2(p, v.e, st->close) != NULL : memchr(p, st->close[0], (size_t)(v.e - p)) != NULL)
		return;
	st->fixes_open = 2;
	st->paren_only = 0;
}

static int is_cve_only(span l)
{
	const char *p = ci_word(l.s, l.e, "cve-");
	if (!p)
		return 0;
	while (p < l.e && (is_digit((unsigned char)*p) || *p == '-'))
		p++;
	return p == l.e;
}

static enum line_class classify(cls_state *st, span l, keyline *k)
{
	span t = trim(l);
	int iskey;

	if (t.s == t.e) {
		st->run = 0;
		st->fixes_open = 0;
		return L_BLANK;
	}
	iskey = parse_key(&l, k);
	if (st->fixes_open > 0 && !(iskey && k->known)) {
		if (!st->paren_only || *t.s == '(' || *t.s == '"' || *t.s == '\'') {
			int closed = st->close[1] ? find2(t.s, t.e, st->close) != NULL
						  : memchr(t.s, st->close[0], (size_t)(t.e - t.s)) != NULL;
			st->fixes_open = closed ? 0 : st->fixes_open - 1;
			/* a paren-only continuation that does not close: keep looking once */
			if (st->paren_only && !closed) {
				st->paren_only = 0;
				st->fixes_open = 1;
				if (st->close[0] == ')' && t.e - t.s >= 2 && (t.s[1] == '"' || t.s[1] == '\'')) {
					st->close[0] = t.s[1];
					st->close[1] = ')';
					st->close[2] = '\0';
				}
			}
			return L_CONT;
		}
	}
	st->fixes_open = 0;
	if (*l.s == ' ' || *l.s == '\t')
		return st->run ? L_CONT : L_TEXT;
	if (iskey) {
		st->run = 1;
		if (k->kind == PG_TR_FIXES)
			fixes_openness(st, k->value);
		return L_KEY;
	}
	/* maintainer notes, comments, "(cherry picked ...)", bare URLs and CVE ids */
	if (*t.s == '[' || *t.s == '#' || *t.s == '(' || is_cve_only(t) || ci_word(t.s, t.e, "http://") ||
	    ci_word(t.s, t.e, "https://")) {
		st->run = 1;
		return L_NOTE;
	}
	st->run = 0;
	return L_TEXT;
}

/* Next line of [*p, end); 0 at the end. */
static int next_line(const char **p, const char *end, span *l)
{
	const char *nl;

	if (*p >= end)
		return 0;
	nl = memchr(*p, '\n', (size_t)(end - *p));
	l->s = *p;
	l->e = nl ? nl : end;
	*p = nl ? nl + 1 : end;
	while (l->e > l->s && is_sp((unsigned char)l->e[-1]))
		l->e--;
	return 1;
}

/* "--" (mail signature) or "---..." (patch divider): trailers end before it. */
static int is_divider(span l)
{
	const char *p = l.s;
	while (p < l.e && *p == '-')
		p++;
	return p - l.s >= 2 && p == l.e;
}

/*
 * The key and continuation lines of a message with their pass-1
 * classification, so pass 2 need not classify again (it splits the text
 * again, which is cheap).  Pass 2 may reuse the classes of the block's lines
 * because the block starts where the classifier's state is fresh (a
 * paragraph start or the line after a text line).  Only these lines are
 * kept: a message of millions of blank or text lines costs no memory per
 * line.  Most messages fit in the on-stack array; longer ones take one heap
 * array.
 */
#define LINE_CACHE 96

typedef struct {
	span l;
	const char *next;    /* start of the following line */
	unsigned line;       /* 1-based line number */
	unsigned char cls;   /* enum line_class: L_KEY or L_CONT */
	keyline k;           /* when cls == L_KEY */
} line_info;

typedef struct {
	line_info *v;
	size_t n, alloc;
	line_info stack[LINE_CACHE];
} lines;

static int lines_push(lines *ls, line_info **out)
{
	if (ls->n == ls->alloc) {
		size_t na = ls->alloc * 2;
		line_info *v = ls->v == ls->stack ? malloc(na * sizeof(*v)) : realloc(ls->v, na * sizeof(*v));
		if (!v)
			return pg_error_setc(PG_ENOMEM, "out of memory parsing a commit message of %zu lines",
					     ls->n);
		if (ls->v == ls->stack)
			memcpy(v, ls->stack, ls->n * sizeof(*v));
		ls->v = v;
		ls->alloc = na;
	}
	*out = &ls->v[ls->n++];
	return 0;
}

/*
 * Pass 1: split and classify the lines into ls, and find the final trailer
 * block [*bs, *be) (NULL when there is none).
 * The block is the trailer run at the end of the last paragraph plus the
 * preceding paragraphs made only of trailer lines.  One stray text line
 * between trailer lines ("bugzilla url: ...") is tolerated.  When the text
 * after a divider line has no block, the block before the divider counts;
 * so does a block with a Signed-off-by followed by at most 3 lines of text.
 */
static int find_block(lines *ls, const char *msg, const char *end, const char **bs, const char **be)
{
	cls_state st = { 0, 0, 0, { 0 } };
	const char *p = msg, *chain = NULL, *para = NULL, *run = NULL;
	const char *last_start = NULL, *last_end = NULL;
	int chain_valid = 0, chain_sob = 0, para_full = 0, para_known = 0, para_sob = 0;
	int run_known = 0, run_sob = 0, stray = 0, last_sob = 0, junk = 0, divided = 0;
	line_info *li = NULL;
	keyline k;
	unsigned lineno = 0;
	span l;
	int more, error;

	*bs = *be = NULL;
	do {
		enum line_class c = L_BLANK;
		int divider = 0;
		more = next_line(&p, end, &l);
		if (more) {
			lineno++;
			divider = is_divider(l);
			c = divider ? L_BLANK : classify(&st, l, &k);
			if (c == L_KEY || c == L_CONT) {
				if ((error = lines_push(ls, &li)) < 0)
					return error;
				li->l = l;
				li->next = p;
				li->line = lineno;
				li->cls = (unsigned char)c;
				li->k = k;
			}
			if (c != L_BLANK)
				junk++;
		}
		if (c == L_BLANK) {
			if (para) {
				/* end of a paragraph: does it extend the trailer chain? */
				if (stray)
					run = NULL;
				if (para_full && para_known) {
					if (!chain_valid) {
						chain = para;
						chain_sob = 0;
					}
					chain_sob |= para_sob;
					chain_valid = 1;
				} else if (run && run_known) {
					chain = run;
					chain_sob = run_sob;
					chain_valid = 1;
				} else {
					chain_valid = 0;
				}
				if (chain_valid) {
					last_start = chain;
					last_end = more ? l.s : end;
					last_sob = chain_sob;
					junk = 0;
					divided = 0;
				}
				para = NULL;
			}
			if (divider) {
				divided = chain_valid;
				chain_valid = 0;
				st.run = st.fixes_open = 0;
			}
			continue;
		}
		if (!para) {
			para = l.s;
			para_full = 1;
			para_known = para_sob = 0;
			run = NULL;
			run_known = run_sob = 0;
			stray = 0;
		}
		if (c == L_TEXT) {
			para_full = 0;
			if (run && !stray) {
				stray = 1; /* keep the run if a trailer line follows */
				continue;
			}
			run = NULL;
			run_known = run_sob = 0;
			stray = 0;
			continue;
		}
		stray = 0;
		if (!run)
			run = l.s;
		if (c == L_KEY && k.known) {
			run_known = para_known = 1;
			if (k.kind == PG_TR_SIGNED_OFF_BY)
				run_sob = para_sob = 1;
		}
	} while (more);
	if (chain_valid) {
		*bs = chain;
		*be = end;
	} else if (last_start && (divided || (last_sob && junk <= MAX_JUNK_LINES))) {
		/* text after a divider, or a short tail after the sign-offs ("Conflicts:", "v2: ...") */
		*bs = last_start;
		*be = last_end;
	}
	return 0;
}

/* ---- building the returned trailers ---- */

typedef struct {
	char *p, *e;         /* free space in the trailer's block */
	int nul;             /* the message holds NUL bytes: map them in copies */
} arena;

/* A NUL in the message would silently cut a C string: read it as a space. */
static void denul(char *r, size_t n)
{
	for (char *z = r; (z = memchr(z, '\0', (size_t)(r + n - z))) != NULL; z++)
		*z = ' ';
}

static char *put(arena *a, const char *s, size_t n)
{
	char *r = a->p;
	if ((size_t)(a->e - a->p) < n + 1)
		return NULL; /* cannot happen: the block is sized for the worst case */
	memcpy(r, s, n);
	r[n] = '\0';
	a->p += n + 1;
	if (a->nul)
		denul(r, n);
	return r;
}

static char *put_lower(arena *a, const char *s, size_t n)
{
	char *r = put(a, s, n);
	if (r)
		for (size_t i = 0; i < n; i++)
			r[i] = (char)lower((unsigned char)r[i]);
	return r;
}

static int grow(pg_trailers *out)
{
	size_t na;
	pg_trailer *v;

	if (out->n < out->alloc)
		return 0;
	na = out->alloc ? out->alloc * 2 : 16;
	v = realloc(out->v, na * sizeof(*v));
	if (!v)
		return pg_error_setc(PG_ENOMEM, "out of memory parsing commit trailers");
	out->v = v;
	out->alloc = na;
	return 0;
}

/* State of one pg_trailers_parse() call. */
typedef struct {
	pg_trailers *out;
	size_t first;            /* out->n when the call started */
	int full;                /* MAX_TRAILERS reached: ignore the rest */
	int nul;                 /* the message holds NUL bytes */
	size_t ncve;
	uint64_t cve[MAX_CVES];  /* ids seen, packed by cve_key() */
} ctx;

/*
 * Allocate a new trailer whose strings need at most `need` bytes in total
 * and return it with its arena.  raw owns the block.  NULL with c->full set
 * when the message has too many trailers, else NULL on allocation failure.
 */
static pg_trailer *new_trailer(ctx *c, arena *a, size_t need)
{
	pg_trailers *out = c->out;
	pg_trailer *t;
	char *block;

	if (out->n - c->first >= MAX_TRAILERS) {
		c->full = 1;
		return NULL;
	}
	if (grow(out) < 0)
		return NULL;
	block = malloc(need);
	if (!block) {
		pg_error_setc(PG_ENOMEM, "out of memory parsing commit trailers");
		return NULL;
	}
	t = &out->v[out->n++];
	memset(t, 0, sizeof(*t));
	t->raw = block;
	a->p = block;
	a->e = block + need;
	a->nul = c->nul;
	return t;
}

/* Annotation: key is a fixed name, value and raw the trimmed line. */
static int emit_annotation(ctx *c, pg_trailer_kind kind, unsigned line,
			   span text, span vtext, const char *id, size_t idlen)
{
	const char *name = pg_trailer_kind_name(kind);
	size_t tl = (size_t)(text.e - text.s), nl = strlen(name);
	size_t vl = vtext.s ? (size_t)(vtext.e - vtext.s) : tl;
	arena a;
	pg_trailer *t = new_trailer(c, &a, tl + vl + nl + idlen + 4);

	if (!t)
		return c->full ? 0 : PG_ENOMEM;
	put(&a, text.s, tl); /* raw: the block's first string */
	t->kind = kind;
	t->line = line;
	t->key = put(&a, name, nl);
	if (vtext.s) {
		/* a wrapped annotation: fold its line breaks into single spaces */
		char *v = a.p;
		size_t o = 0;
		for (const char *p = vtext.s; p < vtext.e; p++) {
			int sp = is_sp((unsigned char)*p) || *p == '\n';
			if (!sp)
				v[o++] = *p;
			else if (o && v[o - 1] != ' ')
				v[o++] = ' ';
		}
		v[o] = '\0';
		if (a.nul)
			denul(v, o);
		a.p += o + 1;
		t->value = v;
	} else {
		t->value = put(&a, text.s, tl);
	}
	if (idlen)
		t->ref_id = put_lower(&a, id, idlen);
	return 0;
}

/* Subject of `rest` (text after a commit id): ("..."), ('...'), (...), "..." */
static span quoted_subject(span r)
{
	span s = { NULL, NULL };
	const char *c;

	r = trim(r);
	if (r.s >= r.e)
		return s;
	if (*r.s == '(' && r.e - r.s >= 2 && (r.s[1] == '"' || r.s[1] == '\'')) {
		char close[2] = { r.s[1], ')' };
		s.s = r.s + 2;
		s.e = r.e;
		for (c = r.e - 2; c >= s.s; c--)
			if (c[0] == close[0] && c[1] == close[1]) {
				s.e = c;
				break;
			}
		if (c < s.s) /* unclosed: drop a trailing quote or paren */
			while (s.e > s.s && (s.e[-1] == ')' || s.e[-1] == close[0]))
				s.e--;
	} else if (*r.s == '(' || *r.s == '"' || *r.s == '\'') {
		char close = *r.s == '(' ? ')' : *r.s;
		s.s = r.s + 1;
		s.e = r.e;
		for (c = r.e - 1; c >= s.s; c--)
			if (*c == close) {
				s.e = c;
				break;
			}
	} else {
		return s;
	}
	s = trim(s);
	if (s.s >= s.e)
		s.s = s.e = NULL;
	return s;
}

static void set_hint(pg_trailer *t, arena *a, const char *h)
{
	t->hint = put(a, h, strlen(h));
}

/* Fixes: <id> ("subject") */
static void parse_fixes(pg_trailer *t, arena *a, span v)
{
	const char *p = v.s;
	size_t run, n;
	char why[96];
	span subj;
	int opener = 0;

	if (ci_word(p, v.e, "commit") && p + 6 < v.e && is_sp((unsigned char)p[6]))
		p = skip_ws(p + 6, v.e);
	/* "Fixes: (1234abcd5678 subject)", "Fixes: '1234abcd5678 (\"subject\")'" */
	for (int i = 0; i < 2 && p < v.e && strchr("(\"'<[", *p) && *p; i++) {
		if (commit_id(p + 1, v.e) || (i == 0 && p + 1 < v.e && strchr("(\"'<[", p[1]) && p[1] &&
					      commit_id(p + 2, v.e))) {
			opener = 1;
			p++;
		} else {
			break;
		}
	}
	n = hex_word(p, v.e, &run);
	if (n >= 8 && n <= 40) {
		span rest = trim((span){ p + n, v.e });
		t->ref_id = put_lower(a, p, n);
		subj = quoted_subject(rest);
		if (!subj.s && opener && rest.s < rest.e) {
			/* the opener wraps "id subject": drop the closers */
			subj = rest;
			for (int i = 0; i < 2 && subj.e > subj.s && strchr(")\"'>]", subj.e[-1]) && subj.e[-1]; i++)
				subj.e--;
			subj = trim(subj);
			if (subj.s >= subj.e)
				subj.s = NULL;
		}
		if (subj.s)
			t->ref_subject = put(a, subj.s, (size_t)(subj.e - subj.s));
		return;
	}
	t->malformed = 1;
	if (v.s == v.e)
		set_hint(t, a, "no commit id after 'Fixes:'");
	else if (n > 40)
		set_hint(t, a, "commit id longer than 40 hex digits");
	else if (n > 0) {
		snprintf(why, sizeof(why), "commit id shorter than 8 hex digits (%zu)", n);
		set_hint(t, a, why);
	} else {
		/* quote a bounded piece of what was there instead of an id */
		const char *q = p;
		while (q < v.e && !is_sp((unsigned char)*q) && q - p < 40)
			q++;
		snprintf(why, sizeof(why), "not a commit id: '%.*s'", (int)(q - p), p);
		set_hint(t, a, why);
	}
}

/* Cc: stable@vger.kernel.org # 5.10.x */
static int parse_cc(pg_trailer *t, arena *a, span v)
{
	const char *at = ci_find(v.s, v.e, "stable@vger.kernel.org");
	const char *hash, *p;
	span h;
	size_t n, run;

	if (at)
		p = at + strlen("stable@vger.kernel.org");
	else if ((at = ci_find(v.s, v.e, "stable@kernel.org")) != NULL)
		p = at + strlen("stable@kernel.org");
	else
		return 0;
	t->kind = PG_TR_CC_STABLE;
	hash = memchr(v.s, '#', (size_t)(v.e - v.s));
	if (hash) {
		h.s = hash + 1;
		h.e = v.e;
	} else {
		if (p < v.e && *p == '>')
			p++;
		h.s = p;
		h.e = v.e;
		h = trim(h);
		if (h.s < h.e && (*h.s == ',' || *h.s == ';'))
			return 1;
	}
	h = trim(h);
	if (h.s >= h.e)
		return 1;
	t->hint = put(a, h.s, (size_t)(h.e - h.s));
	/* "# 4.19.x: 1234abcd: prereq" names a prerequisite commit */
	p = memchr(h.s, ':', (size_t)(h.e - h.s));
	if (p) {
		p = skip_ws(p + 1, h.e);
		n = hex_word(p, h.e, &run);
		if (n >= 8 && n <= 40)
			t->ref_id = put_lower(a, p, n);
	}
	return 1;
}

/* Depends-on: / Stable-dep-of: / Prerequisite-patch-id: <hex> ("subject") */
static void parse_depends(pg_trailer *t, arena *a, span v)
{
	const char *p = v.s;
	size_t n, run;
	span subj;

	if (ci_word(p, v.e, "commit") && p + 6 < v.e && is_sp((unsigned char)p[6]))
		p = skip_ws(p + 6, v.e);
	n = hex_word(p, v.e, &run);
	if (n >= 8 && n <= 40) {
		t->ref_id = put_lower(a, p, n);
		subj = quoted_subject((span){ p + n, v.e });
		if (subj.s)
			t->ref_subject = put(a, subj.s, (size_t)(subj.e - subj.s));
	}
}

/*
 * Emit a "Key: value" trailer whose text runs over lines [first, extent_end):
 * the key line plus its continuation lines, joined with single spaces.
 */
static int emit_trailer(ctx *c, unsigned line, const keyline *k, span first,
			const char *cont, const char *cont_end)
{
	size_t rl = (size_t)(first.e - first.s), kl = (size_t)(k->key.e - k->key.s);
	size_t vmax = (size_t)(k->value.e - k->value.s) + (size_t)(cont_end - cont) + 1;
	/* raw, key, value; then ref_id (41), ref_subject or hint (<= vmax), a reason (<= 96) */
	size_t need = rl + 1 + kl + 1 + vmax + 1 + 8;
	arena a;
	pg_trailer *t;
	char *v;
	size_t vl;
	span vs;

	if (k->kind == PG_TR_FIXES || k->kind == PG_TR_CC || k->kind == PG_TR_DEPENDS_ON)
		need += 41 + vmax + 1 + 96;
	if (!(t = new_trailer(c, &a, need)))
		return c->full ? 0 : PG_ENOMEM;
	put(&a, first.s, rl);
	t->line = line;
	t->kind = k->kind;
	t->key = put(&a, k->key.s, kl);
	/* value: this line's value, then each continuation line trimmed */
	v = a.p;
	vl = (size_t)(k->value.e - k->value.s);
	memcpy(v, k->value.s, vl);
	while (cont < cont_end) {
		span l;
		if (!next_line(&cont, cont_end, &l))
			break;
		l = trim(l);
		if (l.s == l.e)
			continue;
		if (vl)
			v[vl++] = ' ';
		memcpy(v + vl, l.s, (size_t)(l.e - l.s));
		vl += (size_t)(l.e - l.s);
	}
	v[vl] = '\0';
	if (a.nul)
		denul(v, vl);
	a.p += vl + 1;
	t->value = v;
	vs.s = v;
	vs.e = v + vl;

	switch (k->kind) {
	case PG_TR_FIXES:
		parse_fixes(t, &a, vs);
		if (k->nocolon && !t->malformed) {
			t->malformed = 1;
			set_hint(t, &a, "missing ':' after 'Fixes'");
		}
		break;
	case PG_TR_CC:
		parse_cc(t, &a, vs);
		break;
	case PG_TR_REPORTED_BY:
		if (ci_find(vs.s, vs.e, "syzbot") || ci_find(vs.s, vs.e, "syzkaller"))
			set_hint(t, &a, "syzbot");
		break;
	case PG_TR_DEPENDS_ON:
		parse_depends(t, &a, vs);
		break;
	default:
		break;
	}
	return 0;
}

/* ---- annotations ---- */

/* "commit X upstream" / "upstream commit X" / bare "X" (inside [ ]) */
static int match_upstream(span t, int bracketed, const char **id, size_t *idlen)
{
	const char *p, *q;
	size_t n;

	if ((p = ci_word(t.s, t.e, "commit")) != NULL) {
		q = skip_ws(p, t.e);
		if (q > p && (n = commit_id(q, t.e)) != 0) {
			const char *r = skip_ws(q + n, t.e);
			if (r > q + n && ci_word(r, t.e, "upstream")) {
				*id = q;
				*idlen = n;
				return 1;
			}
		}
	}
	if ((p = ci_word(t.s, t.e, "upstream")) != NULL) {
		q = skip_ws(p, t.e);
		if (q > p && (p = ci_word(q, t.e, "commit")) != NULL) {
			q = skip_ws(p, t.e);
			if (q > p && (n = commit_id(q, t.e)) != 0) {
				const char *r = skip_ws(q + n, t.e);
				if (r < t.e && *r == '.')
					r = skip_ws(r + 1, t.e);
				if (bracketed || r == t.e) {
					*id = q;
					*idlen = n;
					return 1;
				}
			}
		}
	}
	if (bracketed && (n = commit_id(t.s, t.e)) != 0 && skip_ws(t.s + n, t.e) == t.e) {
		*id = t.s;
		*idlen = n;
		return 1;
	}
	return 0;
}

/* (cherry picked from commit X ...) / (backported from commit X) */
static int match_cherry(span t, const char **id, size_t *idlen)
{
	const char *p = t.s, *q;

	if (p < t.e && *p == '(')
		p = skip_ws(p + 1, t.e);
	if ((q = ci_word(p, t.e, "cherry picked from")) == NULL &&
	    (q = ci_word(p, t.e, "cherry-picked from")) == NULL &&
	    (q = ci_word(p, t.e, "backported from")) == NULL)
		return 0;
	p = skip_ws(q, t.e);
	if ((q = ci_word(p, t.e, "commit")) == NULL)
		return 0;
	p = skip_ws(q, t.e);
	if (p == q || (*idlen = commit_id(p, t.e)) == 0)
		return 0;
	*id = p;
	return 1;
}

/* "This [partially] reverts commit X", the id possibly on the next line. */
static int match_revert(span t, const char *end, const char **id, size_t *idlen)
{
	const char *p, *q;

	if ((p = ci_word(t.s, t.e, "this")) == NULL)
		return 0;
	p = skip_ws(p, t.e);
	if ((q = ci_word(p, t.e, "partially")) != NULL)
		p = skip_ws(q, t.e);
	if ((q = ci_word(p, t.e, "reverts")) == NULL)
		return 0;
	p = skip_ws_nl(q, end);
	if (p == q || (q = ci_word(p, end, "commit")) == NULL)
		return 0;
	p = skip_ws_nl(q, end);
	if (p == q || (*idlen = commit_id(p, end)) == 0)
		return 0;
	*id = p;
	return 1;
}

static int emit_annotations(ctx *c, span l, unsigned line, const char *end)
{
	span t = trim(l), nospan = { NULL, NULL };
	const char *id;
	size_t idlen;

	if (t.s == t.e)
		return 0;
	switch (lower((unsigned char)*t.s)) {
	case '[':
		if (t.e[-1] == ']') {
			span in = trim((span){ t.s + 1, t.e - 1 });
			if (match_upstream(in, 1, &id, &idlen))
				return emit_annotation(c, PG_TR_UPSTREAM, line, t, nospan, id, idlen);
		}
		break;
	case 'c':
	case 'u':
		if (match_upstream(t, 0, &id, &idlen))
			return emit_annotation(c, PG_TR_UPSTREAM, line, t, nospan, id, idlen);
		if (match_cherry(t, &id, &idlen))
			return emit_annotation(c, PG_TR_CHERRY_PICK, line, t, nospan, id, idlen);
		break;
	case '(':
	case 'b':
		if (match_cherry(t, &id, &idlen))
			return emit_annotation(c, PG_TR_CHERRY_PICK, line, t, nospan, id, idlen);
		break;
	case 't':
		if (match_revert(t, end, &id, &idlen)) {
			span v = { t.s, id + idlen };
			if (v.e < end && *v.e == '.')
				v.e++;
			return emit_annotation(c, PG_TR_REVERT, line, t, v, id, idlen);
		}
		break;
	default:
		break;
	}
	return 0;
}

/* CVE-YYYY-NNNN+ anywhere in the line; uppercase, once per message. */
static int emit_cves(ctx *c, span l, unsigned line)
{
	const char *p = l.s, *dash;

	while ((dash = memchr(p, '-', (size_t)(l.e - p))) != NULL) {
		const char *s = dash - 3, *q = dash + 1, *y;
		uint64_t key = 0;
		char id[32];
		size_t n, i;

		p = dash + 1;
		if (s < l.s || lower((unsigned char)s[0]) != 'c' || lower((unsigned char)s[1]) != 'v' ||
		    lower((unsigned char)s[2]) != 'e')
			continue;
		if (s > l.s && (is_alnum((unsigned char)s[-1]) || s[-1] == '_'))
			continue;
		y = q;
		while (q < l.e && is_digit((unsigned char)*q))
			q++;
		if (q - y != 4 || q >= l.e || *q != '-')
			continue;
		y = ++q;
		while (q < l.e && is_digit((unsigned char)*q))
			q++;
		/* real ids have 4..7 digits; 12 keeps the packed key in 64 bits */
		if (q - y < 4 || q - y > 12 || (q < l.e && is_alnum((unsigned char)*q)))
			continue;
		p = q;
		n = (size_t)(q - s);
		/* key: year, number and digit count (leading zeros make another id) */
		for (const char *d = s + 4; d < q; d++)
			if (*d != '-')
				key = key * 10 + (uint64_t)(*d - '0');
		key = key * 16 + (uint64_t)(q - y);
		for (i = 0; i < c->ncve && c->cve[i] != key; i++)
			;
		if (i < c->ncve || c->ncve == MAX_CVES)
			continue;
		c->cve[c->ncve++] = key;
		memcpy(id, "CVE", 3);
		memcpy(id + 3, s + 3, n - 3);
		{
			arena a;
			pg_trailer *t = new_trailer(c, &a, 2 * n + 6);
			if (!t)
				return c->full ? 0 : PG_ENOMEM;
			put(&a, id, n);
			t->kind = PG_TR_CVE;
			t->line = line;
			t->key = put(&a, "cve", 3);
			t->value = put(&a, id, n);
		}
	}
	return 0;
}

/*
 * One pass over the bytes, eight at a time: does the message hold a NUL, and
 * where does the first line that may hold a CVE id start (NULL: none, the
 * usual case, so pass 2 skips the CVE scan).
 */
static const char *prescan(const char *msg, const char *end, int *has_nul)
{
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
	const uint64_t dashes = ones * (uint64_t)'-';
	const char *p = msg, *cve = NULL;

	*has_nul = 0;
	while (p < end) {
		const char *q;
		if (end - p >= 8) {
			uint64_t x, d;
			memcpy(&x, p, 8);
			d = x ^ dashes;
			if (!((((x - ones) & ~x) | ((d - ones) & ~d)) & highs)) {
				p += 8;
				continue;
			}
			q = p + 8;
		} else {
			q = end;
		}
		for (; p < q; p++) {
			if (*p == '\0')
				*has_nul = 1;
			else if (*p == '-' && !cve && p - msg >= 3 && lower((unsigned char)p[-1]) == 'e' &&
				 lower((unsigned char)p[-2]) == 'v' && lower((unsigned char)p[-3]) == 'c')
				cve = p;
		}
	}
	if (cve)
		while (cve > msg && cve[-1] != '\n')
			cve--;
	return cve;
}

/* ---- public API ---- */

int pg_trailers_parse(pg_trailers *out, const char *msg, size_t len)
{
	const char *end, *block, *block_end, *cve;
	lines ls;
	ctx c;
	int error = 0;

	if (len > MAX_MESSAGE)
		return pg_error_setc(PG_EINVALID, "commit message of %zu bytes is over the %zu MiB limit",
				     len, MAX_MESSAGE >> 20);
	if (!msg) {
		if (len)
			return pg_error_setc(PG_EINVALID, "commit message is NULL with length %zu", len);
		return 0;
	}
	end = msg + len;
	ls.v = ls.stack;
	ls.n = 0;
	ls.alloc = LINE_CACHE;
	c.out = out;
	c.first = out->n;
	c.full = 0;
	c.ncve = 0;
	cve = prescan(msg, end, &c.nul);
	if ((error = find_block(&ls, msg, end, &block, &block_end)) < 0)
		goto out;

	{
		const char *p = msg;
		unsigned line = 0;
		size_t ki = 0; /* the next kept line of ls */
		span l;

		while (!c.full && next_line(&p, end, &l)) {
			int in_block = block && l.s >= block && l.s < block_end;
			line++;
			if ((error = emit_annotations(&c, l, line, end)) < 0)
				goto out;
			if (ki < ls.n && ls.v[ki].line == line) {
				const line_info *li = &ls.v[ki++];
				/* trailers of the block; dependency notes count wherever they are */
				if (li->cls == L_KEY && (in_block || li->k.kind == PG_TR_DEPENDS_ON)) {
					const char *cont_end = li->next;
					if (in_block)
						for (size_t j = ki; j < ls.n && ls.v[j].cls == L_CONT &&
						     ls.v[j].line == line + (j - ki) + 1 && ls.v[j].l.s < block_end; j++)
							cont_end = ls.v[j].next;
					if ((error = emit_trailer(&c, line, &li->k, trim(li->l), li->next, cont_end)) < 0)
						goto out;
				}
			}
			if (cve && l.e >= cve && (error = emit_cves(&c, l, line)) < 0)
				goto out;
		}
	}
out:
	if (ls.v != ls.stack)
		free(ls.v);
	if (error < 0) {
		/* leave out as it was */
		for (size_t i = c.first; i < out->n; i++)
			free(out->v[i].raw);
		out->n = c.first;
	}
	return error;
}

void pg_trailers_release(pg_trailers *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].raw);
	free(t->v);
	t->v = NULL;
	t->n = t->alloc = 0;
}

const char *pg_trailer_kind_name(pg_trailer_kind k)
{
	static const char *const names[PG_TR__COUNT] = {
		[PG_TR_FIXES] = "fixes",
		[PG_TR_CC_STABLE] = "cc_stable",
		[PG_TR_REPORTED_BY] = "reported_by",
		[PG_TR_CLOSES] = "closes",
		[PG_TR_LINK] = "link",
		[PG_TR_UPSTREAM] = "upstream",
		[PG_TR_CHERRY_PICK] = "cherry_pick",
		[PG_TR_REVERT] = "revert",
		[PG_TR_CVE] = "cve",
		[PG_TR_DEPENDS_ON] = "depends_on",
		[PG_TR_SIGNED_OFF_BY] = "signed_off_by",
		[PG_TR_ACKED_BY] = "acked_by",
		[PG_TR_REVIEWED_BY] = "reviewed_by",
		[PG_TR_TESTED_BY] = "tested_by",
		[PG_TR_SUGGESTED_BY] = "suggested_by",
		[PG_TR_CO_DEVELOPED_BY] = "co_developed_by",
		[PG_TR_CC] = "cc",
		[PG_TR_OTHER] = "other",
	};
	if ((unsigned)k >= PG_TR__COUNT)
		return "unknown";
	return names[k];
}

size_t pg_trailers_count(const pg_trailers *t, pg_trailer_kind k)
{
	size_t n = 0;
	for (size_t i = 0; i < t->n; i++)
		n += t->v[i].kind == k;
	return n;
}

/*
 * The subject is the first paragraph (after leading blank lines), the body
 * what follows the blank lines after it.
 */
int pg_message_split(const char *msg, size_t len, const char **subject, size_t *subject_len,
		     const char **body, size_t *body_len)
{
	const char *end, *p, *s = NULL, *se = NULL;
	span l;

	if (len > MAX_MESSAGE)
		return pg_error_setc(PG_EINVALID, "commit message of %zu bytes is over the %zu MiB limit",
				     len, MAX_MESSAGE >> 20);
	if (!msg && len)
		return pg_error_setc(PG_EINVALID, "commit message is NULL with length %zu", len);
	end = msg ? msg + len : msg;
	p = msg;
	while (next_line(&p, end, &l)) {
		int blank = trim(l).s == l.e;
		if (!s) {
			if (blank)
				continue;
			s = l.s;
			se = l.e;
		} else if (blank) {
			break;
		} else {
			se = l.e;
		}
	}
	/* body: skip the blank lines after the subject */
	while (p < end) {
		const char *q = p;
		if (!next_line(&q, end, &l) || trim(l).s != l.e)
			break;
		p = q;
	}
	if (subject)
		*subject = s ? s : msg;
	if (subject_len)
		*subject_len = s ? (size_t)(se - s) : 0;
	if (body)
		*body = p;
	if (body_len)
		*body_len = p ? (size_t)(end - p) : 0;
	return 0;
}

int pg_message_subject(char **out, const char *msg, size_t len)
{
	const char *s, *p, *end;
	size_t n, o = 0;
	char *r;
	span l;
	int error;

	*out = NULL;
	if ((error = pg_message_split(msg, len, &s, &n, NULL, NULL)) < 0)
		return error;
	r = malloc(n + 1);
	if (!r)
		return pg_error_setc(PG_ENOMEM, "out of memory splitting a commit message");
	p = s;
	end = s + n;
	while (next_line(&p, end, &l)) {
		l = trim(l);
		if (l.s == l.e)
			continue;
		if (o)
			r[o++] = ' ';
		memcpy(r + o, l.s, (size_t)(l.e - l.s));
		o += (size_t)(l.e - l.s);
	}
	r[o] = '\0';
	*out = r;
	return 0;
}
