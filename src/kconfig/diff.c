/*
 * diff.c - per-file and per-hunk VEX verdicts for a unified diff against a
 * tree and a .config.
 *
 * Each touched file gets its Kbuild verdict; each hunk is located in the
 * tree's copy of the file - at its @@ position, else anywhere by its
 * pre-image (the tree is an older version), else by its post-image (the tree
 * already has the fix) - and the #if context of its changed lines (removed
 * lines, and the insertion point of added ones) is evaluated.
 *
 * VEX mapping (CISA/OpenVEX justifications):
 *   file not built                   -> not_affected, code_not_present
 *   built, every hunk in a false #if -> not_affected, vulnerable_code_not_in_execute_path
 *   some hunk enabled / undecidable  -> affected
 *   hunks not found in the tree and none enabled -> under_investigation
 * A patch is not_affected only when every file it modifies is (files it
 * creates are left out: they hold no vulnerable code).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "kconfig_int.h"
#include "util/str.h"
#include "util/vec.h"
#include "util/diff.h"
#include "util/banned.h"

const char *pg_vex_status_name(pg_vex_status s)
{
	switch (s) {
	case PG_VEX_NOT_AFFECTED: return "not_affected";
	case PG_VEX_UNDER_INVESTIGATION: return "under_investigation";
	default: return "affected";
	}
}

const char *pg_vex_justification_name(pg_vex_justification j)
{
	switch (j) {
	case PG_VEX_CODE_NOT_PRESENT: return "code_not_present";
	case PG_VEX_VULNERABLE_CODE_NOT_IN_EXECUTE_PATH: return "vulnerable_code_not_in_execute_path";
	default: return "";
	}
}

void pg_kfile_verdict_release(pg_kfile_verdict *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->nhunks; i++)
		free(v->hunks[i].evidence);
	free(v->hunks);
	free(v->path);
	free(v->build_reason);
	free(v->evidence);
	memset(v, 0, sizeof(*v));
}

void pg_kpatch_verdict_release(pg_kpatch_verdict *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->nfiles; i++)
		pg_kfile_verdict_release(&v->files[i]);
	free(v->files);
	free(v->evidence);
	memset(v, 0, sizeof(*v));
}

int pg_kconfig_path(pg_kfile_verdict *out, const pg_kbuild *kb, const char *path)
{
	pg_kbuild_verdict bv = { PG_KBUILD_POSSIBLE, NULL };
	int error;

	memset(out, 0, sizeof(*out));
	if (!(out->path = pg_strdup(path)))
		return PG_ENOMEM;
	if (kb) {
		if ((error = pg_kbuild_file(&bv, kb, path)) < 0) {
			pg_kfile_verdict_release(out);
			return error;
		}
	} else if (!(bv.reason = pg_strdup("no Kbuild evaluation"))) {
		pg_kfile_verdict_release(out);
		return PG_ENOMEM;
	}
	out->build = bv.state;
	out->build_reason = bv.reason;
	if (bv.state == PG_KBUILD_NOT_BUILT) {
		out->status = PG_VEX_NOT_AFFECTED;
		out->justification = PG_VEX_CODE_NOT_PRESENT;
	} else
		out->status = PG_VEX_AFFECTED;
	if (!(out->evidence = pg_strdup(bv.reason ? bv.reason : ""))) {
		pg_kfile_verdict_release(out);
		return PG_ENOMEM;
	}
	return 0;
}

/* ---------------------------------------------------------- diff parsing */

struct dline { const char *s; size_t len; char kind; }; /* ' ', '-', '+' */

struct dhunk {
	unsigned old_start, old_count, new_start, new_count;
	PG_VEC(struct dline) lines;
};

struct dfile {
	char *old_path, *new_path; /* NULL for /dev/null */
	PG_VEC(struct dhunk) hunks;
};

typedef PG_VEC(struct dfile) dfile_vec;

static void dfiles_release(dfile_vec *v)
{
	for (size_t i = 0; i < v->len; i++) {
		for (size_t j = 0; j < v->ptr[i].hunks.len; j++)
			pg_vec_release(&v->ptr[i].hunks.ptr[j].lines);
		pg_vec_release(&v->ptr[i].hunks);
		free(v->ptr[i].old_path);
		free(v->ptr[i].new_path);
	}
	pg_vec_release(v);
}

/* "a/foo/bar.c\t2024-..." -> "foo/bar.c"; NULL for /dev/null. *err on junk. */
static char *diff_path(const char *s, size_t len, int *is_null)
{
	size_t n = 0;
	char *p;
	*is_null = 0;
	while (n < len && s[n] != '\t' && s[n] != '\r')
		n++;
	while (n && s[n - 1] == ' ')
		n--;
	if (n == 9 && !strncmp(s, "/dev/null", 9)) {
		*is_null = 1;
		return NULL;
	}
	if (n > 2 && (s[0] == 'a' || s[0] == 'b') && s[1] == '/')
		s += 2, n -= 2;
	if (!(p = pg_strndup(s, n)))
		return NULL;
	return pg_kconfig__normpath(p, 0);
}

static int parse_diff(dfile_vec *files, const char *text, size_t len)
{
	size_t pos = 0;
	unsigned lineno = 0;
	struct dfile *cur = NULL;
	struct dhunk *h = NULL;
	unsigned old_left = 0, new_left = 0;
	int error = 0;

	while (pos < len) {
		size_t end = pos;
		const char *l = text + pos;
		size_t n;
		while (end < len && text[end] != '\n')
			end++;
		n = end - pos;
		pos = end + 1;
		lineno++;
		if (h && (old_left || new_left)) {
			struct dline dl;
			char k = n ? l[0] : ' ';
			if (k == '\\')
				continue; /* "\ No newline at end of file" */
			if (k != ' ' && k != '-' && k != '+')
				return pg_error_setc(PG_EINVALID, "diff line %u: hunk ends early ('%.40s')", lineno, l);
			dl.s = n ? l + 1 : l;
			dl.len = n ? n - 1 : 0;
			if (dl.len && dl.s[dl.len - 1] == '\r')
				dl.len--;
			dl.kind = k;
			if (k != '+') {
				if (!old_left)
					return pg_error_setc(PG_EINVALID, "diff line %u: more pre-image lines than the @@ header says", lineno);
				old_left--;
			}
			if (k != '-') {
				if (!new_left)
					return pg_error_setc(PG_EINVALID, "diff line %u: more post-image lines than the @@ header says", lineno);
				new_left--;
			}
			if (pg_vec_push(&h->lines, dl) < 0)
				return pg_error_setc(PG_ENOMEM, "out of memory");
			continue;
		}
		h = NULL;
		if (n >= 11 && !strncmp(l, "diff --git ", 11)) {
			struct dfile f;
			const char *b = NULL;
			int isnull;
			memset(&f, 0, sizeof(f));
			/* "diff --git a/X b/X": split at " b/" (paths with " b/" in them are rare) */
			for (size_t i = 11; i + 3 < n; i++)
				if (!strncmp(l + i, " b/", 3))
					b = l + i + 1;
			if (b) {
				f.old_path = diff_path(l + 11, (size_t)(b - 1 - (l + 11)), &isnull);
				f.new_path = diff_path(b, (size_t)(l + n - b), &isnull);
			}
			if (pg_vec_push(files, f) < 0) {
				free(f.old_path);
				free(f.new_path);
				return pg_error_setc(PG_ENOMEM, "out of memory");
			}
			cur = &files->ptr[files->len - 1];
			continue;
		}
		if (n >= 4 && !strncmp(l, "--- ", 4) && pos < len && !strncmp(text + pos, "+++ ", 4)) {
			int isnull;
			char *p = diff_path(l + 4, n - 4, &isnull);
			if (!p && !isnull)
				return pg_error_setc(PG_ENOMEM, "out of memory");
			if (!cur || cur->hunks.len) {
				struct dfile f;
				memset(&f, 0, sizeof(f));
				if (pg_vec_push(files, f) < 0) {
					free(p);
					return pg_error_setc(PG_ENOMEM, "out of memory");
				}
				cur = &files->ptr[files->len - 1];
			}
			free(cur->old_path);
			cur->old_path = p;
			continue;
		}
		if (n >= 4 && !strncmp(l, "+++ ", 4) && cur) {
			int isnull;
			char *p = diff_path(l + 4, n - 4, &isnull);
			if (!p && !isnull)
				return pg_error_setc(PG_ENOMEM, "out of memory");
			free(cur->new_path);
			cur->new_path = p;
			continue;
		}
		if (n >= 4 && !strncmp(l, "@@ -", 4)) {
			struct dhunk nh;
			pg_diff_hunk hh;
			unsigned b, d;
			if (!cur)
				return pg_error_setc(PG_EINVALID, "diff line %u: hunk header before any file header", lineno);
			memset(&nh, 0, sizeof(nh));
			if (!pg_diff_hunk_parse(&hh, l, n))
				return pg_error_setc(PG_EINVALID, "diff line %u: malformed hunk header '%.60s'", lineno, l);
			b = hh.old_count, d = hh.new_count;
			if (b > 1000000 || d > 1000000)
				return pg_error_setc(PG_EINVALID, "diff line %u: hunk too large", lineno);
			nh.old_start = hh.old_start, nh.old_count = b, nh.new_start = hh.new_start, nh.new_count = d;
			if (pg_vec_push(&cur->hunks, nh) < 0)
				return pg_error_setc(PG_ENOMEM, "out of memory");
			h = &cur->hunks.ptr[cur->hunks.len - 1];
			old_left = b, new_left = d;
			continue;
		}
		/* commit message, index lines, mode lines: ignore */
	}
	if (h && (old_left || new_left))
		return pg_error_setc(PG_EINVALID, "diff ends inside a hunk (%u pre-image and %u post-image lines missing)",
				     old_left, new_left);
	if (!files->len)
		return pg_error_setc(PG_EINVALID, "no unified diff found (no 'diff --git' or '---/+++' file headers)");
	return error;
}

/* ------------------------------------------------------------- locating */

struct fline { const char *s; size_t len; };
typedef PG_VEC(struct fline) fline_vec;

static int split_lines(fline_vec *out, const char *text, size_t len)
{
	size_t pos = 0;
	while (pos < len) {
		struct fline f;
		size_t end = pos;
		while (end < len && text[end] != '\n')
			end++;
		f.s = text + pos;
		f.len = end - pos;
		if (f.len && f.s[f.len - 1] == '\r')
			f.len--;
		if (pg_vec_push(out, f) < 0)
			return pg_error_setc(PG_ENOMEM, "out of memory");
		pos = end + 1;
	}
	return 0;
}

static int line_eq(const char *a, size_t al, const char *b, size_t bl)
{
	while (al && (a[al - 1] == ' ' || a[al - 1] == '\t'))
		al--;
	while (bl && (b[bl - 1] == ' ' || b[bl - 1] == '\t'))
		bl--;
	return al == bl && !memcmp(a, b, al);
}

/* Does side (lines of kind != skip) match the file at 1-based line at? */
static int match_at(const struct dhunk *h, char skip, const struct fline *fl, size_t nfl, size_t at)
{
	size_t k = at;
	for (size_t i = 0; i < h->lines.len; i++) {
		const struct dline *d = &h->lines.ptr[i];
		if (d->kind == skip)
			continue;
		if (k < 1 || k > nfl || !line_eq(d->s, d->len, fl[k - 1].s, fl[k - 1].len))
			return 0;
		k++;
	}
	return 1;
}

/* Locate one side of the hunk; 0 when not found, else its first line. */
static size_t locate(const struct dhunk *h, char skip, unsigned hint, const struct fline *fl, size_t nfl)
{
	size_t best = 0, bestd = (size_t)-1, side = 0;
	for (size_t i = 0; i < h->lines.len; i++)
		side += h->lines.ptr[i].kind != skip;
	if (!side)
		return hint + 1; /* nothing to match: insertion after line `hint` */
	if (hint >= 1 && match_at(h, skip, fl, nfl, hint))
		return hint;
	for (size_t at = 1; at + side <= nfl + 1; at++) {
		size_t dist = at > hint ? at - hint : hint - at;
		if (dist < bestd && match_at(h, skip, fl, nfl, at))
			best = at, bestd = dist;
	}
	return best;
}

/* Evaluate one located hunk: positions of changed lines on the matched side. */
static int eval_hunk(pg_khunk_verdict *hv, const struct dhunk *h, char skip, size_t at, const pg_kconfig *cfg,
		     const char *path, const char *text, size_t len, pg_kbuild_state fs)
{
	PG_VEC(pg_kline_range) pos = PG_VEC_INIT;
	pg_kcond_result *res = NULL;
	size_t k = at;
	int error = 0, best = -1;
	const char *ev = NULL;
	char changed = skip == '+' ? '-' : '+';

	for (size_t i = 0; i < h->lines.len; i++) {
		const struct dline *d = &h->lines.ptr[i];
		pg_kline_range r;
		if (d->kind == skip) {
			/* a line of the other side: it sits before line k of this side */
			r.start = (unsigned)k, r.count = 1;
			if (pg_vec_push(&pos, r) < 0)
				goto nomem;
			continue;
		}
		if (d->kind == changed) {
			r.start = (unsigned)k, r.count = 1;
			if (pg_vec_push(&pos, r) < 0)
				goto nomem;
		}
		k++;
	}
	hv->line = (unsigned)at;
	if (!pos.len) {
		hv->cond = PG_KCOND_ENABLED; /* context-only hunk: nothing changes */
		goto out;
	}
	if (!(res = calloc(pos.len, sizeof(*res))))
		goto nomem;
	if ((error = pg_kconfig_hunks(res, cfg, path, text, len, pos.ptr, pos.len, fs)) < 0)
		goto out;
	for (size_t i = 0; i < pos.len; i++) {
		if ((int)res[i].cond > best || (!ev && res[i].evidence && (int)res[i].cond == best)) {
			best = (int)res[i].cond;
			ev = res[i].evidence;
		}
	}
	hv->cond = (pg_kcond)best;
	if (best != PG_KCOND_ENABLED && ev && !(hv->evidence = pg_strdup(ev)))
		goto nomem;
	goto out;
nomem:
	error = pg_error_setc(PG_ENOMEM, "out of memory");
out:
	if (res)
		for (size_t i = 0; i < pos.len; i++)
			pg_kcond_result_release(&res[i]);
	free(res);
	pg_vec_release(&pos);
	return error;
}

static int has_suffix(const char *s, const char *sfx)
{
	size_t n = strlen(s), m = strlen(sfx);
	return n >= m && !strcmp(s + n - m, sfx);
}

static int is_c_like(const char *path)
{
	const char *dot = strrchr(path, '.');
	return dot && (!strcmp(dot, ".c") || !strcmp(dot, ".h") || !strcmp(dot, ".S") || !strcmp(dot, ".s"));
}

static char *join_evidence(const pg_kfile_verdict *v)
{
	pg_buf b = PG_BUF_INIT;
	for (size_t i = 0; i < v->nhunks; i++) {
		if (!v->hunks[i].evidence)
			continue;
		if ((b.len && pg_buf_putc(&b, '\n') < 0) || pg_buf_puts(&b, v->hunks[i].evidence) < 0) {
			pg_buf_release(&b);
			return NULL;
		}
	}
	return pg_buf_detach(&b);
}

static int file_verdict(pg_kfile_verdict *out, const struct dfile *df, const pg_kbuild *kb, const pg_ktree *tree,
			const pg_kconfig *cfg)
{
	const char *path = df->old_path ? df->old_path : df->new_path;
	pg_buf content = PG_BUF_INIT;
	fline_vec fl = PG_VEC_INIT;
	int error, any_enabled = 0, any_unknown = 0, any_unlocated = 0, all_disabled = 1;

	if ((error = pg_kconfig_path(out, kb, path)) < 0)
		return error;
	if (!(out->hunks = calloc(df->hunks.len ? df->hunks.len : 1, sizeof(*out->hunks))))
		return pg_error_setc(PG_ENOMEM, "out of memory");
	out->nhunks = df->hunks.len;
	for (size_t i = 0; i < df->hunks.len; i++) {
		out->hunks[i].old_start = df->hunks.ptr[i].old_start;
		out->hunks[i].old_count = df->hunks.ptr[i].old_count;
		out->hunks[i].new_start = df->hunks.ptr[i].new_start;
		out->hunks[i].new_count = df->hunks.ptr[i].new_count;
		out->hunks[i].cond = PG_KCOND_UNKNOWN;
	}
	if (!df->old_path) {
		/* the patch creates the file: no vulnerable code in it */
		out->status = PG_VEX_UNDER_INVESTIGATION;
		out->justification = PG_VEX_JUST_NONE;
		free(out->evidence);
		out->evidence = pg_strdup("file is created by the patch");
		return out->evidence ? 0 : PG_ENOMEM;
	}
	if (out->build == PG_KBUILD_NOT_BUILT || !is_c_like(path) || !df->hunks.len || !tree) {
		const char *why = out->build == PG_KBUILD_NOT_BUILT ? "not evaluated: the file is not built"
				  : !is_c_like(path) ? "not evaluated: not a C or assembly file"
				  : "not evaluated: no tree to read";
		for (size_t i = 0; i < out->nhunks; i++)
			if (!(out->hunks[i].evidence = pg_strdup(why)))
				return PG_ENOMEM;
		return 0;
	}
	error = tree->read(&content, path, tree->payload);
	if (error == PG_ENOTFOUND) {
		error = 0;
		out->status = PG_VEX_UNDER_INVESTIGATION;
		free(out->evidence);
		out->evidence = pg_strdup("file does not exist in this tree (renamed, or never present?)");
		if (!out->evidence)
			error = PG_ENOMEM;
		goto out;
	}
	if (error < 0)
		goto out;
	if ((error = split_lines(&fl, pg_buf_cstr(&content), content.len)) < 0)
		goto out;
	for (size_t i = 0; i < df->hunks.len; i++) {
		const struct dhunk *h = &df->hunks.ptr[i];
		pg_khunk_verdict *hv = &out->hunks[i];
		size_t at;
		char skip = '+';
		if (!(at = locate(h, '+', h->old_start, fl.ptr, fl.len))) {
			skip = '-';
			at = locate(h, '-', h->new_start, fl.ptr, fl.len);
		}
		if (!at) {
			hv->cond = PG_KCOND_UNKNOWN;
			any_unlocated = 1;
			if (!(hv->evidence = pg_strdup("hunk matches neither the pre- nor the post-image of the tree's file"))) {
				error = PG_ENOMEM;
				goto out;
			}
			all_disabled = 0;
			continue;
		}
		/* a header is compiled into built-in and modular units alike: its
		 * "#ifdef MODULE" stays undecided */
		if ((error = eval_hunk(hv, h, skip, at, cfg, path, pg_buf_cstr(&content), content.len,
				       has_suffix(path, ".h") ? PG_KBUILD_POSSIBLE : out->build)) < 0)
			goto out;
		any_enabled |= hv->cond == PG_KCOND_ENABLED;
		any_unknown |= hv->cond == PG_KCOND_UNKNOWN;
		all_disabled &= hv->cond == PG_KCOND_DISABLED;
	}
	if (all_disabled && df->hunks.len) {
		out->status = PG_VEX_NOT_AFFECTED;
		out->justification = PG_VEX_VULNERABLE_CODE_NOT_IN_EXECUTE_PATH;
		free(out->evidence);
		if (!(out->evidence = join_evidence(out)))
			error = PG_ENOMEM;
	} else if (!any_enabled && !any_unknown && any_unlocated) {
		out->status = PG_VEX_UNDER_INVESTIGATION;
		free(out->evidence);
		if (!(out->evidence = join_evidence(out)))
			error = PG_ENOMEM;
	}
out:
	pg_vec_release(&fl);
	pg_buf_release(&content);
	return error;
}

int pg_kconfig_diff(pg_kpatch_verdict *out, const pg_kbuild *kb, const pg_ktree *tree,
		    const pg_kconfig *cfg, const char *diff, size_t len)
{
	dfile_vec files = PG_VEC_INIT;
	pg_buf ev = PG_BUF_INIT;
	int error, considered = 0, not_aff = 0, any_aff = 0, all_cnp = 1;

	memset(out, 0, sizeof(*out));
	if ((error = parse_diff(&files, diff, len)) < 0)
		goto out;
	if (!(out->files = calloc(files.len ? files.len : 1, sizeof(*out->files)))) {
		error = pg_error_setc(PG_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < files.len; i++) {
		pg_kfile_verdict *fv = &out->files[out->nfiles];
		if (!files.ptr[i].old_path && !files.ptr[i].new_path)
			continue; /* a header we could not read names: nothing to judge */
		if ((error = file_verdict(fv, &files.ptr[i], kb, tree, cfg)) < 0) {
			pg_kfile_verdict_release(fv);
			goto out;
		}
		out->nfiles++;
		if (!files.ptr[i].old_path)
			continue; /* created files hold no vulnerable code */
		considered++;
		if (fv->status == PG_VEX_NOT_AFFECTED) {
			not_aff++;
			all_cnp &= fv->justification == PG_VEX_CODE_NOT_PRESENT;
			if ((ev.len && (error = pg_buf_putc(&ev, '\n')) < 0) ||
			    (error = pg_buf_printf(&ev, "%s: %s: ", fv->path, pg_vex_justification_name(fv->justification))) < 0)
				goto out;
			{
				const char *nl = strchr(fv->evidence ? fv->evidence : "", '\n');
				const char *e = fv->evidence ? fv->evidence : "";
				if ((error = pg_buf_put(&ev, e, nl ? (size_t)(nl - e) : strlen(e))) < 0)
					goto out;
			}
		} else if (fv->status == PG_VEX_AFFECTED)
			any_aff = 1;
	}
	if (considered && not_aff == considered) {
		out->status = PG_VEX_NOT_AFFECTED;
		out->justification = all_cnp ? PG_VEX_CODE_NOT_PRESENT : PG_VEX_VULNERABLE_CODE_NOT_IN_EXECUTE_PATH;
		out->evidence = pg_buf_detach(&ev);
	} else {
		out->status = any_aff ? PG_VEX_AFFECTED : PG_VEX_UNDER_INVESTIGATION;
		out->evidence = pg_strdup(any_aff ? "some modified file is built and a changed hunk is (possibly) compiled"
					   : "no modified file could be judged");
	}
	if (!out->evidence)
		error = PG_ENOMEM;
out:
	dfiles_release(&files);
	pg_buf_release(&ev);
	if (error < 0)
		pg_kpatch_verdict_release(out);
	return error;
}

/* ----------------------------------------------------------------- JSON */

static json_t *lines_array(const char *s)
{
	json_t *a = json_array();
	while (a && s && *s) {
		const char *nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s) : strlen(s);
		json_array_append_new(a, json_stringn(s, n));
		s = nl ? nl + 1 : s + n;
	}
	return a;
}

static json_t *file_json(const pg_kfile_verdict *v)
{
	json_t *o = json_object(), *hunks = json_array();
	if (!o || !hunks) {
		json_decref(o);
		json_decref(hunks);
		return NULL;
	}
	json_object_set_new(o, "path", json_string(v->path ? v->path : ""));
	json_object_set_new(o, "build", json_string(pg_kbuild_state_name(v->build)));
	json_object_set_new(o, "build_reason", lines_array(v->build_reason));
	json_object_set_new(o, "status", json_string(pg_vex_status_name(v->status)));
	if (v->justification)
		json_object_set_new(o, "justification", json_string(pg_vex_justification_name(v->justification)));
	json_object_set_new(o, "evidence", lines_array(v->evidence));
	for (size_t i = 0; i < v->nhunks; i++) {
		const pg_khunk_verdict *h = &v->hunks[i];
		json_t *j = json_object();
		json_object_set_new(j, "old_start", json_integer(h->old_start));
		json_object_set_new(j, "old_count", json_integer(h->old_count));
		json_object_set_new(j, "new_start", json_integer(h->new_start));
		json_object_set_new(j, "new_count", json_integer(h->new_count));
		json_object_set_new(j, "line", json_integer(h->line));
		json_object_set_new(j, "condition", json_string(pg_kcond_name(h->cond)));
		if (h->evidence)
			json_object_set_new(j, "evidence", json_string(h->evidence));
		json_array_append_new(hunks, j);
	}
	json_object_set_new(o, "hunks", hunks);
	return o;
}

static int dump(pg_buf *out, json_t *o)
{
	char *s;
	int error;
	if (!o)
		return pg_error_setc(PG_ENOMEM, "out of memory");
	s = json_dumps(o, JSON_SORT_KEYS | JSON_INDENT(2));
	json_decref(o);
	if (!s)
		return pg_error_setc(PG_ENOMEM, "out of memory");
	error = pg_buf_puts(out, s);
	free(s);
	return error;
}

int pg_kfile_verdict_json(pg_buf *out, const pg_kfile_verdict *v)
{
	return dump(out, file_json(v));
}

int pg_kpatch_verdict_json(pg_buf *out, const pg_kpatch_verdict *v)
{
	json_t *o = json_object(), *files = json_array();
	if (!o || !files) {
		json_decref(o);
		json_decref(files);
		return pg_error_setc(PG_ENOMEM, "out of memory");
	}
	json_object_set_new(o, "status", json_string(pg_vex_status_name(v->status)));
	if (v->justification)
		json_object_set_new(o, "justification", json_string(pg_vex_justification_name(v->justification)));
	json_object_set_new(o, "evidence", lines_array(v->evidence));
	for (size_t i = 0; i < v->nfiles; i++)
		json_array_append_new(files, file_json(&v->files[i]));
	json_object_set_new(o, "files", files);
	return dump(out, o);
}
