/*
 * lists.h - kernel mailing lists read from public-inbox archives.
 *
 * Two layers:
 *  - pg_mail_parse(): one raw RFC 5322 message (as public-inbox stores it:
 *    the blob "m" of a v2 epoch commit, or the blob a v1 commit adds) into
 *    decoded fields: subject tags ("[PATCH net v3 2/7]") with b4's rules,
 *    thread references, the commit message with its trailers, the diff and
 *    the files it touches.  Pure, linear in the input, never fails on
 *    content (hostile headers, broken MIME, bad charsets are decoded as far
 *    as they go and reported in `flags`).
 *  - pg_lists_ingest(): read the new commits of every epoch of a configured
 *    inbox into the store ("lists" schema), one transaction per batch that
 *    also moves the epoch's stored position, so a run killed anywhere and
 *    run again gives the same rows.
 *
 * Ownership: *out parameters are owned by the caller (pg_mail_free,
 * pg_lists_stats has no allocation).  Strings of a pg_mail are UTF-8, NUL
 * terminated, without control characters in header fields.
 */
#ifndef PATCHGAP_LISTS_H
#define PATCHGAP_LISTS_H

#include <stddef.h>
#include <stdint.h>
#include "patchgap/common.h"
#include "patchgap/store.h"
#include "patchgap/trailer.h"
#include "patchgap/classify.h"
#include <git2.h>
#include <jansson.h>

/* Largest raw mail parsed; larger input is cut there (PG_MAIL_TRUNCATED). */
#define PG_MAIL_MAX_BYTES ((size_t)64 << 20)
/* Most touched files listed per mail; the rest are counted in nfiles_total. */
#define PG_MAIL_MAX_FILES 100000u
/* Deepest MIME nesting followed (multipart inside multipart ...). */
#define PG_MAIL_MAX_DEPTH 8

enum pg_mail_flags {
	PG_MAIL_TRUNCATED = 1 << 0,        /* input or a field was cut at a limit */
	PG_MAIL_BAD_CHARSET = 1 << 1,      /* bytes that are not valid in their charset were replaced */
	PG_MAIL_BAD_MIME = 1 << 2,         /* unterminated multipart, missing boundary, bad encoding */
	PG_MAIL_HEADER_INJECTION = 1 << 3, /* a decoded header held CR/LF or other controls */
	PG_MAIL_NO_HEADERS = 1 << 4,       /* no header block at all */
};

typedef enum {
	PG_MAIL_OTHER = 0,  /* a mail that is neither a patch nor a reply to one */
	PG_MAIL_PATCH,      /* [PATCH ...] with a diff */
	PG_MAIL_COVER,      /* [PATCH 0/N] cover letter */
	PG_MAIL_REPLY,      /* Re: ... */
} pg_mail_kind;

typedef struct pg_mail {
	char *message_id;    /* owned: without <>; "" when absent */
	char *in_reply_to;   /* owned: without <>, or NULL */
	char *references;    /* owned: ids without <>, space separated, oldest first, or NULL */
	char *from;          /* owned: decoded "Name <addr>" */
	char *from_name;     /* owned: decoded display name ("" when none) */
	char *from_email;    /* owned: lowercase address ("" when none) */
	int64_t date;        /* seconds since the epoch (UTC), 0 when unparsable */
	char *subject;       /* owned: decoded, unfolded */
	char *clean_subject; /* owned: without "Re:" and the [..] tags */
	char *prefix;        /* owned: the tags as written, groups joined by ' ' ("PATCH net v3 2/7") */
	char *tree;          /* owned: the tree tag ("net", "nf-next"), or NULL */
	int is_patch;        /* a PATCH tag */
	int rfc;             /* an RFC tag */
	int resend;          /* a RESEND tag */
	int version;         /* 1 unless vN */
	int index, total;    /* N/M, 0/0 when absent */
	pg_mail_kind kind;
	char *body;          /* owned: decoded text of the text parts and patch attachments */
	char *message;       /* owned: commit message (body before "---" or the diff) */
	char *diff;          /* owned: the unified diff, or NULL */
	char **files;        /* owned: touched paths (new side; old side for deletions), in diff order */
	size_t nfiles;
	size_t nfiles_total; /* including those past PG_MAIL_MAX_FILES */
	pg_trailers trailers; /* of `message` */
	unsigned flags;      /* pg_mail_flags */
} pg_mail;

/*
 * Parse one raw mail (bytes, need not be NUL terminated).  Fails only with
 * PG_ENOMEM, or PG_EINVALID for raw == NULL with len > 0.
 */
int pg_mail_parse(pg_mail **out, const char *raw, size_t len);
void pg_mail_free(pg_mail *m);
const char *pg_mail_kind_name(pg_mail_kind k);

/*
 * Subject tags alone, b4's rules: leading "Re:"/"Fwd:"/"Aw:" set *is_reply;
 * every leading [..] group is a tag group; in it "PATCH"/"PATCHv3", "RFC",
 * "RESEND", "vN", "N/M" are recognised and the first other word is the
 * tree.  Fills the tag fields of m (which must be zeroed or hold no tags).
 */
int pg_mail__subject_tags(pg_mail *m, const char *subject, int *is_reply);

/* Decode RFC 2047 encoded words and sanitise a header value into UTF-8; *out owned. */
int pg_mail_decode_header(char **out, const char *value, size_t len, unsigned *flags);

/* ---- archives: config, ingest, queries (src/lists/lists.c) ---- */

/*
 * [list "NAME"] sections of the config file:
 *     [list "netdev"]
 *         inbox = /srv/lore/netdev      ; a public-inbox v2 (git/N.git) or v1 inbox
 * Relative paths are relative to the config file.
 */
typedef struct pg_list_conf {
	char *name;       /* owned */
	char *inbox;      /* owned: absolute path */
} pg_list_conf;

/* *out owned (pg_lists_conf_free); *n = 0 and *out = NULL when none. */
int pg_lists_conf_load(pg_list_conf **out, size_t *n, const char *config_path);
void pg_lists_conf_free(pg_list_conf *v, size_t n);

typedef struct pg_lists_ingest_options {
	unsigned version;
	size_t batch;                 /* mails per transaction (default 500) */
	size_t max_mails;             /* stop after this many new mails (0 = all) */
	const pg_cls_model *model;    /* classify patch mails with it; NULL = no verdicts */
	void (*progress)(const char *list, int epoch, size_t mails, void *payload);
	void *payload;
} pg_lists_ingest_options;

#define PG_LISTS_INGEST_OPTIONS_VERSION 1
#define PG_LISTS_INGEST_OPTIONS_INIT { PG_LISTS_INGEST_OPTIONS_VERSION, 500, 0, NULL, NULL, NULL }

typedef struct pg_lists_stats {
	size_t epochs;    /* epochs read */
	size_t mails;     /* new mails stored */
	size_t patches;   /* of which patches */
	size_t flagged;   /* of which the model flags */
	size_t skipped;   /* commits without a mail (v2 deletions) */
} pg_lists_stats;

/*
 * Read the new commits of every epoch of the inbox (oldest first) into the
 * store.  Each batch is one transaction that also stores the epoch's last
 * commit read, so an interrupted run resumes where the last batch ended and
 * gives the same rows.  Errors name the inbox and the epoch.
 */
int pg_lists_ingest(pg_lists_stats *stats, pg_store *s, const pg_list_conf *list,
		    const pg_lists_ingest_options *opts);

/*
 * Connect ingested commits to mails: a Link: trailer naming a stored
 * message id, else the same patch-id (repo may be NULL: skipped), else the
 * same subject and author address.  Only commits without a link are tried;
 * *linked counts the new links.
 */
int pg_lists_link(size_t *linked, pg_store *s, git_repository *repo);

/* One mail with its series, versions, replies and verdict; PG_ENOTFOUND if unknown. */
int pg_lists_show(json_t **out, pg_store *s, const char *message_id);
/* Mails newest first; flagged: only patches the model flags; since: date >= since (0 = all). */
int pg_lists_log(json_t **out, pg_store *s, int flagged, int64_t since, size_t limit);
/* The mail a commit was linked to, with its first-version date; PG_ENOTFOUND if none. */
int pg_lists_commit_mail(json_t **out, pg_store *s, const char *sha);
/* Lead time per list and tree: days from the first version on a list to the commit / the CVE. */
int pg_lists_lead(json_t **out, pg_store *s);
/*
 * The first stored patch mail with this Message-ID (mid[0..len), no angle
 * brackets) as one text: "Subject: ...", the message, "---", the diff.
 * 1 and *out (owned) when found, 0 when not.
 */
int pg_lists_mail_patch(char **out, size_t *outlen, pg_store *s, const char *mid, size_t len);

/* ---- trying patches that are not commits (src/lists/apply.c) ---- */

typedef enum {
	PG_PATCH_PRESENT,   /* every hunk's post-image is already in the tree */
	PG_PATCH_CLEAN,     /* applies as is */
	PG_PATCH_CONFLICT,  /* some hunks do not apply */
	PG_PATCH_INVALID,   /* no diff in it, or a diff git cannot read */
} pg_patch_verdict;

typedef struct pg_patch_try {
	char *name;         /* owned: file name, "FILE#N" for the Nth mail of an mbox, or the message id */
	char *subject;      /* owned: the mail's subject ("" for a bare diff) */
	pg_patch_verdict verdict;
	char **hunks;       /* owned: "path: @@ -a,b +c,d @@" of each hunk that neither applies nor is present */
	size_t nhunks;
	char *detail;       /* owned: git's reason for a conflict or an invalid diff, or NULL */
} pg_patch_try;

const char *pg_patch_verdict_name(pg_patch_verdict v);

/*
 * Try a series of patches (raw mails or bare diffs, in order) on `tree`
 * in memory: each clean patch is applied to the tree the next one is
 * tried on (the new trees are written to the object database only; no
 * ref, index or work tree changes).  *out owned: pg_patch_tries_free.
 */
int pg_patch_try_series(pg_patch_try **out, size_t *n, git_repository *repo, const git_tree *tree,
			const char *const *texts, const size_t *lens, const char *const *names, size_t count);
void pg_patch_tries_free(pg_patch_try *v, size_t n);

/* Split an mbox into mails at "From " separator lines; spans point into text. */
int pg_mbox_split(size_t **starts, size_t *n, const char *text, size_t len);

#endif
