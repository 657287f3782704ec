/*
 * text.c - plain-text advisories as an mbox (one message per
 * vulnerability), laid out like the kernel CNA's announcements:
 * Description, Affected and fixed versions (one line per branch),
 * Affected files, then for the document's branch (focus_branch) its status
 * and what to do, or the status of every branch, and References.
 *
 * Bytes depend only on the model: the Date header and mbox From line are
 * the current revision's date; body lines starting with "From " are quoted
 * (mboxrd) so the mailbox stays parseable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "advise/advise_int.h"
#include "util/str.h"
#include "util/fs.h"
#include "util/banned.h"

static int heading(pg_buf *b, const char *title)
{
	size_t n = strlen(title);
	int error = pg_buf_printf(b, "\n%s\n", title);
	for (size_t i = 0; !error && i < n; i++)
		error = pg_buf_putc(b, '=');
	return error < 0 ? error : pg_buf_puts(b, "\n\n");
}

static const char *short_sha(char buf[13], const char *sha)
{
	snprintf(buf, 13, "%s", sha ? sha : "");
	return buf;
}

/* Bytes written since the last line break of b: where a header line is. */
static size_t column(const pg_buf *b)
{
	size_t c = 0;
	while (c < b->len && b->ptr[b->len - 1 - c] != '\n')
		c++;
	return c;
}

/*
 * Part of a header value: every control byte (a newline would start a new
 * header: "Bcc:") becomes a space, and long lines are folded (RFC 5322:
 * a line break before a space) near 78 characters, or hard at 900 when a
 * value has no space, so no line exceeds the 998-byte limit.
 */
static int put_header_value(pg_buf *b, const char *s)
{
	size_t col = column(b);
	int error = 0;
	for (; *s && !error; s++) {
		char c = (unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s;
		if ((c == ' ' && col >= 78) || col >= 900) {
			if ((error = pg_buf_putc(b, '\n')) < 0 || (c != ' ' && (error = pg_buf_putc(b, ' ')) < 0))
				break;
			col = c != ' ';
		}
		error = pg_buf_putc(b, c);
		col++;
	}
	return error;
}

/* An id inside a header token (Message-ID): one atom, percent-encoded. */
static int put_header_id(pg_buf *b, const char *id)
{
	return *id ? pg_fs_safe_name(b, id, strlen(id), NULL) : 0;
}

/* Append text, quoting mbox "From " lines. */
static int put_body(pg_buf *b, const char *text)
{
	const char *p = text;
	int error = 0;
	while (*p && !error) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p + 1) : strlen(p);
		if (!strncmp(p, "From ", 5) || (p[0] == '>' && strspn(p, ">") && !strncmp(p + strspn(p, ">"), "From ", 5)))
			error = pg_buf_putc(b, '>');
		if (!error)
			error = pg_buf_put(b, p, n);
		p += n;
	}
	if (!error && (p == text || p[-1] != '\n'))
		error = pg_buf_putc(b, '\n');
	return error;
}

static int version_line(pg_buf *b, const pg_advise_doc *doc, const pg_advise_state *s)
{
	const pg_advise_product *p = pg_advise_doc_product(doc, s->product);
	char label[160], a[13], c[13];
	pg_advise__product_label(label, sizeof(label), p);
	switch (s->status) {
	case PG_ADVISE_FIXED:
		if (s->vuln_version || s->vuln_sha)
			return pg_buf_printf(b, "\t%s: issue introduced in %s with commit %s and fixed in %s with commit %s\n",
					     label, s->vuln_version ? s->vuln_version : "(unknown)",
					     s->vuln_sha ? short_sha(a, s->vuln_sha) : "(unknown)",
					     s->fix_version ? s->fix_version : "(unreleased)",
					     s->fix_sha ? short_sha(c, s->fix_sha) : "(unknown)");
		return pg_buf_printf(b, "\t%s: fixed in %s with commit %s\n", label,
				     s->fix_version ? s->fix_version : "(unreleased)",
				     s->fix_sha ? short_sha(c, s->fix_sha) : "(unknown)");
	case PG_ADVISE_AFFECTED:
		return pg_buf_printf(b, "\t%s: issue introduced in %s with commit %s and NOT fixed yet\n", label,
				     s->vuln_version ? s->vuln_version : "(unknown)",
				     s->vuln_sha ? short_sha(a, s->vuln_sha) : "(unknown)");
	case PG_ADVISE_NOT_AFFECTED:
		return pg_buf_printf(b, "\t%s: not affected%s%s%s\n", label, s->justification ? " (" : "",
				     s->justification ? s->justification : "", s->justification ? ")" : "");
	default:
		return pg_buf_printf(b, "\t%s: status unknown (under investigation)\n", label);
	}
}

static int status_block(pg_buf *b, const pg_advise_doc *doc, const pg_advise_state *s)
{
	const pg_advise_product *p = pg_advise_doc_product(doc, s->product);
	char label[160];
	const char *todo;
	int error;
	pg_advise__product_label(label, sizeof(label), p);
	switch (s->status) {
	case PG_ADVISE_AFFECTED: todo = s->remediation ? s->remediation : "backport the fix"; break;
	case PG_ADVISE_FIXED: todo = s->remediation ? s->remediation : "update to a release containing the fix"; break;
	case PG_ADVISE_NOT_AFFECTED: todo = "nothing: this branch is not affected"; break;
	default: todo = "assess the branch: no evidence either way yet"; break;
	}
	if ((error = pg_buf_printf(b, "Branch:     %s\nStatus:     %s\n", label, pg_advise_status_name(s->status))) < 0)
		return error;
	if (s->justification && (error = pg_buf_printf(b, "Why:        %s\n", s->justification)) < 0)
		return error;
	if (s->evidence && (error = pg_buf_printf(b, "Evidence:   %s\n", s->evidence)) < 0)
		return error;
	return pg_buf_printf(b, "What to do: %s\n", todo);
}

static int message(pg_buf *out, const pg_advise_doc *doc, const pg_advise_vuln *v)
{
	pg_buf body = PG_BUF_INIT;
	struct tm tm;
	time_t t = (time_t)doc->current_date;
	char date[64], fromdate[64], focus[160] = "";
	const pg_advise_state *fs = NULL;
	int rev = doc->nrevisions ? doc->revisions[doc->nrevisions - 1].number : 1, error = 0;
	size_t naff = 0;

	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	strftime(fromdate, sizeof(fromdate), "%a %b %e %H:%M:%S %Y", &tm);
	for (size_t i = 0; i < v->nstates; i++)
		naff += v->states[i].status == PG_ADVISE_AFFECTED || v->states[i].status == PG_ADVISE_FIXED;
	if (doc->focus_branch) {
		/* the focus is the whole-branch product of that branch, else the first one */
		for (size_t i = 0; i < v->nstates && !fs; i++) {
			const pg_advise_product *p = pg_advise_doc_product(doc, v->states[i].product);
			if (p->branch && !strcmp(p->branch, doc->focus_branch) && !p->build)
				fs = &v->states[i];
		}
		if (!fs && v->nstates == 1)
			fs = &v->states[0];
		if (fs)
			pg_advise__product_label(focus, sizeof(focus), pg_advise_doc_product(doc, fs->product));
	}
	if ((error = pg_buf_printf(out, "From patchgap %s\nFrom: ", fromdate)) < 0 ||
	    (error = put_header_value(out, doc->publisher ? doc->publisher : "patchgap")) < 0 ||
	    (error = pg_buf_printf(out, " <advisories@patchgap.invalid>\nDate: %s\n", date)) < 0 ||
	    (error = pg_buf_puts(out, "Subject: ")) < 0 ||
	    (error = put_header_value(out, v->rejected ? "REJECTED: " : "")) < 0 ||
	    (error = put_header_value(out, v->id)) < 0 || (error = pg_buf_puts(out, ": ")) < 0 ||
	    (error = put_header_value(out, v->title ? v->title : "(no title)")) < 0 ||
	    (fs && ((error = pg_buf_puts(out, " [")) < 0 || (error = put_header_value(out, focus)) < 0 ||
		    (error = pg_buf_printf(out, ": %s]", pg_advise_status_name(fs->status))) < 0)) ||
	    (error = pg_buf_putc(out, '\n')) < 0 ||
	    (error = pg_buf_puts(out, "Message-ID: <")) < 0 || (error = put_header_id(out, doc->id)) < 0 ||
	    (error = pg_buf_putc(out, '.')) < 0 || (error = put_header_id(out, v->id)) < 0 ||
	    (error = pg_buf_printf(out, ".r%d@patchgap.invalid>\nX-Patchgap-Document: ", rev)) < 0 ||
	    (error = put_header_value(out, doc->id)) < 0 ||
	    (error = pg_buf_printf(out, "\nX-Patchgap-Revision: %d\nMIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n"
				   "Content-Transfer-Encoding: 8bit\n", rev)) < 0)
		goto out;

	if (v->rejected) {
		if ((error = heading(&body, "Rejected")) < 0 ||
		    (error = pg_buf_printf(&body, "%s has been rejected and is withdrawn: %s\nNo action is needed for it.\n",
					   v->id, v->rejection_reason ? v->rejection_reason : "no reason given")) < 0)
			goto out;
	}
	if ((error = heading(&body, "Description")) < 0 ||
	    (error = pg_buf_printf(&body, "%s\n", v->description ? v->description : v->title ? v->title : v->id)) < 0)
		goto out;
	if (v->cvss_vector && (error = pg_buf_printf(&body, "\nCVSS: %.1f %s (%s)\n", v->cvss_score,
						     v->cvss_severity ? v->cvss_severity : "", v->cvss_vector)) < 0)
		goto out;
	if (v->cwe && (error = pg_buf_printf(&body, "Weakness: %s%s%s%s\n", v->cwe, v->bug_class ? " (" : "",
					     v->bug_class ? v->bug_class : "", v->bug_class ? ")" : "")) < 0)
		goto out;
	if ((error = heading(&body, "Affected and fixed versions")) < 0)
		goto out;
	for (size_t i = 0; i < v->nstates; i++)
		if ((error = version_line(&body, doc, &v->states[i])) < 0)
			goto out;
	if (!naff && !v->rejected &&
	    (error = pg_buf_puts(&body, "\nNone of the branches covered by this advisory is affected.\n")) < 0)
		goto out;
	if (v->program_files.n) {
		if ((error = heading(&body, "Affected files")) < 0 ||
		    (error = pg_buf_printf(&body, "The file(s) affected by this issue are:\n")) < 0)
			goto out;
		for (size_t i = 0; i < v->program_files.n; i++)
			if ((error = pg_buf_printf(&body, "\t%s\n", v->program_files.v[i])) < 0)
				goto out;
	}
	if (fs) {
		char h[200];
		snprintf(h, sizeof(h), "This branch: %s", focus);
		if ((error = heading(&body, h)) < 0 || (error = status_block(&body, doc, fs)) < 0)
			goto out;
	} else if (v->nstates) {
		if ((error = heading(&body, "Status and what to do, per branch")) < 0)
			goto out;
		for (size_t i = 0; i < v->nstates; i++)
			if ((i && (error = pg_buf_putc(&body, '\n')) < 0) ||
			    (error = status_block(&body, doc, &v->states[i])) < 0)
				goto out;
	}
	if (v->references.n || v->fix_commits.n) {
		if ((error = heading(&body, "References")) < 0)
			goto out;
		for (size_t i = 0; i < v->references.n; i++)
			if ((error = pg_buf_printf(&body, "\t%s\n", v->references.v[i])) < 0)
				goto out;
	}
	{
		char d[32];
		pg_time_iso8601(d, sizeof(d), doc->current_date);
		if ((error = pg_buf_printf(&body, "\n-- \npatchgap advisory %s, revision %d (%s)\n", doc->id, rev, d)) < 0)
			goto out;
	}
	if ((error = pg_buf_putc(out, '\n')) < 0 || (error = put_body(out, pg_buf_cstr(&body) + 1)) < 0 ||
	    (error = pg_buf_putc(out, '\n')) < 0)
		goto out;
out:
	pg_buf_release(&body);
	return error;
}

int pg_advise_write_text(pg_buf *out, const pg_advise_doc *doc)
{
	int error = 0;
	for (size_t i = 0; i < doc->nvulns && !error; i++)
		error = message(out, doc, &doc->vulns[i]);
	return error;
}

static const struct {
	const char *name, *ext;
} formats[] = {
	{ "cve5", ".cve5.json" }, { "osv", ".osv.json" }, { "csaf", ".csaf.json" },
	{ "openvex", ".openvex.json" }, { "text", ".mbox" },
};

const char *pg_advise_format_name(pg_advise_format f)
{
	return (unsigned)f < PG_ADVISE_NFORMATS ? formats[f].name : "?";
}

const char *pg_advise_format_ext(pg_advise_format f)
{
	return (unsigned)f < PG_ADVISE_NFORMATS ? formats[f].ext : "";
}

int pg_advise_format_parse(pg_advise_format *out, const char *s)
{
	for (int i = 0; i < PG_ADVISE_NFORMATS; i++)
		if (s && !strcmp(s, formats[i].name)) {
			*out = (pg_advise_format)i;
			return 0;
		}
	return pg_error_setc(PG_EINVALID, "'%s' is not an advisory format (cve5, osv, csaf, openvex, text)",
			     s ? s : "(null)");
}

int pg_advise_write(pg_buf *out, pg_advise_format f, const pg_advise_doc *doc, size_t vi)
{
	switch (f) {
	case PG_ADVISE_CVE5: return pg_advise_write_cve5(out, doc, vi);
	case PG_ADVISE_OSV: return pg_advise_write_osv(out, doc, vi);
	case PG_ADVISE_CSAF: return pg_advise_write_csaf(out, doc);
	case PG_ADVISE_OPENVEX: return pg_advise_write_openvex(out, doc);
	case PG_ADVISE_TEXT: return pg_advise_write_text(out, doc);
	default: return pg_error_setc(PG_EINVALID, "unknown advisory format %d", (int)f);
	}
}
