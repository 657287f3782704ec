/*
 * model.c - the classifier model: file format, loading, scoring, explaining.
 *
 * File format (text, one record per line, doc/internals/classify.md):
 *   patchgap-classify-model 1          magic and format version
 *   hash-bits 18                       must equal PG_CLS_HASH_BITS
 *   quant 0.001                        stage-1 weights are integers x quant
 *   meta <key> <text>                  free-form provenance (cutoff, seed, data)
 *   b1 <float>                         stage-1 intercept
 *   head <diff|nodiff> <a> <an> <b> <threshold>   z = (a + an [z1<0]) z1 + b + sum v x
 *   calib <diff|nodiff> <x> <y>        isotonic calibration points (format 2)
 *   op <diff|nodiff> <recall> <threshold> <precision>  operating points (format 2)
 *   v <diff|nodiff> <k> <float>        non-zero stage-2 weights
 *   weights <count>
 *   <delta> <q>                        count lines: index delta from the previous, weight q*quant
 *   baseline-b <float>                 bag-of-words baseline intercept (format 2, optional)
 *   baseline-weights <count>           then count lines as for weights
 *   checksum <16 hex>                  FNV-1a 64 of every byte before this line
 * Invariant: serializing a parsed model gives back the same bytes.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "classify/classify_int.h"
#include "classify/model_paths.h"
#include "util/str.h"
#include "util/banned.h"

int pg_cls__model_alloc(pg_cls_model **out)
{
	pg_cls_model *m = calloc(1, sizeof(*m));
	if (!m || !(m->w = calloc(PG_CLS_DIM, sizeof(float)))) {
		free(m);
		return pg_error_setc(PG_ENOMEM, "out of memory allocating a model");
	}
	m->head[0].a = m->head[1].a = 1;
	m->head[0].threshold = m->head[1].threshold = 0.5;
	*out = m;
	return 0;
}

void pg_cls_model_free(pg_cls_model *m)
{
	if (!m)
		return;
	free(m->w);
	free(m->bw);
	free(m->meta);
	free(m);
}

const char *pg_cls_model_version(const pg_cls_model *m) { return m->version; }
double pg_cls_model_threshold(const pg_cls_model *m) { return m->head[0].threshold; }

static const char *head_name(int h) { return h ? "nodiff" : "diff"; }

static int write_weights(pg_buf *b, const char *label, const float *w)
{
	size_t count = 0;
	uint32_t prev = 0;
	int error;

	for (uint32_t i = 0; i < PG_CLS_DIM; i++)
		if (lround(w[i] / PG_CLS_QUANT) != 0)
			count++;
	if ((error = pg_buf_printf(b, "%s %zu\n", label, count)) < 0)
		return error;
	for (uint32_t i = 0; i < PG_CLS_DIM; i++) {
		long q = lround(w[i] / PG_CLS_QUANT);
		if (!q)
			continue;
		if ((error = pg_buf_printf(b, "%u %ld\n", i - prev, q)) < 0)
			return error;
		prev = i;
	}
	return 0;
}

int pg_cls__model_write(pg_buf *b, const pg_cls_model *m)
{
	int error = 0;
	if ((error = pg_buf_printf(b, "%s %d\nhash-bits %d\nquant %g\n", PG_CLS_MODEL_MAGIC, PG_CLS_MODEL_FORMAT,
				   PG_CLS_HASH_BITS, PG_CLS_QUANT)) < 0 ||
	    (m->meta && (error = pg_buf_puts(b, m->meta)) < 0) ||
	    (error = pg_buf_printf(b, "b1 %.6f\n", m->b1)) < 0)
		return error;
	for (int h = 0; h < 2; h++) {
		const pg_cls_head *hd = &m->head[h];
		if ((error = pg_buf_printf(b, "head %s %.6f %.6f %.6f %.6f\n", head_name(h), hd->a, hd->an, hd->b,
					   hd->threshold)) < 0)
			return error;
		for (size_t i = 0; i < hd->ncal; i++)
			if ((error = pg_buf_printf(b, "calib %s %.6f %.6f\n", head_name(h), hd->cal_x[i], hd->cal_y[i])) < 0)
				return error;
		for (size_t i = 0; i < hd->nops; i++)
			if ((error = pg_buf_printf(b, "op %s %.2f %.6f %.4f\n", head_name(h), hd->ops[i].recall,
						   hd->ops[i].threshold, hd->ops[i].precision)) < 0)
				return error;
		for (int k = 0; k < PG_CLS_NDENSE; k++)
			if (fabs(hd->v[k]) >= 5e-7 &&
			    (error = pg_buf_printf(b, "v %s %d %.6f\n", head_name(h), k, hd->v[k])) < 0)
				return error;
	}
	if ((error = write_weights(b, "weights", m->w)) < 0)
		return error;
	if (m->bw && ((error = pg_buf_printf(b, "baseline-b %.6f\n", m->bb)) < 0 ||
		      (error = write_weights(b, "baseline-weights", m->bw)) < 0))
		return error;
	return pg_buf_printf(b, "checksum %016llx\n", (unsigned long long)pg_cls__fnv64(b->ptr, b->len, 0));
}

int pg_cls_model_save(const pg_cls_model *m, const char *path)
{
	pg_buf b = PG_BUF_INIT;
	FILE *f = NULL;
	int error;

	if ((error = pg_cls__model_write(&b, m)) < 0)
		goto out;
	if (!(f = fopen(path, "wb"))) {
		error = pg_error_setc(PG_EIO, "cannot write model '%s': %s", path, strerror(errno));
		goto out;
	}
	if (fwrite(b.ptr, 1, b.len, f) != b.len || fclose(f) != 0) {
		f = NULL;
		error = pg_error_setc(PG_EIO, "cannot write model '%s': %s", path, strerror(errno));
		goto out;
	}
	f = NULL;
out:
	if (f)
		fclose(f);
	pg_buf_release(&b);
	return error;
}

/* Next line of [*p, end) into line (NUL-terminated copy, at most size-1 bytes). */
static int next_line(const char **p, const char *end, char *line, size_t size)
{
	const char *s = *p, *e;
	size_t n;
	if (s >= end)
		return 0;
	e = memchr(s, '\n', (size_t)(end - s));
	if (!e)
		e = end;
	n = (size_t)(e - s);
	if (n >= size)
		n = size - 1;
	memcpy(line, s, n);
	line[n] = '\0';
	*p = e < end ? e + 1 : end;
	return 1;
}

int pg_cls_model_parse(pg_cls_model **out, const char *text, size_t len, const char *name)
{
	pg_cls_model *m = NULL;
	pg_buf meta = PG_BUF_INIT, check = PG_BUF_INIT;
	const char *p = text, *end = text + len, *line_start;
	char line[512];
	unsigned lineno = 0;
	size_t count = 0, seen = 0;
	uint32_t idx = 0;
	float *block = NULL;         /* the weight block being read: m->w or m->bw */
	int error = 0, have_weights = 0, fmt = 0, bits = 0;

	*out = NULL;
	if ((error = pg_cls__model_alloc(&m)) < 0)
		goto out;
#define BAD(...) do { error = pg_error_setc(PG_EINVALID, __VA_ARGS__); goto out; } while (0)
	for (;;) {
		line_start = p;
		if (!next_line(&p, end, line, sizeof(line)))
			BAD("model '%s': no checksum line (file truncated?)", name);
		lineno++;
		if (lineno == 1) {
			if (sscanf(line, PG_CLS_MODEL_MAGIC " %d", &fmt) != 1)
				BAD("'%s' is not a patchgap classifier model (bad first line)", name);
			if (fmt < 1 || fmt > PG_CLS_MODEL_FORMAT)
				BAD("model '%s' has format %d; this patchgap reads formats 1 to %d", name, fmt,
				    PG_CLS_MODEL_FORMAT);
			continue;
		}
		if (block && seen < count) {
			unsigned long d;
			long q;
			char *e1, *e2;
			errno = 0;
			d = strtoul(line, &e1, 10);
			q = strtol(e1, &e2, 10);
			if (e1 == line || e2 == e1 || *e2 || errno || idx + d >= PG_CLS_DIM || (seen && !d))
				BAD("model '%s' line %u: bad weight line '%.40s'", name, lineno, line);
			idx += (uint32_t)d;
			block[idx] = (float)(q * PG_CLS_QUANT);
			seen++;
			continue;
		}
		if (block && seen != count)
			BAD("model '%s': %zu weights announced, %zu read", name, count, seen);
		if (!strncmp(line, "checksum ", 9)) {
			unsigned long long want = strtoull(line + 9, NULL, 16);
			uint64_t got = pg_cls__fnv64(text, (size_t)(line_start - text), 0);
			if (!have_weights)
				BAD("model '%s': checksum before the weights", name);
			if (got != want)
				BAD("model '%s': checksum mismatch (file corrupted or edited)", name);
			m->checksum = got;
			break;
		}
		if (!strncmp(line, "hash-bits ", 10)) {
			bits = atoi(line + 10);
			if (bits != PG_CLS_HASH_BITS)
				BAD("model '%s' uses %d hash bits; this patchgap uses %d", name, bits, PG_CLS_HASH_BITS);
		} else if (!strncmp(line, "quant ", 6)) {
			if (fabs(strtod(line + 6, NULL) - PG_CLS_QUANT) > 1e-12)
				BAD("model '%s' line %u: unsupported quantization", name, lineno);
		} else if (!strncmp(line, "meta ", 5)) {
			if ((error = pg_buf_puts(&meta, line)) < 0 || (error = pg_buf_putc(&meta, '\n')) < 0)
				goto out;
		} else if (!strncmp(line, "b1 ", 3)) {
			m->b1 = strtod(line + 3, NULL);
		} else if (!strncmp(line, "head ", 5)) {
			char hn[16];
			double a, an, b, t;
			int h;
			if (sscanf(line + 5, "%15s %lf %lf %lf %lf", hn, &a, &an, &b, &t) != 5 ||
			    (h = !strcmp(hn, "nodiff") ? 1 : !strcmp(hn, "diff") ? 0 : -1) < 0)
				BAD("model '%s' line %u: bad head line", name, lineno);
			m->head[h].a = a;
			m->head[h].an = an;
			m->head[h].b = b;
			m->head[h].threshold = t;
		} else if (!strncmp(line, "v ", 2)) {
			char hn[16];
			int k, h;
			double v;
			if (sscanf(line + 2, "%15s %d %lf", hn, &k, &v) != 3 || k < 0 || k >= PG_CLS_NDENSE ||
			    (h = !strcmp(hn, "nodiff") ? 1 : !strcmp(hn, "diff") ? 0 : -1) < 0)
				BAD("model '%s' line %u: bad stage-2 weight line", name, lineno);
			m->head[h].v[k] = v;
		} else if (!strncmp(line, "calib ", 6) || !strncmp(line, "op ", 3)) {
			char hn[16];
			double x, y, z = 0;
			int h, op = line[0] == 'o';
			pg_cls_head *hd;
			if (sscanf(line + (op ? 3 : 6), "%15s %lf %lf %lf", hn, &x, &y, &z) != (op ? 4 : 3) ||
			    (h = !strcmp(hn, "nodiff") ? 1 : !strcmp(hn, "diff") ? 0 : -1) < 0)
				BAD("model '%s' line %u: bad %s line", name, lineno, op ? "operating point" : "calibration");
			hd = &m->head[h];
			if (op) {
				if (hd->nops == PG_CLS_OPS_MAX || x <= 0 || x > 1 || (hd->nops && x <= hd->ops[hd->nops - 1].recall))
					BAD("model '%s' line %u: operating points must have ascending recalls in (0, 1], at most %d",
					    name, lineno, PG_CLS_OPS_MAX);
				hd->ops[hd->nops].recall = x;
				hd->ops[hd->nops].threshold = y;
				hd->ops[hd->nops].precision = z;
				hd->nops++;
			} else {
				if (hd->ncal == PG_CLS_CALIB_MAX || x < 0 || x > 1 || y < 0 || y > 1 ||
				    (hd->ncal && (x <= hd->cal_x[hd->ncal - 1] || y < hd->cal_y[hd->ncal - 1])))
					BAD("model '%s' line %u: calibration points must ascend within [0, 1], at most %d",
					    name, lineno, PG_CLS_CALIB_MAX);
				hd->cal_x[hd->ncal] = x;
				hd->cal_y[hd->ncal] = y;
				hd->ncal++;
			}
		} else if (!strncmp(line, "baseline-b ", 11)) {
			m->bb = strtod(line + 11, NULL);
		} else if (!strncmp(line, "weights ", 8) || !strncmp(line, "baseline-weights ", 17)) {
			int base = line[0] == 'b';
			if (base ? m->bw != NULL : have_weights)
				BAD("model '%s' line %u: second '%s' block", name, lineno, base ? "baseline-weights" : "weights");
			count = strtoul(line + (base ? 17 : 8), NULL, 10);
			if (count > PG_CLS_DIM)
				BAD("model '%s' line %u: too many weights", name, lineno);
			if (base && !(m->bw = calloc(PG_CLS_DIM, sizeof(float)))) {
				error = pg_error_setc(PG_ENOMEM, "out of memory");
				goto out;
			}
			block = base ? m->bw : m->w;
			seen = 0;
			idx = 0;
			have_weights = 1;
		} else {
			BAD("model '%s' line %u: unknown record '%.40s'", name, lineno, line);
		}
		if (!fmt)
			BAD("'%s' is not a patchgap classifier model", name);
	}
	if (!bits)
		BAD("model '%s': no hash-bits line", name);
	if (block && seen != count)
		BAD("model '%s': %zu weights announced, %zu read", name, count, seen);
#undef BAD
	if (meta.len && !(m->meta = pg_buf_detach(&meta))) {
		error = pg_error_setc(PG_ENOMEM, "out of memory");
		goto out;
	}
	snprintf(m->version, sizeof(m->version), "classify-%012llx",
		 (unsigned long long)(m->checksum >> 16));
	*out = m;
	m = NULL;
out:
	pg_buf_release(&meta);
	pg_buf_release(&check);
	pg_cls_model_free(m);
	return error;
}

int pg_cls_model_load(pg_cls_model **out, const char *path)
{
	pg_buf b = PG_BUF_INIT;
	int error;

	*out = NULL;
	if (access(path, F_OK) != 0)
		return pg_error_setc(PG_ENOTFOUND, "cannot load classifier model: '%s' does not exist", path);
	pg_buf_init(&b, (size_t)64 << 20);
	if ((error = pg_buf_read_file(&b, path)) < 0) {
		pg_error_prefix("cannot load classifier model");
		goto out;
	}
	error = pg_cls_model_parse(out, b.ptr, b.len, path);
out:
	pg_buf_release(&b);
	return error;
}

const char *pg_cls_model_default_path(void) { return PG_CLS_MODEL_SOURCE; }

int pg_cls_model_load_default(pg_cls_model **out)
{
	*out = NULL;
	if (access(PG_CLS_MODEL_SOURCE, R_OK) == 0)
		return pg_cls_model_load(out, PG_CLS_MODEL_SOURCE);
	if (access(PG_CLS_MODEL_INSTALLED, R_OK) == 0)
		return pg_cls_model_load(out, PG_CLS_MODEL_INSTALLED);
	return pg_error_setc(PG_ENOTFOUND, "no classifier model: neither '%s' nor '%s' exists (run 'patchgap train' or pass --model)",
			     PG_CLS_MODEL_SOURCE, PG_CLS_MODEL_INSTALLED);
}

int pg_cls_model_open(pg_cls_model **out, const char *path)
{
	return path ? pg_cls_model_load(out, path) : pg_cls_model_load_default(out);
}

/* ---- scoring ---- */

double pg_cls__sigmoid(double z)
{
	if (z > 40)
		return 1.0;
	if (z < -40)
		return 0.0;
	return 1.0 / (1.0 + exp(-z));
}

double pg_cls__z1(const pg_cls_model *m, const pg_cls_features *f)
{
	double z = m->b1;
	for (size_t i = 0; i < f->n; i++)
		z += m->w[f->idx[i]];
	return z;
}

double pg_cls__slope(const pg_cls_head *h, double z1)
{
	return h->a + (z1 < 0 ? h->an : 0);
}

double pg_cls__z(const pg_cls_model *m, double z1, const pg_cls_features *f, int has_diff)
{
	const pg_cls_head *h = &m->head[has_diff ? 0 : 1];
	double z = pg_cls__slope(h, z1) * z1 + h->b;
	for (int k = 0; k < PG_CLS_NDENSE; k++)
		z += h->v[k] * f->dense[k];
	return z;
}

double pg_cls__calibrate(const pg_cls_head *h, double raw)
{
	size_t lo = 0, hi = h->ncal;
	double x0, y0, x1, y1;

	if (!h->ncal)
		return raw;
	/* first point with x > raw */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (h->cal_x[mid] <= raw)
			lo = mid + 1;
		else
			hi = mid;
	}
	x0 = lo ? h->cal_x[lo - 1] : 0;
	y0 = lo ? h->cal_y[lo - 1] : 0;
	x1 = lo < h->ncal ? h->cal_x[lo] : 1;
	y1 = lo < h->ncal ? h->cal_y[lo] : 1;
	if (x1 <= x0)
		return y1;
	return y0 + (y1 - y0) * (raw - x0) / (x1 - x0);
}

int pg_cls_model_operating_point(pg_cls_operating_point *out, const pg_cls_model *m, int has_diff, double recall)
{
	const pg_cls_head *h = &m->head[has_diff ? 0 : 1];

	if (!(recall > 0 && recall <= 1))
		return pg_error_setc(PG_EINVALID, "recall %g is not in (0, 1]", recall);
	out->recall = recall;
	out->threshold = h->threshold;
	out->precision = 0;
	for (size_t i = 0; i < h->nops; i++) {
		*out = h->ops[i];
		if (h->ops[i].recall >= recall - 1e-9)
			break;
	}
	return 0;
}

int pg_cls_model_has_baseline(const pg_cls_model *m) { return m->bw != NULL; }

static int baseline_logit(double *out, const pg_cls_model *m, const pg_cls_input *in)
{
	pg_cls_features f;
	double z = m->bb;
	int error;

	*out = 0;
	if (!m->bw)
		return pg_error_setc(PG_ENOTFOUND, "model %s has no bag-of-words baseline (format 1)", m->version);
	pg_cls_features_init(&f);
	if ((error = pg_cls__bow_extract(&f, in)) >= 0) {
		for (size_t i = 0; i < f.n; i++)
			z += m->bw[f.idx[i]];
		*out = z;
	}
	pg_cls_features_release(&f);
	return error;
}

int pg_cls_baseline_score(double *out, const pg_cls_model *m, const pg_cls_input *in)
{
	int error = baseline_logit(out, m, in);
	*out = error < 0 ? 0 : pg_cls__sigmoid(*out);
	return error;
}

static int input_has_diff(const pg_cls_input *in)
{
	return in->diff && (in->diff_len || *in->diff);
}

/*
 * The diff head reads the baseline's logit (stacking: on the leave-one-list-
 * out means +0.005 PR-AUC and +0.011 precision at recall 0.90 at 7 %,
 * doc/model.md).  Only with a diff: it costs a second pass over the message
 * (about 5 us per commit), which the no-diff head of ingested commits, held
 * to >= 200,000 commits/s, does not pay.
 */
int pg_cls__stack_baseline(pg_cls_features *f, const pg_cls_model *m, const pg_cls_input *in, int has_diff)
{
	double z;
	int error;

	f->dense[PG_CLS_DENSE_BASELINE] = 0;
	if (!has_diff || !m->bw || m->head[0].v[PG_CLS_DENSE_BASELINE] == 0)
		return 0;
	if ((error = baseline_logit(&z, m, in)) < 0)
		return error;
	f->dense[PG_CLS_DENSE_BASELINE] = (float)(PG_CLS_BASELINE_SCALE * z);
	return 0;
}

static int classify_features(pg_cls_result *out, const pg_cls_model *m, const pg_cls_input *in,
			     const pg_cls_features *f)
{
	int hd = input_has_diff(in);
	memset(out, 0, sizeof(*out));
	out->z1 = pg_cls__z1(m, f);
	out->z = pg_cls__z(m, out->z1, f, hd);
	out->p_security = pg_cls__calibrate(&m->head[hd ? 0 : 1], pg_cls__sigmoid(out->z));
	out->label = out->p_security >= m->head[hd ? 0 : 1].threshold;
	out->bug_class = pg_cls__bug_class(f);
	return pg_cls__priority(out, f, in);
}

int pg_cls_classify(pg_cls_result *out, const pg_cls_model *m, const pg_cls_input *in)
{
	pg_cls_features f;
	int error;

	pg_cls_features_init(&f);
	memset(out, 0, sizeof(*out));
	if ((error = pg_cls_features_extract(&f, in, 0)) >= 0 &&
	    (error = pg_cls__stack_baseline(&f, m, in, input_has_diff(in))) >= 0)
		error = classify_features(out, m, in, &f);
	pg_cls_features_release(&f);
	return error;
}

void pg_cls_result_release(pg_cls_result *r)
{
	free(r->reasons_json);
	r->reasons_json = NULL;
}

/* ---- explain ---- */

struct name_acc {
	uint32_t *idx;
	char **names;
	size_t n, alloc;
	int error;
};

static void collect_name(uint32_t idx, const char *ns, const char *text, size_t len, void *payload)
{
	struct name_acc *a = payload;
	char buf[160];
	size_t i;

	if (a->error)
		return;
	for (i = 0; i < a->n; i++)
		if (a->idx[i] == idx)
			return; /* first name wins; collisions are rare at 2^18 buckets */
	if (a->n == a->alloc) {
		size_t na = a->alloc ? a->alloc * 2 : 256;
		uint32_t *ni = realloc(a->idx, na * sizeof(*ni));
		char **nn;
		if (ni)
			a->idx = ni;
		nn = ni ? realloc(a->names, na * sizeof(*nn)) : NULL;
		if (!ni || !nn) {
			a->error = pg_error_setc(PG_ENOMEM, "out of memory");
			return;
		}
		a->names = nn;
		a->alloc = na;
	}
	snprintf(buf, sizeof(buf), "%s:%.*s", ns, (int)(len > 120 ? 120 : len), text ? text : "");
	for (char *c = buf; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
			*c = '?';
	if (!(a->names[a->n] = pg_strdup(buf))) {
		a->error = PG_ENOMEM;
		return;
	}
	a->idx[a->n++] = idx;
}

static int cmp_contrib(const void *pa, const void *pb)
{
	const pg_cls_contrib *a = pa, *b = pb;
	double x = fabs(a->contrib), y = fabs(b->contrib);
	if (x != y)
		return x < y ? 1 : -1;
	return strcmp(a->name, b->name);
}

int pg_cls_explain_input(pg_cls_explain *out, const pg_cls_model *m, const pg_cls_input *in)
{
	pg_cls_features f;
	struct name_acc acc = { 0 };
	int error, hd = input_has_diff(in);
	const pg_cls_head *h = &m->head[hd ? 0 : 1];
	size_t k = 0;

	memset(out, 0, sizeof(*out));
	pg_cls_features_init(&f);
	if ((error = pg_cls__extract(&f, in, 0, collect_name, &acc)) < 0 || (error = acc.error) < 0 ||
	    (error = pg_cls__stack_baseline(&f, m, in, hd)) < 0)
		goto out;
	if ((error = classify_features(&out->result, m, in, &f)) < 0)
		goto out;
	if (!(out->v = calloc(f.n + PG_CLS_NDENSE + 1, sizeof(*out->v)))) {
		error = pg_error_setc(PG_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < f.n; i++) {
		double w = m->w[f.idx[i]];
		size_t j;
		if (w == 0)
			continue;
		for (j = 0; j < acc.n && acc.idx[j] != f.idx[i]; j++)
			;
		out->v[k].name = j < acc.n ? acc.names[j] : NULL;
		if (j < acc.n)
			acc.names[j] = NULL;
		else if (!(out->v[k].name = pg_strdup("?")))
			goto nomem;
		out->v[k].stage = 1;
		out->v[k].value = 1;
		out->v[k].weight = w;
		out->v[k].contrib = pg_cls__slope(h, out->result.z1) * w;
		k++;
	}
	for (int d = 0; d < PG_CLS_NDENSE; d++) {
		if (f.dense[d] == 0 || h->v[d] == 0)
			continue;
		if (!(out->v[k].name = pg_strdup(pg_cls_dense_name((size_t)d))))
			goto nomem;
		out->v[k].stage = 2;
		out->v[k].value = f.dense[d];
		out->v[k].weight = h->v[d];
		out->v[k].contrib = h->v[d] * f.dense[d];
		k++;
	}
	out->n = k;
	out->bias = pg_cls__slope(h, out->result.z1) * m->b1 + h->b;
	qsort(out->v, out->n, sizeof(*out->v), cmp_contrib);
	goto out;
nomem:
	out->n = k;
	error = pg_error_setc(PG_ENOMEM, "out of memory");
out:
	for (size_t i = 0; i < acc.n; i++)
		free(acc.names[i]);
	free(acc.names);
	free(acc.idx);
	pg_cls_features_release(&f);
	if (error < 0)
		pg_cls_explain_release(out);
	return error;
}

void pg_cls_explain_release(pg_cls_explain *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i].name);
	free(e->v);
	pg_cls_result_release(&e->result);
	memset(e, 0, sizeof(*e));
}
