/*
 * fs.c - safe file names and atomic writes (see fs.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/stat.h>
#include "patchgap/common.h"
#include "util/fs.h"
#include "util/sha1.h"
#include "util/banned.h"

static int plain(unsigned char c, size_t pos)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
	       c == '-' || c == '+' || (c == '.' && pos > 0);
}

int pg_fs_safe_name(pg_buf *out, const char *id, size_t len, const char *ext)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t elen = ext ? strlen(ext) : 0, start = out->len, budget;
	int error = 0;

	if (!len)
		return pg_error_setc(PG_EINVALID, "an empty id cannot name a file");
	if (elen > 32)
		return pg_error_setc(PG_EINVALID, "file extension '%s' is too long", ext);
	budget = PG_FS_NAME_MAX - elen;
	for (size_t i = 0; i < len && !error; i++) {
		unsigned char c = (unsigned char)id[i];
		if (plain(c, i))
			error = pg_buf_putc(out, (char)c);
		else if (!(error = pg_buf_putc(out, '%')) && !(error = pg_buf_putc(out, hex[c >> 4])))
			error = pg_buf_putc(out, hex[c & 15]);
		if (!error && out->len - start > budget)
			break;
	}
	if (error)
		return error;
	if (out->len - start > budget) {
		/* too long: a prefix, then 16 hex digits of the whole id's SHA-1 */
		unsigned char raw[PG_SHA1_RAWSZ];
		pg_sha1 c;
		size_t keep = budget - 17;

		/* never cut a %XX escape in two */
		while (keep > 0 && (out->ptr[start + keep - 1] == '%' || (keep > 1 && out->ptr[start + keep - 2] == '%')))
			keep--;
		out->len = start + keep;
		out->ptr[out->len] = '\0';
		pg_sha1_init(&c);
		pg_sha1_update(&c, id, len);
		pg_sha1_final(raw, &c);
		if ((error = pg_buf_putc(out, '~')) < 0)
			return error;
		for (size_t i = 0; i < 8 && !error; i++)
			if (!(error = pg_buf_putc(out, hex[raw[i] >> 4])))
				error = pg_buf_putc(out, hex[raw[i] & 15]);
		if (error)
			return error;
	}
	return elen ? pg_buf_put(out, ext, elen) : 0;
}

int pg_fs_write_file_atomic(const char *path, const void *data, size_t len)
{
	char *tmp = NULL;
	size_t n = strlen(path) + 32;
	int fd = -1, error = 0, created = 0;
	const char *p = data;

	const char *base = strrchr(path, '/');

	if (!(tmp = malloc(n)))
		return pg_error_setc(PG_ENOMEM, "out of memory");
	/* hidden, beside the target (same file system, so rename is atomic) */
	base = base ? base + 1 : path;
	snprintf(tmp, n, "%.*s.%s.tmp.%ld", (int)(base - path), path, base, (long)getpid());
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644)) < 0) {
		error = pg_error_setc(PG_EIO, "cannot create '%s': %s", tmp, strerror(errno));
		goto out;
	}
	created = 1;
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			error = pg_error_setc(PG_EIO, "cannot write '%s': %s", tmp, strerror(w < 0 ? errno : EIO));
			goto out;
		}
		p += w;
		len -= (size_t)w;
	}
	/* no fsync: atomic for readers, as before; a batch writes thousands of files */
	if (close(fd) < 0) {
		fd = -1;
		error = pg_error_setc(PG_EIO, "cannot write '%s': %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		error = pg_error_setc(PG_EIO, "cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	if (error < 0 && created)
		unlink(tmp);
	free(tmp);
	return error;
}

int pg_fs_write_atomic(const char *dir, const char *name, const void *data, size_t len)
{
	pg_buf path = PG_BUF_INIT;
	int error;

	if (!*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return pg_error_setc(PG_EINVALID, "'%s' is not a file name", name);
	if ((error = pg_buf_printf(&path, "%s/%s", dir, name)) == 0)
		error = pg_fs_write_file_atomic(pg_buf_cstr(&path), data, len);
	pg_buf_release(&path);
	return error;
}

/* ".NAME.tmp.DIGITS": the temporary name pg_fs_write_file_atomic uses */
static int is_tmp_name(const char *n)
{
	const char *t = strstr(n, ".tmp.");
	const char *last = NULL;

	if (n[0] != '.' || !t)
		return 0;
	for (; t; t = strstr(t + 1, ".tmp."))
		last = t;
	last += 5;
	if (!*last)
		return 0;
	for (; *last; last++)
		if (*last < '0' || *last > '9')
			return 0;
	return 1;
}

void pg_fs_clear_tmp(const char *dir, long min_age, size_t *removed)
{
	DIR *d;
	struct dirent *e;
	time_t now = time(NULL);

	*removed = 0;
	if (!(d = opendir(dir)))
		return;
	while ((e = readdir(d))) {
		struct stat sb;
		char *p;
		size_t n;
		if (!is_tmp_name(e->d_name))
			continue;
		n = strlen(dir) + strlen(e->d_name) + 2;
		if (!(p = malloc(n)))
			break;
		snprintf(p, n, "%s/%s", dir, e->d_name);
		if (lstat(p, &sb) == 0 && S_ISREG(sb.st_mode) && now - sb.st_mtime >= min_age && unlink(p) == 0)
			(*removed)++;
		free(p);
	}
	closedir(d);
}
