/*
 * import.c - find the kernel CNA's records on disk and store them.
 *
 * Three steps: (1) detect each path's layout and collect one rec_src per CVE
 * id (the files that make up the record); (2) sort by id and drop duplicate
 * ids (vulns.git rejected > vulns.git published > plain JSON); (3) reader
 * threads read each record's files, hash them and, only when the hash differs
 * from the stored content_hash, parse them; the calling thread replaces the
 * record's rows, in id order (see "the pipeline" below).
 *
 * Invariants: the whole run is one transaction (a database failure rolls
 * everything back); a malformed record is reported and skipped without
 * touching its stored rows; the content hash covers the layout, the state
 * the directory gives, the path relative to the checkout root and every file
 * read, so moving a checkout does not rewrite anything but an edited,
 * renamed or re-stated record does.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <git2.h>
#include "cve/cve_int.h"
#include "util/buf.h"
#include "util/map.h"
#include "util/str.h"
#include "util/banned.h"

/* The side files of a vulns.git record, in hashing and parsing order. */
enum { EXT_JSON, EXT_SHA1, EXT_DYAD, EXT_VULNERABLE, EXT_MBOX, EXT_COUNT };
static const char *const ext_names[EXT_COUNT] = { "json", "sha1", "dyad", "vulnerable", "mbox" };

#define RECORD_FILE_LIMIT ((size_t)64 << 20)

struct rec_src {
	char id[32];
	char *dir;              /* filesystem directory of the files (owned) */
	char *rel;              /* directory as stored in source_path (owned) */
	const char *layout;     /* "vulns" / "cve5" */
	const char *dir_state;  /* vulns: published/rejected; cve5: NULL */
	unsigned have;          /* bit EXT_x: the file exists */
	int prio;               /* duplicate resolution: higher wins */
	int kernel_only;        /* found in a CVE JSON 5 folder: ignore other CNAs' records */
	size_t order;           /* discovery order (ties) */
};

struct importer {
	pg_store *s;
	const pg_cve_import_opts *opts;
	pg_cve_import_stats *stats;
	PG_VEC(struct rec_src) recs;
	pg_strmap existing;     /* id -> struct existing * */
	pg_stmt *ins_cve, *del[6], *ins_fix, *ins_intro, *ins_range, *ins_ver, *ins_file, *ins_ref;
};

struct existing {
	char *hash;
	int rejected;
};

/* Count and pass on a skipped record or path.  Calling thread only. */
static void report(struct importer *im, const char *path, const char *reason)
{
	im->stats->skipped++;
	if (im->opts && im->opts->problem)
		im->opts->problem(path, reason, im->opts->payload);
}

static int is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static char *join(const char *a, const char *b)
{
	pg_buf p = PG_BUF_INIT;
	if (pg_buf_printf(&p, "%s%s%s", a, *a && a[strlen(a) - 1] != '/' ? "/" : "", b) < 0) {
		pg_buf_release(&p);
		return NULL;
	}
	return pg_buf_detach(&p);
}

/* Split "CVE-2024-1234.dyad" into id and extension index; -1 if not a record file we read. */
static int classify_name(const char *name, char id[32], int cve5)
{
	const char *dot = strchr(name, '.');
	size_t n = dot ? (size_t)(dot - name) : strlen(name);
	if (!dot || n >= 32 || strncmp(name, "CVE-", 4))
		return -1;
	memcpy(id, name, n);
	id[n] = '\0';
	for (int e = 0; e < EXT_COUNT; e++)
		if (!strcmp(dot + 1, ext_names[e]))
			return cve5 && e != EXT_JSON ? -1 : e;
	return -1;
}

/*
 * Collect the records of one directory (and, depth > 0, its subdirectories,
 * hidden ones excepted).  Unreadable directories are reported and skipped.
 */
static int walk(struct importer *im, const char *dir, const char *rel, const char *layout,
		const char *state, int depth, size_t *found)
{
	DIR *d;
	struct dirent *de;
	pg_strmap local = PG_STRMAP_INIT;
	PG_VEC(char *) subdirs = PG_VEC_INIT;
	int error = 0;
	int cve5 = !strcmp(layout, "cve5");

	if (!(d = opendir(dir))) {
		char why[300];
		snprintf(why, sizeof(why), "cannot read directory: %s", strerror(errno));
		report(im, dir, why);
		return 0;
	}
	while ((de = readdir(d))) {
		char id[32];
		int e;
		if (de->d_name[0] == '.')
			continue;
		if ((e = classify_name(de->d_name, id, cve5)) >= 0 && !pg_cve_id_valid(id)) {
			char *bad = join(dir, de->d_name);
			report(im, bad ? bad : de->d_name, "file name is not CVE-YYYY-NNNN.<ext>");
			free(bad);
		} else if (e >= 0) {
			int found_id = 0;
			uintptr_t idx = (uintptr_t)pg_strmap_get(&local, id, &found_id);
			if (!found_id) {
				struct rec_src r = { { 0 }, NULL, NULL, layout, state, 0, 0, cve5, 0 };
				snprintf(r.id, sizeof(r.id), "%s", id);
				r.dir = pg_strdup(dir);
				r.rel = pg_strdup(rel);
				r.order = im->recs.len;
				r.prio = cve5 ? 1 : !strcmp(state, "rejected") ? 3 : 2;
				if (!r.dir || !r.rel || pg_vec_push(&im->recs, r) < 0) {
					free(r.dir);
					free(r.rel);
					error = PG_ENOMEM;
					goto out;
				}
				idx = im->recs.len - 1;
				if ((error = pg_strmap_set(&local, id, (void *)idx)) < 0)
					goto out;
				(*found)++;
			}
			im->recs.ptr[idx].have |= 1u << e;
		} else if (depth > 0) {
			char *sub = join(dir, de->d_name);
			if (!sub || (is_dir(sub) ? pg_vec_push(&subdirs, sub) : (free(sub), 0)) < 0) {
				free(sub);
				error = PG_ENOMEM;
				goto out;
			}
		}
	}
	closedir(d);
	d = NULL;
	for (size_t i = 0; i < subdirs.len && !error; i++) {
		const char *base = strrchr(subdirs.ptr[i], '/') + 1;
		char *subrel = join(rel, base);
		if (!subrel) {
			error = PG_ENOMEM;
			break;
		}
		error = walk(im, subdirs.ptr[i], subrel, layout, state, depth - 1, found);
		free(subrel);
	}
out:
	if (d)
		closedir(d);
	for (size_t i = 0; i < subdirs.len; i++)
		free(subdirs.ptr[i]);
	pg_vec_release(&subdirs);
	pg_strmap_release(&local);
	return error;
}

/* A vulns.git cve/ folder: published/ and rejected/, each with year folders. */
static int walk_vulns_cve(struct importer *im, const char *cve_dir, size_t *found)
{
	static const char *const states[] = { "published", "rejected" };
	int error = 0;
	for (int i = 0; i < 2 && !error; i++) {
		char *sub = join(cve_dir, states[i]), *rel = join("cve", states[i]);
		if (!sub || !rel)
			error = PG_ENOMEM;
		else if (is_dir(sub))
			error = walk(im, sub, rel, "vulns", states[i], 1, found);
		free(sub);
		free(rel);
	}
	return error;
}

/*
 * The part of a real path from its last "cve/published", "cve/rejected" or
 * "cves" component on (so source_path does not depend on where the checkout
 * lives), or NULL.  *state is set for vulns.git paths.
 */
static const char *layout_suffix(const char *real, const char **state, const char **layout)
{
	const char *best = NULL, *p;
	*state = NULL;
	*layout = NULL;
	for (p = real; (p = strstr(p, "/cve")); p++) {
		if (pg_str_starts_with(p, "/cve/published") && (p[14] == '/' || !p[14])) {
			best = p + 1, *state = "published", *layout = "vulns";
		} else if (pg_str_starts_with(p, "/cve/rejected") && (p[13] == '/' || !p[13])) {
			best = p + 1, *state = "rejected", *layout = "vulns";
		} else if (pg_str_starts_with(p, "/cves") && (p[5] == '/' || !p[5])) {
			best = p + 1, *state = NULL, *layout = "cve5";
		}
	}
	return best;
}

static int collect_path(struct importer *im, const char *path)
{
	struct stat st;
	char real[PATH_MAX], why[PATH_MAX + 64];
	const char *suffix, *state, *layout, *base;
	char *sub = NULL;
	size_t found = 0;
	int error = 0;

	if (stat(path, &st) < 0 || !realpath(path, real)) {
		snprintf(why, sizeof(why), "cannot access: %s", strerror(errno));
		report(im, path, why);
		return 0;
	}
	base = strrchr(real, '/') ? strrchr(real, '/') + 1 : real;
	if (!S_ISDIR(st.st_mode)) {
		char id[32];
		size_t n = strlen(base);
		struct rec_src r = { { 0 }, NULL, NULL, "cve5", NULL, 1u << EXT_JSON, 1, 0, im->recs.len };
		if (n < 6 || strcmp(base + n - 5, ".json") || classify_name(base, id, 1) != EXT_JSON ||
		    !pg_cve_id_valid(id)) {
			report(im, path, "not a CVE JSON 5 file (want CVE-YYYY-NNNN.json)");
			return 0;
		}
		snprintf(r.id, sizeof(r.id), "%s", id);
		/* the directory as given (not resolved): single files are named by the user */
		{
			const char *slash = strrchr(path, '/');
			r.dir = slash ? pg_strndup(path, (size_t)(slash - path)) : pg_strdup(".");
			r.rel = slash ? pg_strndup(path, (size_t)(slash - path)) : pg_strdup("");
		}
		if (!r.dir || !r.rel || pg_vec_push(&im->recs, r) < 0) {
			free(r.dir);
			free(r.rel);
			return PG_ENOMEM;
		}
		return 0;
	}
	if ((sub = join(real, "cve")) && is_dir(sub)) {
		char *p = join(sub, "published"), *rj = join(sub, "rejected");
		int vulns = p && rj && (is_dir(p) || is_dir(rj));
		free(p);
		free(rj);
		if (vulns) {
			error = walk_vulns_cve(im, sub, &found);
			goto done;
		}
	}
	free(sub);
	if ((sub = join(real, "cves")) && is_dir(sub)) {
		error = walk(im, sub, "cves", "cve5", NULL, 3, &found);
		goto done;
	}
	if (!sub) {
		error = PG_ENOMEM;
		goto done;
	}
	if (!strcmp(base, "cve")) {
		error = walk_vulns_cve(im, real, &found);
		goto done;
	}
	if ((suffix = layout_suffix(real, &state, &layout))) {
		error = walk(im, real, suffix, layout, state, !strcmp(layout, "vulns") ? 1 : 3, &found);
		goto done;
	}
	/* some folder of plain CVE JSON 5 files */
	error = walk(im, real, path, "cve5", NULL, 3, &found);
done:
	free(sub);
	if (!error && !found)
		report(im, path, "not a CNA layout: no cve/published, cve/rejected or cves/ folder and no "
				 "CVE-*.json files inside");
	return error;
}

static int cmp_src(const void *a, const void *b)
{
	const struct rec_src *x = a, *y = b;
	/* ids were validated when collected: CVE-YYYY-N... */
	int yx = atoi(x->id + 4), yy = atoi(y->id + 4);
	long long nx = strtoll(x->id + 9, NULL, 10), ny = strtoll(y->id + 9, NULL, 10);
	int c;
	if (yx != yy)
		return yx < yy ? -1 : 1;
	if (nx != ny)
		return nx < ny ? -1 : 1;
	if ((c = strcmp(x->id, y->id)))
		return c;
	if (x->prio != y->prio)
		return x->prio > y->prio ? -1 : 1;   /* winner first */
	return x->order < y->order ? -1 : x->order > y->order;
}

static char *file_path(const struct rec_src *r, int ext, int rel)
{
	pg_buf p = PG_BUF_INIT;
	const char *dir = rel ? r->rel : r->dir;
	if (pg_buf_printf(&p, "%s%s%s.%s", dir, *dir ? "/" : "", r->id, ext_names[ext]) < 0) {
		pg_buf_release(&p);
		return NULL;
	}
	return pg_buf_detach(&p);
}

/* ---- database ---- */

static const char *const del_sql[6] = {
	"DELETE FROM cve_fixes WHERE cve_id = ?",
	"DELETE FROM cve_introducers WHERE cve_id = ?",
	"DELETE FROM cve_ranges WHERE cve_id = ?",
	"DELETE FROM cve_versions WHERE cve_id = ?",
	"DELETE FROM cve_files WHERE cve_id = ?",
	"DELETE FROM cve_references WHERE cve_id = ?",
};

static int prepare_all(struct importer *im)
{
	int error;
	if ((error = pg_store_prepare(&im->ins_cve, im->s,
		"INSERT INTO cves(id, year, num, state, title, description, published, updated, cvss_score,"
		" cvss_vector, cvss_severity, cvss_version, rejected_reason, dyad_version, layout, source_path,"
		" content_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
		"ON CONFLICT(id) DO UPDATE SET year = excluded.year, num = excluded.num, state = excluded.state,"
		" title = excluded.title, description = excluded.description, published = excluded.published,"
		" updated = excluded.updated, cvss_score = excluded.cvss_score, cvss_vector = excluded.cvss_vector,"
		" cvss_severity = excluded.cvss_severity, cvss_version = excluded.cvss_version,"
		" rejected_reason = excluded.rejected_reason, dyad_version = excluded.dyad_version,"
		" layout = excluded.layout, source_path = excluded.source_path,"
		" content_hash = excluded.content_hash")) < 0)
		return error;
	for (int i = 0; i < 6; i++)
		if ((error = pg_store_prepare(&im->del[i], im->s, del_sql[i])) < 0)
			return error;
	if ((error = pg_store_prepare(&im->ins_fix, im->s,
			"INSERT INTO cve_fixes(cve_id, sha, source) VALUES (?, ?, ?)")) < 0 ||
	    (error = pg_store_prepare(&im->ins_intro, im->s,
			"INSERT INTO cve_introducers(cve_id, sha, source, version) VALUES (?, ?, ?, ?)")) < 0 ||
	    (error = pg_store_prepare(&im->ins_range, im->s,
			"INSERT INTO cve_ranges(cve_id, seq, vuln_version, vuln_sha, fix_version, fix_sha, source)"
			" VALUES (?, ?, ?, ?, ?, ?, ?)")) < 0 ||
	    (error = pg_store_prepare(&im->ins_ver, im->s,
			"INSERT INTO cve_versions(cve_id, seq, default_status, version, less_than,"
			" less_than_or_equal, status, version_type) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) < 0 ||
	    (error = pg_store_prepare(&im->ins_file, im->s,
			"INSERT INTO cve_files(cve_id, seq, path) VALUES (?, ?, ?)")) < 0 ||
	    (error = pg_store_prepare(&im->ins_ref, im->s,
			"INSERT INTO cve_references(cve_id, seq, url) VALUES (?, ?, ?)")) < 0)
		return error;
	return 0;
}

static void free_stmts(struct importer *im)
{
	pg_stmt_free(im->ins_cve);
	for (int i = 0; i < 6; i++)
		pg_stmt_free(im->del[i]);
	pg_stmt_free(im->ins_fix);
	pg_stmt_free(im->ins_intro);
	pg_stmt_free(im->ins_range);
	pg_stmt_free(im->ins_ver);
	pg_stmt_free(im->ins_file);
	pg_stmt_free(im->ins_ref);
}

static int load_existing(struct importer *im)
{
	pg_stmt *st = NULL;
	int error, rc;
	if ((error = pg_store_prepare(&st, im->s, "SELECT id, content_hash, state FROM cves")) < 0)
		return error;
	while ((rc = pg_stmt_step(st)) > 0) {
		struct existing *e = calloc(1, sizeof(*e));
		if (!e || !(e->hash = pg_strdup(pg_stmt_text(st, 1))) ||
		    pg_strmap_set(&im->existing, pg_stmt_text(st, 0), e) < 0) {
			if (e)
				free(e->hash);
			free(e);
			error = pg_error_setc(PG_ENOMEM, "out of memory");
			goto out;
		}
		e->rejected = !strcmp(pg_stmt_text(st, 2), "rejected");
	}
	error = rc;
out:
	pg_stmt_free(st);
	return error;
}

static int store_record(struct importer *im, const pg_cve__rec *r, const struct rec_src *src,
			const char *source_path, const char *hash, int replace)
{
	pg_stmt *st = im->ins_cve;
	int error;
	size_t i;

	for (i = 0; replace && i < 6; i++)
		if ((error = pg_stmt_bind_text(im->del[i], 1, r->id)) < 0 || (error = pg_stmt_exec(im->del[i])) < 0)
			return error;
	if ((error = pg_stmt_bind_text(st, 1, r->id)) < 0 ||
	    (error = pg_stmt_bind_int(st, 2, r->year)) < 0 ||
	    (error = pg_stmt_bind_int(st, 3, r->num)) < 0 ||
	    (error = pg_stmt_bind_text(st, 4, r->state)) < 0 ||
	    (error = pg_stmt_bind_text(st, 5, r->title)) < 0 ||
	    (error = pg_stmt_bind_text(st, 6, r->description)) < 0 ||
	    (error = pg_stmt_bind_text(st, 7, r->published)) < 0 ||
	    (error = pg_stmt_bind_text(st, 8, r->updated)) < 0 ||
	    (error = r->has_cvss ? pg_stmt_bind_double(st, 9, r->cvss_score) : pg_stmt_bind_null(st, 9)) < 0 ||
	    (error = pg_stmt_bind_text(st, 10, r->cvss_vector)) < 0 ||
	    (error = pg_stmt_bind_text(st, 11, r->cvss_severity)) < 0 ||
	    (error = pg_stmt_bind_text(st, 12, r->cvss_version)) < 0 ||
	    (error = pg_stmt_bind_text(st, 13, r->rejected_reason)) < 0 ||
	    (error = pg_stmt_bind_text(st, 14, r->dyad_version)) < 0 ||
	    (error = pg_stmt_bind_text(st, 15, src->layout)) < 0 ||
	    (error = pg_stmt_bind_text(st, 16, source_path)) < 0 ||
	    (error = pg_stmt_bind_text(st, 17, hash)) < 0 ||
	    (error = pg_stmt_exec(st)) < 0)
		return error;
	for (i = 0; i < r->fixes.len; i++) {
		st = im->ins_fix;
		if ((error = pg_stmt_bind_text(st, 1, r->id)) < 0 ||
		    (error = pg_stmt_bind_text(st, 2, r->fixes.ptr[i].sha)) < 0 ||
		    (error = pg_stmt_bind_text(st, 3, r->fixes.ptr[i].source)) < 0 ||
		    (error = pg_stmt_exec(st)) < 0)
			return error;
	}
	for (i = 0; i < r->introducers.len; i++) {
		st = im->ins_intro;
		if ((error = pg_stmt_bind_text(st, 1, r->id)) < 0 ||
		    (error = pg_stmt_bind_text(st, 2, r->introducers.ptr[i].sha)) < 0 ||
		    (error = pg_stmt_bind_text(st, 3, r->introducers.ptr[i].source)) < 0 ||
		    (error = pg_stmt_bind_text(st, 4, r->introducers.ptr[i].version)) < 0 ||
		    (error = pg_stmt_exec(st)) < 0)
			return error;
	}
	for (i = 0; i < r->ranges.len; i++) {
		const struct pg_cve__range *g = &r->ranges.ptr[i];
		st = im->ins_range;
		if ((error = pg_stmt_bind_text(st, 1, r->id)) < 0 ||
		    (error = pg_stmt_bind_int(st, 2, (int64_t)i)) < 0 ||
		    (error = pg_stmt_bind_text(st, 3, g->vuln_version)) < 0 ||
		    (error = pg_stmt_bind_text(st, 4, g->vuln_sha)) < 0 ||
		    (error = pg_stmt_bind_text(st, 5, g->fix_version)) < 0 ||
		    (error = pg_stmt_bind_text(st, 6, g->fix_sha)) < 0 ||
		    (error = pg_stmt_bind_text(st, 7, g->source)) < 0 ||
		    (error = pg_stmt_exec(st)) < 0)
			return error;
	}
	for (i = 0; i < r->versions.len; i++) {
		const struct pg_cve__version *v = &r->versions.ptr[i];
		st = im->ins_ver;
		if ((error = pg_stmt_bind_text(st, 1, r->id)) < 0 ||
		    (error = pg_stmt_bind_int(st, 2, (int64_t)i)) < 0 ||
		    (error = pg_stmt_bind_text(st, 3, v->default_status)) < 0 ||
		    (error = pg_stmt_bind_text(st, 4, v->version)) < 0 ||
		    (error = pg_stmt_bind_text(st, 5, v->less_than)) < 0 ||
		    (error = pg_stmt_bind_text(st, 6, v->less_than_or_equal)) < 0 ||
		    (error = pg_stmt_bind_text(st, 7, v->status)) < 0 ||
		    (error = pg_stmt_bind_text(st, 8, v->version_type)) < 0 ||
		    (error = pg_stmt_exec(st)) < 0)
			return error;
	}
	for (i = 0; i < r->files.len + r->refs.len; i++) {
		int is_file = i < r->files.len;
		st = is_file ? im->ins_file : im->ins_ref;
		if ((error = pg_stmt_bind_text(st, 1, r->id)) < 0 ||
		    (error = pg_stmt_bind_int(st, 2, (int64_t)(is_file ? i : i - r->files.len))) < 0 ||
		    (error = pg_stmt_bind_text(st, 3, is_file ? r->files.ptr[i] : r->refs.ptr[i - r->files.len])) < 0 ||
		    (error = pg_stmt_exec(st)) < 0)
			return error;
	}
	return 0;
}

/*
 * ---- the pipeline ----
 * Reader threads read, hash and parse records (prepare_one); the calling
 * thread writes them to the database in id order (finish_one), so reports,
 * counters and rowids are the same whatever the thread timing.  Readers run
 * at most WINDOW records ahead; the ring slot of record i is i % WINDOW.
 */
enum outcome { OUT_UNCHANGED, OUT_STORE, OUT_SKIP, OUT_FAIL, OUT_DUP, OUT_IGNORED };

struct prepared {
	int ready;
	enum outcome outcome;
	pg_cve__rec rec;
	char hash[GIT_OID_HEXSZ + 1];
	char *source_path;
	char *problem_path;      /* OUT_SKIP */
	char problem[1024];      /* OUT_SKIP: reason; OUT_FAIL: the error message */
	int error;               /* OUT_FAIL */
};

struct reader {
	pg_buf files[EXT_COUNT], hash;   /* reused from record to record */
};

#define WINDOW 256
#define MAX_READERS 4

static void reader_init(struct reader *rd)
{
	for (int e = 0; e < EXT_COUNT; e++)
		pg_buf_init(&rd->files[e], RECORD_FILE_LIMIT);
	pg_buf_init(&rd->hash, 0);
}

static void reader_release(struct reader *rd)
{
	for (int e = 0; e < EXT_COUNT; e++)
		pg_buf_release(&rd->files[e]);
	pg_buf_release(&rd->hash);
}

static void prepared_release(struct prepared *p)
{
	pg_cve__rec_release(&p->rec);
	free(p->source_path);
	free(p->problem_path);
	memset(p, 0, sizeof(*p));
}

/* fail_with/skip_with return 0 so prepare_one can `return skip_with(...)`. */
static int fail_with(struct prepared *p, int error)
{
	p->outcome = OUT_FAIL;
	p->error = error < 0 ? error : PG_ERROR;
	snprintf(p->problem, sizeof(p->problem), "%s", *pg_error_last() ? pg_error_last() : "out of memory");
	return 0;
}

/* path is taken over (may be NULL: the record id is named instead). */
static int skip_with(struct prepared *p, const struct rec_src *src, char *path, const char *reason)
{
	p->outcome = OUT_SKIP;
	p->problem_path = path ? path : pg_strdup(src->id);
	snprintf(p->problem, sizeof(p->problem), "%s", reason);
	return p->problem_path ? 0 : fail_with(p, PG_ENOMEM);
}

static int hash_put(pg_buf *h, const char *label, const char *data, size_t len)
{
	int error;
	if ((error = pg_buf_printf(h, "%s %zu\n", label, len)) < 0)
		return error;
	return pg_buf_put(h, data, len);
}

/* Read, hash and (when changed) parse one record into p (always 0).  Thread-safe: reads im only. */
static int prepare_one(const struct importer *im, struct reader *rd, const struct rec_src *src,
			struct prepared *p)
{
	pg_buf *files = rd->files, *h = &rd->hash;
	unsigned have = src->have;
	struct existing *old;
	char *path = NULL;
	git_oid oid;
	int error = 0, e, parse_error = 0, bad_ext = -1;

	for (e = 0; e < EXT_COUNT; e++)
		pg_buf_reset(&files[e]);
	pg_buf_reset(h);
	/* the .mbox only gives a title when the JSON has none: rejected or JSON-less ids */
	if ((have & (1u << EXT_JSON)) && src->dir_state && strcmp(src->dir_state, "rejected"))
		have &= ~(1u << EXT_MBOX);
	if (!(have & ((1u << EXT_JSON) | (1u << EXT_SHA1)))) {
		for (e = 0; e < EXT_COUNT && !path; e++)
			if (have & (1u << e) && !(path = file_path(src, e, 0)))
				return fail_with(p, PG_ENOMEM);
		return skip_with(p, src, path, "no .json or .sha1 file for this CVE id");
	}
	p->source_path = file_path(src, have & (1u << EXT_JSON) ? EXT_JSON : EXT_SHA1, 1);
	if (!p->source_path || (error = pg_buf_printf(h, "layout %s\nstate %s\npath %s\n", src->layout,
						     src->dir_state ? src->dir_state : "-", p->source_path)) < 0)
		return fail_with(p, error ? error : PG_ENOMEM);
	for (e = 0; e < EXT_COUNT; e++) {
		if (!(have & (1u << e)))
			continue;
		if (!(path = file_path(src, e, 0)))
			return fail_with(p, PG_ENOMEM);
		if (pg_buf_read_regular(&files[e], path) < 0)
			return skip_with(p, src, path, pg_error_last());
		free(path);
		path = NULL;
		/* cheap pre-filter: another CNA's record does not name the kernel CNA at all */
		if (src->kernel_only && e == EXT_JSON &&
		    !memmem(files[e].ptr, files[e].len, PG_CVE_KERNEL_ORG, strlen(PG_CVE_KERNEL_ORG))) {
			p->outcome = OUT_IGNORED;
			return 0;
		}
		if ((error = hash_put(h, ext_names[e], pg_buf_cstr(&files[e]), files[e].len)) < 0)
			return fail_with(p, error);
	}
	if (git_odb_hash(&oid, h->ptr, h->len, GIT_OBJECT_BLOB) < 0)
		return fail_with(p, pg_error_set("cannot hash record %s", src->id));
	git_oid_tostr(p->hash, sizeof(p->hash), &oid);
	old = pg_strmap_get(&im->existing, src->id, NULL);
	if (old && !strcmp(old->hash, p->hash)) {
		p->outcome = OUT_UNCHANGED;
		return 0;
	}

	if (pg_cve__rec_init(&p->rec, src->id) < 0)
		return skip_with(p, src, NULL, pg_error_last());
	if (src->dir_state)
		p->rec.state = src->dir_state;
	/* order matters: fix sources rank sha1 > dyad > json > reference (first wins) */
	if (have & (1u << EXT_SHA1) && (parse_error = pg_cve__parse_sha1(&p->rec, pg_buf_cstr(&files[EXT_SHA1]))) < 0)
		bad_ext = EXT_SHA1;
	else if (have & (1u << EXT_DYAD) && (parse_error = pg_cve__parse_dyad(&p->rec, pg_buf_cstr(&files[EXT_DYAD]))) < 0)
		bad_ext = EXT_DYAD;
	else if (have & (1u << EXT_JSON) &&
		 (parse_error = pg_cve__parse_json(&p->rec, pg_buf_cstr(&files[EXT_JSON]), files[EXT_JSON].len,
						   src->dir_state, !(have & (1u << EXT_DYAD)))) < 0)
		bad_ext = EXT_JSON;
	else if (have & (1u << EXT_VULNERABLE) &&
		 (parse_error = pg_cve__parse_vulnerable(&p->rec, pg_buf_cstr(&files[EXT_VULNERABLE]))) < 0)
		bad_ext = EXT_VULNERABLE;
	else if (have & (1u << EXT_MBOX) && (parse_error = pg_cve__parse_mbox(&p->rec, pg_buf_cstr(&files[EXT_MBOX]))) < 0)
		bad_ext = EXT_MBOX;
	if (parse_error == PG_ENOMEM)
		return fail_with(p, parse_error);
	if (src->kernel_only && bad_ext != EXT_JSON &&
	    (!p->rec.assigner || strcmp(p->rec.assigner, PG_CVE_KERNEL_ORG))) {
		p->outcome = OUT_IGNORED;
		return 0;
	}
	if (bad_ext >= 0) {
		char why[1024];
		snprintf(why, sizeof(why), "%s", pg_error_last());
		if (!(path = file_path(src, bad_ext, 0)))
			return fail_with(p, PG_ENOMEM);
		return skip_with(p, src, path, why);
	}
	p->outcome = OUT_STORE;
	return 0;
}

/* Store or report one prepared record, in order.  < 0 only for database/memory failures. */
static int finish_one(struct importer *im, const struct rec_src *src, struct prepared *p)
{
	struct existing *old;
	int error;

	switch (p->outcome) {
	case OUT_DUP:
		return 0;
	case OUT_IGNORED:
		im->stats->ignored++;
		return 0;
	case OUT_UNCHANGED:
		im->stats->unchanged++;
		return 0;
	case OUT_SKIP:
		report(im, p->problem_path, p->problem);
		return 0;
	case OUT_FAIL:
		pg_error_set("%s", p->problem);
		return p->error;
	case OUT_STORE:
		break;
	}
	old = pg_strmap_get(&im->existing, src->id, NULL);
	if ((error = store_record(im, &p->rec, src, p->source_path, p->hash, old != NULL)) < 0) {
		pg_error_prefix("storing %s", src->id);
		return error;
	}
	if (!strcmp(p->rec.state, "rejected") && !(old && old->rejected))
		im->stats->rejected++;
	else if (old)
		im->stats->updated++;
	else
		im->stats->imported++;
	return 0;
}

struct pipeline {
	pthread_mutex_t mu;
	pthread_cond_t ready_cv, space_cv;
	size_t next, consumed, n;
	int stop;
	struct prepared *ring;
	const struct importer *im;
	const unsigned char *dup;
};

static void *reader_main(void *arg)
{
	struct pipeline *pl = arg;
	struct reader rd;

	reader_init(&rd);
	pthread_mutex_lock(&pl->mu);
	for (;;) {
		size_t i;
		struct prepared *p;
		while (!pl->stop && pl->next < pl->n && pl->next >= pl->consumed + WINDOW)
			pthread_cond_wait(&pl->space_cv, &pl->mu);
		if (pl->stop || pl->next >= pl->n)
			break;
		i = pl->next++;
		pthread_mutex_unlock(&pl->mu);
		p = &pl->ring[i % WINDOW];
		if (pl->dup[i])
			p->outcome = OUT_DUP;
		else
			prepare_one(pl->im, &rd, &pl->im->recs.ptr[i], p);
		pthread_mutex_lock(&pl->mu);
		p->ready = 1;
		pthread_cond_broadcast(&pl->ready_cv);
	}
	pthread_mutex_unlock(&pl->mu);
	reader_release(&rd);
	return NULL;
}

/*
 * Mark the records not to import: dup[i] = 1 for a second copy of the same
 * files (reached through two paths given: silent), 2 for a lower-ranked copy
 * of the id (reported).  recs are sorted winner first within an id.
 */
static int mark_duplicates(struct importer *im, unsigned char *dup)
{
	size_t i, win = 0;
	for (i = 0; i < im->recs.len; i++) {
		const struct rec_src *r = &im->recs.ptr[i], *w;
		char *p, *wp, why[PATH_MAX + 64];
		if (i == 0 || strcmp(im->recs.ptr[win].id, r->id)) {
			win = i;
			continue;
		}
		w = &im->recs.ptr[win];
		if (!strcmp(w->dir, r->dir)) {
			dup[i] = 1;
			continue;
		}
		dup[i] = 2;
		p = file_path(r, r->have & (1u << EXT_JSON) ? EXT_JSON : EXT_SHA1, 0);
		wp = file_path(w, w->have & (1u << EXT_JSON) ? EXT_JSON : EXT_SHA1, 0);
		if (!p || !wp) {
			free(p);
			free(wp);
			return pg_error_setc(PG_ENOMEM, "out of memory");
		}
		snprintf(why, sizeof(why), "duplicate of %s (that one is imported)", wp);
		report(im, p, why);
		free(p);
		free(wp);
	}
	return 0;
}

static size_t reader_count(size_t nrecs)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	if (nrecs < 64 || n < 2)
		return 1;
	return n > MAX_READERS ? MAX_READERS : (size_t)n;
}

/* Run the readers and store in order; < 0 on a database or memory failure. */
static int run_pipeline(struct importer *im, const unsigned char *dup)
{
	struct pipeline pl;
	pthread_t threads[MAX_READERS];
	size_t nthreads = 0, want = reader_count(im->recs.len), i;
	int error = 0;

	memset(&pl, 0, sizeof(pl));
	pl.n = im->recs.len;
	pl.im = im;
	pl.dup = dup;
	if (!(pl.ring = calloc(WINDOW, sizeof(*pl.ring))))
		return pg_error_setc(PG_ENOMEM, "out of memory");
	pthread_mutex_init(&pl.mu, NULL);
	pthread_cond_init(&pl.ready_cv, NULL);
	pthread_cond_init(&pl.space_cv, NULL);
	for (i = 0; i < want; i++)
		if (pthread_create(&threads[nthreads], NULL, reader_main, &pl) == 0)
			nthreads++;
	if (!nthreads) {
		error = pg_error_set("cannot start a reader thread");
		goto out;
	}
	for (i = 0; i < pl.n; i++) {
		struct prepared *p = &pl.ring[i % WINDOW];
		pthread_mutex_lock(&pl.mu);
		while (!p->ready)
			pthread_cond_wait(&pl.ready_cv, &pl.mu);
		pthread_mutex_unlock(&pl.mu);
		error = finish_one(im, &im->recs.ptr[i], p);
		prepared_release(p);
		pthread_mutex_lock(&pl.mu);
		pl.consumed++;
		if (error < 0)
			pl.stop = 1;
		pthread_cond_broadcast(&pl.space_cv);
		pthread_mutex_unlock(&pl.mu);
		if (error < 0)
			break;
		if (im->opts && im->opts->progress && ((i + 1) % 512 == 0 || i + 1 == pl.n))
			im->opts->progress(i + 1, pl.n, im->opts->payload);
	}
out:
	for (i = 0; i < nthreads; i++)
		pthread_join(threads[i], NULL);
	/* after a failure, slots prepared past it were never consumed */
	for (i = 0; i < WINDOW; i++)
		prepared_release(&pl.ring[i]);
	free(pl.ring);
	pthread_cond_destroy(&pl.space_cv);
	pthread_cond_destroy(&pl.ready_cv);
	pthread_mutex_destroy(&pl.mu);
	return error;
}

int pg_cve_import(pg_store *s, const char *const *paths, size_t npaths,
		  const pg_cve_import_opts *opts, pg_cve_import_stats *stats)
{
	struct importer im;
	unsigned char *dup = NULL;
	int error = 0, in_txn = 0;
	size_t i;

	memset(&im, 0, sizeof(im));
	memset(stats, 0, sizeof(*stats));
	im.s = s;
	im.opts = opts;
	im.stats = stats;
	git_libgit2_init();

	for (i = 0; i < npaths && !error; i++)
		error = collect_path(&im, paths[i]);
	if (error)
		goto out;
	if (im.recs.len)
		qsort(im.recs.ptr, im.recs.len, sizeof(im.recs.ptr[0]), cmp_src);
	if (!(dup = calloc(im.recs.len + 1, 1))) {
		error = pg_error_setc(PG_ENOMEM, "out of memory");
		goto out;
	}
	if ((error = mark_duplicates(&im, dup)) < 0)
		goto out;
	if ((error = pg_store_begin(s)) < 0)
		goto out;
	in_txn = 1;
	if ((error = load_existing(&im)) < 0 || (error = prepare_all(&im)) < 0 ||
	    (error = run_pipeline(&im, dup)) < 0)
		goto out;
	free_stmts(&im);
	memset(im.del, 0, sizeof(im.del));
	im.ins_cve = im.ins_fix = im.ins_intro = im.ins_range = im.ins_ver = im.ins_file = im.ins_ref = NULL;
	in_txn = 0;
	error = pg_store_commit(s);
out:
	free_stmts(&im);
	if (in_txn)
		pg_store_rollback(s);
	free(dup);
	for (i = 0; i < im.recs.len; i++) {
		free(im.recs.ptr[i].dir);
		free(im.recs.ptr[i].rel);
	}
	pg_vec_release(&im.recs);
	{
		size_t it = 0;
		const char *k;
		void *v;
		while (pg_strmap_next(&im.existing, &it, &k, &v)) {
			free(((struct existing *)v)->hash);
			free(v);
		}
	}
	pg_strmap_release(&im.existing);
	git_libgit2_shutdown();
	return error;
}
