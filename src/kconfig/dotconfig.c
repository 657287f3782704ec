/*
 * dotconfig.c - parse a kernel .config.
 *
 * Accepted lines: blank, "# comment", "# CONFIG_X is not set",
 * CONFIG_X=y|m|n|"string"|123|0x1f.  Symbols are stored without the CONFIG_
 * prefix; "is not set" and =n are stored as absent (both read as 'n').
 * Invariant: a pg_kconfig only exists for text that looked like a .config:
 * no NUL/control bytes, at least one CONFIG_ line, and only a handful of
 * unrecognised lines (so a Makefile or a JSON file passed by mistake fails
 * with a message naming file:line instead of silently meaning "nothing set").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "patchgap/kconfig.h"
#include "kconfig_int.h"
#include "util/map.h"
#include "util/str.h"
#include "util/banned.h"

/* Unrecognised lines tolerated before the file is rejected. */
#define BAD_LINE_TOLERANCE 5

struct pg_kconfig {
	pg_strmap vals; /* "X" (no CONFIG_) -> owned char * value */
};

void pg_kconfig_free(pg_kconfig *cfg)
{
	const char *k;
	void *v;
	if (!cfg)
		return;
	for (size_t i = 0; pg_strmap_next(&cfg->vals, &i, &k, &v);)
		free(v);
	pg_strmap_release(&cfg->vals);
	free(cfg);
}

static int is_sym_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/* Store sym=val (val NULL: unset). */
static int set_sym(pg_kconfig *cfg, const char *sym, size_t symlen, const char *val, size_t vlen)
{
	char key[256];
	char *copy = NULL;
	void *old;
	int found;

	if (symlen >= sizeof(key))
		symlen = sizeof(key) - 1;
	memcpy(key, sym, symlen);
	key[symlen] = '\0';
	old = pg_strmap_get(&cfg->vals, key, &found);
	if (val && !(copy = pg_strndup(val, vlen)))
		return PG_ENOMEM;
	if (!found && !copy)
		return 0;
	free(old);
	if (pg_strmap_set(&cfg->vals, key, copy) < 0) {
		free(copy);
		return pg_error_setc(PG_ENOMEM, "out of memory");
	}
	return 0;
}

/* Unquote a "string" value in place: \" and \\ escapes. Returns new length. */
static size_t unquote(char *s, size_t len)
{
	size_t o = 0;
	for (size_t i = 1; i + 1 < len; i++) {
		if (s[i] == '\\' && i + 2 < len)
			i++;
		s[o++] = s[i];
	}
	return o;
}

int pg_kconfig_parse(pg_kconfig **out, const char *text, size_t len, const char *name)
{
	pg_kconfig *cfg = NULL;
	char *line = NULL;
	size_t pos = 0, lineno = 0, config_lines = 0, bad = 0, first_bad = 0;
	char first_bad_text[64] = "";
	int error = 0;

	*out = NULL;
	if (!name)
		name = "<config>";
	if (!(cfg = calloc(1, sizeof(*cfg))))
		return pg_error_setc(PG_ENOMEM, "out of memory");
	if (!(line = malloc(len + 1))) {
		error = pg_error_setc(PG_ENOMEM, "out of memory");
		goto out;
	}
	while (pos < len) {
		size_t end = pos, n;
		char *l;

		while (end < len && text[end] != '\n')
			end++;
		lineno++;
		n = end - pos;
		memcpy(line, text + pos, n);
		line[n] = '\0';
		pos = end + 1;
		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)line[i];
			if (c == 0 || (c < 0x20 && c != '\t' && c != '\r')) {
				error = pg_error_setc(PG_EINVALID,
					"%s:%zu: not a .config: binary data (byte 0x%02x)", name, lineno, c);
				goto out;
			}
		}
		l = pg_str_trim(line);
		n = strlen(l);
		if (!n)
			continue;
		if (l[0] == '#') {
			/* "# CONFIG_FOO is not set" */
			const char *p = l + 1;
			while (*p == ' ')
				p++;
			if (pg_str_starts_with(p, "CONFIG_")) {
				const char *s = p + 7, *e = s;
				while (is_sym_char(*e))
					e++;
				if (e > s && !strcmp(e, " is not set")) {
					config_lines++;
					if ((error = set_sym(cfg, s, (size_t)(e - s), NULL, 0)) < 0)
						goto out;
				}
			}
			continue;
		}
		if (pg_str_starts_with(l, "CONFIG_")) {
			char *s = l + 7, *e = s, *v;
			size_t vlen;
			while (is_sym_char(*e))
				e++;
			if (e > s && *e == '=') {
				v = e + 1;
				vlen = strlen(v);
				if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"')
					vlen = unquote(v, vlen);
				else if (vlen == 0 || strchr(v, ' ') || strchr(v, '"'))
					goto bad_line;
				config_lines++;
				if ((error = set_sym(cfg, s, (size_t)(e - s),
						     (vlen == 1 && v[0] == 'n') ? NULL : v, vlen)) < 0)
					goto out;
				continue;
			}
		}
bad_line:
		if (!bad++) {
			first_bad = lineno;
			snprintf(first_bad_text, sizeof(first_bad_text), "%s", l);
		}
		if (bad > BAD_LINE_TOLERANCE) {
			error = pg_error_setc(PG_EINVALID,
				"%s:%zu: not a .config: line '%s' is neither a comment nor a CONFIG_ assignment "
				"(and %zu more such lines)", name, first_bad, first_bad_text, bad - 1);
			goto out;
		}
	}
	if (!config_lines && bad) {
		error = pg_error_setc(PG_EINVALID,
			"%s:%zu: not a .config: no 'CONFIG_X=...' or '# CONFIG_X is not set' line, and line '%s' "
			"is neither a comment nor a CONFIG_ assignment", name, first_bad, first_bad_text);
		goto out;
	}
	if (!config_lines) {
		error = pg_error_setc(PG_EINVALID,
			"%s: not a .config: no 'CONFIG_X=...' or '# CONFIG_X is not set' line in %zu lines",
			name, lineno);
		goto out;
	}
	*out = cfg;
	cfg = NULL;
out:
	free(line);
	pg_kconfig_free(cfg);
	return error;
}

int pg_kconfig_load(pg_kconfig **out, const char *path)
{
	pg_buf b;
	int error;

	*out = NULL;
	pg_buf_init(&b, (size_t)64 << 20);
	if ((error = pg_buf_read_file(&b, path)) < 0)
		goto out;
	error = pg_kconfig_parse(out, pg_buf_cstr(&b), b.len, path);
out:
	pg_buf_release(&b);
	return error;
}

const char *pg_kconfig_get(const pg_kconfig *cfg, const char *sym)
{
	if (!cfg || !sym)
		return NULL;
	if (!strncmp(sym, "CONFIG_", 7))
		sym += 7;
	return pg_strmap_get(&cfg->vals, sym, NULL);
}

char pg_kconfig_tristate(const pg_kconfig *cfg, const char *sym)
{
	const char *v = pg_kconfig_get(cfg, sym);
	if (!v)
		return 'n';
	if (!strcmp(v, "y"))
		return 'y';
	if (!strcmp(v, "m"))
		return 'm';
	return 'v';
}

size_t pg_kconfig_count(const pg_kconfig *cfg)
{
	size_t n = 0;
	const char *k;
	void *v;
	for (size_t i = 0; pg_strmap_next(&cfg->vals, &i, &k, &v);)
		n += v != NULL;
	return n;
}

const char *pg_kconfig_srcarch(const pg_kconfig *cfg)
{
	/* Order matters: UML configs also set X86 symbols; ARM64 before ARM. */
	static const struct { const char *sym, *arch; } map[] = {
		{ "UML", "um" }, { "X86_64", "x86" }, { "X86_32", "x86" }, { "X86", "x86" },
		{ "ARM64", "arm64" }, { "ARM", "arm" }, { "RISCV", "riscv" }, { "PPC", "powerpc" },
		{ "S390", "s390" }, { "MIPS", "mips" }, { "LOONGARCH", "loongarch" },
		{ "SPARC", "sparc" }, { "PARISC", "parisc" }, { "SUPERH", "sh" }, { "M68K", "m68k" },
		{ "ALPHA", "alpha" }, { "ARC", "arc" }, { "CSKY", "csky" }, { "HEXAGON", "hexagon" },
		{ "IA64", "ia64" }, { "MICROBLAZE", "microblaze" }, { "NIOS2", "nios2" },
		{ "OPENRISC", "openrisc" }, { "XTENSA", "xtensa" },
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (pg_kconfig_tristate(cfg, map[i].sym) == 'y')
			return map[i].arch;
	return NULL;
}

int pg_kconfig__annotate(pg_buf *out, const pg_kconfig *cfg, const char *text)
{
	const char *p = text;
	char seen[4][128];
	int nseen = 0, error = 0;

	while ((p = strstr(p, "CONFIG_")) != NULL && nseen < 4) {
		const char *s = p, *e = p + 7;
		char sym[128];
		const char *v;
		int dup = 0;

		if (s > text && is_sym_char(s[-1])) {
			p = e;
			continue;
		}
		while (is_sym_char(*e))
			e++;
		p = e;
		if (e == s + 7 || (size_t)(e - s) >= sizeof(sym))
			continue;
		memcpy(sym, s, (size_t)(e - s));
		sym[e - s] = '\0';
		for (int i = 0; i < nseen; i++)
			dup |= !strcmp(seen[i], sym);
		if (dup)
			continue;
		memcpy(seen[nseen], sym, sizeof(sym));
		v = pg_kconfig_get(cfg, sym);
		if ((error = pg_buf_puts(out, nseen++ ? ", " : " [")) < 0)
			return error;
		error = v ? pg_buf_printf(out, "%s=%s", sym, v) : pg_buf_printf(out, "%s is not set", sym);
		if (error < 0)
			return error;
	}
	return nseen ? pg_buf_putc(out, ']') : 0;
}

char *pg_kconfig__normpath(char *s, int keep_slash)
{
	/* Split into components, rebuild in place (output never longer). */
	size_t n = strlen(s), o = 0, i = 0;
	int trailing = n > 0 && s[n - 1] == '/';

	while (i < n) {
		size_t j = i;
		while (j < n && s[j] != '/')
			j++;
		if (j == i || (j - i == 1 && s[i] == '.')) {
			/* empty or "." */
		} else if (j - i == 2 && s[i] == '.' && s[i + 1] == '.') {
			/* drop the previous component, if any */
			if (o > 0) {
				o--;
				while (o > 0 && s[o - 1] != '/')
					o--;
			}
		} else {
			memmove(s + o, s + i, j - i);
			o += j - i;
			s[o++] = '/';
		}
		i = j + 1;
	}
	if (o > 0 && !(trailing && keep_slash))
		o--;
	s[o] = '\0';
	return s;
}
