/*
 * patchid.c - git's stable patch id (`git patch-id --stable`), in C.
 *
 * The state machine mirrors git's builtin/patch-id.c (get_one_patchid) line
 * for line so the ids are interchangeable with git's: header lines of each
 * file diff and its hunk lines are hashed with all whitespace removed, "index"
 * lines, hunk headers (line numbers) and "\ No newline" markers are skipped,
 * and the per-file SHA-1s are summed bytewise with carry, which makes the id
 * independent of file order.  Binary diffs hash the pre/post blob ids of the
 * "index" line, as git does.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "backport/backport_int.h"
#include "patchgap/ingest.h"
#include "util/sha1.h"
#include "util/diff.h"
#include "util/banned.h"

static void flush_one_hunk(unsigned char result[20], pg_sha1 *ctx)
{
	unsigned char hash[20];
	unsigned carry = 0;

	pg_sha1_final(hash, ctx);
	for (int i = 0; i < 20; i++) {
		carry += (unsigned)result[i] + hash[i];
		result[i] = (unsigned char)carry;
		carry >>= 8;
	}
}

static int starts(const char *s, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);
	return n >= k && !memcmp(s, prefix, k);
}


static int is_hex40(const char *p, size_t n)
{
	if (n < 40)
		return 0;
	for (int i = 0; i < 40; i++)
		if (!isxdigit((unsigned char)p[i]))
			return 0;
	return 1;
}

static void hash_nospace(pg_sha1 *ctx, const char *p, size_t n, size_t *patchlen)
{
	char tmp[256];
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		if (isspace((unsigned char)p[i]))
			continue;
		tmp[k++] = p[i];
		if (k == sizeof(tmp)) {
			pg_sha1_update(ctx, tmp, k);
			*patchlen += k;
			k = 0;
		}
	}
	pg_sha1_update(ctx, tmp, k);
	*patchlen += k;
}

int pg_patchid_text(git_oid *out, const char *diff, size_t len, size_t *next)
{
	unsigned char result[20] = { 0 };
	char pre[64] = "", post[64] = "";
	size_t pos = 0, patchlen = 0, stop = len;
	int before = -1, after = -1, binary = 0, found_next = 0;
	pg_sha1 ctx;

	pg_sha1_init(&ctx);
	while (pos < len) {
		const char *line = diff + pos, *nl = memchr(line, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - line) + 1 : len - pos;
		const char *p = line;
		size_t pn = n;
		size_t line_start = pos;

		pos += n;
		if (starts(line, n, "commit "))
			p = line + 7, pn = n - 7;
		else if (starts(line, n, "From "))
			p = line + 5, pn = n - 5;
		else if (starts(line, n, "\\ ") && n > 12)
			continue;
		if (is_hex40(p, pn)) {
			if (patchlen || before != -1) {
				found_next = 1;
				if (next)
					*next = line_start;
				break;
			}
			continue; /* the header of the first commit */
		}
		if (!patchlen && !starts(line, n, "diff "))
			continue;

		if (before == -1) {
			if (starts(line, n, "GIT binary patch") || starts(line, n, "Binary files")) {
				binary = 1;
				before = 0;
				pg_sha1_update(&ctx, pre, strlen(pre));
				pg_sha1_update(&ctx, post, strlen(post));
				flush_one_hunk(result, &ctx);
				continue;
			} else if (starts(line, n, "index ")) {
				const char *dots = memchr(line, '.', n);
				if (dots && dots + 1 < line + n && dots[1] == '.') {
					const char *a = line + 6, *b = dots + 2, *e = b;
					while (e < line + n && *e != ' ' && *e != '\n')
						e++;
					snprintf(pre, sizeof(pre), "%.*s", (int)(dots - a), a);
					snprintf(post, sizeof(post), "%.*s", (int)(e - b), b);
				}
				continue;
			} else if (starts(line, n, "--- "))
				before = after = 1;
			else if (!isalpha((unsigned char)line[0])) {
				stop = pos; /* end of this patch: the rest is the next one */
				break;
			}
		}

		if (binary) {
			if (starts(line, n, "diff ")) {
				binary = 0;
				before = -1;
			}
			continue;
		}

		if (before == 0 && after == 0) {
			if (starts(line, n, "@@ -")) {
				pg_diff_hunk hh;
				if (pg_diff_hunk_parse(&hh, line, n)) {
					before = (int)hh.old_count;
					after = (int)hh.new_count;
				}
				continue;
			}
			if (!starts(line, n, "diff ")) {
				stop = pos;
				break;
			}
			flush_one_hunk(result, &ctx);
			before = after = -1;
		}

		if (line[0] == '-' || line[0] == ' ')
			before--;
		if (line[0] == '+' || line[0] == ' ')
			after--;
		hash_nospace(&ctx, line, n, &patchlen);
	}
	if (!found_next && next)
		*next = stop;
	flush_one_hunk(result, &ctx);
	if (!patchlen)
		return pg_error_setc(PG_ENOTFOUND, "no diff in the text given for a patch id");
	return git_oid_fromraw(out, result) < 0 ? PG_ERROR : 0;
}

int pg_patchid_commit(git_oid *out, git_repository *repo, const git_oid *id)
{
	pg_ingest_diff *d = NULL;
	pg_buf buf = PG_BUF_INIT;
	unsigned info = 0;
	char hex[GIT_OID_HEXSZ + 1];
	int error;

	git_oid_tostr(hex, sizeof(hex), id);
	if ((error = pg_ingest_diff_open(&d, repo)) < 0)
		goto out;
	if ((error = pg_ingest_diff_commit(d, &buf, id, 0, 0, &info)) < 0)
		goto out;
	if (info & PG_INGEST_DIFF_MERGE) {
		error = pg_error_setc(PG_EINVALID, "commit %s is a merge: no patch id", hex);
		goto out;
	}
	if ((error = pg_patchid_text(out, pg_buf_cstr(&buf), buf.len, NULL)) < 0)
		pg_error_set("commit %s changes nothing: no patch id", hex);
out:
	pg_buf_release(&buf);
	pg_ingest_diff_free(d);
	return error;
}
