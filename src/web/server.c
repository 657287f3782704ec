/*
 * server.c - the HTTP transport of `patchgap serve` (libmicrohttpd).
 *
 * Invariants:
 *  - every answer carries a Content-Type and the security headers below
 *    (a CSP that allows only the binary's own scripts and styles, nosniff,
 *    no framing, no referrer, no caching) and no CORS headers;
 *  - request bodies are capped (max_body): a larger one is drained and
 *    answered 413 without being parsed;
 *  - reads need a reader token unless public_read; writes need triager;
 *  - readers take a read-only connection from a pool (one per worker
 *    thread in steady state), writers share one connection under a mutex,
 *    so SQLite's WAL lets ingest and watch write while we read.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <microhttpd.h>
#include "patchgap/web.h"
#include "patchgap/affect.h"
#include "patchgap/classify.h"
#include "patchgap/ingest.h"
#include "web/web_int.h"
#include "util/json.h"
#include "util/str.h"
#include "util/banned.h"

#define POOL_MAX 64
#define CACHE_SLOTS 256
#define INFLIGHT_MAX 64
#define CACHE_MAX_BODY (8u << 20)

/*
 * Answers of GET /api/v1 are functions of the database's content, so 200
 * answers are kept until the database changes: the fingerprint is the
 * identity, size and modification time (ns) of the database file and its
 * WAL, which every commit (ours, ingest's, watch's) moves.
 */
struct fingerprint {
	dev_t dev[2];
	ino_t ino[2];
	off_t size[2];
	struct timespec mtime[2];
};

struct cache_slot {
	char *key;                /* URL and query, or NULL when empty */
	struct fingerprint fp;
	char *body;
	size_t len;
	const char *content_type; /* static strings only */
	char disposition[200];
};

struct pg_web_db {
	pg_store *store;
	pg_affect_index *ix;  /* branch views, valid while version is unchanged */
	int64_t version;      /* pg_store_data_version when ix was built */
};

struct pg_web {
	struct MHD_Daemon *d;
	char *database;
	char *repository;              /* diffs for explanations, or NULL */
	int public_read;
	size_t max_body;
	char *cert, *key;
	pthread_mutex_t lock;          /* guards pool */
	struct pg_web_db *pool[POOL_MAX];
	size_t npool;
	pthread_mutex_t clock_;        /* guards cache */
	struct cache_slot cache[CACHE_SLOTS];
	size_t cache_next;             /* round-robin replacement */
	pthread_cond_t cdone;          /* with clock_: an inflight computation ended */
	char *inflight[INFLIGHT_MAX];  /* keys being computed (single flight), under clock_ */
	pthread_t warm;                /* keeps the branch status answers computed */
	int warm_started, stopping;    /* stopping under slock */
	pthread_mutex_t slock;
	pthread_cond_t scond;
	/*
	 * Branch statuses evaluate every CVE against one branch view: one index
	 * whose per-CVE and per-commit caches all statuses share, used by one
	 * request at a time (a cold index per worker costs seconds each).
	 */
	pthread_mutex_t ilock;
	pg_store *istore;              /* the shared index's own connection */
	pg_affect_index *ix;
	int64_t iversion;
	pthread_mutex_t mlock;         /* guards the lazy load of model */
	pg_cls_model *model;           /* the classifier, read-only once loaded */
	int model_tried;
	int cache_on;                  /* a database file (the fingerprint needs one; not PostgreSQL) */
	char *wal;                     /* database path + "-wal" */
	pthread_mutex_t wlock;         /* held while a request uses the writer */
	pg_store *writer;
};

/* Per-request state kept by MHD between calls of the handler. */
struct conn_state {
	pg_buf body;
	int too_large;
	int writer_locked;
};

static const char csp[] =
	"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

static void fingerprint(struct fingerprint *fp, const pg_web *w)
{
	struct stat st;
	const char *paths[2] = { w->database, w->wal };
	memset(fp, 0, sizeof(*fp));
	for (int i = 0; i < 2; i++)
		if (stat(paths[i], &st) == 0) {
			fp->dev[i] = st.st_dev;
			fp->ino[i] = st.st_ino;
			fp->size[i] = st.st_size;
			fp->mtime[i] = st.st_mtim;
		}
}

static int same_fp(const struct fingerprint *a, const struct fingerprint *b)
{
	for (int i = 0; i < 2; i++)
		if (a->dev[i] != b->dev[i] || a->ino[i] != b->ino[i] || a->size[i] != b->size[i] ||
		    a->mtime[i].tv_sec != b->mtime[i].tv_sec || a->mtime[i].tv_nsec != b->mtime[i].tv_nsec)
			return 0;
	return 1;
}

static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	pg_buf *b = cls;
	(void)kind;
	pg_buf_printf(b, "&%s=%s", key, value ? value : "");
	return MHD_YES;
}

/* Copy a cached answer for key into r; 1 when found and still valid.  clock_ held. */
static int cache_get_locked(pg_web *w, const char *key, const struct fingerprint *fp, struct pg_web_req *r)
{
	int found = 0;
	for (size_t i = 0; i < CACHE_SLOTS && !found; i++) {
		struct cache_slot *c = &w->cache[i];
		if (c->key && !strcmp(c->key, key) && same_fp(&c->fp, fp)) {
			pg_buf_reset(&r->out);
			found = pg_buf_put(&r->out, c->body, c->len) == 0;
			r->status = 200;
			r->content_type = c->content_type;
			memcpy(r->disposition, c->disposition, sizeof(r->disposition));
		}
	}
	return found;
}

static void cache_put(pg_web *w, const char *key, const struct fingerprint *fp, const struct pg_web_req *r)
{
	struct cache_slot *c = NULL;
	char *k, *body;
	if (r->status != 200 || r->out.len > CACHE_MAX_BODY)
		return;
	k = pg_strdup(key);
	body = malloc(r->out.len + 1);
	if (!k || !body) {
		free(k);
		free(body);
		return;
	}
	memcpy(body, pg_buf_cstr(&r->out), r->out.len);
	pthread_mutex_lock(&w->clock_);
	for (size_t i = 0; i < CACHE_SLOTS && !c; i++)
		if (w->cache[i].key && !strcmp(w->cache[i].key, key))
			c = &w->cache[i];
	if (!c) {
		c = &w->cache[w->cache_next];
		w->cache_next = (w->cache_next + 1) % CACHE_SLOTS;
	}
	free(c->key);
	free(c->body);
	c->key = k;
	c->body = body;
	c->len = r->out.len;
	c->fp = *fp;
	c->content_type = r->content_type;
	memcpy(c->disposition, r->disposition, sizeof(c->disposition));
	pthread_mutex_unlock(&w->clock_);
}

/*
 * Answer a GET from the cache, else compute it once: a request for a key
 * another thread is computing waits for that answer instead of computing
 * it again (50 clients asking for one branch status cost one evaluation,
 * not 50 on two cores).  The fingerprint is taken before computing, so a
 * write during the computation invalidates the answer.
 */
static void cached_api(pg_web *w, const char *key, struct pg_web_req *r)
{
	struct fingerprint fp;
	int slot = -1;

	fingerprint(&fp, w);
	pthread_mutex_lock(&w->clock_);
	for (;;) {
		int busy = 0;
		if (cache_get_locked(w, key, &fp, r)) {
			pthread_mutex_unlock(&w->clock_);
			return;
		}
		for (size_t i = 0; i < INFLIGHT_MAX; i++)
			if (w->inflight[i] && !strcmp(w->inflight[i], key))
				busy = 1;
		if (!busy)
			break;
		pthread_cond_wait(&w->cdone, &w->clock_);
		fingerprint(&fp, w);
	}
	for (int i = 0; i < INFLIGHT_MAX && slot < 0; i++)
		if (!w->inflight[i] && (w->inflight[i] = pg_strdup(key)))
			slot = i;
	pthread_mutex_unlock(&w->clock_);
	pg_web__api(r);
	cache_put(w, key, &fp, r);
	if (slot >= 0) {
		pthread_mutex_lock(&w->clock_);
		free(w->inflight[slot]);
		w->inflight[slot] = NULL;
		pthread_cond_broadcast(&w->cdone);
		pthread_mutex_unlock(&w->clock_);
	}
}

static void db_free(struct pg_web_db *db)
{
	if (!db)
		return;
	pg_affect_index_free(db->ix);
	pg_store_free(db->store);
	free(db);
}

static struct pg_web_db *pool_get(pg_web *w)
{
	struct pg_web_db *db = NULL;
	pthread_mutex_lock(&w->lock);
	if (w->npool)
		db = w->pool[--w->npool];
	pthread_mutex_unlock(&w->lock);
	if (!db && (db = calloc(1, sizeof(*db))) && pg_store_open(&db->store, w->database, PG_STORE_READONLY) < 0) {
		free(db);
		db = NULL;
	}
	return db;
}

static void pool_put(pg_web *w, struct pg_web_db *db)
{
	if (!db)
		return;
	pthread_mutex_lock(&w->lock);
	if (w->npool < POOL_MAX) {
		w->pool[w->npool++] = db;
		db = NULL;
	}
	pthread_mutex_unlock(&w->lock);
	db_free(db);
}

int pg_web__index(pg_affect_index **out, struct pg_web_req *r)
{
	struct pg_web_db *db = r->db;
	int64_t v;
	int error;
	*out = NULL;
	if ((error = pg_store_data_version(&v, db->store)) < 0)
		return error;
	if (!db->ix || v != db->version) {
		pg_affect_index_free(db->ix);
		db->ix = NULL;
		if ((error = pg_affect_index_open(&db->ix, db->store)) < 0)
			return error;
		db->version = v;
	}
	*out = db->ix;
	return 0;
}

const char *pg_web__repository(struct pg_web_req *r)
{
	return r->web->repository;
}

int pg_web__status(json_t **out, struct pg_web_req *r, const char *branch, const pg_status_options *so)
{
	pg_web *w = r->web;
	int64_t v;
	int error;

	*out = NULL;
	pthread_mutex_lock(&w->ilock);
	if (!w->istore && (error = pg_store_open(&w->istore, w->database, PG_STORE_READONLY)) < 0)
		goto out;
	if ((error = pg_store_data_version(&v, w->istore)) < 0)
		goto out;
	if (!w->ix || v != w->iversion) {
		pg_affect_index_free(w->ix);
		w->ix = NULL;
		if ((error = pg_affect_index_open(&w->ix, w->istore)) < 0)
			goto out;
		w->iversion = v;
	}
	error = pg_affect_status(out, w->ix, branch, so);
out:
	pthread_mutex_unlock(&w->ilock);
	return error;
}

const pg_cls_model *pg_web__model(struct pg_web_req *r)
{
	pg_web *w = r->web;
	const pg_cls_model *m;
	pthread_mutex_lock(&w->mlock);
	if (!w->model_tried) {
		w->model_tried = 1;
		/* no model file: commits are served without an explanation */
		if (pg_cls_model_open(&w->model, NULL) < 0)
			w->model = NULL;
	}
	m = w->model;
	pthread_mutex_unlock(&w->mlock);
	return m;
}

struct writer_ctx {
	pg_web *w;
	struct conn_state *cs;
};

static pg_store *get_writer(void *ctx)
{
	struct writer_ctx *x = ctx;
	if (!x->cs->writer_locked) {
		pthread_mutex_lock(&x->w->wlock);
		x->cs->writer_locked = 1;
	}
	if (!x->w->writer && pg_store_open(&x->w->writer, x->w->database, 0) < 0)
		x->w->writer = NULL;
	return x->w->writer;
}

void pg_web__json(struct pg_web_req *r, int status, json_t *v)
{
	r->status = status;
	r->content_type = "application/json";
	pg_buf_reset(&r->out);
	if (!v || pg_json_dump(&r->out, v, 2) < 0) {
		pg_buf_reset(&r->out);
		r->status = 500;
		pg_buf_puts(&r->out, "{\"error\": \"out of memory\", \"field\": null}\n");
	}
	json_decref(v);
}

void pg_web__error(struct pg_web_req *r, int status, const char *field, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pg_web__json(r, status, json_pack("{s:o,s:o}", "error", pg_json_string(msg), "field",
					  field ? pg_json_string(field) : json_null()));
}

static enum MHD_Result send_answer(struct MHD_Connection *c, int status, const char *ctype, const char *disposition,
				   pg_buf *out)
{
	size_t len = out->len;
	char *data = pg_buf_detach(out);
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (!data)
		data = pg_strdup(""), len = 0;
	if (!(resp = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE))) {
		free(data);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", ctype);
	MHD_add_response_header(resp, "Content-Security-Policy", csp);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "Cross-Origin-Resource-Policy", "same-origin");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	if (disposition && *disposition)
		MHD_add_response_header(resp, "Content-Disposition", disposition);
	ret = MHD_queue_response(c, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result static_file(struct MHD_Connection *c, const char *url, const char *method)
{
	pg_buf out = PG_BUF_INIT;
	if (!strcmp(url, "/"))
		url = "/index.html";
	for (const struct pg_web_asset *a = pg_web__assets; a->path; a++)
		if (!strcmp(a->path, url)) {
			if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
				pg_buf_puts(&out, "{\"error\": \"method not allowed\", \"field\": null}\n");
				return send_answer(c, 405, "application/json", NULL, &out);
			}
			pg_buf_put(&out, (const char *)a->data, a->len);
			return send_answer(c, 200, a->content_type, NULL, &out);
		}
	pg_buf_puts(&out, "{\"error\": \"not found\", \"field\": null}\n");
	return send_answer(c, 404, "application/json", NULL, &out);
}

/* The token of "Authorization: Bearer TOKEN", or NULL. */
static const char *bearer(struct MHD_Connection *c)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	if (!h || strncasecmp(h, "Bearer ", 7))
		return NULL;
	h += 7;
	while (*h == ' ')
		h++;
	return h;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			      const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	pg_web *w = cls;
	struct conn_state *cs = *con_cls;
	struct pg_web_req r;
	struct writer_ctx wx;
	const char *tok;
	char *who = NULL;
	enum MHD_Result ret;

	if (!cs) {
		/* first call: headers only; refuse an announced oversize body before reading it */
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
		if (!(cs = calloc(1, sizeof(*cs))))
			return MHD_NO;
		pg_buf_init(&cs->body, w->max_body);
		if (cl && strtoull(cl, NULL, 10) > w->max_body)
			cs->too_large = 1;
		*con_cls = cs;
		return MHD_YES;
	}
	if (*upload_size) {
		if (!cs->too_large && pg_buf_put(&cs->body, upload, *upload_size) < 0)
			cs->too_large = 1;
		*upload_size = 0;
		return MHD_YES;
	}
	if (strncmp(url, "/api/", 5))
		return static_file(c, url, method);

	memset(&r, 0, sizeof(r));
	pg_buf_init(&r.out, 0);
	r.method = method;
	r.web = w;
	r.conn = c;
	r.content_type = "application/json";
	wx.w = w;
	wx.cs = cs;
	r.writer = get_writer;
	r.ctx = &wx;
	if (cs->too_large) {
		pg_web__error(&r, 413, NULL, "request body larger than %zu bytes", w->max_body);
		goto send;
	}
	if (strncmp(url, "/api/v1/", 8) && strcmp(url, "/api/v1")) {
		pg_web__error(&r, 404, NULL, "unknown API version (this server speaks /api/v1/)");
		goto send;
	}
	r.path = url + 7;
	r.body = pg_buf_cstr(&cs->body);
	r.body_len = cs->body.len;
	if (!(r.db = pool_get(w))) {
		pg_web__error(&r, 503, NULL, "cannot open the database: %s", pg_error_last());
		goto send;
	}
	r.store = r.db->store;
	if ((tok = bearer(c))) {
		if (pg_triage_token_check(&r.role, &who, r.store, tok) < 0) {
			pg_web__error(&r, 401, NULL, "unknown or revoked API token");
			goto send;
		}
		r.who = who;
	} else if (w->public_read)
		r.role = PG_ROLE_NONE;
	if (!strcmp(method, "GET") || !strcmp(method, "HEAD")) {
		if (!w->public_read && r.role < PG_ROLE_READER) {
			pg_web__error(&r, 401, NULL, "reading needs an API token (Authorization: Bearer TOKEN)");
			goto send;
		}
	} else if (r.role < PG_ROLE_TRIAGER) {
		pg_web__error(&r, r.role ? 403 : 401, NULL, "writing needs a token with the triager or admin role");
		goto send;
	}
	if (!strcmp(method, "GET") && w->cache_on) {
		pg_buf key = PG_BUF_INIT;
		pg_buf_puts(&key, url);
		MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_arg, &key);
		cached_api(w, pg_buf_cstr(&key), &r);
		pg_buf_release(&key);
	} else
		pg_web__api(&r);
send:
	ret = send_answer(c, r.status, r.content_type, r.disposition, &r.out);
	pg_buf_release(&r.out);
	pool_put(w, r.db);
	free(who);
	if (cs->writer_locked) {
		pthread_mutex_unlock(&w->wlock);
		cs->writer_locked = 0;
	}
	(void)version;
	return ret;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct conn_state *cs = *con_cls;
	(void)cls, (void)c, (void)toe;
	if (cs) {
		pg_buf_release(&cs->body);
		free(cs);
		*con_cls = NULL;
	}
}

/*
 * Compute every tracked branch's status (the matrix and the status pages
 * ask for them all day) into the cache, as a request would.  Returns early
 * when the server stops.
 */
static void warm_once(pg_web *w)
{
	struct pg_web_db *db = pool_get(w);
	json_t *branches = NULL, *b;
	size_t i;

	if (!db)
		return;
	if (pg_ingest_branches(&branches, db->store) < 0) {
		pg_error_clear();
		pool_put(w, db);
		return;
	}
	json_array_foreach(branches, i, b) {
		const char *name = json_string_value(json_object_get(b, "name"));
		struct pg_web_req r;
		pg_buf path = PG_BUF_INIT;
		int stop;
		pthread_mutex_lock(&w->slock);
		stop = w->stopping;
		pthread_mutex_unlock(&w->slock);
		if (stop || !name)
			break;
		memset(&r, 0, sizeof(r));
		pg_buf_init(&r.out, 0);
		pg_buf_printf(&path, "/api/v1/branches/%s/status", name);
		r.method = "GET";
		r.web = w;
		r.path = pg_buf_cstr(&path) + 7;
		r.body = "";
		r.db = db;
		r.store = db->store;
		r.role = PG_ROLE_READER;
		r.content_type = "application/json";
		cached_api(w, pg_buf_cstr(&path), &r);
		pg_buf_release(&r.out);
		pg_buf_release(&path);
		pg_error_clear();
	}
	json_decref(branches);
	pool_put(w, db);
}

/* Re-warm whenever the database changed (checked every second) until the server stops. */
static void *warm_main(void *arg)
{
	pg_web *w = arg;
	struct fingerprint last, fp;
	int have = 0;

	pthread_mutex_lock(&w->slock);
	while (!w->stopping) {
		struct timespec ts;
		pthread_mutex_unlock(&w->slock);
		fingerprint(&fp, w);
		if (!have || !same_fp(&fp, &last)) {
			warm_once(w);
			last = fp;
			have = 1;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_mutex_lock(&w->slock);
		if (!w->stopping)
			pthread_cond_timedwait(&w->scond, &w->slock, &ts);
	}
	pthread_mutex_unlock(&w->slock);
	return NULL;
}

int pg_web_start(pg_web **out, const pg_web_options *o)
{
	pg_web *w;
	struct sockaddr_storage ss;
	socklen_t sl;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL_LINUX_ONLY;
	const char *bind = o->bind ? o->bind : "127.0.0.1";
	pg_store *probe = NULL;
	int error;

	*out = NULL;
	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, bind, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		((struct sockaddr_in *)&ss)->sin_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)o->port);
		sl = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, bind, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)o->port);
		sl = sizeof(struct sockaddr_in6);
		flags |= MHD_USE_IPv6;
	} else
		return pg_error_setc(PG_EINVALID, "listen address '%.60s' is not an IPv4 or IPv6 address", bind);
	(void)sl;
	if (o->port < 0 || o->port > 65535)
		return pg_error_setc(PG_EINVALID, "port %d is not a TCP port", o->port);
	/*
	 * Bring the schema up to date first (the readers' connections cannot
	 * migrate): a database written by an older patchgap gains the newer
	 * columns here.  A database we may not write stays as it is.
	 */
	if (!pg_store_is_postgresql(o->database) && pg_store_open(&probe, o->database, 0) == 0)
		pg_store_free(probe);
	probe = NULL;
	pg_error_clear();
	/* fail now, with the database's own message, rather than on every request */
	if ((error = pg_store_open(&probe, o->database, PG_STORE_READONLY)) < 0)
		return error;
	if (!(w = calloc(1, sizeof(*w))))
		return pg_error_setc(PG_ENOMEM, "out of memory");
	pthread_mutex_init(&w->lock, NULL);
	pthread_mutex_init(&w->wlock, NULL);
	pthread_mutex_init(&w->clock_, NULL);
	pthread_mutex_init(&w->slock, NULL);
	pthread_mutex_init(&w->ilock, NULL);
	pthread_mutex_init(&w->mlock, NULL);
	pthread_cond_init(&w->cdone, NULL);
	pthread_cond_init(&w->scond, NULL);
	if (!(w->pool[0] = calloc(1, sizeof(*w->pool[0])))) {
		pg_store_free(probe);
		free(w);
		return pg_error_setc(PG_ENOMEM, "out of memory");
	}
	w->pool[w->npool++]->store = probe;
	w->database = pg_strdup(o->database);
	w->repository = o->repository ? pg_strdup(o->repository) : NULL;
	{
		struct stat st;
		w->cache_on = !pg_store_is_postgresql(o->database) && stat(o->database, &st) == 0 && S_ISREG(st.st_mode);
	}
	{
		pg_buf wal = PG_BUF_INIT;
		pg_buf_printf(&wal, "%s-wal", o->database);
		w->wal = pg_buf_detach(&wal);
	}
	w->public_read = o->public_read;
	w->max_body = o->max_body ? o->max_body : 64 * 1024;
	if (o->cert_pem) {
		flags |= MHD_USE_TLS;
		w->cert = pg_strdup(o->cert_pem);
		w->key = pg_strdup(o->key_pem);
	}
	if (w->cert)
		w->d = MHD_start_daemon(flags, 0, NULL, NULL, handle, w, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
					MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(o->threads ? o->threads : 4),
					MHD_OPTION_CONNECTION_LIMIT, 512U, MHD_OPTION_CONNECTION_TIMEOUT, 30U,
					MHD_OPTION_NOTIFY_COMPLETED, completed, w, MHD_OPTION_HTTPS_MEM_CERT, w->cert,
					MHD_OPTION_HTTPS_MEM_KEY, w->key, MHD_OPTION_END);
	else
		w->d = MHD_start_daemon(flags, 0, NULL, NULL, handle, w, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
					MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(o->threads ? o->threads : 4),
					MHD_OPTION_CONNECTION_LIMIT, 512U, MHD_OPTION_CONNECTION_TIMEOUT, 30U,
					MHD_OPTION_NOTIFY_COMPLETED, completed, w, MHD_OPTION_END);
	if (!w->d) {
		error = pg_error_setc(PG_EIO, "cannot listen on %s port %d (in use, or TLS files unusable)", bind, o->port);
		pg_web_stop(w);
		return error;
	}
	/* without the response cache (PostgreSQL) there is nothing to keep warm */
	if (w->cache_on && pthread_create(&w->warm, NULL, warm_main, w) == 0)
		w->warm_started = 1;
	*out = w;
	return 0;
}

int pg_web_port(const pg_web *w)
{
	const union MHD_DaemonInfo *i = MHD_get_daemon_info(w->d, MHD_DAEMON_INFO_BIND_PORT);
	return i ? (int)i->port : -1;
}

void pg_web_stop(pg_web *w)
{
	if (!w)
		return;
	if (w->warm_started) {
		pthread_mutex_lock(&w->slock);
		w->stopping = 1;
		pthread_cond_broadcast(&w->scond);
		pthread_mutex_unlock(&w->slock);
		pthread_join(w->warm, NULL);
	}
	if (w->d)
		MHD_stop_daemon(w->d);
	for (size_t i = 0; i < w->npool; i++)
		db_free(w->pool[i]);
	pg_store_free(w->writer);
	pthread_mutex_destroy(&w->lock);
	pthread_mutex_destroy(&w->wlock);
	pthread_mutex_destroy(&w->clock_);
	pthread_mutex_destroy(&w->slock);
	pthread_mutex_destroy(&w->ilock);
	pthread_mutex_destroy(&w->mlock);
	pg_cls_model_free(w->model);
	pg_affect_index_free(w->ix);
	pg_store_free(w->istore);
	pthread_cond_destroy(&w->cdone);
	pthread_cond_destroy(&w->scond);
	for (size_t i = 0; i < INFLIGHT_MAX; i++)
		free(w->inflight[i]);
	for (size_t i = 0; i < CACHE_SLOTS; i++) {
		free(w->cache[i].key);
		free(w->cache[i].body);
	}
	free(w->wal);
	free(w->database);
	free(w->repository);
	free(w->cert);
	free(w->key);
	free(w);
}
