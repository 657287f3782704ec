/*
 * queue.c - execute prepared statements on a writer thread.
 *
 * Why: a bulk ingest spends ~45 % of its time inside SQLite (B-tree
 * inserts, WAL writes) and the rest reading git objects; the two do not
 * depend on each other, so a second core can do the writing.  Threads were
 * measured useless for libgit2 diffs (its caches serialise them), but here
 * the threads share nothing: the writer owns the database connection and
 * its statements while the queue is open, the producer owns git.
 *
 * The producer records each statement's parameters into fixed-size byte
 * blocks; full blocks go to the writer through a bounded FIFO (so memory
 * stays bounded: BLOCKS * BLOCK_SIZE), emptied blocks come back.  Order is
 * preserved, so the database sees exactly the statement sequence a
 * synchronous run would execute, and transaction boundaries
 * (pg_queue_commit) fall at the same points: a killed process resumes
 * exactly as before.
 *
 * Errors: the writer stops at the first failure and keeps its message;
 * every later pg_queue_* call of the producer returns it (the message is
 * re-set in the producer's thread, since pg_error is thread-local).
 */
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include "patchgap/store.h"
#include "store/store_int.h"
#include "util/clock.h"
#include "util/banned.h"

#define BLOCK_SIZE ((size_t)256 * 1024)
#define BLOCKS 8

enum { OP_EXEC = 1, OP_COMMIT = 2 };
enum { P_INT = 1, P_TEXT = 2, P_NULL = 3 };

struct block {
	unsigned char *data;
	size_t len;
	struct block *next;
};

struct pg_queue {
	pg_store *store;
	pthread_t thread;
	int started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct block *full_head, *full_tail; /* FIFO to the writer */
	struct block *free_list;
	struct block *cur;                   /* being filled by the producer */
	size_t inflight;                     /* blocks queued or being executed */
	int stop;
	int error;                           /* first writer error (0 = none) */
	char errmsg[1024];
	/* the statement being bound (producer side) */
	unsigned char *pend;
	size_t pend_len, pend_cap;
	uint32_t pend_n;
	int pend_err;                        /* a bind failed: the next exec reports it */
	double producer_wait, writer_idle;   /* seconds blocked (PATCHGAP_QUEUE_STATS) */
	struct block blocks[BLOCKS];
};

/* Op layout: [u8 kind][pg_stmt *][u32 nparams] then per param
 * [u32 idx][u8 type] + (int64 | u32 len + bytes). Unaligned: memcpy only. */

static int writer_exec(pg_queue *q, const unsigned char **pp, const unsigned char *end)
{
	const unsigned char *p = *pp;
	pg_stmt *st;
	uint32_t n;
	int error = 0;

	memcpy(&st, p, sizeof(st));
	p += sizeof(st);
	memcpy(&n, p, 4);
	p += 4;
	for (uint32_t i = 0; i < n && p < end; i++) {
		uint32_t idx, len;
		int64_t v;
		unsigned char type;
		memcpy(&idx, p, 4);
		type = p[4];
		p += 5;
		if (type == P_INT) {
			memcpy(&v, p, 8);
			p += 8;
			if (!error)
				error = pg_stmt_bind_int(st, (int)idx, v);
		} else if (type == P_TEXT) {
			memcpy(&len, p, 4);
			p += 4;
			if (!error)
				error = pg_stmt_bind_textn(st, (int)idx, (const char *)p, len);
			p += len;
		} else if (!error) {
			error = pg_stmt_bind_null(st, (int)idx);
		}
	}
	*pp = p;
	if (!error)
		error = pg_store__exec_queued(st);
	else
		pg_stmt_reset(st);
	(void)q;
	return error;
}

static int writer_run_block(pg_queue *q, const struct block *b)
{
	const unsigned char *p = b->data, *end = b->data + b->len;
	int error = 0;
	while (p < end && !error) {
		unsigned char kind = *p++;
		if (kind == OP_EXEC) {
			error = writer_exec(q, &p, end);
		} else if (kind == OP_COMMIT) {
			if ((error = pg_store_commit(q->store)) == 0)
				error = pg_store_begin(q->store);
		} else {
			error = pg_error_setc(PG_ERROR, "statement queue: corrupt block");
		}
	}
	/* a block ends executed: pg_queue_sync's guarantee */
	if (!error)
		error = pg_store__flush(q->store);
	return error;
}

static void *writer(void *arg)
{
	pg_queue *q = arg;
	pthread_mutex_lock(&q->mu);
	for (;;) {
		struct block *b;
		int error = 0;
		if (!q->full_head && !q->stop) {
			double t0 = pg_clock_now();
			while (!q->full_head && !q->stop)
				pthread_cond_wait(&q->cv, &q->mu);
			q->writer_idle += pg_clock_now() - t0;
		}
		if (!q->full_head)
			break; /* stop requested and nothing left */
		b = q->full_head;
		q->full_head = b->next;
		if (!q->full_head)
			q->full_tail = NULL;
		if (!q->error) {
			pthread_mutex_unlock(&q->mu);
			error = writer_run_block(q, b);
			pthread_mutex_lock(&q->mu);
			if (error && !q->error) {
				q->error = error;
				snprintf(q->errmsg, sizeof(q->errmsg), "%s", pg_error_last());
			}
		}
		b->len = 0;
		b->next = q->free_list;
		q->free_list = b;
		q->inflight--;
		pthread_cond_broadcast(&q->cv);
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

/* Called with the mutex held. */
static int failed(pg_queue *q)
{
	return q->error ? pg_error_setc(q->error, "%s", q->errmsg) : 0;
}

/* Hand the current block to the writer and take an empty one (waiting for it if needed). */
static int flush(pg_queue *q)
{
	int error;
	pthread_mutex_lock(&q->mu);
	if (q->cur && q->cur->len) {
		q->cur->next = NULL;
		if (q->full_tail)
			q->full_tail->next = q->cur;
		else
			q->full_head = q->cur;
		q->full_tail = q->cur;
		q->inflight++;
		q->cur = NULL;
		pthread_cond_broadcast(&q->cv);
	}
	if (!q->cur && !q->free_list && !q->error) {
		double t0 = pg_clock_now();
		while (!q->cur && !q->free_list && !q->error)
			pthread_cond_wait(&q->cv, &q->mu);
		q->producer_wait += pg_clock_now() - t0;
	}
	if (!q->cur && q->free_list) {
		q->cur = q->free_list;
		q->free_list = q->cur->next;
		q->cur->len = 0;
	}
	error = failed(q);
	pthread_mutex_unlock(&q->mu);
	return error;
}

static int append(pg_queue *q, const void *data, size_t len)
{
	if (q->pend_len + len > q->pend_cap) {
		size_t cap = q->pend_cap ? q->pend_cap : 4096;
		unsigned char *n;
		while (cap < q->pend_len + len)
			cap *= 2;
		if (!(n = realloc(q->pend, cap)))
			return pg_error_setc(PG_ENOMEM, "out of memory");
		q->pend = n, q->pend_cap = cap;
	}
	memcpy(q->pend + q->pend_len, data, len);
	q->pend_len += len;
	return 0;
}

static int param(pg_queue *q, int idx, unsigned char type)
{
	uint32_t i = (uint32_t)idx;
	int error;
	if (q->pend_len == 0) {
		/* room for the op header, filled in by pg_queue_exec */
		unsigned char hdr[1 + sizeof(pg_stmt *) + 4] = { 0 };
		if ((error = append(q, hdr, sizeof(hdr))) < 0)
			return error;
	}
	if ((error = append(q, &i, 4)) < 0 || (error = append(q, &type, 1)) < 0)
		return error;
	q->pend_n++;
	return 0;
}

int pg_queue_bind_int(pg_queue *q, int idx, int64_t v)
{
	int error = param(q, idx, P_INT);
	if (!error)
		error = append(q, &v, 8);
	if (error && !q->pend_err)
		q->pend_err = error;
	return error;
}

int pg_queue_bind_text(pg_queue *q, int idx, const char *v)
{
	return pg_queue_bind_textn(q, idx, v, v ? strlen(v) : 0);
}

int pg_queue_bind_textn(pg_queue *q, int idx, const char *v, size_t n)
{
	uint32_t len;
	int error;
	if (!v) {
		error = param(q, idx, P_NULL);
	} else if (n > UINT32_MAX) {
		error = pg_error_setc(PG_EINVALID, "text parameter %d is larger than 4 GiB", idx);
	} else {
		len = (uint32_t)n;
		if ((error = param(q, idx, P_TEXT)) == 0 && (error = append(q, &len, 4)) == 0)
			error = append(q, v, len);
	}
	if (error && !q->pend_err)
		q->pend_err = error;
	return error;
}

/* Copy a finished op into the current block, flushing when it does not fit. */
static int push_op(pg_queue *q, const unsigned char *op, size_t len)
{
	int error;
	if (!q->cur || q->cur->len + len > BLOCK_SIZE) {
		if ((error = flush(q)) < 0)
			return error;
	}
	if (len > BLOCK_SIZE) {
		/* one oversized statement (a huge commit message): give it its own block */
		unsigned char *big = malloc(len);
		if (!big)
			return pg_error_setc(PG_ENOMEM, "out of memory");
		free(q->cur->data);
		q->cur->data = big;
	}
	memcpy(q->cur->data + q->cur->len, op, len);
	q->cur->len += len;
	if (len > BLOCK_SIZE)
		return flush(q); /* the block keeps the bigger buffer until it is replaced or freed */
	return 0;
}

int pg_queue_exec(pg_queue *q, pg_stmt *st)
{
	int error;
	if (q->pend_err) {
		error = q->pend_err;
		q->pend_err = 0;
		q->pend_len = 0;
		q->pend_n = 0;
		return error;
	}
	if (q->pend_len == 0) {
		unsigned char hdr[1 + sizeof(pg_stmt *) + 4] = { 0 };
		if ((error = append(q, hdr, sizeof(hdr))) < 0)
			return error;
	}
	q->pend[0] = OP_EXEC;
	memcpy(q->pend + 1, &st, sizeof(st));
	memcpy(q->pend + 1 + sizeof(st), &q->pend_n, 4);
	error = push_op(q, q->pend, q->pend_len);
	q->pend_len = 0;
	q->pend_n = 0;
	return error;
}

int pg_queue_commit(pg_queue *q)
{
	unsigned char op = OP_COMMIT;
	return push_op(q, &op, 1);
}

int pg_queue_sync(pg_queue *q)
{
	int error;
	if ((error = flush(q)) < 0)
		return error;
	pthread_mutex_lock(&q->mu);
	while (q->inflight && !q->error)
		pthread_cond_wait(&q->cv, &q->mu);
	error = failed(q);
	pthread_mutex_unlock(&q->mu);
	return error;
}

int pg_queue_open(pg_queue **out, pg_store *s)
{
	pg_queue *q = calloc(1, sizeof(*q));
	*out = NULL;
	if (!q)
		return pg_error_setc(PG_ENOMEM, "out of memory");
	q->store = s;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	for (size_t i = 0; i < BLOCKS; i++) {
		if (!(q->blocks[i].data = malloc(BLOCK_SIZE))) {
			pg_queue_close(q);
			return pg_error_setc(PG_ENOMEM, "out of memory");
		}
		q->blocks[i].next = q->free_list;
		q->free_list = &q->blocks[i];
	}
	if (pthread_create(&q->thread, NULL, writer, q) != 0) {
		pg_queue_close(q);
		return pg_error_setc(PG_ERROR, "cannot start the database writer thread");
	}
	q->started = 1;
	*out = q;
	return 0;
}

int pg_queue_close(pg_queue *q)
{
	int error = 0;
	if (!q)
		return 0;
	if (q->started) {
		error = pg_queue_sync(q);
		pthread_mutex_lock(&q->mu);
		q->stop = 1;
		pthread_cond_broadcast(&q->cv);
		pthread_mutex_unlock(&q->mu);
		pthread_join(q->thread, NULL);
		if (getenv("PATCHGAP_QUEUE_STATS"))
			/* which side limits a bulk load: the producer waiting means the writer is slower */
			fprintf(stderr, "queue: producer waited %.2f s for the writer, writer idle %.2f s\n",
				q->producer_wait, q->writer_idle);
	}
	for (size_t i = 0; i < BLOCKS; i++)
		free(q->blocks[i].data);
	free(q->pend);
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->cv);
	free(q);
	return error;
}
