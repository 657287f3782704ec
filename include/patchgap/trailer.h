/*
 * trailer.h - parse the trailers and annotations of a kernel commit message.
 *
 * Real-world messages are messy; the parser never fails on content: a line
 * that looks like a trailer but cannot be understood is returned with
 * malformed = 1 and the reason in `hint`.  Recognised (kind names as stored):
 *   fixes         Fixes: <8..40 hex> ("subject")    ref_id, ref_subject
 *   cc_stable     Cc: stable@vger.kernel.org # 5.10.x / # v6.1+   hint = version hint
 *   reported_by   Reported-by: ...                   value; hint = "syzbot" for syzbot
 *   closes, link  Closes:/Link: URL                  value
 *   upstream      "commit X upstream." / "[ Upstream commit X ]" / "[ X ]"   ref_id
 *   cherry_pick   "(cherry picked from commit X)"    ref_id
 *   revert        "This reverts commit X."           ref_id
 *   cve           a CVE-YYYY-N id anywhere in the text   value
 *   depends_on    Depends-on: / "Prerequisite-patch-id:" / "Stable-dep-of:"   ref_id when hex
 *   signed_off_by, acked_by, reviewed_by, tested_by, suggested_by, co_developed_by,
 *   cc, other     any other "Key: value" trailer in the final paragraph
 * ref_id is lowercase hex as written (8..40 digits), NULL when none.  A
 * malformed Fixes keeps ref_id when the id itself was readable ("Fixes <id>"
 * without the colon); filter on !malformed for strict use.
 * For cc_stable, ref_id is the prerequisite named in "# 4.19.x: <id>: prereq".
 * For depends_on with "Stable-dep-of: <id> ("subject")", ref_subject is set.
 *
 * Trailers are the "Key: value" lines of the final trailer block: the last
 * paragraph's run of trailer lines, extended over preceding paragraphs made
 * only of trailer lines ("[ ... ]" notes, "# ..." comments and "(...)" lines
 * may be interleaved).  Indented lines continue the previous trailer; a
 * Fixes: subject may wrap onto the next lines.  Annotations (upstream,
 * cherry_pick, revert, cve, depends_on) are found on any line.  Trailers are
 * returned in line order.  See doc/internals/trailer.md.
 */
#ifndef PATCHGAP_TRAILER_H
#define PATCHGAP_TRAILER_H

#include <stddef.h>
#include "patchgap/common.h"

typedef enum {
	PG_TR_FIXES,
	PG_TR_CC_STABLE,
	PG_TR_REPORTED_BY,
	PG_TR_CLOSES,
	PG_TR_LINK,
	PG_TR_UPSTREAM,
	PG_TR_CHERRY_PICK,
	PG_TR_REVERT,
	PG_TR_CVE,
	PG_TR_DEPENDS_ON,
	PG_TR_SIGNED_OFF_BY,
	PG_TR_ACKED_BY,
	PG_TR_REVIEWED_BY,
	PG_TR_TESTED_BY,
	PG_TR_SUGGESTED_BY,
	PG_TR_CO_DEVELOPED_BY,
	PG_TR_CC,
	PG_TR_OTHER,
	PG_TR__COUNT
} pg_trailer_kind;

typedef struct pg_trailer {
	pg_trailer_kind kind;
	unsigned line;      /* 1-based line number in the message */
	/*
	 * All strings of a trailer live in ONE allocation that starts at raw:
	 * never free or replace a single field; use pg_trailers_release().
	 */
	char *raw;          /* owned: the (first) line as written (trimmed) */
	char *key;          /* owned: "Fixes", "Cc", ...; for annotations a fixed name ("upstream") */
	char *value;        /* owned: text after "Key:" (trimmed; continuation lines joined
	                     * with one space), or the annotation's text (its trimmed line;
	                     * for cve the uppercase id) */
	char *ref_id;       /* owned: lowercase hex id, or NULL */
	char *ref_subject;  /* owned: quoted subject of a Fixes:, or NULL */
	char *hint;         /* owned: stable version hint, "syzbot", or the malformed reason */
	int malformed;
} pg_trailer;

typedef struct pg_trailers {
	pg_trailer *v;      /* owned array */
	size_t n, alloc;
} pg_trailers;

#define PG_TRAILERS_INIT { NULL, 0, 0 }

/*
 * Parse msg (len bytes, need not be NUL-terminated; may contain NULs or
 * invalid UTF-8) and append to out.  Fails only on allocation failure or a
 * message over 16 MiB (PG_EINVALID); then out is left as it was.  NUL bytes
 * read as spaces in the returned strings.  At most 10000 trailers and 1024
 * distinct CVE ids are returned per message.
 */
int pg_trailers_parse(pg_trailers *out, const char *msg, size_t len);
void pg_trailers_release(pg_trailers *t);
const char *pg_trailer_kind_name(pg_trailer_kind k);
/* Number of trailers of a kind. */
size_t pg_trailers_count(const pg_trailers *t, pg_trailer_kind k);

/*
 * Split a full commit message as git does: the subject is the first
 * paragraph (after leading blank lines; may span lines), the body starts
 * after the blank lines that follow it.  Pointers are into msg; any out
 * pointer may be NULL.  PG_EINVALID only for a message over 16 MiB.
 */
int pg_message_split(const char *msg, size_t len, const char **subject, size_t *subject_len,
		     const char **body, size_t *body_len);
/* The subject with its lines trimmed and joined by one space (git's %s); caller frees. */
int pg_message_subject(char **out, const char *msg, size_t len);

#endif
