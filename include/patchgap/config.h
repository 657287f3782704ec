/*
 * config.h - what patchgap tracks, read from a git-config syntax file.
 *
 *   [core]
 *       repository = /srv/linux.git      ; relative paths: to the config file
 *       database = patchgap.db
 *   [branch "master"]
 *       kind = mainline                  ; mainline | stable | vendor
 *       ref = refs/heads/master          ; default refs/heads/<name>
 *   [branch "linux-6.1.y"]
 *       kind = stable
 *       kconfig = configs/amd64.config   ; optional kernel .config for this branch
 *   [classify]
 *       recall = 0.9                     ; operating point of the classifier (0, 1]
 *       diffs = true                     ; score ingested commits with their diff (default true)
 *
 * Exactly one mainline branch is required.  A stable branch's series (6.1)
 * comes from its name (linux-6.1.y) or an explicit 'series' key; its release
 * tags are vSERIES.N.  A vendor branch may name 'base' (a stable branch).
 */
#ifndef PATCHGAP_CONFIG_H
#define PATCHGAP_CONFIG_H

#include <stddef.h>
#include "patchgap/common.h"

typedef enum {
	PG_BRANCH_MAINLINE,
	PG_BRANCH_STABLE,
	PG_BRANCH_VENDOR,
} pg_branch_kind;

typedef struct pg_branch_conf {
	char *name;       /* owned: the config subsection */
	pg_branch_kind kind;
	char *ref;        /* owned: full ref name */
	char *series;     /* owned: "6.1" for stable (may be NULL for vendor) */
	char *base;       /* owned: vendor base branch name, or NULL */
	char *kconfig;    /* owned: absolute path of .config, or NULL */
} pg_branch_conf;

typedef struct pg_config {
	char *path;          /* owned: the config file */
	char *repository;    /* owned: absolute path */
	char *database;      /* owned: absolute path, or a PostgreSQL connection string */
	int worker_enabled;  /* [worker] enabled: heavy verbs enqueue jobs for `patchgap worker` */
	pg_branch_conf *branches; /* owned array; mainline first */
	size_t nbranches;
	double classify_recall; /* [classify] recall: the classifier's operating point (default 0.90) */
	int classify_diffs;     /* [classify] diffs: score ingested commits with their diff (default 1) */
	int classify_diffs_set; /* ... and the config says so explicitly */
	/* [serve] (patchgap serve): all optional */
	char *serve_bind;     /* owned: address to listen on, default 127.0.0.1 */
	int serve_port;       /* 0 = the CLI's default */
	int serve_public_read;/* reads without a token */
	char *serve_cert;     /* owned: absolute path of a PEM certificate (TLS), or NULL */
	char *serve_key;      /* owned: absolute path of its PEM private key, or NULL */
} pg_config;

/* Parse a config file; errors name the file and the key. *out owned (pg_config_free). */
int pg_config_load(pg_config **out, const char *path);
void pg_config_free(pg_config *c);
const char *pg_branch_kind_name(pg_branch_kind k);
/* Borrowed, or NULL. */
const pg_branch_conf *pg_config_branch(const pg_config *c, const char *name);
const pg_branch_conf *pg_config_mainline(const pg_config *c);

/* Write a commented starter config; fails if path exists. */
int pg_config_write_starter(const char *path, const char *repository, const char *database);

#endif
