/*
 * functions.c - the function names a commit or a CVE record names, for the
 * function-history feature (history:earlier_cves_same_function).
 *
 * Two sources, both read in one linear pass: "name(" mentions in a message
 * (kernel CNA descriptions are the fix's commit message: "... one in
 * cipso_v4_map_lvl_valid(), the other in netlbl_bitmap_walk()"), and the
 * function context git writes after a hunk header ("@@ -a,b +c,d @@ static
 * int foo(struct x *y)" names foo).  A name is a C identifier of at least
 * PG_CLS_FUNC_MINLEN characters not starting with a digit; helpers called
 * everywhere (kfree, mutex_lock ...) say nothing about the code and are
 * dropped here, and the history table drops what more than 1 % of the CVE
 * records name besides (pg_cls__fn_history_finish; train.c and history.c
 * fill the table).  At most `max` distinct names
 * are kept, in order of first appearance: the diff's first.
 */
#include <stdlib.h>
#include <string.h>
#include "classify/classify_int.h"
#include "util/diff.h"
#include "util/banned.h"

#define PG_CLS_FUNC_MINLEN 4
#define PG_CLS_FUNC_MAXLEN 128 /* longer runs are not names a person wrote */

/* sorted (strcmp): bsearch */
static const char *const stoplist[] = {
	"IS_ERR", "PTR_ERR", "READ_ONCE", "WARN_ON", "WARN_ON_ONCE", "WRITE_ONCE", "atomic_dec", "atomic_inc",
	"atomic_read", "copy_from_user", "copy_to_user", "dev_err", "dev_info", "dev_warn", "free", "kcalloc",
	"kfree", "kmalloc", "kmemdup", "kstrdup", "kvfree", "kvmalloc", "kzalloc", "list_add", "list_del",
	"malloc", "memcmp", "memcpy", "memmove", "memset", "mutex_lock", "mutex_unlock", "pr_debug", "pr_err",
	"pr_info", "pr_warn", "printk", "rcu_read_lock", "rcu_read_unlock", "sizeof", "snprintf", "spin_lock",
	"spin_lock_bh", "spin_lock_irq", "spin_lock_irqsave", "spin_unlock", "spin_unlock_bh", "spin_unlock_irq",
	"spin_unlock_irqrestore", "sprintf", "strcmp", "strlen", "strncmp", "strscpy", "vfree", "vmalloc",
	"while",
};

static int is_ident(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static int stopped(const char *p, size_t n)
{
	size_t lo = 0, hi = sizeof(stoplist) / sizeof(stoplist[0]);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strncmp(stoplist[mid], p, n);
		if (!c && stoplist[mid][n])
			c = 1;
		if (!c)
			return 1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* Add name p[0..n) unless short, numeric, stopped, a duplicate or over max. */
static void add(uint64_t *out, size_t *nout, size_t max, const char *p, size_t n)
{
	uint64_t h;
	if (*nout >= max || n < PG_CLS_FUNC_MINLEN || n > PG_CLS_FUNC_MAXLEN || (p[0] >= '0' && p[0] <= '9') ||
	    stopped(p, n))
		return;
	h = pg_cls__fnv64(p, n, 0);
	for (size_t i = 0; i < *nout; i++)
		if (out[i] == h)
			return;
	out[(*nout)++] = h;
}

/* The identifier right before the first '(' of a hunk's function context. */
static void add_heading(uint64_t *out, size_t *nout, size_t max, const char *s, size_t n)
{
	const char *paren = memchr(s, '(', n), *e, *b;
	if (!paren)
		return; /* "struct foo {", a label, a macro without arguments: no function */
	for (e = paren; e > s && (e[-1] == ' ' || e[-1] == '\t'); e--)
		;
	for (b = e; b > s && is_ident((unsigned char)b[-1]); b--)
		;
	add(out, nout, max, b, (size_t)(e - b));
}

size_t pg_cls__functions(uint64_t *out, size_t max, const char *message, size_t mlen, const char *diff, size_t dlen)
{
	size_t n = 0;

	if (diff) {
		const char *p = diff, *end = diff + (dlen ? dlen : strlen(diff));
		while (p < end && n < max) {
			const char *nl = memchr(p, '\n', (size_t)(end - p)), *le = nl ? nl : end;
			pg_diff_hunk h;
			if (le - p > 2 && p[0] == '@' && p[1] == '@' && pg_diff_hunk_parse(&h, p, (size_t)(le - p)) &&
			    h.heading_len)
				add_heading(out, &n, max, h.heading, h.heading_len);
			p = le + 1;
		}
	}
	if (message) {
		/* from each '(' back over the identifier before it: memchr does the scanning */
		const char *p = message, *end = message + (mlen ? mlen : strlen(message)), *q;
		while (n < max && p < end && (q = memchr(p, '(', (size_t)(end - p)))) {
			const char *b = q;
			while (b > p && is_ident((unsigned char)b[-1]))
				b--;
			add(out, &n, max, b, (size_t)(q - b));
			p = q + 1;
		}
	}
	return n;
}

static int cmp_fn_cve(const void *pa, const void *pb)
{
	const pg_cls_hist_pair *a = pa, *b = pb;
	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	return a->t < b->t ? -1 : a->t > b->t;
}

size_t pg_cls__fn_history_finish(pg_cls_hist_pair *v, size_t n, size_t records)
{
	size_t i = 0, o = 0, lim = records / PG_CLS_FUNC_COMMON_SHARE;
	if (lim < PG_CLS_FUNC_COMMON_MIN)
		lim = PG_CLS_FUNC_COMMON_MIN;
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_fn_cve);
	while (i < n) {
		size_t j = i;
		while (j < n && v[j].key == v[i].key)
			j++;
		if (j - i <= lim)
			for (; i < j; i++)
				v[o++] = v[i];
		i = j;
	}
	return o;
}

int pg_cls__hist_count(const pg_cls_hist_pair *v, size_t n, const uint64_t *keys, size_t nkeys, int64_t ts,
		       const uint64_t *own, size_t nown)
{
	size_t best = 0;
	for (size_t i = 0; i < nkeys; i++) {
		size_t lo = 0, hi = n, c = 0;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (v[mid].key < keys[i])
				lo = mid + 1;
			else
				hi = mid;
		}
		for (; lo < n && v[lo].key == keys[i] && v[lo].t < ts; lo++) {
			size_t k;
			for (k = 0; k < nown && own[k] != v[lo].who; k++)
				;
			c += k == nown;
		}
		if (c > best)
			best = c;
	}
	return best > 1000000 ? 1000000 : (int)best;
}
