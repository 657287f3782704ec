/*
 * odb.c - read-only pack reader for bulk scans; see odb.h for why.
 *
 * Formats (git's Documentation/gitformat-pack.txt):
 *   .idx v2: "\377tOc", version 2, fanout[256] (big-endian counts), N sorted
 *            ids, N crc32, N 31-bit offsets (MSB set: index into the 64-bit
 *            offset table), the 64-bit table, two 20-byte checksums.
 *   .pack:   "PACK", version 2|3, N; entries: a varint header (type in bits
 *            4-6 of the first byte, size in the remaining bits), then for
 *            OFS_DELTA a negative-offset varint, for REF_DELTA a 20-byte
 *            base id, then zlib data (the object, or a delta against the base).
 *   delta:   varint base size, varint result size, then copy ops (bit 7
 *            set: offset/size bytes selected by bits 0-6) and insert ops.
 *
 * Invariants: every window pointer is only used while no other window is
 * mapped (use() may unmap the LRU window); a pack's data never extends
 * into its trailing 20-byte checksum; cache entries own their bytes.
 */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "util/odb.h"
#include "util/str.h"
#include "util/vec.h"
#include "util/endian.h"
#include "util/banned.h"

#define WIN_SHIFT 26                      /* 64 MiB windows */
#define WIN_SIZE ((uint64_t)1 << WIN_SHIFT)
/*
 * <= 8 GiB of pack mapped at once, git's core.packedGitLimit on 64-bit.
 * Fewer windows thrash: 8 (512 MiB) on a 560 MB pack cost 10 s of remapping
 * in a 291k-commit ingest (54 s, 37 s with 32); 32 (2 GiB) on the 4 GB pack
 * of a 1.38M-commit history remapped 158k times (413 s, 265 s with the
 * whole pack mapped; git log: 261 s).  Mapped pages are page cache, shared
 * and reclaimable, not heap: they count in RSS as git's own do.
 */
#define WIN_MAX 128
#define WIN_CAP 128                       /* PATCHGAP_ODB_WINDOWS may ask for fewer */
/*
 * Access advice.  The kernel reads 128 KiB around every page fault on a
 * mapping (read-around); delta bases lie anywhere in the pack, so when the
 * pack does not fit in memory (a 2 GiB cgroup, a 4 GB pack) nearly all of
 * it is waste that evicts useful pages: the 291k-commit ingest progressed
 * 2.4x slower in 512 MiB than with MADV_RANDOM.  With the pack in the page
 * cache, or read once from cold, read-around is free or helps (cold, in
 * 20 GiB: 28 s normal, 34 s random).  So the windows switch to MADV_RANDOM
 * only once the process's major faults show the pack being read again:
 * more than PRESSURE_FAULTS between two checks PRESSURE_CHECK lookups apart.
 */
#define PRESSURE_CHECK 65536              /* power of two */
#define PRESSURE_FAULTS 1024
#define CACHE_SLOTS 65536                 /* power of two; slots, not bytes, were the limit at 1.4M commits */
#define CACHE_BYTES ((size_t)96 << 20)
#define CACHE_MAX_OBJ ((size_t)4 << 20)   /* bigger objects are not cached */
#define MAX_CHAIN 10000                   /* git's pack-objects caps depth at 4095 */
#define MAX_OBJ ((size_t)1 << 30)         /* refuse objects over 1 GiB (pg_buf's cap) */

struct pack {
	char *path;              /* the .pack file, for messages */
	int fd;
	uint64_t size;           /* file size */
	uint64_t limit;          /* end of entry data: size - 20 */
	unsigned char *idx;      /* whole .idx mapped */
	size_t idx_len;
	uint32_t n;
	const unsigned char *fanout, *ids, *off32, *off64;
	size_t n64;
	struct window **wins;    /* by window number (offset >> WIN_SHIFT): the mapping, or NULL */
	size_t nwins;
};

struct window {
	struct pack *p;
	uint64_t off;
	size_t len;
	unsigned char *base;
	uint64_t last;
};

struct cache_ent {
	const struct pack *p;
	uint64_t off;
	git_object_t type;
	char *data;              /* owned */
	size_t len, cap;
};

struct link {
	struct pack *p;
	uint64_t off;            /* entry start: the cache key */
	uint64_t data;           /* where the zlib stream of the delta starts */
	size_t size;             /* delta size (inflated) */
};

struct pg_odb {
	git_repository *repo;
	git_odb *godb;
	PG_VEC(struct pack *) packs;
	struct window win[WIN_CAP];
	size_t nwin, win_max;
	uint64_t tick;
	int access;              /* 0 auto, 1 random (MADV_RANDOM on every window), 2 normal */
	long majflt;             /* ru_majflt at the last pressure check */
	z_stream z;
	int z_ready;
	struct cache_ent cache[CACHE_SLOTS];
	size_t cache_bytes;
	size_t clock;            /* next slot to evict when the cache is over its byte budget */
	pg_buf a, b, delta;      /* scratch: current object, next object, delta */
	PG_VEC(struct link) chain;
	pg_odb_stats st;
};

static int corrupt(const struct pack *p, uint64_t off, const char *what)
{
	return pg_error_setc(PG_EINVALID, "pack '%s' is corrupt at offset %llu: %s", p->path,
			     (unsigned long long)off, what);
}

static void pack_free(struct pack *p)
{
	if (!p)
		return;
	if (p->idx)
		munmap(p->idx, p->idx_len);
	if (p->fd >= 0)
		close(p->fd);
	free(p->wins);
	free(p->path);
	free(p);
}

/* Map and check one .idx and open its .pack; a pack we cannot use is skipped (libgit2 still reads it). */
static int pack_open(struct pack **out, const char *idx_path)
{
	struct pack *p = calloc(1, sizeof(*p));
	struct stat st;
	unsigned char hdr[12];
	size_t plen = strlen(idx_path);
	int fd = -1;

	*out = NULL;
	if (!p)
		return pg_error_setc(PG_ENOMEM, "out of memory");
	p->fd = -1;
	/* "<name>.idx" -> "<name>.pack" */
	if (!(p->path = malloc(plen + 2))) {
		free(p);
		return pg_error_setc(PG_ENOMEM, "out of memory");
	}
	memcpy(p->path, idx_path, plen - 4);
	memcpy(p->path + plen - 4, ".pack", 6);
	if ((fd = open(idx_path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0)
		goto skip;
	p->idx_len = (size_t)st.st_size;
	if (p->idx_len < 8 + 1024 + 40)
		goto skip;
	p->idx = mmap(NULL, p->idx_len, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	fd = -1;
	if (p->idx == MAP_FAILED) {
		p->idx = NULL;
		goto skip;
	}
	if (memcmp(p->idx, "\377tOc", 4) || pg_be32(p->idx + 4) != 2)
		goto skip;
	p->fanout = p->idx + 8;
	if (!pg_fanout_ok(p->fanout))
		goto skip;
	p->n = pg_be32(p->fanout + 4 * 255);
	if ((uint64_t)p->n * 28 + 8 + 1024 + 40 > p->idx_len)
		goto skip;
	p->ids = p->fanout + 1024;
	p->off32 = p->ids + (size_t)p->n * 24; /* ids, then crc32s */
	p->off64 = p->off32 + (size_t)p->n * 4;
	p->n64 = (p->idx_len - 8 - 1024 - (size_t)p->n * 28 - 40) / 8;
	if ((p->fd = open(p->path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(p->fd, &st) < 0)
		goto skip;
	p->size = (uint64_t)st.st_size;
	if (p->size < 12 + 20 || pread(p->fd, hdr, 12, 0) != 12 || memcmp(hdr, "PACK", 4) ||
	    (pg_be32(hdr + 4) != 2 && pg_be32(hdr + 4) != 3) || pg_be32(hdr + 8) != p->n)
		goto skip;
	p->limit = p->size - 20;
	*out = p;
	return 0;
skip:
	if (fd >= 0)
		close(fd);
	pack_free(p);
	return 0;
}

static int find_packs(pg_odb *db)
{
	const char *common = git_repository_commondir(db->repo);
	pg_buf dir = PG_BUF_INIT, path = PG_BUF_INIT;
	DIR *d = NULL;
	struct dirent *e;
	int error;

	if ((error = pg_buf_printf(&dir, "%sobjects/pack", common ? common : "")) < 0)
		goto out;
	if (!(d = opendir(dir.ptr)))
		goto out; /* no packs: everything goes through libgit2 */
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		struct pack *p = NULL;
		if (n < 5 || strcmp(e->d_name + n - 4, ".idx"))
			continue;
		pg_buf_reset(&path);
		if ((error = pg_buf_printf(&path, "%s/%s", dir.ptr, e->d_name)) < 0 ||
		    (error = pack_open(&p, path.ptr)) < 0)
			goto out;
		if (p && (error = pg_vec_push(&db->packs, p)) < 0) {
			pack_free(p);
			goto out;
		}
	}
out:
	if (d)
		closedir(d);
	pg_buf_release(&dir);
	pg_buf_release(&path);
	return error;
}

int pg_odb_open(pg_odb **out, git_repository *repo)
{
	pg_odb *db = calloc(1, sizeof(*db));
	int error;

	*out = NULL;
	if (!db)
		return pg_error_setc(PG_ENOMEM, "out of memory");
	db->repo = repo;
	db->win_max = WIN_MAX;
	{
		/* a benchmark knob: mapped pack bytes (RSS) against remapping (doc/internals/ingest.md) */
		const char *env = getenv("PATCHGAP_ODB_WINDOWS");
		long n = env && *env ? strtol(env, NULL, 10) : 0;
		if (n > 0)
			db->win_max = n < WIN_CAP ? (size_t)n : WIN_CAP;
	}
	{
		/* PATCHGAP_ODB_ACCESS=random|normal: no auto switch (benchmarks) */
		const char *env = getenv("PATCHGAP_ODB_ACCESS");
		db->access = !env ? 0 : !strcmp(env, "random") ? 1 : !strcmp(env, "normal") ? 2 : 0;
	}
	pg_buf_init(&db->a, MAX_OBJ + 1);
	pg_buf_init(&db->b, MAX_OBJ + 1);
	pg_buf_init(&db->delta, MAX_OBJ + 1);
	if (git_repository_odb(&db->godb, repo) < 0) {
		error = pg_error_set("cannot open the object database: %s",
				     git_error_last() ? git_error_last()->message : "unknown error");
		goto fail;
	}
	if (inflateInit(&db->z) != Z_OK) {
		error = pg_error_setc(PG_ENOMEM, "cannot initialise zlib");
		goto fail;
	}
	db->z_ready = 1;
	if ((error = find_packs(db)) < 0)
		goto fail;
	*out = db;
	return 0;
fail:
	pg_odb_free(db);
	return error;
}

void pg_odb_free(pg_odb *db)
{
	if (!db)
		return;
	for (size_t i = 0; i < db->nwin; i++)
		munmap(db->win[i].base, db->win[i].len);
	for (size_t i = 0; i < db->packs.len; i++)
		pack_free(db->packs.ptr[i]);
	pg_vec_release(&db->packs);
	for (size_t i = 0; i < CACHE_SLOTS; i++)
		free(db->cache[i].data);
	if (db->z_ready)
		inflateEnd(&db->z);
	git_odb_free(db->godb);
	pg_buf_release(&db->a);
	pg_buf_release(&db->b);
	pg_buf_release(&db->delta);
	pg_vec_release(&db->chain);
	free(db);
}

void pg_odb_get_stats(const pg_odb *db, pg_odb_stats *out)
{
	*out = db->st;
	out->random = db->access == 1;
}

/* Auto access mode: switch every window to MADV_RANDOM once the pack is being re-read from disk. */
static void pressure_check(pg_odb *db)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) < 0)
		return;
	if (ru.ru_majflt - db->majflt > PRESSURE_FAULTS && db->tick > PRESSURE_CHECK) {
		db->access = 1;
		for (size_t i = 0; i < db->nwin; i++)
			madvise(db->win[i].base, db->win[i].len, MADV_RANDOM);
	}
	db->majflt = ru.ru_majflt;
}

/* Pointer to pack byte off (< p->limit) and how many bytes follow it in the same window. */
static const unsigned char *use(pg_odb *db, struct pack *p, uint64_t off, size_t *avail)
{
	struct window *w = NULL;
	uint64_t start;
	size_t len, k = (size_t)(off >> WIN_SHIFT);
	void *m;

	if (!p->wins) {
		/* every window of the pack found in O(1): up to 128 are mapped at once */
		p->nwins = (size_t)((p->limit + WIN_SIZE - 1) >> WIN_SHIFT);
		if (!(p->wins = calloc(p->nwins ? p->nwins : 1, sizeof(*p->wins)))) {
			pg_error_setc(PG_ENOMEM, "out of memory");
			return NULL;
		}
	}
	if (k >= p->nwins) {
		pg_error_setc(PG_EINVALID, "pack '%s': offset %llu outside the pack", p->path, (unsigned long long)off);
		return NULL;
	}
	if (!db->access && !(db->tick & (PRESSURE_CHECK - 1)))
		pressure_check(db);
	if ((w = p->wins[k])) {
		w->last = ++db->tick;
		*avail = (size_t)(w->off + w->len - off);
		return w->base + (off - w->off);
	}
	start = (uint64_t)k << WIN_SHIFT;
	len = (size_t)(p->limit - start < WIN_SIZE ? p->limit - start : WIN_SIZE);
	m = mmap(NULL, len, PROT_READ, MAP_PRIVATE, p->fd, (off_t)start);
	if (m == MAP_FAILED) {
		pg_error_setc(PG_EIO, "cannot map pack '%s': %s", p->path, strerror(errno));
		return NULL;
	}
	db->st.maps++;
	if (db->access == 1)
		madvise(m, len, MADV_RANDOM);
	if (db->nwin < db->win_max) {
		w = &db->win[db->nwin++];
	} else {
		w = &db->win[0];
		for (size_t i = 1; i < db->nwin; i++)
			if (db->win[i].last < w->last)
				w = &db->win[i];
		munmap(w->base, w->len);
		w->p->wins[(size_t)(w->off >> WIN_SHIFT)] = NULL;
	}
	w->p = p, w->off = start, w->len = len, w->base = m, w->last = ++db->tick;
	p->wins[k] = w;
	*avail = (size_t)(start + len - off);
	return w->base + (off - start);
}

/* Copy up to n bytes at off (fewer at the end of the data); returns the count or -1. */
static long copy_out(pg_odb *db, struct pack *p, uint64_t off, unsigned char *dst, size_t n)
{
	size_t got = 0;
	while (got < n && off < p->limit) {
		size_t avail;
		const unsigned char *s = use(db, p, off, &avail);
		if (!s)
			return -1;
		if (avail > n - got)
			avail = n - got;
		memcpy(dst + got, s, avail);
		got += avail;
		off += avail;
	}
	return (long)got;
}

/* memcmp order on ids; the first 8 bytes as one integer settle almost every comparison */
static int id_cmp(const unsigned char *a, uint64_t b8, const unsigned char *b)
{
	uint64_t a8 = pg_be64(a);
	if (a8 != b8)
		return a8 < b8 ? -1 : 1;
	return memcmp(a + 8, b + 8, 12);
}

static int idx_hit(const struct pack *p, uint32_t mid, uint64_t *off)
{
	uint32_t o = pg_be32(p->off32 + (size_t)mid * 4);
	if (o & 0x80000000u) {
		size_t k = o & 0x7fffffffu;
		if (k >= p->n64)
			return corrupt(p, 0, "64-bit offset index out of range");
		*off = pg_be64(p->off64 + k * 8);
	} else {
		*off = o;
	}
	if (*off < 12 || *off >= p->limit)
		return corrupt(p, *off, "object offset outside the pack");
	return 1;
}

/*
 * Object ids are uniformly distributed, so interpolating on their first 8
 * bytes lands next to the target in 2-3 probes where a binary search of a
 * kernel-sized index (~10M ids) needs ~15, each a cache miss (measured:
 * the binary search was 8 % of a scan).  A few interpolation steps narrow
 * the range, a binary search finishes it.
 */
static int idx_find(const struct pack *p, const unsigned char *id, uint64_t *off)
{
	uint32_t lo = id[0] ? pg_be32(p->fanout + 4 * (id[0] - 1)) : 0, hi = pg_be32(p->fanout + 4 * id[0]);
	uint64_t id8 = pg_be64(id);
	int steps = 0;

	if (hi > p->n || lo > hi)
		return corrupt(p, 0, "bad fan-out table");
	while (hi - lo > 16 && steps++ < 4) {
		uint64_t a = pg_be64(p->ids + (size_t)lo * 20), b = pg_be64(p->ids + (size_t)(hi - 1) * 20);
		uint32_t mid;
		int c;
		if (id8 < a || id8 > b)
			return 0;
		if (a == b)
			break;
		mid = lo + (uint32_t)((double)(id8 - a) / (double)(b - a) * (double)(hi - 1 - lo));
		c = id_cmp(p->ids + (size_t)mid * 20, id8, id);
		if (c == 0)
			return idx_hit(p, mid, off);
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = id_cmp(p->ids + (size_t)mid * 20, id8, id);
		if (c == 0)
			return idx_hit(p, mid, off);
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* 1 and (*pack, *off) when id is in a pack, 0 when not, < 0 on error. */
static int locate(pg_odb *db, const unsigned char *id, struct pack **pack, uint64_t *off)
{
	for (size_t i = 0; i < db->packs.len; i++) {
		int rc = idx_find(db->packs.ptr[i], id, off);
		if (rc)
			{ *pack = db->packs.ptr[i]; return rc; }
	}
	return 0;
}

/* Inflate exactly size bytes of zlib data starting at off into out. */
static int inflate_at(pg_odb *db, struct pack *p, uint64_t off, size_t size, pg_buf *out)
{
	z_stream *z = &db->z;
	int rc = Z_OK, error;

	if (size > MAX_OBJ)
		return corrupt(p, off, "object larger than 1 GiB");
	pg_buf_reset(out);
	if ((error = pg_buf_grow(out, size + 1)) < 0)
		return error;
	inflateReset(z);
	/* one spare byte: an over-long stream shows as total_out > size, not as a stall */
	z->next_out = (unsigned char *)out->ptr;
	z->avail_out = (uInt)size + 1;
	db->st.inflates++;
	while (rc != Z_STREAM_END) {
		size_t avail;
		const unsigned char *in;
		if (off >= p->limit)
			return corrupt(p, off, "zlib stream runs past the end of the pack");
		if (!(in = use(db, p, off, &avail)))
			return PG_EIO;
		if (avail > (1u << 30))
			avail = 1u << 30;
		z->next_in = (unsigned char *)in;
		z->avail_in = (uInt)avail;
		rc = inflate(z, Z_NO_FLUSH);
		off += avail - z->avail_in;
		if (rc != Z_OK && rc != Z_STREAM_END)
			return corrupt(p, off, "bad zlib data");
		if (rc == Z_OK && z->avail_out == 0)
			return corrupt(p, off, "object larger than its header says");
	}
	if (z->total_out != size)
		return corrupt(p, off, "object size differs from its header");
	out->len = size;
	out->ptr[size] = '\0';
	return 0;
}

static int delta_varint(const unsigned char **pp, const unsigned char *end, size_t *out)
{
	const unsigned char *p = *pp;
	size_t v = 0;
	unsigned shift = 0;
	do {
		if (p >= end || shift > 56)
			return -1;
		v |= (size_t)(*p & 0x7f) << shift;
		shift += 7;
	} while (*p++ & 0x80);
	*pp = p;
	*out = v;
	return 0;
}

static int apply_delta(const struct pack *p, uint64_t off, const char *base, size_t blen, const pg_buf *delta,
		       pg_buf *out);

int pg_odb__apply_delta(const char *pack, uint64_t off, const pg_buf *base, const pg_buf *delta, pg_buf *out)
{
	struct pack named = { .path = (char *)pack };
	return apply_delta(&named, off, base->ptr, base->len, delta, out);
}

/* base may point into the delta-base cache: it is only read, and out never aliases it. */
static int apply_delta(const struct pack *p, uint64_t off, const char *base, size_t blen, const pg_buf *delta,
		       pg_buf *out)
{
	const unsigned char *d = (const unsigned char *)delta->ptr, *end = d ? d + delta->len : NULL;
	size_t bsize, rsize, pos = 0;
	int error;

	if (!d || delta_varint(&d, end, &bsize) < 0 || delta_varint(&d, end, &rsize) < 0)
		return corrupt(p, off, "truncated delta header");
	if (bsize != blen)
		return corrupt(p, off, "delta base size mismatch");
	if (rsize > MAX_OBJ)
		return corrupt(p, off, "delta result larger than 1 GiB");
	pg_buf_reset(out);
	/*
	 * Grow as the ops produce bytes instead of trusting rsize up front: a
	 * corrupt 20-byte delta claiming a 1 GiB result then fails on its
	 * size check without allocating it.  The buffers are reused, so a
	 * normal scan stops reallocating after the first objects.
	 */
	while (d < end) {
		unsigned char op = *d++;
		if (op & 0x80) {
			size_t co = 0, cs = 0;
			for (int i = 0; i < 4; i++)
				if (op & (1u << i)) {
					if (d >= end)
						return corrupt(p, off, "truncated delta copy");
					co |= (size_t)*d++ << (8 * i);
				}
			for (int i = 0; i < 3; i++)
				if (op & (0x10u << i)) {
					if (d >= end)
						return corrupt(p, off, "truncated delta copy");
					cs |= (size_t)*d++ << (8 * i);
				}
			if (!cs)
				cs = 0x10000;
			if (co > blen || cs > blen - co || cs > rsize - pos)
				return corrupt(p, off, "delta copy out of range");
			if ((error = pg_buf_put(out, base + co, cs)) < 0)
				return error;
			pos += cs;
		} else if (op) {
			if ((size_t)(end - d) < op || op > rsize - pos)
				return corrupt(p, off, "delta insert out of range");
			if ((error = pg_buf_put(out, (const char *)d, op)) < 0)
				return error;
			pos += op;
			d += op;
		} else {
			return corrupt(p, off, "delta opcode 0");
		}
	}
	if (pos != rsize)
		return corrupt(p, off, "delta result size mismatch");
	if (!out->ptr && (error = pg_buf_grow(out, 1)) < 0)
		return error; /* an empty result is still a valid "" */
	out->ptr[rsize] = '\0';
	return 0;
}

static size_t cache_slot(const struct pack *p, uint64_t off)
{
	uint64_t h = (off ^ (uint64_t)(uintptr_t)p) * 0x9e3779b97f4a7c15ull;
	return (size_t)(h >> 40) & (CACHE_SLOTS - 1);
}

static const struct cache_ent *cache_get(pg_odb *db, const struct pack *p, uint64_t off)
{
	const struct cache_ent *e = &db->cache[cache_slot(p, off)];
	return e->data && e->p == p && e->off == off ? e : NULL;
}

/* Best effort: a failed allocation only means a cache miss later. */
static void cache_put(pg_odb *db, const struct pack *p, uint64_t off, git_object_t type, const pg_buf *b)
{
	struct cache_ent *e = &db->cache[cache_slot(p, off)];
	if (b->len > CACHE_MAX_OBJ)
		return;
	if (e->cap < b->len + 1) {
		/* power-of-two capacities: a slot's next object usually fits, no malloc churn */
		size_t cap = 256;
		char *n;
		while (cap < b->len + 1)
			cap *= 2;
		db->cache_bytes -= e->cap;
		free(e->data);
		e->data = NULL, e->cap = 0, e->len = 0;
		/* over budget: evict other slots in turn (a clock sweep, roughly oldest first) */
		for (size_t k = 0; db->cache_bytes + cap > CACHE_BYTES && k < CACHE_SLOTS; k++) {
			struct cache_ent *v = &db->cache[db->clock];
			db->clock = (db->clock + 1) & (CACHE_SLOTS - 1);
			if (v->data && v != e) {
				db->cache_bytes -= v->cap;
				free(v->data);
				v->data = NULL, v->cap = 0, v->len = 0;
			}
		}
		if (db->cache_bytes + cap > CACHE_BYTES || !(n = malloc(cap)))
			return;
		e->data = n;
		e->cap = cap;
		db->cache_bytes += cap;
	}
	memcpy(e->data, b->ptr, b->len + 1);
	e->len = b->len;
	e->p = p, e->off = off, e->type = type;
}

/* Exchange the memory of two buffers; each keeps its own limit. */
static void swap_buf(pg_buf *x, pg_buf *y)
{
	char *p = x->ptr;
	size_t len = x->len, alloc = x->alloc;
	x->ptr = y->ptr, x->len = y->len, x->alloc = y->alloc;
	y->ptr = p, y->len = len, y->alloc = alloc;
}

static int read_fallback(pg_odb *db, const git_oid *id, git_object_t *type, pg_buf *out)
{
	git_odb_object *o = NULL;
	char hex[GIT_OID_HEXSZ + 1];
	int error;

	if (git_odb_read(&o, db->godb, id) < 0) {
		git_oid_tostr(hex, sizeof(hex), id);
		return pg_error_setc(PG_ENOTFOUND, "object %s cannot be read: %s", hex,
				     git_error_last() ? git_error_last()->message : "missing");
	}
	db->st.fallback++;
	pg_buf_reset(out);
	error = pg_buf_put(out, git_odb_object_data(o), git_odb_object_size(o));
	if (!error && !out->ptr)
		error = pg_buf_grow(out, 1); /* empty object: still a valid "" */
	if (!error)
		out->ptr[out->len] = '\0';
	*type = git_odb_object_type(o);
	git_odb_object_free(o);
	return error;
}

/* Reconstruct the object at (p, off) into db->a. */
static int read_packed(pg_odb *db, struct pack *p, uint64_t off, git_object_t *type)
{
	git_object_t t = GIT_OBJECT_INVALID;
	const char *base = NULL; /* the current object: db->a, or a cache entry (not copied) */
	size_t blen = 0;
	int error;

	db->chain.len = 0;
	for (;;) {
		unsigned char h[32];
		const struct cache_ent *ce;
		long n;
		size_t size, i = 1;
		unsigned shift = 4;
		int kind;

		if (db->chain.len > MAX_CHAIN)
			return corrupt(p, off, "delta chain too long (a cycle?)");
		if ((ce = cache_get(db, p, off))) {
			db->st.cache_hits++;
			t = ce->type;
			base = ce->data, blen = ce->len;
			break;
		}
		if ((n = copy_out(db, p, off, h, sizeof(h))) < 0)
			return PG_EIO;
		if (n < 2)
			return corrupt(p, off, "truncated entry header");
		kind = (h[0] >> 4) & 7;
		size = h[0] & 15;
		while (h[i - 1] & 0x80) {
			if (i >= (size_t)n || shift > 57)
				return corrupt(p, off, "bad entry header");
			size |= (size_t)(h[i] & 0x7f) << shift;
			shift += 7;
			i++;
		}
		if (kind >= GIT_OBJECT_COMMIT && kind <= GIT_OBJECT_TAG) {
			if ((error = inflate_at(db, p, off + i, size, &db->a)) < 0)
				return error;
			t = (git_object_t)kind;
			base = db->a.ptr, blen = db->a.len;
			/* bases of chains, and trees and blobs read whole: a later version
			 * of the same path is likely to be stored as a delta against it
			 * (or it is the old side of a later diff); commits are read once */
			if (db->chain.len || t == GIT_OBJECT_TREE || t == GIT_OBJECT_BLOB)
				cache_put(db, p, off, t, &db->a);
			break;
		} else if (kind == GIT_OBJECT_OFS_DELTA) {
			uint64_t rel;
			struct link l;
			if (i >= (size_t)n)
				return corrupt(p, off, "truncated delta offset");
			rel = h[i] & 0x7f;
			while (h[i++] & 0x80) {
				if (i >= (size_t)n || rel >> 56)
					return corrupt(p, off, "bad delta offset");
				rel = ((rel + 1) << 7) | (h[i] & 0x7f);
			}
			if (rel == 0 || rel > off - 12)
				return corrupt(p, off, "delta base offset outside the pack");
			l.p = p, l.off = off, l.data = off + i, l.size = size;
			if ((error = pg_vec_push(&db->chain, l)) < 0)
				return error;
			off -= rel;
		} else if (kind == GIT_OBJECT_REF_DELTA) {
			struct link l;
			git_oid bid;
			struct pack *bp = NULL;
			uint64_t boff = 0;
			int rc;
			if (i + 20 > (size_t)n)
				return corrupt(p, off, "truncated delta base id");
			memcpy(bid.id, h + i, 20);
			l.p = p, l.off = off, l.data = off + i + 20, l.size = size;
			if ((error = pg_vec_push(&db->chain, l)) < 0)
				return error;
			if ((rc = locate(db, bid.id, &bp, &boff)) < 0)
				return rc;
			if (!rc) {
				if ((error = read_fallback(db, &bid, &t, &db->a)) < 0)
					return error;
				base = db->a.ptr, blen = db->a.len;
				break;
			}
			p = bp, off = boff;
		} else {
			return corrupt(p, off, "unknown entry type");
		}
	}
	/* apply the deltas, innermost first; remember every result for the next chain */
	for (size_t k = db->chain.len; k-- > 0;) {
		const struct link *l = &db->chain.ptr[k];
		if ((error = inflate_at(db, l->p, l->data, l->size, &db->delta)) < 0 ||
		    (error = apply_delta(l->p, l->off, base, blen, &db->delta, &db->b)) < 0)
			return error;
		swap_buf(&db->a, &db->b);
		base = db->a.ptr, blen = db->a.len;
		cache_put(db, l->p, l->off, t, &db->a);
	}
	if (base != db->a.ptr) {
		/* the object itself was in the cache: the caller gets a copy */
		pg_buf_reset(&db->a);
		if ((error = pg_buf_put(&db->a, base, blen)) < 0 || (!db->a.ptr && (error = pg_buf_grow(&db->a, 1)) < 0))
			return error;
		db->a.ptr[db->a.len] = '\0';
	}
	*type = t;
	return 0;
}

int pg_odb_read(pg_odb *db, const git_oid *id, git_object_t *type, pg_buf *out)
{
	struct pack *p = NULL;
	uint64_t off = 0;
	git_object_t t = GIT_OBJECT_INVALID;
	int rc;

	db->st.reads++;
	if ((rc = locate(db, id->id, &p, &off)) < 0)
		return rc;
	if (rc == 0) {
		rc = read_fallback(db, id, &t, out);
	} else {
		if ((rc = read_packed(db, p, off, &t)) < 0)
			return rc;
		db->st.packed++;
		/* hand the result over without copying: out takes db->a's memory */
		swap_buf(out, &db->a);
	}
	if (!rc && type)
		*type = t;
	return rc;
}

/* ------------------------------------------------------------------ commits */

void pg_odb_commit_release(pg_odb_commit *c)
{
	free(c->parents);
	pg_buf_release(&c->summary);
	memset(c, 0, sizeof(*c));
}

static int is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\v' || ch == '\f' || ch == '\r';
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* "<hdr><40 hex>\n"; pure C (no libgit2 call), so the parser needs no library state. */
static int oid_header(git_oid *out, const char **pp, const char *end, const char *hdr)
{
	const char *p = *pp;
	size_t n = strlen(hdr);
	if ((size_t)(end - p) < n + GIT_OID_HEXSZ + 1 || memcmp(p, hdr, n) || p[n + GIT_OID_HEXSZ] != '\n')
		return -1;
	for (size_t i = 0; i < GIT_OID_RAWSZ; i++) {
		int hi = hexval(p[n + 2 * i]), lo = hexval(p[n + 2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out->id[i] = (unsigned char)(hi << 4 | lo);
	}
	*pp = p + n + GIT_OID_HEXSZ + 1;
	return 0;
}

static void trimmed(const char *s, size_t n, const char **out, size_t *outn)
{
	while (n && is_space(*s))
		s++, n--;
	while (n && is_space(s[n - 1]))
		n--;
	*out = s;
	*outn = n;
}

/* libgit2's git_signature__parse for one header line; time 0 when absent. */
static int signature(const char **pp, const char *end, const char *hdr, const char **name, size_t *nlen,
		     const char **email, size_t *elen, int64_t *when)
{
	const char *p = *pp, *eol, *lt, *gt;
	size_t n = strlen(hdr);

	if (!(eol = memchr(p, '\n', (size_t)(end - p))))
		return pg_error_setc(PG_EINVALID, "%sline has no newline", hdr);
	if (p + n >= eol || memcmp(p, hdr, n))
		return pg_error_setc(PG_EINVALID, "no %sline", hdr);
	p += n;
	lt = pg_str_rchr(p, '<', (size_t)(eol - p));
	gt = pg_str_rchr(p, '>', (size_t)(eol - p));
	if (!lt || !gt || gt <= lt)
		return pg_error_setc(PG_EINVALID, "malformed e-mail in the %sline", hdr);
	if (name)
		trimmed(p, (size_t)(lt - p), name, nlen);
	if (email)
		trimmed(lt + 1, (size_t)(gt - lt - 1), email, elen);
	*when = 0;
	if (gt + 2 < eol) {
		/* git__strntol64: optional spaces and sign, then digits; no digits is an error */
		const char *t = gt + 2;
		int neg = 0, digits = 0;
		int64_t v = 0;
		while (t < eol && is_space(*t))
			t++;
		if (t < eol && (*t == '-' || *t == '+'))
			neg = *t++ == '-';
		while (t < eol && *t >= '0' && *t <= '9') {
			if (v > (INT64_MAX - 9) / 10)
				return pg_error_setc(PG_EINVALID, "timestamp overflows in the %sline", hdr);
			v = v * 10 + (*t++ - '0');
			digits = 1;
		}
		if (!digits)
			return pg_error_setc(PG_EINVALID, "invalid Unix timestamp in the %sline", hdr);
		*when = neg ? -v : v;
	}
	*pp = eol + 1;
	return 0;
}

static int summary(pg_odb_commit *c)
{
	const char *msg = c->message, *end = c->message + c->message_len, *space = NULL;
	int space_nl = 0, error;

	pg_buf_reset(&c->summary);
	if ((error = pg_buf_grow(&c->summary, 1)) < 0)
		return error;
	while (msg < end && *msg == '\n')
		msg++;
	for (; msg < end; msg++) {
		char ch = *msg;
		if (ch == '\n') {
			const char *next = msg + 1;
			if (next >= end || *next == '\n')
				break;
			while (next < end && *next != '\n' && is_space(*next))
				next++;
			if (next >= end || *next == '\n')
				break;
		}
		if (is_space(ch)) {
			if (!space) {
				space = msg;
				space_nl = 0;
			}
			space_nl |= ch == '\n';
		} else {
			if (space) {
				error = space_nl ? pg_buf_putc(&c->summary, ' ')
						 : pg_buf_put(&c->summary, space, (size_t)(msg - space));
				if (error < 0)
					return error;
				space = NULL;
			}
			if ((error = pg_buf_putc(&c->summary, ch)) < 0)
				return error;
		}
	}
	return 0;
}

int pg_odb_parse_commit(pg_odb_commit *c, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len, *start = buf;
	git_oid parent;
	int error;

	c->nparents = 0;
	if (oid_header(&c->tree, &p, end, "tree ") < 0)
		return pg_error_setc(PG_EINVALID, "no valid tree line");
	while (oid_header(&parent, &p, end, "parent ") == 0) {
		if (c->nparents == c->parents_alloc) {
			size_t n = c->parents_alloc ? 2 * c->parents_alloc : 4;
			git_oid *v = realloc(c->parents, n * sizeof(*v));
			if (!v)
				return pg_error_setc(PG_ENOMEM, "out of memory");
			c->parents = v, c->parents_alloc = n;
		}
		c->parents[c->nparents++] = parent;
	}
	if ((error = signature(&p, end, "author ", &c->author_name, &c->author_name_len, &c->author_email,
			       &c->author_email_len, &c->author_time)) < 0)
		return error;
	/* some tools write several author lines; libgit2 keeps the first */
	while ((size_t)(end - p) >= 7 && !memcmp(p, "author ", 7)) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			return pg_error_setc(PG_EINVALID, "author line has no newline");
		p = eol + 1;
	}
	if ((error = signature(&p, end, "committer ", NULL, NULL, NULL, NULL, &c->committer_time)) < 0)
		return error;
	/* skip the other headers up to the empty line */
	while (p < end) {
		const char *eol = p;
		if (p[-1] == '\n' && p[0] == '\n')
			break;
		while (eol < end && *eol != '\n')
			eol++;
		if (eol < end)
			eol++;
		p = eol;
	}
	p = start + (p - start) + 1;
	if (p <= end) {
		c->message = p;
		c->message_len = strnlen(p, (size_t)(end - p));
	} else {
		c->message = "";
		c->message_len = 0;
	}
	return summary(c);
}
