/*
 * features.c - feature extraction for the security-fix classifier.
 *
 * Stage-1 features are hashed (feature hashing into PG_CLS_DIM buckets) and
 * binary: each distinct index appears once in f->idx.  They come from text
 * normalized the same way for every source: trailers ("Key-word: value"
 * lines, the final "Key: value" paragraph), backport annotations and the
 * "---" tail are removed, so a CNA message (trailers stripped by its tooling)
 * and a real commit produce the same text features.  Trailer evidence goes
 * only to the dense stage-2 vector.
 *
 * Speed matters (the goal is >= 200,000 commits/s for message + files): the
 * text is scanned once, tokens are hashed on the fly (FNV-1a, lowercase),
 * nothing is allocated per commit once the feature buffers have grown, and
 * the distinct-index set is a bitset cleared through the index list.
 */
#include <math.h>
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "classify/classify_int.h"
#include "patchgap/trailer.h"
#include "util/str.h"
#include "util/banned.h"

#define MAX_BODY_TOKENS 400
#define MAX_BODY_BIGRAMS 160 /* word pairs only from the head of the body: speed */   /* splats can be long; the head says what matters */
#define MAX_FILES 64
#define MAX_TOKEN 48

/* ---- character classes (ASCII tables: ctype calls per byte cost too much here) ---- */

enum { C_TOK = 1, C_DIGIT = 2, C_HEX = 4, C_SPACE = 8 };
static unsigned char cls_tab[256], low_tab[256];
/* tokenizer table: the lowercase byte, and classes of token bytes */
enum { T_TOK = 0x100, T_NOTDIGIT = 0x200, T_NOTHEX = 0x400, T_DIGIT = 0x800 };
static uint16_t tok_tab[256];
static pthread_once_t tab_once = PTHREAD_ONCE_INIT;

static void tab_init(void)
{
	for (int c = 0; c < 256; c++) {
		unsigned char k = 0;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')
			k |= C_TOK;
		if (c >= '0' && c <= '9')
			k |= C_DIGIT | C_HEX;
		if ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))
			k |= C_HEX;
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v')
			k |= C_SPACE;
		cls_tab[c] = k;
		low_tab[c] = (unsigned char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
		tok_tab[c] = low_tab[c];
		if (k & C_TOK)
			tok_tab[c] |= (uint16_t)(T_TOK | (k & C_DIGIT ? T_DIGIT : T_NOTDIGIT) | (k & C_HEX ? 0 : T_NOTHEX));
	}
}

/* ---- hashing ---- */

#define FNV32_INIT 2166136261u
#define FNV32_PRIME 16777619u

static inline uint32_t fnv_step(uint32_t h, unsigned char c) { return (h ^ c) * FNV32_PRIME; }

static uint32_t fnv32(const char *s, size_t n)
{
	uint32_t h = FNV32_INIT;
	for (size_t i = 0; i < n; i++)
		h = fnv_step(h, low_tab[(unsigned char)s[i]]);
	return h;
}

static inline uint32_t mix32(uint32_t x)
{
	x ^= x >> 16; x *= 0x7feb352du;
	x ^= x >> 15; x *= 0x846ca68bu;
	x ^= x >> 16;
	return x;
}

/* Namespaces: the same word in the subject and in the body are different features. */
enum ns { NS_SUBJ = 1, NS_SUBJ2, NS_BODY, NS_BODY2, NS_LEXS, NS_LEXB, NS_PATH, NS_SPFX, NS_FLAG, NS_FILE };
static const char *const ns_names[] = { "", "subject", "subject2", "body", "body2", "lex-subject",
					"lex-body", "path", "subsys", "flag", "file" };

static inline uint32_t feat_index(enum ns ns, uint32_t h)
{
	return mix32(h ^ ((uint32_t)ns * 0x9e3779b9u)) & (PG_CLS_DIM - 1);
}

static inline uint32_t pair_hash(uint32_t a, uint32_t b) { return mix32(a * 0x01000193u + 0x5bd1e995u) ^ b; }

uint64_t pg_cls__fnv64(const void *p, size_t n, uint64_t h)
{
	const unsigned char *s = p;
	if (!h)
		h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 1099511628211ull;
	return h;
}

/* ---- the bug-class lexicon: token phrases (hyphens split words) ---- */

struct lex_entry { const char *phrase; pg_cls_bug_class cls; };
static const struct lex_entry lexicon[] = {
	{ "use after free", PG_CLS_UAF }, { "uaf", PG_CLS_UAF }, { "double free", PG_CLS_UAF },
	{ "use after release", PG_CLS_UAF }, { "freed memory", PG_CLS_UAF }, { "dangling", PG_CLS_UAF },
	{ "already freed", PG_CLS_UAF }, { "after free", PG_CLS_UAF }, { "double fput", PG_CLS_UAF },
	{ "out of bounds write", PG_CLS_OOB_WRITE }, { "buffer overflow", PG_CLS_OOB_WRITE },
	{ "heap overflow", PG_CLS_OOB_WRITE }, { "stack overflow", PG_CLS_OOB_WRITE },
	{ "memory corruption", PG_CLS_OOB_WRITE }, { "overwrite", PG_CLS_OOB_WRITE },
	{ "buffer overrun", PG_CLS_OOB_WRITE }, { "write beyond", PG_CLS_OOB_WRITE },
	{ "out of bounds read", PG_CLS_OOB_READ }, { "over read", PG_CLS_OOB_READ },
	{ "overread", PG_CLS_OOB_READ }, { "read beyond", PG_CLS_OOB_READ },
	{ "out of bounds", PG_CLS_OOB }, { "oob", PG_CLS_OOB }, { "out of bound", PG_CLS_OOB },
	{ "bounds check", PG_CLS_OOB }, { "index out of", PG_CLS_OOB }, { "beyond the end", PG_CLS_OOB },
	{ "array index", PG_CLS_OOB }, { "invalid index", PG_CLS_OOB }, { "slab out of bounds", PG_CLS_OOB },
	{ "null pointer", PG_CLS_NULL_DEREF }, { "null ptr", PG_CLS_NULL_DEREF },
	{ "null deref", PG_CLS_NULL_DEREF }, { "null dereference", PG_CLS_NULL_DEREF },
	{ "nullptr", PG_CLS_NULL_DEREF }, { "null pointer dereference", PG_CLS_NULL_DEREF },
	{ "integer overflow", PG_CLS_INT_OVERFLOW }, { "overflow", PG_CLS_INT_OVERFLOW },
	{ "underflow", PG_CLS_INT_OVERFLOW }, { "wraparound", PG_CLS_INT_OVERFLOW },
	{ "wrap around", PG_CLS_INT_OVERFLOW }, { "signedness", PG_CLS_INT_OVERFLOW },
	{ "truncation", PG_CLS_INT_OVERFLOW }, { "shift out of bounds", PG_CLS_INT_OVERFLOW },
	{ "race", PG_CLS_RACE }, { "racy", PG_CLS_RACE }, { "data race", PG_CLS_RACE },
	{ "race condition", PG_CLS_RACE }, { "concurrently", PG_CLS_RACE }, { "toctou", PG_CLS_RACE },
	{ "kcsan", PG_CLS_RACE }, { "races", PG_CLS_RACE },
	{ "memory leak", PG_CLS_LEAK }, { "leak", PG_CLS_LEAK }, { "leaks", PG_CLS_LEAK },
	{ "refcount", PG_CLS_LEAK }, { "reference count", PG_CLS_LEAK }, { "refcnt", PG_CLS_LEAK },
	{ "kmemleak", PG_CLS_LEAK }, { "leaking", PG_CLS_LEAK }, { "reference leak", PG_CLS_LEAK },
	{ "uninitialized", PG_CLS_UNINIT }, { "uninitialised", PG_CLS_UNINIT }, { "uninit", PG_CLS_UNINIT },
	{ "kmsan", PG_CLS_UNINIT }, { "infoleak", PG_CLS_UNINIT }, { "info leak", PG_CLS_UNINIT },
	{ "information leak", PG_CLS_UNINIT }, { "kernel infoleak", PG_CLS_UNINIT },
	{ "uninit value", PG_CLS_UNINIT }, { "stack contents", PG_CLS_UNINIT },
	{ "deadlock", PG_CLS_DOS }, { "hang", PG_CLS_DOS }, { "soft lockup", PG_CLS_DOS },
	{ "hung task", PG_CLS_DOS }, { "infinite loop", PG_CLS_DOS }, { "livelock", PG_CLS_DOS },
	{ "lockup", PG_CLS_DOS }, { "stall", PG_CLS_DOS }, { "divide error", PG_CLS_DOS },
	{ "division by zero", PG_CLS_DOS }, { "divide by zero", PG_CLS_DOS }, { "panic", PG_CLS_DOS },
	{ "crash", PG_CLS_DOS }, { "bug_on", PG_CLS_DOS }, { "warning", PG_CLS_DOS },
	{ "recursion", PG_CLS_DOS }, { "hangs", PG_CLS_DOS }, { "oops", PG_CLS_DOS },
	{ "permission", PG_CLS_PERM }, { "capability", PG_CLS_PERM }, { "capable", PG_CLS_PERM },
	{ "cap_net_admin", PG_CLS_PERM }, { "cap_sys_admin", PG_CLS_PERM }, { "privilege", PG_CLS_PERM },
	{ "unprivileged", PG_CLS_PERM }, { "access check", PG_CLS_PERM }, { "ns_capable", PG_CLS_PERM },
	{ "bypass", PG_CLS_PERM }, { "privileged", PG_CLS_PERM },
	{ "security", PG_CLS_OTHER }, { "vulnerability", PG_CLS_OTHER }, { "exploit", PG_CLS_OTHER },
	{ "attacker", PG_CLS_OTHER }, { "malicious", PG_CLS_OTHER }, { "spectre", PG_CLS_OTHER },
	{ "untrusted", PG_CLS_OTHER }, { "sanity check", PG_CLS_OTHER }, { "validate", PG_CLS_OTHER },
	{ "invalid", PG_CLS_OTHER },
};
#define NLEX (sizeof(lexicon) / sizeof(lexicon[0]))
#define LEX_MAXW 4

/* Evidence tokens (lowercase). */
enum evid { EV_KASAN = 1, EV_KMSAN, EV_UBSAN, EV_KCSAN, EV_KFENCE, EV_SYZBOT, EV_SYZKALLER, EV_REPRO, EV_LOCKDEP,
	    EV__COUNT };
static const char *const evid_words[] = { "", "kasan", "kmsan", "ubsan", "kcsan", "kfence", "syzbot",
					  "syzkaller", "reproducer", "lockdep" };

struct lex_compiled { uint32_t h[LEX_MAXW]; unsigned nw; pg_cls_bug_class cls; };
static struct lex_compiled lexc[NLEX];
#define LEX_SET 1024
static uint16_t lex_first[LEX_SET]; /* first-token hash -> 1 + index of first entry in a chain; 0 empty */
static uint16_t lex_next[NLEX];     /* chain of entries with the same first-token slot */
static uint32_t evid_h[EV__COUNT];
static uint8_t lex_lenmask[LEX_SET];  /* bit w: a phrase of w words starts with a word of this slot;
				       * bit 0 (LENMASK_EVID): an evidence word may hash to this slot */
#define LENMASK_EVID 1u
static uint8_t evid_slot[256];        /* 1 + evidence index by low hash bits (collisions: checked) */
static pthread_once_t lex_once = PTHREAD_ONCE_INIT;

/* Flag features: their words hashed once. */
enum flag { FL_HEADER, FL_DOCS, FL_HAS_BODY, FL_LONG_BODY, FL_ONE_FILE, FL_FEW_FILES, FL_MANY_FILES, FL_SANITIZER,
	    FL__COUNT };
static const char *const flag_words[FL__COUNT] = { "header-file", "docs-or-selftest", "has-body", "long-body",
						   "one-file", "few-files", "many-files", "sanitizer-report" };
static uint32_t flag_h[FL__COUNT];

static void lex_compile(void)
{
	pthread_once(&tab_once, tab_init);
	for (size_t i = 0; i < NLEX; i++) {
		const char *p = lexicon[i].phrase;
		struct lex_compiled *c = &lexc[i];
		c->cls = lexicon[i].cls;
		while (*p && c->nw < LEX_MAXW) {
			const char *e = strchr(p, ' ');
			size_t n = e ? (size_t)(e - p) : strlen(p);
			c->h[c->nw++] = fnv32(p, n);
			p += n;
			while (*p == ' ')
				p++;
		}
	}
	/* chains in reverse so lookups see the table order */
	for (size_t i = NLEX; i-- > 0;) {
		uint32_t s = lexc[i].h[0] & (LEX_SET - 1);
		lex_next[i] = lex_first[s];
		lex_first[s] = (uint16_t)(i + 1);
	}
	for (size_t i = 0; i < NLEX; i++)
		lex_lenmask[lexc[i].h[0] & (LEX_SET - 1)] |= (uint8_t)(1u << lexc[i].nw);
	for (int k = 0; k < FL__COUNT; k++)
		flag_h[k] = fnv32(flag_words[k], strlen(flag_words[k]));
	for (int k = 1; k < EV__COUNT; k++) {
		evid_h[k] = fnv32(evid_words[k], strlen(evid_words[k]));
		evid_slot[evid_h[k] & 255] = (uint8_t)k; /* distinct slots: asserted by the unit test */
		lex_lenmask[evid_h[k] & (LEX_SET - 1)] |= LENMASK_EVID;
	}
}

/* ---- dense (stage-2) features ---- */

enum dense {
	D_FIXES, D_CC_STABLE, D_REPORTED, D_REPORTED_SYZBOT, D_CLOSES_SYZ, D_CLOSES, D_REPORTED_MULTI, D_CVE,
	D_TRAILER__END,
	D_SUBSYS_NETFILTER = D_TRAILER__END, D_SUBSYS_IO_URING,
	D_ADD_NULL_CHECK = 10, D_ADD_BOUNDS_CHECK, D_ADD_RETURN_ERR, D_KFREE, D_PUT, D_GET, D_LOCK, D_UNLOCK,
	D_NOSPEC, D_COPY_USER, D_SIZE_ARITH, D_MEMSET_ZERO, D_CAPABLE, D_RCU, D_SET_NULL, D_MIN_CLAMP,
	D_SMALL, D_MEDIUM, D_LARGE, D_GOTO_ERR, D_WARN, D_LIST_DEL, D_NEW_FILE, D_DOCS_TESTS_ONLY,
	D_SPINLOCK_IRQ, D_ATOMIC, D_SKB_CHECK, D_LEN_CHECK, D_LOG_LINES,
	D_HISTORY_CVES = 39, /* log2(1 + earlier CVEs on one of the touched files); both heads */
	D_MAIL_FIX_TREE = 40, D_MAIL_NEXT_TREE, D_MAIL_RFC, D_MAIL_BACKPORT, D_MAIL_RESPIN, D_MAIL_SERIES,
	D_FIXES_NETFILTER, D_FIXES_IO_URING, /* trailer evidence too (>= 0): Fixes: x subsystem */
	/*
	 * trailer evidence too (>= 0): where the Fixes: target stood.  "Released"
	 * is 1 unless the history says the target was in no release yet, so a
	 * missing history never lowers a score below what the trailer alone gave.
	 */
	D_FIXES_RELEASED, D_FIXES_STABLE,
	D_BASELINE = PG_CLS_DENSE_BASELINE, /* set by the scorer, not here: it needs the model */
	/*
	 * log2(1 + earlier CVEs naming one of its functions); both heads.  After
	 * the baseline so that model files written before it load unchanged.
	 */
	D_HISTORY_FUNCS
};
static const char *const dense_names[PG_CLS_NDENSE] = {
	[D_FIXES] = "trailer:fixes", [D_CC_STABLE] = "trailer:cc_stable", [D_REPORTED] = "trailer:reported_by",
	[D_REPORTED_SYZBOT] = "trailer:reported_by_syzbot", [D_CLOSES_SYZ] = "trailer:syzkaller_link",
	[D_CLOSES] = "trailer:closes", [D_REPORTED_MULTI] = "trailer:reported_by_2plus", [D_CVE] = "trailer:cve_id",
	[D_SUBSYS_NETFILTER] = "prior:netfilter", [D_SUBSYS_IO_URING] = "prior:io_uring",
	[D_ADD_NULL_CHECK] = "diff:add_null_check", [D_ADD_BOUNDS_CHECK] = "diff:add_bounds_check",
	[D_ADD_RETURN_ERR] = "diff:add_return_error", [D_KFREE] = "diff:kfree_changed", [D_PUT] = "diff:put_changed",
	[D_GET] = "diff:get_changed", [D_LOCK] = "diff:lock_changed", [D_UNLOCK] = "diff:unlock_changed",
	[D_NOSPEC] = "diff:array_index_nospec", [D_COPY_USER] = "diff:copy_user", [D_SIZE_ARITH] = "diff:size_arith",
	[D_MEMSET_ZERO] = "diff:zero_init", [D_CAPABLE] = "diff:capable_check", [D_RCU] = "diff:rcu",
	[D_SET_NULL] = "diff:set_null", [D_MIN_CLAMP] = "diff:min_clamp", [D_SMALL] = "diff:small_le10",
	[D_MEDIUM] = "diff:medium_11_50", [D_LARGE] = "diff:large_gt200", [D_GOTO_ERR] = "diff:add_goto_err",
	[D_WARN] = "diff:warn_changed", [D_LIST_DEL] = "diff:list_del", [D_NEW_FILE] = "diff:new_file",
	[D_DOCS_TESTS_ONLY] = "diff:docs_tests_only", [D_SPINLOCK_IRQ] = "diff:irqsave_lock",
	[D_ATOMIC] = "diff:atomic_refcount", [D_SKB_CHECK] = "diff:skb_len_check", [D_LEN_CHECK] = "diff:len_check",
	[D_LOG_LINES] = "diff:log2_lines", [D_MAIL_FIX_TREE] = "mail:fix_tree", [D_MAIL_NEXT_TREE] = "mail:next_tree",
	[D_MAIL_RFC] = "mail:rfc", [D_MAIL_BACKPORT] = "mail:stable_backport", [D_MAIL_RESPIN] = "mail:v2_or_later",
	[D_MAIL_SERIES] = "mail:part_of_series", [D_FIXES_NETFILTER] = "trailer:fixes_x_netfilter",
	[D_FIXES_IO_URING] = "trailer:fixes_x_io_uring", [D_HISTORY_CVES] = "history:earlier_cves_same_file",
	[D_FIXES_RELEASED] = "history:fixes_target_released",
	[D_FIXES_STABLE] = "history:fixes_target_stable_lines",
	[D_BASELINE] = "baseline:bag_of_words_logit", [D_HISTORY_FUNCS] = "history:earlier_cves_same_function",
};

const char *pg_cls_dense_name(size_t k)
{
	return k < PG_CLS_NDENSE && dense_names[k] ? dense_names[k] : "unused";
}

int pg_cls_dense_is_trailer(size_t k)
{
	return k < D_TRAILER__END || k == D_FIXES_NETFILTER || k == D_FIXES_IO_URING || k == D_FIXES_RELEASED ||
	       k == D_FIXES_STABLE;
}
/* subsystem priors, file and function history: known without a diff, so both heads use them */
int pg_cls__dense_is_subsys(size_t k)
{
	return k == D_SUBSYS_NETFILTER || k == D_SUBSYS_IO_URING || k == D_HISTORY_CVES || k == D_HISTORY_FUNCS;
}
_Static_assert(LEX_MAXW == 4, "token history is shifted by hand in token()");
_Static_assert(D_TRAILER__END == PG_CLS_DENSE_TRAILERS, "trailer block size");
_Static_assert(D_FIXES_STABLE < D_BASELINE && D_HISTORY_FUNCS + 1 == PG_CLS_NDENSE, "dense vector size");

const char *pg_cls_bug_class_name(pg_cls_bug_class c)
{
	static const char *const n[PG_CLS__COUNT] = { "none", "uaf", "oob-write", "oob-read", "oob", "null-deref",
		"integer-overflow", "race", "leak-refcount", "uninit-infoleak", "dos-hang", "missing-permission-check",
		"other" };
	return (unsigned)c < PG_CLS__COUNT ? n[c] : "none";
}

/* ---- feature buffer ---- */

void pg_cls_features_init(pg_cls_features *f)
{
	memset(f, 0, sizeof(*f));
}

void pg_cls_features_release(pg_cls_features *f)
{
	free(f->idx);
	free(f->seen);
	memset(f, 0, sizeof(*f));
}

static void feat_reset(pg_cls_features *f)
{
	for (size_t i = 0; i < f->n; i++)
		f->seen[f->idx[i] >> 6] &= ~(1ull << (f->idx[i] & 63));
	f->n = 0;
	memset(f->dense, 0, sizeof(f->dense));
	memset(f->lexicon, 0, sizeof(f->lexicon));
	f->has_trailers = f->syzbot = f->reproducer = f->sanitizer = 0;
}

struct ctx {
	pg_cls_features *f;
	pg_cls__name_cb cb;
	void *payload;
	int error;
	unsigned evid[EV__COUNT];
};

/* out of line: rare, and emit() stays small enough to inline everywhere */
__attribute__((noinline)) static int grow_idx(struct ctx *c)
{
	pg_cls_features *f = c->f;
	size_t na = f->alloc ? f->alloc * 2 : 512;
	uint32_t *p = realloc(f->idx, na * sizeof(*p));
	if (!p)
		return c->error = pg_error_setc(PG_ENOMEM, "out of memory extracting features");
	f->idx = p;
	f->alloc = na;
	return 0;
}

static inline void emit(struct ctx *c, enum ns ns, uint32_t h, const char *text, size_t len)
{
	pg_cls_features *f = c->f;
	uint32_t i = feat_index(ns, h);

	if (c->cb)
		c->cb(i, ns_names[ns], text, len, c->payload);
	/* branch-free: whether a word repeats is unpredictable, and the branch waited on the hash */
	uint64_t *w = &f->seen[i >> 6], bit = 1ull << (i & 63), old = *w;
	if (f->n == f->alloc && grow_idx(c) < 0)
		return;
	f->idx[f->n] = i;
	f->n += !(old & bit);
	*w = old | bit;
}

static void emit_flag(struct ctx *c, enum flag k)
{
	emit(c, NS_FLAG, flag_h[k], flag_words[k], strlen(flag_words[k]));
}

/* ---- tokenizer ---- */

struct tokstate {
	uint32_t hist[LEX_MAXW];     /* last token hashes, hist[0] newest */
	const char *tp[2];           /* the last two words (for names, only with a callback) */
	size_t tl[2];
	uint32_t lenmasks;           /* lex_lenmask of hist[k] in byte k (0 for no token) */
	unsigned nhist;
	unsigned ntok;
	enum ns uni, bi, lex;
	unsigned lexweight;
	unsigned max_bigrams;
};

/* bit w: a phrase of w words may start at hist[w - 1] (byte w - 1 of the packed lex_lenmask values) */
static inline uint32_t lex_candidates(uint32_t m)
{
	return (m & 0x02) | ((m >> 8) & 0x04) | ((m >> 16) & 0x08) | ((m >> 24) & 0x10);
}

static void lex_check(struct ctx *c, struct tokstate *t)
{
	uint32_t cand = lex_candidates(t->lenmasks);

	/* phrases ending at the newest token: match on the oldest word first */
	for (unsigned w = 1; cand; w++) {
		uint32_t first = t->hist[w - 1];
		if (!(cand & (1u << w)))
			continue;
		cand &= ~(1u << w);
		for (unsigned e = lex_first[first & (LEX_SET - 1)]; e; e = lex_next[e - 1]) {
			const struct lex_compiled *l = &lexc[e - 1];
			unsigned k;
			if (l->nw != w || l->h[0] != first)
				continue;
			for (k = 1; k < w; k++)
				if (l->h[k] != t->hist[w - 1 - k])
					break;
			if (k < w)
				continue;
			c->f->lexicon[l->cls] += t->lexweight;
			emit(c, t->lex, (uint32_t)(e * 2654435761u), lexicon[e - 1].phrase,
			     c->cb ? strlen(lexicon[e - 1].phrase) : 0);
		}
	}
}

static void token(struct ctx *c, struct tokstate *t, const char *s, size_t n, uint32_t h, int alpha)
{
	if (n < 2 || !alpha)
		return; /* numbers and hex ids carry no meaning across commits */
	t->hist[3] = t->hist[2];
	t->hist[2] = t->hist[1];
	t->hist[1] = t->hist[0];
	t->hist[0] = h;
	t->lenmasks = t->lenmasks << 8 | lex_lenmask[h & (LEX_SET - 1)];
	if (c->cb) { /* the words themselves are needed only to name features */
		t->tp[1] = t->tp[0];
		t->tl[1] = t->tl[0];
		t->tp[0] = s;
		t->tl[0] = n;
	}
	if (t->nhist < LEX_MAXW)
		t->nhist++;
	t->ntok++;
	emit(c, t->uni, h, s, n);
	if (t->nhist >= 2 && t->ntok <= t->max_bigrams) {
		if (c->cb) {
			char pair[2 * MAX_TOKEN + 2];
			int len = snprintf(pair, sizeof(pair), "%.*s %.*s", (int)t->tl[1], t->tp[1], (int)t->tl[0], t->tp[0]);
			emit(c, t->bi, pair_hash(t->hist[1], h), pair, (size_t)len);
		} else {
			emit(c, t->bi, pair_hash(t->hist[1], h), NULL, 0);
		}
	}
	if (lex_candidates(t->lenmasks)) /* most tokens start and end no phrase */
		lex_check(c, t);
	if ((t->lenmasks & LENMASK_EVID) && evid_slot[h & 255] && evid_h[evid_slot[h & 255]] == h)
		c->evid[evid_slot[h & 255]]++;
}

/*
 * Tokenize [s, s+n): words of [A-Za-z0-9_], lowercased; a hex run with a digit is an id.
 * One table load per byte gives the lowercase byte and the classes; the
 * classes are only OR-ed (a token is all digits iff no byte is a non-digit).
 */
static void tokenize(struct ctx *c, struct tokstate *t, const char *s, size_t n, unsigned max_tokens)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;
	if (t->ntok >= max_tokens)
		return;
	while (i < n) {
		unsigned k = tok_tab[u[i]];
		size_t st, len;
		uint32_t h = FNV32_INIT;
		unsigned any = 0;
		int alpha;
		if (!(k & T_TOK)) {
			i++;
			continue;
		}
		st = i;
		do {
			any |= k;
			h = fnv_step(h, (unsigned char)k);
		} while (++i < n && ((k = tok_tab[u[i]]) & T_TOK));
		len = i - st;
		/* a token with a letter; hex runs with a digit (ids), numbers and over-long runs are not words */
		alpha = (any & T_NOTDIGIT) && len <= MAX_TOKEN && !(!(any & T_NOTHEX) && (any & T_DIGIT) && len >= 7);
		token(c, t, s + st, len, h, alpha);
		if (t->ntok >= max_tokens) /* only token() counts */
			return;
	}
}

/* ---- message normalization ---- */

static int is_key_char(unsigned char ch) { return (cls_tab[ch] & C_TOK) || ch == '-'; }

/* "Key: value" (key of [A-Za-z0-9_-], then ':' and a blank or the end): key length or 0. */
static size_t key_shaped(const char *l, size_t n, int *hyphen)
{
	size_t k = 0;
	*hyphen = 0;
	while (k < n && is_key_char((unsigned char)l[k])) {
		if (l[k] == '-')
			*hyphen = 1;
		k++;
	}
	return k > 0 && k < n && l[k] == ':' && (k + 1 == n || l[k + 1] == ' ' || l[k + 1] == '\t') ? k : 0;
}

/* s[0..n) equals the lowercase word w, ignoring case (ASCII). */
static inline int lower_eq(const char *s, const char *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (low_tab[(unsigned char)s[i]] != (unsigned char)w[i])
			return 0;
	return 1;
}

/* Leading hex digits of s[0..avail) (bounded: the input need not be NUL-terminated). */
static size_t hexlen_n(const char *s, size_t avail, size_t max)
{
	size_t n = 0;
	while (n < avail && n < max && ((s[n] >= '0' && s[n] <= '9') || ((s[n] | 0x20) >= 'a' && (s[n] | 0x20) <= 'f')))
		n++;
	return n;
}

/* Backport annotations: "commit <id> upstream.", "[ Upstream commit <id> ]", "[bwh: ...]", cherry picks. */
static int annotation(const char *l, size_t n)
{
	unsigned char c0;
	if (!n)
		return 0;
	/* every annotation starts with one of "cCuU[(": most lines leave here */
	c0 = (unsigned char)(l[0] | 0x20);
	if (c0 != 'c' && c0 != 'u' && l[0] != '[' && l[0] != '(')
		return 0;
	if (n >= 7 && lower_eq(l, "commit ", 7) && hexlen_n(l + 7, n - 7, 40) >= 12)
		return 1;
	if (l[0] == '[' && l[n - 1] == ']')
		return 1;
	if (n > 28 && lower_eq(l, "(cherry picked from commit ", 27))
		return 1;
	if (n > 16 && lower_eq(l, "upstream commit ", 16))
		return 1;
	return 0;
}

/* A trailer or annotation wherever it stands (trimmed line). */
static int strip_line(const char *l, size_t n)
{
	/* the non-hyphenated trailer keys (hyphenated keys are all trailers) */
	static const struct { const char *k; size_t n; } keys[] = { { "fixes", 5 }, { "cc", 2 }, { "link", 4 },
		{ "closes", 6 }, { "bugzilla", 8 }, { "buglink", 7 }, { "bug", 3 }, { "cve", 3 }, { "upstream", 8 } };
	int hyphen;
	size_t k = key_shaped(l, n, &hyphen);

	if (k) {
		if (hyphen)
			return 1;
		if (k <= 8) /* the longest key; no libc call per line (this runs on every line) */
			for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
				if (keys[i].n == k && lower_eq(l, keys[i].k, k))
					return 1;
	}
	return annotation(l, n);
}

static void trim(const char *msg, size_t *st, size_t *le)
{
	while (*st < *le && (cls_tab[(unsigned char)msg[*st]] & C_SPACE))
		(*st)++;
	while (*le > *st && (cls_tab[(unsigned char)msg[*le - 1]] & C_SPACE))
		(*le)--;
}

/*
 * The newlines of a message, found once: the "---" scan, the trailer block
 * (walked backwards), the kept lines and the evidence pre-check all walk
 * these (four memchr passes per message were 10 % of the time).  Line j
 * starts after newline j - 1 and ends at newline j (or the end of the text).
 * Memory is bounded: past MSG_LINES_MAX newlines the array is dropped and the
 * walks search with memchr/pg_str_rchr again (same lines, in the same order;
 * each byte is read once per walk, so the walks stay linear).
 */
#define MSG_LINES_STACK 256
#define MSG_LINES_MAX ((size_t)1 << 16)
struct msg_lines {
	const char *msg;
	size_t len, n, alloc;
	size_t *nl;                  /* NULL: too many lines, search instead */
	size_t stack[MSG_LINES_STACK];
};

static void msg_lines_release(struct msg_lines *ml)
{
	if (ml->nl != ml->stack)
		free(ml->nl);
	ml->nl = ml->stack;
}

static int msg_lines_init(struct msg_lines *ml, const char *msg, size_t len)
{
	const char *p = msg, *e = msg + len;

	ml->msg = msg;
	ml->len = len;
	ml->n = 0;
	ml->nl = ml->stack;
	ml->alloc = MSG_LINES_STACK;
	while (p < e && (p = memchr(p, '\n', (size_t)(e - p))) != NULL) {
		if (ml->n == ml->alloc) {
			size_t na = ml->alloc * 2, *v;
			if (na > MSG_LINES_MAX) {
				msg_lines_release(ml);
				ml->nl = NULL;
				return 0;
			}
			if (!(v = malloc(na * sizeof(*v))))
				return pg_error_setc(PG_ENOMEM, "out of memory splitting a message of %zu bytes", len);
			memcpy(v, ml->nl, ml->n * sizeof(*v));
			if (ml->nl != ml->stack)
				free(ml->nl);
			ml->nl = v;
			ml->alloc = na;
		}
		ml->nl[ml->n++] = (size_t)(p - msg);
		p++;
	}
	return 0;
}

/* End of line j, which starts at st, within the text [0, end). */
static inline size_t line_end(const struct msg_lines *ml, size_t st, size_t j, size_t end)
{
	const char *p;
	if (ml->nl)
		return j < ml->n && ml->nl[j] < end ? ml->nl[j] : end;
	p = memchr(ml->msg + st, '\n', end - st);
	return p ? (size_t)(p - ml->msg) : end;
}

/* Start of line j, which ends at le. */
static inline size_t line_start(const struct msg_lines *ml, size_t le, size_t j)
{
	const char *p;
	if (ml->nl)
		return j ? ml->nl[j - 1] + 1 : 0;
	p = pg_str_rchr(ml->msg, '\n', le);
	return p ? (size_t)(p - ml->msg) + 1 : 0;
}

/*
 * Where the trailing trailer block starts: the final paragraphs whose every
 * line is "Key: value", an annotation or an indented continuation (with at
 * least one key line).  Walking back over whole paragraphs makes the
 * normalization idempotent: normalized text has no trailing block left.
 * The text is [0, end), end being the message length or a newline (nl[k]
 * for k = nend).
 */
static size_t trailer_block_start(const struct msg_lines *ml, size_t end, size_t nend)
{
	const char *msg = ml->msg;
	size_t cut = end, para_start = end, le = end;
	int para_has = 0, para_all = 1, para_key = 0;

	/* lines nend, nend - 1, ..., 0; line j ends at le */
	for (size_t j = nend + 1; j-- > 0;) {
		size_t ls = line_start(ml, le, j), st = ls, te = le;
		int hyphen;
		trim(msg, &st, &te);
		if (st == te) {
			if (para_has) {
				if (!para_all || !para_key)
					return cut;
				cut = para_start;
			}
			para_has = 0;
			para_all = 1;
			para_key = 0;
		} else if (!strip_line(msg + st, te - st)) {
			/* lines stripped anyway are neutral: pass 2 will not see them */
			int key = key_shaped(msg + st, te - st, &hyphen) > 0;
			para_has = 1;
			para_start = ls;
			para_key |= key;
			if (!key && !annotation(msg + st, te - st) && st == ls)
				para_all = 0;
		}
		if (ls == 0)
			break;
		le = ls - 1;
	}
	if (para_has && para_all && para_key)
		cut = para_start;
	return cut;
}

typedef void (*line_fn)(const char *l, size_t n, void *payload);

/* Call fn for each kept line of the message (right-trimmed); stops at a "---" line. */
static void for_each_kept_line(const struct msg_lines *ml, line_fn fn, void *payload, int *had_trailers)
{
	const char *msg = ml->msg;
	/* nend: the number of newlines before end (unknown without the array: only a bound) */
	size_t cut, end = ml->len, len = ml->len, nend = ml->nl ? ml->n : SIZE_MAX - 1;

	/* the text ends at a "---" line */
	if (len >= 3 && !strncmp(msg, "---", 3) && (len == 3 || msg[3] == '\n' || msg[3] == '\r')) {
		end = 0;
		nend = 0;
	} else {
		for (size_t st = 0, j = 0; st < len; j++) {
			size_t le = line_end(ml, st, j, len), r = len - le;
			const char *p = msg + le;
			if (le == len)
				break;
			if (r >= 4 && p[1] == '-' && p[2] == '-' && p[3] == '-' && (r == 4 || p[4] == '\n' || p[4] == '\r')) {
				end = le;
				nend = j;
				break;
			}
			st = le + 1;
		}
	}
	cut = trailer_block_start(ml, end, nend);
	for (size_t st = 0, j = 0, le = 0; st < end; st = le < end ? le + 1 : end, j++) {
		size_t ls = st, te;
		le = line_end(ml, st, j, end);
		te = le;
		if (st >= cut) {
			if (had_trailers)
				*had_trailers = 1;
			continue;
		}
		trim(msg, &st, &te);
		if (strip_line(msg + st, te - st)) {
			if (had_trailers)
				*had_trailers = 1;
			continue;
		}
		/* keep the indentation (continuation lines stay continuations when normalized again) */
		fn(msg + ls, te - ls, payload);
	}
}

static void norm_line(const char *l, size_t n, void *payload)
{
	pg_buf *b = payload;
	if (pg_buf_put(b, l, n) == 0)
		pg_buf_putc(b, '\n');
}

int pg_cls_normalize_message(char **out, const char *msg, size_t len)
{
	struct msg_lines ml = { .nl = ml.stack };
	pg_buf b = PG_BUF_INIT;
	int error = 0;

	*out = NULL;
	pthread_once(&tab_once, tab_init);
	if ((error = pg_buf_grow(&b, len + 1)) < 0)
		goto out;
	b.ptr[0] = '\0';
	if ((error = msg_lines_init(&ml, msg ? msg : "", msg ? len : 0)) < 0)
		goto out;
	for_each_kept_line(&ml, norm_line, &b, NULL);
	*out = pg_buf_detach(&b);
	if (!*out)
		error = pg_error_setc(PG_ENOMEM, "out of memory");
out:
	msg_lines_release(&ml);
	pg_buf_release(&b);
	return error;
}

struct body_ctx {
	struct ctx *c;
	struct tokstate *t;
};

static void body_line(const char *l, size_t n, void *payload)
{
	struct body_ctx *b = payload;
	if (b->t->ntok < MAX_BODY_TOKENS)
		tokenize(b->c, b->t, l, n, MAX_BODY_TOKENS);
}

/*
 * Stage-2 trailer evidence from the shared trailer parser (ingest/trailer.c),
 * so "what is a Fixes: trailer" has one definition in patchgap.
 */
/*
 * Cheap pre-check: could the parser find evidence here?  A superset test (a
 * line starting with fixes/reported/closes in any case, a link line naming
 * syzbot/syzkaller, a cc line naming stable, or "CVE-"
 * anywhere), so skipping the parser never loses evidence; most messages of
 * the feed have none of these lines and skip the allocations of the parser.
 */
static int maybe_evidence(const struct msg_lines *ml)
{
	const char *msg = ml->msg, *e = msg + ml->len;
	/* "CVE-" anywhere (glibc's memmem costs more than the rest of this scan) */
	for (const char *c = msg; (c = memchr(c, 'C', (size_t)(e - c))) != NULL; c++)
		if (e - c >= 4 && c[1] == 'V' && c[2] == 'E' && c[3] == '-')
			return 1;
	for (size_t st = 0, j = 0, lend = 0; st < ml->len; st = lend + 1, j++) {
		const char *p = msg + st, *le;
		size_t n;
		lend = line_end(ml, st, j, ml->len);
		le = msg + lend;
		while (p < le && (*p == ' ' || *p == '\t'))
			p++;
		n = (size_t)(le - p);
		if (n >= 3) {
			unsigned char c0 = low_tab[(unsigned char)p[0]];
			if ((c0 == 'f' && n >= 5 && lower_eq(p, "fixes", 5)) || (c0 == 'c' && ((low_tab[(unsigned char)p[1]] == 'c' &&
			    memmem(p, n, "stable", 6)) || (n >= 6 && lower_eq(p, "closes", 6)))) || (c0 == 'r' && n >= 8 && lower_eq(p, "reported", 8)) ||
			    (c0 == 'l' && n >= 4 && lower_eq(p, "link", 4) && memmem(p, n, "syz", 3)))
				return 1;
		}
	}
	return 0;
}

static int scan_trailers(pg_cls_features *f, const struct msg_lines *ml)
{
	const char *msg = ml->msg;
	size_t len = ml->len;
	pg_trailers tr = PG_TRAILERS_INIT;
	unsigned reported = 0;
	int error;

	if (!maybe_evidence(ml))
		return 0;
	if ((error = pg_trailers_parse(&tr, msg, len)) < 0) {
		pg_trailers_release(&tr);
		/* over-long message: no trailer evidence rather than no verdict */
		return error == PG_EINVALID ? 0 : error;
	}
	for (size_t i = 0; i < tr.n; i++) {
		const pg_trailer *t = &tr.v[i];
		const char *v = t->value ? t->value : "";
		switch (t->kind) {
		case PG_TR_FIXES:
			f->dense[D_FIXES] = 1;
			break;
		case PG_TR_CC_STABLE:
			f->dense[D_CC_STABLE] = 1;
			break;
		case PG_TR_REPORTED_BY:
			f->dense[D_REPORTED] = 1;
			reported++;
			if ((t->hint && !strcmp(t->hint, "syzbot")) || strstr(v, "syzbot") || strstr(v, "syzkaller")) {
				f->dense[D_REPORTED_SYZBOT] = 1;
				f->syzbot = 1;
			}
			break;
		case PG_TR_CLOSES:
		case PG_TR_LINK:
			if (t->kind == PG_TR_CLOSES)
				f->dense[D_CLOSES] = 1;
			if (strstr(v, "syzkaller") || strstr(v, "syzbot")) {
				f->dense[D_CLOSES_SYZ] = 1;
				f->syzbot = 1;
				f->reproducer = 1;
			}
			break;
		case PG_TR_CVE:
			f->dense[D_CVE] = 1;
			break;
		default:
			break;
		}
	}
	if (reported >= 2)
		f->dense[D_REPORTED_MULTI] = 1;
	pg_trailers_release(&tr);
	return 0;
}

/* ---- diff features ---- */

static int has(const char *l, size_t n, const char *w) { return memmem(l, n, w, strlen(w)) != NULL; }

static int ends(const char *id, size_t n, const char *suf)
{
	size_t m = strlen(suf);
	return n >= m && !memcmp(id + n - m, suf, m);
}

static int eq(const char *id, size_t n, const char *w)
{
	return strlen(w) == n && !memcmp(id, w, n);
}

static int begins(const char *id, size_t n, const char *w)
{
	size_t m = strlen(w);
	return n >= m && !memcmp(id, w, m);
}

/*
 * One changed line of a diff: scan its identifiers once (memmem per pattern
 * per line was the bottleneck) and set the dense diff features they imply.
 */
static void diff_line(pg_cls_features *f, const char *l, size_t n)
{
	const unsigned char *u = (const unsigned char *)l;
	int added = l[0] == '+', has_if = 0, has_cmp = 0, has_lenword = 0;
	float *d = f->dense;

	for (size_t i = 1; i < n;) {
		size_t st, len;
		const char *id;
		int call;
		unsigned char ch = u[i];
		if (!(cls_tab[ch] & C_TOK) || (cls_tab[ch] & C_DIGIT)) {
			if (added && (ch == '<' || ch == '>') && i > 0 && l[i - 1] != '-' && i + 1 < n && l[i + 1] != '>' &&
			    l[i + 1] != '<' && l[i - 1] != '<' && l[i - 1] != '>')
				has_cmp = 1;
			if (added && ch == '=' && i + 2 < n && l[i + 1] == ' ' && l[i + 2] == '{' && i + 3 < n &&
			    (l[i + 3] == '}' || l[i + 3] == ' '))
				d[D_MEMSET_ZERO] = 1;
			i++;
			continue;
		}
		st = i;
		while (i < n && (cls_tab[u[i]] & C_TOK))
			i++;
		id = l + st;
		len = i - st;
		call = i < n && l[i] == '(';
		switch (id[0]) {
		case 'k': case 'v':
			if (eq(id, len, "kfree") || eq(id, len, "kvfree") || eq(id, len, "vfree") || eq(id, len, "kfree_rcu") ||
			    eq(id, len, "kfree_skb") || eq(id, len, "kfree_sensitive"))
				d[D_KFREE] = 1;
			else if (call && (eq(id, len, "kcalloc") || eq(id, len, "kmalloc_array") || eq(id, len, "kvcalloc")))
				d[D_SIZE_ARITH] = 1;
			else if (added && call && (eq(id, len, "kzalloc") || eq(id, len, "kvzalloc")))
				d[D_MEMSET_ZERO] = 1;
			break;
		case 'a':
			if (eq(id, len, "array_index_nospec"))
				d[D_NOSPEC] = 1;
			else if (eq(id, len, "array_size") || eq(id, len, "array3_size"))
				d[D_SIZE_ARITH] = 1;
			else if (begins(id, len, "atomic_"))
				d[D_ATOMIC] = 1;
			break;
		case 'c':
			if (eq(id, len, "copy_from_user") || eq(id, len, "copy_to_user"))
				d[D_COPY_USER] = 1;
			else if (eq(id, len, "call_rcu"))
				d[D_RCU] = 1;
			else if (added && call && (eq(id, len, "capable") || eq(id, len, "clamp") || eq(id, len, "clamp_t")))
				d[id[1] == 'a' ? D_CAPABLE : D_MIN_CLAMP] = 1;
			break;
		case 'g':
			if (eq(id, len, "get_user"))
				d[D_COPY_USER] = 1;
			else if (added && eq(id, len, "goto"))
				d[D_GOTO_ERR] = 1;
			break;
		case 'i':
			if (eq(id, len, "if"))
				has_if = 1;
			break;
		case 'm':
			if (eq(id, len, "memdup_user"))
				d[D_COPY_USER] = 1;
			else if (added && call && (eq(id, len, "min") || eq(id, len, "min_t")))
				d[D_MIN_CLAMP] = 1;
			else if (added && call && eq(id, len, "memset"))
				d[D_MEMSET_ZERO] = 1;
			break;
		case 'p':
			if (eq(id, len, "put_user"))
				d[D_COPY_USER] = 1;
			else if (added && eq(id, len, "pskb_may_pull"))
				d[D_SKB_CHECK] = 1;
			break;
		case 'r':
			if (begins(id, len, "refcount_")) {
				d[D_ATOMIC] = 1;
				if (begins(id, len, "refcount_inc"))
					d[D_GET] = 1;
			} else if (begins(id, len, "rcu_dereference") || eq(id, len, "rcu_read_lock")) {
				d[D_RCU] = 1;
			} else if (added && eq(id, len, "return") && i + 2 < n && l[i] == ' ' && l[i + 1] == '-' &&
				   l[i + 2] == 'E') {
				d[D_ADD_RETURN_ERR] = 1;
			}
			break;
		case 's':
			if (eq(id, len, "synchronize_rcu"))
				d[D_RCU] = 1;
			else if (eq(id, len, "struct_size") || eq(id, len, "size_add") || eq(id, len, "size_mul"))
				d[D_SIZE_ARITH] = 1;
			else if (added && (eq(id, len, "skb_headlen") || (eq(id, len, "skb") && i + 5 < n && !memcmp(l + i, "->len", 5))))
				d[D_SKB_CHECK] = 1;
			break;
		case 'l':
			if (begins(id, len, "list_del"))
				d[D_LIST_DEL] = 1;
			break;
		case 'n':
			if (added && call && eq(id, len, "ns_capable"))
				d[D_CAPABLE] = 1;
			break;
		case 'o':
			if (eq(id, len, "overflows_type"))
				d[D_SIZE_ARITH] = 1;
			break;
		case 'W': case 'B':
			if (begins(id, len, "WARN_ON") || begins(id, len, "BUG_ON"))
				d[D_WARN] = 1;
			break;
		case 'I':
			if (added && eq(id, len, "IS_ERR_OR_NULL"))
				d[D_ADD_NULL_CHECK] = 1;
			break;
		case 'N':
			if (added && eq(id, len, "NULL")) {
				if (st >= 3 && (!memcmp(l + st - 3, "== ", 3) || !memcmp(l + st - 3, "!= ", 3)))
					d[D_ADD_NULL_CHECK] = 1;
				else if (st >= 2 && !memcmp(l + st - 2, "= ", 2) && i < n && l[i] == ';')
					d[D_SET_NULL] = 1;
			}
			break;
		case 'C':
			if (added && begins(id, len, "CAP_"))
				d[D_CAPABLE] = 1;
			break;
		case '_':
			if (added && eq(id, len, "__GFP_ZERO"))
				d[D_MEMSET_ZERO] = 1;
			break;
		default:
			break;
		}
		if (call) {
			if (ends(id, len, "_put") || eq(id, len, "fput") || eq(id, len, "put_device"))
				d[D_PUT] = 1;
			else if (ends(id, len, "_get") || ends(id, len, "_hold") || eq(id, len, "get_device"))
				d[D_GET] = 1;
			else if (ends(id, len, "_unlock") || ends(id, len, "_unlock_bh") || ends(id, len, "_unlock_irq") ||
				 ends(id, len, "_unlock_irqrestore"))
				d[D_UNLOCK] = 1;
			else if (ends(id, len, "_lock") || ends(id, len, "_lock_bh") || ends(id, len, "_lock_irq") ||
				 ends(id, len, "_lock_irqsave"))
				d[D_LOCK] = 1;
			else if (ends(id, len, "_overflow"))
				d[D_SIZE_ARITH] = 1;
			if (len > 7 && (ends(id, len, "irqsave") || ends(id, len, "irqrestore")))
				d[D_SPINLOCK_IRQ] = 1;
		}
		if (added && has_if && len >= 3 && (memmem(id, len, "len", 3) || memmem(id, len, "size", 4) ||
						    memmem(id, len, "count", 5)))
			has_lenword = 1;
	}
	if (added && has_if) {
		if (has_cmp)
			d[D_ADD_BOUNDS_CHECK] = 1;
		if (has_lenword)
			d[D_LEN_CHECK] = 1;
		if (has(l, n, "if (!"))
			d[D_ADD_NULL_CHECK] = 1;
	}
}

static void diff_features(pg_cls_features *f, const char *d, size_t len)
{
	size_t i = 0, changed = 0, files = 0, doc_or_test = 0;

	while (i < len) {
		size_t st = i, e;
		const char *l;
		while (i < len && d[i] != '\n')
			i++;
		e = i++;
		l = d + st;
		if (e == st)
			continue;
		if (e - st > 11 && !strncmp(l, "diff --git ", 11)) {
			files++;
			if (memmem(l, e - st, "Documentation/", 14) || memmem(l, e - st, "tools/testing/", 14))
				doc_or_test++;
			continue;
		}
		if (e - st >= 13 && !strncmp(l, "new file mode", 13)) {
			f->dense[D_NEW_FILE] = 1;
			continue;
		}
		if ((l[0] == '+' || l[0] == '-') && !(e - st >= 3 && (!strncmp(l, "+++", 3) || !strncmp(l, "---", 3)))) {
			changed++;
			diff_line(f, l, e - st);
		}
	}
	f->dense[D_SMALL] = changed <= 10;
	f->dense[D_MEDIUM] = changed > 10 && changed <= 50;
	f->dense[D_LARGE] = changed > 200;
	f->dense[D_DOCS_TESTS_ONLY] = files > 0 && doc_or_test == files;
	{
		double lg = 0;
		size_t c = changed;
		while (c > 1) {
			lg += 1;
			c >>= 1;
		}
		f->dense[D_LOG_LINES] = (float)(lg / 10.0);
	}
}

/* ---- subject and paths ---- */

const char *pg_cls__skip_subject_prefixes(const char *s)
{
	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '[') {
			const char *e = strchr(s, ']');
			if (!e)
				return s;
			s = e + 1;
			continue;
		}
		if (!strncasecmp(s, "UPSTREAM:", 9) || !strncasecmp(s, "FROMGIT:", 8) ||
		    !strncasecmp(s, "BACKPORT:", 9) || !strncasecmp(s, "FROMLIST:", 9)) {
			s = strchr(s, ':') + 1;
			continue;
		}
		return s;
	}
}

/* Tags of the "[PATCH nf-next v2 3/5]" groups of a patch mail's subject. */
static void mail_prefix_features(pg_cls_features *f, const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	while (*s == '[') {
		const char *e = strchr(s, ']');
		char tok[32];
		size_t tn = 0;
		if (!e)
			return;
		for (const char *p = s + 1; p <= e; p++) {
			unsigned char ch = (unsigned char)*p;
			if (p < e && ch != ' ' && ch != ',' && ch != '\t') {
				if (tn + 1 < sizeof(tok))
					tok[tn++] = (char)tolower(ch);
				continue;
			}
			tok[tn] = '\0';
			if (tn) {
				if (!strcmp(tok, "net") || !strcmp(tok, "nf") || !strcmp(tok, "bpf") || !strcmp(tok, "fixes") ||
				    !strcmp(tok, "for-linus") || !strcmp(tok, "urgent"))
					f->dense[D_MAIL_FIX_TREE] = 1;
				else if (strstr(tok, "next"))
					f->dense[D_MAIL_NEXT_TREE] = 1;
				else if (!strcmp(tok, "rfc") || !strncmp(tok, "rfc", 3))
					f->dense[D_MAIL_RFC] = 1;
				else if (!strcmp(tok, "autosel") || strstr(tok, "stable") || strstr(tok, ".y") ||
					 (isdigit((unsigned char)tok[0]) && strchr(tok, '.')))
					f->dense[D_MAIL_BACKPORT] = 1;
				else if ((tok[0] == 'v' && tok[1] >= '2' && tok[1] <= '9') || strstr(tok, "patchv"))
					f->dense[D_MAIL_RESPIN] = 1;
				else if (strchr(tok, '/'))
					f->dense[D_MAIL_SERIES] = 1;
			}
			tn = 0;
		}
		s = e + 1;
		while (*s == ' ' || *s == '\t')
			s++;
	}
}

static void subject_features(struct ctx *c, const char *subj)
{
	struct tokstate t;
	const char *s = pg_cls__skip_subject_prefixes(subj), *colon, *p;
	size_t n;

	mail_prefix_features(c->f, subj);

	/* "netfilter: nf_tables: fix x" -> subsystem "netfilter", "netfilter/nf_tables"; words "fix x" */
	colon = NULL;
	for (p = s; *p; p++) {
		if (*p == ':' && p[1] == ' ')
			colon = p;
		else if (*p == ' ' && (!colon || p > colon + 1)) {
			/* a prefix has no spaces except after ': ' */
			const char *q = p;
			while (*q == ' ')
				q++;
			if (!colon || q != colon + 2)
				break;
		}
	}
	if (colon) {
		const char *st = s;
		unsigned depth = 0;
		uint32_t h = FNV32_INIT;
		for (p = s; p <= colon && depth < 3; p++) {
			if (*p == ':' && p[1] == ' ') {
				emit(c, NS_SPFX, h, s, (size_t)(p - s));
				depth++;
				h = fnv_step(h, '/');
				p++;
				st = p + 1;
				continue;
			}
			if (*p != ' ')
				h = fnv_step(h, (unsigned char)tolower((unsigned char)*p));
		}
		(void)st;
		s = colon + 2;
	}
	n = strlen(s);
	memset(&t, 0, sizeof(t));
	t.uni = NS_SUBJ;
	t.bi = NS_SUBJ2;
	t.lex = NS_LEXS;
	t.lexweight = 3;
	t.max_bigrams = 64;
	tokenize(c, &t, s, n, 64);
}

static void path_features(struct ctx *c, const char *path)
{
	/* FNV-1a is incremental: one pass hashes every leading directory and the file */
	size_t n, depth = 0;
	uint32_t h = FNV32_INIT;

	for (n = 0; path[n]; n++) {
		if (path[n] == '/' && depth < 3) {
			emit(c, NS_PATH, h, path, n);
			depth++;
		}
		/* the subsystems of the lore lists (their own base rates: stage-2 priors) */
		if (!n || path[n - 1] == '/') {
			if (path[n] == 'n' && !strncmp(path + n, "netfilter", 9))
				c->f->dense[D_SUBSYS_NETFILTER] = 1;
			else if (path[n] == 'i' && !strncmp(path + n, "io_uring", 8))
				c->f->dense[D_SUBSYS_IO_URING] = 1;
		}
		h = fnv_step(h, low_tab[(unsigned char)path[n]]);
	}
	if (n)
		emit(c, NS_FILE, h, path, n);
	if (n >= 2 && path[n - 2] == '.' && path[n - 1] == 'h')
		emit_flag(c, FL_HEADER);
	if (!strncmp(path, "Documentation/", 14) || !strncmp(path, "tools/testing/", 14))
		emit_flag(c, FL_DOCS);
}

/* ---- entry point ---- */

int pg_cls__extract(pg_cls_features *f, const pg_cls_input *in, unsigned flags, pg_cls__name_cb cb, void *payload)
{
	struct ctx c;
	struct tokstate t;
	struct body_ctx bc;
	struct msg_lines ml;
	size_t mlen;

	pthread_once(&tab_once, tab_init);
	pthread_once(&lex_once, lex_compile);
	if (!f->seen && !(f->seen = calloc(PG_CLS_DIM / 64, sizeof(uint64_t))))
		return pg_error_setc(PG_ENOMEM, "out of memory extracting features");
	feat_reset(f);
	memset(&c, 0, sizeof(c));
	c.f = f;
	c.cb = cb;
	c.payload = payload;

	if (in->subject && *in->subject)
		subject_features(&c, in->subject);
	mlen = in->message ? (in->message_len ? in->message_len : strlen(in->message)) : 0;
	if (mlen) {
		memset(&t, 0, sizeof(t));
		t.uni = NS_BODY;
		t.bi = NS_BODY2;
		t.lex = NS_LEXB;
		t.lexweight = 1;
		t.max_bigrams = MAX_BODY_BIGRAMS;
		bc.c = &c;
		bc.t = &t;
		if ((c.error = msg_lines_init(&ml, in->message, mlen)) < 0)
			return c.error;
		for_each_kept_line(&ml, body_line, &bc, &f->has_trailers);
		c.error = scan_trailers(f, &ml);
		msg_lines_release(&ml);
		if (c.error < 0)
			return c.error;
		if (t.ntok)
			emit_flag(&c, FL_HAS_BODY);
		if (t.ntok > 120)
			emit_flag(&c, FL_LONG_BODY);
	}
	for (size_t i = 0; i < in->nfiles && i < MAX_FILES; i++)
		if (in->files[i])
			path_features(&c, in->files[i]);
	if (in->nfiles) {
		emit_flag(&c, in->nfiles == 1 ? FL_ONE_FILE : in->nfiles <= 3 ? FL_FEW_FILES : FL_MANY_FILES);
	}
	for (int k = 1; k < EV__COUNT; k++) {
		if (!c.evid[k])
			continue;
		if (k <= EV_KFENCE)
			f->sanitizer = 1;
		if (k == EV_SYZBOT || k == EV_SYZKALLER)
			f->syzbot = 1;
		if (k == EV_REPRO || k == EV_SYZBOT)
			f->reproducer = 1;
	}
	if (f->sanitizer)
		emit_flag(&c, FL_SANITIZER);
	f->dense[D_FIXES_NETFILTER] = f->dense[D_FIXES] * f->dense[D_SUBSYS_NETFILTER];
	f->dense[D_FIXES_IO_URING] = f->dense[D_FIXES] * f->dense[D_SUBSYS_IO_URING];
	if (in->history_cves > 0)
		f->dense[D_HISTORY_CVES] = (float)log2(1.0 + in->history_cves);
	if (in->history_functions > 0)
		f->dense[D_HISTORY_FUNCS] = (float)log2(1.0 + in->history_functions);
	if (f->dense[D_FIXES] > 0) {
		f->dense[D_FIXES_RELEASED] = in->fixes_target_recent != 1;
		if (in->fixes_target_stable_lines > 0)
			f->dense[D_FIXES_STABLE] = (float)log2(1.0 + in->fixes_target_stable_lines);
	}
	if (!(flags & PG_CLS_FEAT_NO_DIFF) && in->diff) {
		size_t dlen = in->diff_len ? in->diff_len : strlen(in->diff);
		if (dlen)
			diff_features(f, in->diff, dlen);
	}
	return c.error;
}

int pg_cls_features_extract(pg_cls_features *f, const pg_cls_input *in, unsigned flags)
{
	return pg_cls__extract(f, in, flags, NULL, NULL);
}

int pg_cls_bug_class_of(pg_cls_bug_class *out, const pg_cls_input *in)
{
	pg_cls_features f;
	int error;
	*out = PG_CLS_NONE;
	pg_cls_features_init(&f);
	if ((error = pg_cls_features_extract(&f, in, PG_CLS_FEAT_NO_DIFF)) == 0)
		*out = pg_cls__bug_class(&f);
	pg_cls_features_release(&f);
	return error;
}

pg_cls_bug_class pg_cls__bug_class(const pg_cls_features *f)
{
	/* specific classes beat generic ones at equal evidence; order is the tie-break */
	static const pg_cls_bug_class order[] = { PG_CLS_UAF, PG_CLS_OOB_WRITE, PG_CLS_OOB_READ, PG_CLS_OOB,
		PG_CLS_NULL_DEREF, PG_CLS_UNINIT, PG_CLS_INT_OVERFLOW, PG_CLS_RACE, PG_CLS_PERM, PG_CLS_LEAK,
		PG_CLS_DOS };
	pg_cls_bug_class best = PG_CLS_NONE;
	unsigned best_n = 0;

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		unsigned n = f->lexicon[order[i]];
		if (n > best_n) {
			best_n = n;
			best = order[i];
		}
	}
	/* an OOB with write or read evidence in the same text gets the direction */
	if (best == PG_CLS_OOB) {
		if (f->lexicon[PG_CLS_OOB_WRITE])
			best = PG_CLS_OOB_WRITE;
		else if (f->lexicon[PG_CLS_OOB_READ])
			best = PG_CLS_OOB_READ;
	}
	if (best == PG_CLS_NONE) {
		if (f->dense[D_NOSPEC] || f->dense[D_ADD_BOUNDS_CHECK])
			best = PG_CLS_OOB;
		else if (f->dense[D_ADD_NULL_CHECK])
			best = PG_CLS_NULL_DEREF;
		else if (f->dense[D_CAPABLE])
			best = PG_CLS_PERM;
		else if (f->lexicon[PG_CLS_OTHER])
			best = PG_CLS_OTHER;
	}
	return best;
}
