/*
 * cgraph.c - git's commit-graph file, read in place (see cgraph.h).
 *
 * Layout (gitformat-commit-graph(5)), all numbers big-endian:
 *   header   "CGPH", version 1, hash version 1, chunk count C, base count B
 *   table    (C + 1) entries of 4-byte id + 8-byte offset; the last has id 0
 *            and the end offset, so chunk i spans [off_i, off_i+1)
 *   OIDF     256 x 4-byte cumulative counts by first id byte (last = N)
 *   OIDL     N x 20-byte ids, sorted
 *   CDAT     N x (20-byte tree, 4-byte parent 1, 4-byte parent 2, 8 bytes
 *            of generation and date); a parent is a position, 0x70000000
 *            means none, parent 2 with the top bit set is an index into EDGE
 *   EDGE     4-byte positions of the 3rd... parents, the last one of a
 *            commit with the top bit set
 * Other chunks (generation v2, Bloom filters) are ignored.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "util/buf.h"
#include "util/cgraph.h"
#include "util/endian.h"
#include "util/banned.h"

#define ID_OIDF 0x4f494446u
#define ID_OIDL 0x4f49444cu
#define ID_CDAT 0x43444154u
#define ID_EDGE 0x45444745u
#define PARENT_NONE 0x70000000u
#define EDGE_FLAG 0x80000000u
#define CDAT_WIDTH 36

struct pg_cgraph {
	const unsigned char *base; /* whole file */
	size_t len;
	int mapped;                /* base is ours to munmap */
	uint32_t n;
	const unsigned char *fanout, *ids, *cdat, *edge;
	size_t nedge;              /* 4-byte entries in EDGE */
};

/* Validate buf and fill g's chunk pointers: NULL, or why it is not usable. */
static const char *parse(struct pg_cgraph *g, const unsigned char *buf, size_t len)
{
	size_t nchunks, oidf_len = 0, oidl_len = 0, cdat_len = 0, edge_len = 0;
	uint64_t prev;

	if (len < 8 || memcmp(buf, "CGPH", 4))
		return "not a commit-graph file";
	if (buf[4] != 1)
		return "unknown commit-graph version";
	if (buf[5] != 1)
		return "not a SHA-1 commit-graph";
	if (buf[7] != 0)
		return "a split commit-graph (base graphs are not read)";
	nchunks = buf[6];
	if (len < 8 + (nchunks + 1) * 12)
		return "truncated chunk table";
	prev = 8 + (nchunks + 1) * 12;
	for (size_t i = 0; i < nchunks; i++) {
		const unsigned char *e = buf + 8 + i * 12;
		uint32_t id = pg_be32(e);
		uint64_t off = pg_be64(e + 4), end = pg_be64(e + 16);
		if (off < prev || end < off || end > len)
			return "chunk offsets out of order or past the end of the file";
		prev = off;
		switch (id) {
		case ID_OIDF: g->fanout = buf + off, oidf_len = (size_t)(end - off); break;
		case ID_OIDL: g->ids = buf + off, oidl_len = (size_t)(end - off); break;
		case ID_CDAT: g->cdat = buf + off, cdat_len = (size_t)(end - off); break;
		case ID_EDGE: g->edge = buf + off, edge_len = (size_t)(end - off); break;
		default: break;
		}
	}
	if (!g->fanout || !g->ids || !g->cdat)
		return "a required chunk (OIDF, OIDL, CDAT) is missing";
	if (oidf_len != 256 * 4)
		return "fanout chunk of the wrong size";
	if (!pg_fanout_ok(g->fanout))
		return "fanout not monotonic";
	g->n = pg_be32(g->fanout + 255 * 4);
	if (g->n >= PARENT_NONE || oidl_len != (size_t)g->n * 20 || cdat_len != (size_t)g->n * CDAT_WIDTH)
		return "commit count does not match the chunk sizes";
	if (edge_len % 4)
		return "edge chunk of the wrong size";
	g->nedge = edge_len / 4;
	return NULL;
}

int pg_cgraph_from_buffer(pg_cgraph **out, const unsigned char *buf, size_t len, const char **why)
{
	struct pg_cgraph *g;
	const char *bad;

	*out = NULL;
	if (why)
		*why = NULL;
	if (!(g = calloc(1, sizeof(*g))))
		return pg_error_setc(PG_ENOMEM, "out of memory");
	if ((bad = parse(g, buf, len))) {
		free(g);
		if (why)
			*why = bad;
		return 0;
	}
	g->base = buf;
	g->len = len;
	*out = g;
	return 0;
}

int pg_cgraph_open(pg_cgraph **out, const char *objects_dir, const char **why)
{
	pg_buf path = PG_BUF_INIT;
	struct stat st;
	void *m = NULL;
	int fd, error = 0;

	*out = NULL;
	if (why)
		*why = NULL;
	if ((error = pg_buf_printf(&path, "%s/info/commit-graph", objects_dir)) < 0)
		return error;
	fd = open(path.ptr, O_RDONLY | O_CLOEXEC);
	pg_buf_release(&path);
	if (fd < 0)
		return 0; /* no graph: the common case, nothing to say */
	if (fstat(fd, &st) < 0 || st.st_size <= 0 || (uint64_t)st.st_size > SIZE_MAX) {
		close(fd);
		if (why)
			*why = "cannot stat the commit-graph file";
		return 0;
	}
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED) {
		if (why)
			*why = "cannot map the commit-graph file";
		return 0;
	}
	if ((error = pg_cgraph_from_buffer(out, m, (size_t)st.st_size, why)) < 0 || !*out) {
		munmap(m, (size_t)st.st_size);
		return error;
	}
	(*out)->mapped = 1;
	return 0;
}

void pg_cgraph_free(pg_cgraph *g)
{
	if (!g)
		return;
	if (g->mapped)
		munmap((void *)g->base, g->len);
	free(g);
}

uint32_t pg_cgraph_count(const pg_cgraph *g)
{
	return g->n;
}

int pg_cgraph_find(const pg_cgraph *g, const unsigned char id[20], uint32_t *pos)
{
	uint32_t lo = id[0] ? pg_be32(g->fanout + 4 * (id[0] - 1)) : 0, hi = pg_be32(g->fanout + 4 * id[0]);

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = memcmp(g->ids + (size_t)mid * 20, id, 20);
		if (!c) {
			*pos = mid;
			return 0;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return PG_ENOTFOUND;
}

const unsigned char *pg_cgraph_id(const pg_cgraph *g, uint32_t pos)
{
	return g->ids + (size_t)pos * 20;
}

const unsigned char *pg_cgraph_tree(const pg_cgraph *g, uint32_t pos)
{
	return g->cdat + (size_t)pos * CDAT_WIDTH;
}

int pg_cgraph_parents(const pg_cgraph *g, uint32_t pos, uint32_t *parents, size_t *n)
{
	const unsigned char *e = g->cdat + (size_t)pos * CDAT_WIDTH;
	uint32_t p1 = pg_be32(e + 20), p2 = pg_be32(e + 24);

	*n = 0;
	if (p1 == PARENT_NONE)
		return 0;
	if (p1 >= g->n)
		return pg_error_setc(PG_EINVALID, "commit-graph: parent position %u out of range", p1);
	parents[(*n)++] = p1;
	if (p2 == PARENT_NONE)
		return 0;
	if (!(p2 & EDGE_FLAG)) {
		if (p2 >= g->n)
			return pg_error_setc(PG_EINVALID, "commit-graph: parent position %u out of range", p2);
		parents[(*n)++] = p2;
		return 0;
	}
	/* an octopus merge: parents 2.. in the edge list, the last flagged */
	for (size_t k = p2 & ~EDGE_FLAG;; k++) {
		uint32_t v;
		if (k >= g->nedge || *n >= PG_CGRAPH_MAX_PARENTS)
			return pg_error_setc(PG_EINVALID, "commit-graph: edge list of commit %u is corrupt", pos);
		v = pg_be32(g->edge + 4 * k);
		if ((v & ~EDGE_FLAG) >= g->n)
			return pg_error_setc(PG_EINVALID, "commit-graph: parent position %u out of range", v & ~EDGE_FLAG);
		parents[(*n)++] = v & ~EDGE_FLAG;
		if (v & EDGE_FLAG)
			return 0;
	}
}
