/*
 * input.c - what the classifier reads: patch files, git format-patch / mbox
 * streams, bare messages and JSON Lines (the stable `patchgap eval` format).
 *
 * The mail parser never fails on content: anything that is not a header or
 * a diff is message text.  It fails only on allocation or oversized input.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "classify/classify_int.h"
#include "util/str.h"
#include "util/banned.h"

#define MBOX_LIMIT ((size_t)256 << 20)

void pg_cls_docs_release(pg_cls_docs *d)
{
	for (size_t i = 0; i < d->n; i++) {
		pg_cls_doc *x = &d->v[i];
		free(x->id);
		free(x->subject);
		free(x->message);
		free(x->diff);
		for (size_t k = 0; k < x->nfiles; k++)
			free(x->files[k]);
		free(x->files);
	}
	free(d->v);
	memset(d, 0, sizeof(*d));
}

void pg_cls_doc_input(pg_cls_input *in, const pg_cls_doc *d)
{
	pg_cls_input z = PG_CLS_INPUT_INIT;
	*in = z;
	in->subject = d->subject;
	in->message = d->message;
	in->diff = d->diff;
	in->files = (const char *const *)d->files;
	in->nfiles = d->nfiles;
	in->history_cves = d->history_cves;
	in->fixes_target_recent = d->fixes_target_recent;
	in->fixes_target_stable_lines = d->fixes_target_stable_lines;
	in->history_functions = d->history_functions;
}

static pg_cls_doc *docs_add(pg_cls_docs *d)
{
	if (d->n == d->alloc) {
		size_t na = d->alloc ? d->alloc * 2 : 16;
		pg_cls_doc *p = realloc(d->v, na * sizeof(*p));
		if (!p) {
			pg_error_setc(PG_ENOMEM, "out of memory");
			return NULL;
		}
		d->v = p;
		d->alloc = na;
	}
	memset(&d->v[d->n], 0, sizeof(d->v[0]));
	d->v[d->n].label = -1;
	d->v[d->n].history_cves = -1;
	d->v[d->n].fixes_target_recent = -1;
	d->v[d->n].fixes_target_stable_lines = -1;
	d->v[d->n].history_functions = -1;
	return &d->v[d->n++];
}

static int doc_add_file(pg_cls_doc *x, const char *p, size_t n)
{
	char **nf;
	for (size_t i = 0; i < x->nfiles; i++)
		if (strlen(x->files[i]) == n && !strncmp(x->files[i], p, n))
			return 0;
	if (!(nf = realloc(x->files, (x->nfiles + 1) * sizeof(*nf))))
		return pg_error_setc(PG_ENOMEM, "out of memory");
	x->files = nf;
	if (!(x->files[x->nfiles] = pg_strndup(p, n)))
		return PG_ENOMEM;
	x->nfiles++;
	return 0;
}

/* ---- mail / patch parsing ---- */

/* Leading hex digits of s[0..avail) (bounded: the input need not be NUL-terminated). */
static size_t hexlen_n(const char *s, size_t avail, size_t max)
{
	size_t n = 0;
	while (n < avail && n < max && ((s[n] >= '0' && s[n] <= '9') || ((s[n] | 0x20) >= 'a' && (s[n] | 0x20) <= 'f')))
		n++;
	return n;
}


struct span { const char *p; size_t n; };

static size_t line_end(const char *s, size_t len, size_t i)
{
	while (i < len && s[i] != '\n')
		i++;
	return i;
}

static int is_header_line(const char *l, size_t n)
{
	size_t k = 0;
	while (k < n && (isalnum((unsigned char)l[k]) || l[k] == '-'))
		k++;
	return k > 0 && k < n && l[k] == ':';
}

static int starts(const char *l, size_t n, const char *w)
{
	size_t m = strlen(w);
	return n >= m && !strncmp(l, w, m);
}

static int starts_ci(const char *l, size_t n, const char *w)
{
	size_t m = strlen(w);
	return n >= m && !strncasecmp(l, w, m);
}

/* Parse the files of a diff from "diff --git a/X b/Y" and "+++ b/X" lines. */
static int diff_files(pg_cls_doc *x, const char *d, size_t len)
{
	size_t i = 0;
	int error = 0;
	while (i < len && !error) {
		size_t e = line_end(d, len, i);
		const char *l = d + i;
		size_t n = e - i;
		if (starts(l, n, "diff --git a/")) {
			const char *b = memmem(l, n, " b/", 3);
			if (b) {
				error = doc_add_file(x, l + 13, (size_t)(b - l - 13));
				if (!error && (size_t)(b + 3 - l) < n)
					error = doc_add_file(x, b + 3, n - (size_t)(b + 3 - l));
			}
		} else if (starts(l, n, "+++ b/") && n > 6) {
			error = doc_add_file(x, l + 6, n - 6);
		}
		i = e + 1;
	}
	return error;
}

static char *dup_unfolded(const char *p, size_t n)
{
	pg_buf b = PG_BUF_INIT;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (c == '\r')
			continue;
		if (c == '\n' || c == '\t')
			c = ' ';
		if (c == ' ' && b.len && b.ptr[b.len - 1] == ' ')
			continue;
		if (pg_buf_putc(&b, c) < 0) {
			pg_buf_release(&b);
			return NULL;
		}
	}
	if (!b.ptr && pg_buf_put(&b, "", 0) < 0)
		return NULL;
	return pg_buf_detach(&b);
}

static int set_subject(pg_cls_doc *x, const char *p, size_t n)
{
	char *u = dup_unfolded(p, n), *t;
	const char *s;
	if (!u)
		return pg_error_setc(PG_ENOMEM, "out of memory");
	t = pg_str_trim(u);
	s = pg_cls__skip_subject_prefixes(t);
	free(x->subject);
	x->subject = pg_strdup(s);
	free(u);
	return x->subject ? 0 : PG_ENOMEM;
}

/* One mail, git-show output, patch or bare message in [s, s+len). */
static int parse_one(pg_cls_docs *docs, const char *s, size_t len, size_t ordinal)
{
	pg_cls_doc *x = docs_add(docs);
	size_t i = 0, e, body, msg_end, diff_start = len;
	int error = 0, indented = 0;
	char idbuf[64];

	if (!x)
		return PG_ENOMEM;
	e = line_end(s, len, 0);
	if (starts(s, e, "From ")) {
		/* mbox separator; git format-patch writes "From <sha> Mon Sep 17 ..." */
		if (hexlen_n(s + 5, e - 5, 40) == 40 && !(x->id = pg_strndup(s + 5, 40)))
			return PG_ENOMEM;
		i = e + 1;
	} else if (starts(s, e, "commit ") && hexlen_n(s + 7, e - 7, 40) >= 7) {
		/* git show / git log output: headers, blank line, message indented by 4 */
		if (!(x->id = pg_strndup(s + 7, hexlen_n(s + 7, e - 7, 40))))
			return PG_ENOMEM;
		i = e + 1;
		indented = 1;
	}
	/* RFC 822 headers (with continuation lines) */
	while (i < len) {
		e = line_end(s, len, i);
		if (e == i || (e == i + 1 && s[i] == '\r')) {
			i = e + 1;
			break;
		}
		if (!is_header_line(s + i, e - i) && !(s[i] == ' ' || s[i] == '\t'))
			break; /* not a header block: the text starts here */
		{
			size_t he = e;
			while (he + 1 < len && (s[he + 1] == ' ' || s[he + 1] == '\t'))
				he = line_end(s, len, he + 1);
			if (starts_ci(s + i, he - i, "Subject:")) {
				if ((error = set_subject(x, s + i + 8, he - i - 8)) < 0)
					return error;
			} else if (starts_ci(s + i, he - i, "Message-ID:") && !x->id) {
				char *u = dup_unfolded(s + i + 11, he - i - 11), *t;
				if (!u)
					return PG_ENOMEM;
				t = pg_str_trim(u);
				if (*t == '<')
					t++;
				if (*t && t[strlen(t) - 1] == '>')
					t[strlen(t) - 1] = '\0';
				x->id = pg_strdup(t);
				free(u);
				if (!x->id)
					return PG_ENOMEM;
			}
			i = he + 1;
		}
	}
	if (i > len)
		i = len;
	body = i;
	/* the diff: first "diff --git" / "--- a/" / "Index: " line at the start of a line */
	for (size_t j = body; j < len;) {
		size_t le = line_end(s, len, j);
		const char *l = s + j;
		size_t n = le - j;
		if (starts(l, n, "diff --git ") || (starts(l, n, "--- a/") && le + 1 < len && starts(s + le + 1, len - le - 1, "+++ ")) ||
		    starts(l, n, "Index: ")) {
			diff_start = j;
			break;
		}
		j = le + 1;
	}
	msg_end = diff_start;
	/* the commit message ends at the first "---" line */
	for (size_t j = body; j < diff_start;) {
		size_t le = line_end(s, len, j);
		if (le - j == 3 && !strncmp(s + j, "---", 3)) {
			msg_end = j;
			break;
		}
		j = le + 1;
	}
	{
		pg_buf m = PG_BUF_INIT;
		int got_subject = x->subject != NULL;
		for (size_t j = body; j < msg_end && !error;) {
			size_t le = line_end(s, len, j);
			const char *l = s + j;
			size_t n = (le < msg_end ? le : msg_end) - j;
			if (indented && n >= 4 && !strncmp(l, "    ", 4)) {
				l += 4;
				n -= 4;
			}
			if (n && l[n - 1] == '\r')
				n--;
			/* in-body pseudo-headers of format-patch mails */
			if (!m.len && (starts(l, n, "From: ") || starts(l, n, "Date: "))) {
				j = le + 1;
				continue;
			}
			if (!m.len && starts(l, n, "Subject: ")) {
				error = set_subject(x, l + 9, n - 9);
				got_subject = 1;
				j = le + 1;
				continue;
			}
			if (!got_subject) {
				if (n) {
					error = set_subject(x, l, n);
					got_subject = 1;
				}
				j = le + 1;
				continue;
			}
			if (!m.len && !n) {
				j = le + 1;
				continue;
			}
			if (!error)
				error = pg_buf_put(&m, l, n);
			if (!error)
				error = pg_buf_putc(&m, '\n');
			j = le + 1;
		}
		if (!error && !m.ptr)
			error = pg_buf_put(&m, "", 0);
		/* one newline at the end, not the blank lines before the diff */
		while (!error && m.len >= 2 && m.ptr[m.len - 1] == '\n' && m.ptr[m.len - 2] == '\n')
			m.ptr[--m.len] = '\0';
		if (!error)
			x->message = pg_buf_detach(&m);
		pg_buf_release(&m);
		if (error < 0)
			return error;
		if (!x->message)
			return pg_error_setc(PG_ENOMEM, "out of memory");
	}
	if (!x->subject && !(x->subject = pg_strdup("")))
		return PG_ENOMEM;
	if (diff_start < len) {
		size_t dend = len;
		/* drop the mail signature ("-- " line) after the diff */
		for (size_t j = diff_start; j < len;) {
			size_t le = line_end(s, len, j);
			if (le - j == 3 && !strncmp(s + j, "-- ", 3)) {
				dend = j;
				break;
			}
			j = le + 1;
		}
		if (!(x->diff = pg_strndup(s + diff_start, dend - diff_start)))
			return PG_ENOMEM;
		if ((error = diff_files(x, x->diff, strlen(x->diff))) < 0)
			return error;
	}
	if (!x->id) {
		snprintf(idbuf, sizeof(idbuf), "mail %zu", ordinal);
		if (!(x->id = pg_strdup(idbuf)))
			return PG_ENOMEM;
	}
	return 0;
}

int pg_cls_parse_mbox(pg_cls_docs *out, const char *text, size_t len)
{
	size_t start = 0, i = 0, ordinal = 1;
	int error;

	if (len > MBOX_LIMIT)
		return pg_error_setc(PG_EINVALID, "input too large (%zu bytes; the limit is %zu)", len, MBOX_LIMIT);
	/* split at "From " lines that start a new mail (followed by a header line) */
	while (i < len) {
		size_t e = line_end(text, len, i);
		if (i > start && starts(text + i, e - i, "From ") && e + 1 < len) {
			size_t ne = line_end(text, len, e + 1);
			if (is_header_line(text + e + 1, ne - e - 1)) {
				if ((error = parse_one(out, text + start, i - start, ordinal++)) < 0)
					return error;
				start = i;
			}
		}
		i = e + 1;
	}
	if (start < len || !out->n)
		return parse_one(out, text + start, len > start ? len - start : 0, ordinal);
	return 0;
}

/* ---- JSON Lines ---- */

static int json_doc(pg_cls_doc *x, json_t *o, const char *name, size_t lineno)
{
	json_t *v;
	const char *keys[] = { "subject", "message", "diff" };
	char **dst[] = { &x->subject, &x->message, &x->diff };

	for (int k = 0; k < 3; k++) {
		v = json_object_get(o, keys[k]);
		if (!v || json_is_null(v))
			continue;
		if (!json_is_string(v))
			return pg_error_setc(PG_EINVALID, "'%s' line %zu: \"%s\" must be a string", name, lineno, keys[k]);
		if (!(*dst[k] = pg_strndup(json_string_value(v), json_string_length(v))))
			return PG_ENOMEM;
	}
	if (!x->subject && !(x->subject = pg_strdup("")))
		return PG_ENOMEM;
	if (!x->message && !(x->message = pg_strdup("")))
		return PG_ENOMEM;
	if ((v = json_object_get(o, "files")) && !json_is_null(v)) {
		size_t i;
		json_t *f;
		if (!json_is_array(v))
			return pg_error_setc(PG_EINVALID, "'%s' line %zu: \"files\" must be an array of strings", name, lineno);
		json_array_foreach(v, i, f) {
			int error;
			if (!json_is_string(f))
				return pg_error_setc(PG_EINVALID, "'%s' line %zu: \"files\" must be an array of strings", name, lineno);
			if ((error = doc_add_file(x, json_string_value(f), json_string_length(f))) < 0)
				return error;
		}
	} else if (x->diff && diff_files(x, x->diff, strlen(x->diff)) < 0) {
		return PG_ENOMEM;
	}
	if ((v = json_object_get(o, "label")) && !json_is_null(v)) {
		if (json_is_boolean(v))
			x->label = json_is_true(v);
		else if (json_is_integer(v) && (json_integer_value(v) == 0 || json_integer_value(v) == 1))
			x->label = (int)json_integer_value(v);
		else
			return pg_error_setc(PG_EINVALID, "'%s' line %zu: \"label\" must be 0 or 1", name, lineno);
	}
	if ((v = json_object_get(o, "history_cves")) && !json_is_null(v)) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1000000)
			return pg_error_setc(PG_EINVALID, "'%s' line %zu: \"history_cves\" must be a count 0..1000000",
					     name, lineno);
		x->history_cves = (int)json_integer_value(v);
	}
	if ((v = json_object_get(o, "history_functions")) && !json_is_null(v)) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1000000)
			return pg_error_setc(PG_EINVALID,
					     "'%s' line %zu: \"history_functions\" must be a count 0..1000000", name,
					     lineno);
		x->history_functions = (int)json_integer_value(v);
	}
	if ((v = json_object_get(o, "fixes_target_recent")) && !json_is_null(v)) {
		if (json_is_boolean(v))
			x->fixes_target_recent = json_is_true(v);
		else if (json_is_integer(v) && (json_integer_value(v) == 0 || json_integer_value(v) == 1))
			x->fixes_target_recent = (int)json_integer_value(v);
		else
			return pg_error_setc(PG_EINVALID, "'%s' line %zu: \"fixes_target_recent\" must be 0 or 1", name,
					     lineno);
	}
	if ((v = json_object_get(o, "fixes_target_stable_lines")) && !json_is_null(v)) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1000)
			return pg_error_setc(PG_EINVALID,
					     "'%s' line %zu: \"fixes_target_stable_lines\" must be a count 0..1000", name,
					     lineno);
		x->fixes_target_stable_lines = (int)json_integer_value(v);
	}
	if ((v = json_object_get(o, "id")) && json_is_string(v))
		x->id = pg_strdup(json_string_value(v));
	else {
		char buf[48];
		snprintf(buf, sizeof(buf), "line %zu", lineno);
		x->id = pg_strdup(buf);
	}
	return x->id ? 0 : PG_ENOMEM;
}

int pg_cls_parse_jsonl(pg_cls_docs *out, const char *text, size_t len, const char *name)
{
	size_t i = 0, lineno = 0;
	int error = 0;

	while (i < len) {
		size_t e = line_end(text, len, i), st = i;
		json_t *o;
		json_error_t je;
		pg_cls_doc *x;

		lineno++;
		i = e + 1;
		while (st < e && isspace((unsigned char)text[st]))
			st++;
		if (st == e)
			continue;
		o = json_loadb(text + st, e - st, JSON_REJECT_DUPLICATES, &je);
		if (!o)
			return pg_error_setc(PG_EINVALID, "'%s' line %zu: invalid JSON (%s)%s", name, lineno, je.text,
					     e >= len ? " - truncated last line?" : "");
		if (!json_is_object(o)) {
			json_decref(o);
			return pg_error_setc(PG_EINVALID, "'%s' line %zu: expected a JSON object", name, lineno);
		}
		if (!(x = docs_add(out))) {
			json_decref(o);
			return PG_ENOMEM;
		}
		error = json_doc(x, o, name, lineno);
		json_decref(o);
		if (error < 0)
			return error;
	}
	return 0;
}

int pg_cls_read_input(pg_cls_docs *out, const char *path, const char *format)
{
	pg_buf b = PG_BUF_INIT;
	const char *name = strcmp(path, "-") ? path : "stdin";
	size_t i = 0;
	int error;

	pg_buf_init(&b, MBOX_LIMIT);
	if ((error = pg_buf_read_file(&b, path)) < 0)
		goto out;
	while (i < b.len && isspace((unsigned char)b.ptr[i]))
		i++;
	if (format && strcmp(format, "jsonl") && strcmp(format, "mbox")) {
		error = pg_error_setc(PG_EINVALID, "unknown input format '%s' (jsonl or mbox)", format);
		goto out;
	}
	if (format ? !strcmp(format, "jsonl") : (i < b.len && b.ptr[i] == '{'))
		error = pg_cls_parse_jsonl(out, b.ptr, b.len, name);
	else
		error = pg_cls_parse_mbox(out, b.ptr, b.len);
	if (error < 0 && error != PG_ENOMEM)
		pg_error_prefix("input '%s'", name);
out:
	pg_buf_release(&b);
	return error;
}

const char *pg_cls_message_body(const char *raw)
{
	const char *p = raw;
	if (!raw)
		return "";
	/* the subject paragraph ends at the first blank line */
	for (;;) {
		const char *nl = strchr(p, '\n'), *q;
		if (!nl)
			return "";
		q = nl + 1;
		while (*q == ' ' || *q == '\t' || *q == '\r')
			q++;
		if (*q == '\n' || !*q) {
			while (*q == '\n' || *q == ' ' || *q == '\t' || *q == '\r')
				q++;
			return q;
		}
		p = nl + 1;
	}
}

char *pg_cls__subject_key(const char *subject)
{
	const char *s = pg_cls__skip_subject_prefixes(subject ? subject : "");
	pg_buf b = PG_BUF_INIT;
	for (; *s; s++) {
		char c = (char)tolower((unsigned char)*s);
		if (isspace((unsigned char)c)) {
			if (b.len && b.ptr[b.len - 1] != ' ' && pg_buf_putc(&b, ' ') < 0)
				goto nomem;
			continue;
		}
		if (pg_buf_putc(&b, c) < 0)
			goto nomem;
	}
	while (b.len && b.ptr[b.len - 1] == ' ')
		b.ptr[--b.len] = '\0';
	if (!b.ptr && pg_buf_put(&b, "", 0) < 0)
		goto nomem;
	return pg_buf_detach(&b);
nomem:
	pg_buf_release(&b);
	return NULL;
}

/* ---- metrics ---- */

struct scored { double s; int y; };

static int cmp_scored(const void *pa, const void *pb)
{
	const struct scored *a = pa, *b = pb;
	if (a->s != b->s)
		return a->s < b->s ? 1 : -1;
	return a->y - b->y;
}

int pg_cls_metrics_compute(pg_cls_metrics *m, const double *scores, const int *labels, size_t n, double threshold)
{
	struct scored *v;
	size_t tp = 0, fp = 0, i;
	double prev_r = 0;

	memset(m, 0, sizeof(*m));
	m->n = n;
	m->threshold = threshold;
	for (i = 0; i < n; i++) {
		if (labels[i] != 0 && labels[i] != 1)
			return pg_error_setc(PG_EINVALID, "label of item %zu is %d, not 0 or 1", i + 1, labels[i]);
		m->positives += (size_t)labels[i];
		if (scores[i] >= threshold)
			labels[i] ? m->tp++ : m->fp++;
		else
			labels[i] ? m->fn++ : m->tn++;
	}
	m->precision = m->tp + m->fp ? (double)m->tp / (double)(m->tp + m->fp) : 0;
	m->recall = m->positives ? (double)m->tp / (double)m->positives : 0;
	m->f1 = m->precision + m->recall > 0 ? 2 * m->precision * m->recall / (m->precision + m->recall) : 0;
	if (!n || !m->positives)
		return 0;
	if (!(v = malloc(n * sizeof(*v))))
		return pg_error_setc(PG_ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		v[i].s = scores[i];
		v[i].y = labels[i];
	}
	qsort(v, n, sizeof(*v), cmp_scored);
	/* walk the cut points (distinct scores): average precision and precision at a recall */
	for (i = 0; i < n;) {
		size_t j = i;
		double p, r;
		while (j < n && v[j].s == v[i].s) {
			v[j].y ? tp++ : fp++;
			j++;
		}
		p = (double)tp / (double)(tp + fp);
		r = (double)tp / (double)m->positives;
		m->pr_auc += (r - prev_r) * p;
		prev_r = r;
		if (r >= 0.90 - 1e-12 && p > m->p_at_r90) {
			m->p_at_r90 = p;
			m->t_at_r90 = v[i].s;
		}
		if (r >= 0.95 - 1e-12 && p > m->p_at_r95) {
			m->p_at_r95 = p;
			m->t_at_r95 = v[i].s;
		}
		i = j;
	}
	free(v);
	return 0;
}
