/*
 * test_tar.c: the tar writer and reader against duplicity's volumes, GNU
 * tar, Debian's Python tarfile and gpg-decrypted volumes with junk.
 */
#include <dirent.h>
#include <fcntl.h>
#include <locale.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "archive/tar.h"
#include "compress/gzip.h"
#include "format/entry.h"
#include "util/buf.h"
#include "util/ctx.h"
#include "util/stream.h"
#include "test.h"

#define PY "/usr/bin/python3"

static struct arca_ctx ctx;

/* ---------------------------------------------------------------- */
/* Helpers. */

static int
run(const char *cmd)
{
	int st = system(cmd);

	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int
write_file(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	int r;

	if (fd < 0)
		return -1;
	r = arca_write_all(fd, p, n);
	close(fd);
	return r;
}

static int
read_file(const char *path, struct arca_buf *b)
{
	unsigned char tmp[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	arca_buf_reset(b);
	if (fd < 0)
		return -1;
	while ((n = read(fd, tmp, sizeof(tmp))) > 0)
		arca_buf_append(b, tmp, (size_t)n);
	close(fd);
	return n < 0 ? -1 : 0;
}

static void
rmrf(const char *dir)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	run(cmd);
}

static void
hex(char *out, const char *s)
{
	static const char d[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;

	if (*p == '\0') {
		strcpy(out, "-");
		return;
	}
	for (; *p; p++) {
		*out++ = d[*p >> 4];
		*out++ = d[*p & 15];
	}
	*out = '\0';
}

static int
has_high(const char *s)
{
	for (; *s; s++)
		if (*s & 0x80)
			return 1;
	return 0;
}

static unsigned char
pattern(uint64_t i, unsigned seed)
{
	return (unsigned char)((i * 31 + seed) & 0xff);
}

/* A source that counts what it hands out, over another source. */
struct counting {
	struct arca_source base;
	struct arca_source *in;
	uint64_t n;
	size_t max_read;	/* hand out at most this much per call (0 = any) */
};

static ssize_t
counting_read(struct arca_source *s, void *p, size_t n)
{
	struct counting *c = (struct counting *)s;
	ssize_t r;

	if (c->max_read && n > c->max_read)
		n = c->max_read;
	r = arca_source_read(c->in, p, n);
	if (r > 0)
		c->n += (uint64_t)r;
	return r;
}

/* ---------------------------------------------------------------- */
/* What a member is, for writing and for comparing. */

struct ent {
	const char *name;
	enum arca_etype type;
	uint32_t mode;
	uint64_t uid, gid;
	const char *uname, *gname;
	int64_t mtime;
	uint64_t size;
	const char *link;
	uint32_t maj, min;
	unsigned seed;		/* data is pattern(i, seed) */
};

static char typeflag(enum arca_etype t)
{
	switch (t) {
	case ARCA_T_DIR: return '5';
	case ARCA_T_SYMLINK: return '2';
	case ARCA_T_FIFO: return '6';
	case ARCA_T_CHR: return '3';
	case ARCA_T_BLK: return '4';
	default: return '0';
	}
}

/* The entry as it must read back (deleted entries carry nothing). */
static struct ent
effective(const struct ent *e)
{
	struct ent x = *e;

	if (e->type == ARCA_T_NONE) {
		memset(&x, 0, sizeof(x));
		x.name = e->name;
		x.type = ARCA_T_REG;
		x.uname = x.gname = "";
	}
	if (x.type == ARCA_T_DIR && x.name[strlen(x.name) - 1] != '/') {
		/* Directory names get their '/', as tarfile writes them. */
		static char dn[64][256];
		static int k;

		k = (k + 1) % 64;
		snprintf(dn[k], sizeof(dn[k]), "%s/", x.name);
		x.name = dn[k];
	}
	if (x.type != ARCA_T_REG)
		x.size = 0;
	if (x.type != ARCA_T_SYMLINK)
		x.link = NULL;
	if (x.type != ARCA_T_CHR && x.type != ARCA_T_BLK)
		x.maj = x.min = 0;
	return x;
}

static void
meta_of(struct arca_meta *m, const struct ent *e)
{
	memset(m, 0, sizeof(*m));
	m->type = e->type;
	m->mode = e->mode;
	m->uid = e->uid;
	m->gid = e->gid;
	snprintf(m->uname, sizeof(m->uname), "%s", e->uname);
	snprintf(m->gname, sizeof(m->gname), "%s", e->gname);
	m->mtime = e->mtime;
	m->size = e->size;
	m->linkname = (char *)(uintptr_t)e->link;
	m->devmajor = e->maj;
	m->devminor = e->min;
}

/* Write ents to out, checking arca_tar_writer_bytes() all along. */
static int
write_ents(const struct ent *ents, size_t n, int trailer,
    struct arca_buf *out)
{
	struct arca_tar_writer *w = NULL;
	struct arca_sink *s;
	struct arca_meta m;
	unsigned char chunk[1000];
	uint64_t off, k, j;
	size_t i;
	int r;

	arca_buf_reset(out);
	s = arca_sink_buf(out);
	if ((r = arca_tar_writer_new(&ctx, s, &w)) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		meta_of(&m, &ents[i]);
		if ((r = arca_tar_write_header(w, ents[i].name, &m)) < 0)
			goto out;
		CHECK_INT(arca_tar_writer_bytes(w), out->len);
		for (off = 0; ents[i].type == ARCA_T_REG && off < ents[i].size;
		    off += k) {
			k = ents[i].size - off < sizeof(chunk) ?
			    ents[i].size - off : sizeof(chunk);
			for (j = 0; j < k; j++)
				chunk[j] = pattern(off + j, ents[i].seed);
			if ((r = arca_tar_write_data(w, chunk, (size_t)k)) < 0)
				goto out;
		}
		CHECK_INT(arca_tar_writer_bytes(w), out->len);
	}
	r = arca_tar_writer_close(w, trailer);
	CHECK_INT(arca_tar_writer_bytes(w), out->len);
out:
	arca_tar_writer_free(w);
	arca_sink_free(s);
	return r;
}

/* Member boundaries: re-derive them by writing prefixes of the list. */
static void
boundaries(const struct ent *ents, size_t n, uint64_t *b)
{
	struct arca_buf tmp = { 0 };
	size_t i;

	for (i = 0; i < n; i++) {
		CHECK_INT(write_ents(ents, i + 1, 0, &tmp), 0);
		b[i] = tmp.len;
	}
	arca_buf_free(&tmp);
}

struct got {
	char *name;
	size_t name_len;
	struct arca_meta m;
	uint64_t data_len;
	uint32_t crc;
};

struct gotlist {
	struct got *v;
	size_t n;
};

static void
gotlist_free(struct gotlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].m.linkname);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/*
 * Read every member from src with reads of `step` bytes.  Returns the
 * reader's final status (0 = clean end).
 */
static int
read_all(struct arca_source *src, size_t step, struct gotlist *l)
{
	struct arca_tar_reader *r = NULL;
	const struct arca_meta *m;
	const char *name;
	unsigned char *buf = malloc(step);
	struct got *g;
	ssize_t got;
	int rc;

	if ((rc = arca_tar_reader_new(&ctx, src, &r)) < 0)
		goto out;
	while ((rc = arca_tar_next(r, &name, &m)) == 1) {
		l->v = realloc(l->v, (l->n + 1) * sizeof(*l->v));
		g = &l->v[l->n++];
		memset(g, 0, sizeof(*g));
		g->name = strdup(name);
		g->name_len = strlen(name);
		g->m = *m;
		g->m.linkname = m->linkname ? strdup(m->linkname) : NULL;
		g->crc = (uint32_t)crc32(0, NULL, 0);
		while ((got = arca_tar_read_data(r, buf, step)) > 0) {
			g->data_len += (uint64_t)got;
			g->crc = (uint32_t)crc32(g->crc, buf, (uInt)got);
		}
		if (got < 0) {
			rc = (int)got;
			goto out;
		}
		if (g->data_len != m->size) {
			fprintf(stderr, "%s: read %llu of %llu bytes\n", name,
			    (unsigned long long)g->data_len,
			    (unsigned long long)m->size);
			rc = -100;
			goto out;
		}
	}
out:
	arca_tar_reader_free(r);
	free(buf);
	return rc;
}

static int
read_mem(const void *p, size_t n, size_t step, struct gotlist *l)
{
	struct arca_source *s = arca_source_mem(p, n);
	int rc = read_all(s, step, l);

	arca_source_free(s);
	return rc;
}

static uint32_t
ent_crc(const struct ent *e)
{
	uint32_t c = (uint32_t)crc32(0, NULL, 0);
	unsigned char b;
	uint64_t i;

	for (i = 0; i < e->size; i++) {
		b = pattern(i, e->seed);
		c = (uint32_t)crc32(c, &b, 1);
	}
	return c;
}

static void
check_got(const struct got *g, const struct ent *e0)
{
	struct ent e = effective(e0);

	CHECK_STR(g->name, e.name);
	CHECK_INT(g->m.type, e.type);
	CHECK_INT(g->m.mode, e.mode);
	CHECK_INT(g->m.uid, e.uid);
	CHECK_INT(g->m.gid, e.gid);
	CHECK_STR(g->m.uname, e.uname);
	CHECK_STR(g->m.gname, e.gname);
	CHECK_INT(g->m.mtime, e.mtime);
	CHECK_INT(g->m.size, e.size);
	CHECK_INT(g->data_len, e.size);
	CHECK_INT(g->crc, ent_crc(&e));
	if (e.link != NULL)
		CHECK_STR(g->m.linkname, e.link);
	else
		CHECK(g->m.linkname == NULL);
	CHECK_INT(g->m.devmajor, e.maj);
	CHECK_INT(g->m.devminor, e.min);
}

/* ---------------------------------------------------------------- */
/* GNU tar's listing. */

static void
perms(char *o, enum arca_etype t, uint32_t mode)
{
	static const char tc[] = { '-', '-', 'd', 'l', 'p', 'c', 'b' };

	o[0] = tc[t];
	o[1] = mode & 0400 ? 'r' : '-';
	o[2] = mode & 0200 ? 'w' : '-';
	o[3] = mode & 04000 ? (mode & 0100 ? 's' : 'S') : mode & 0100 ? 'x' : '-';
	o[4] = mode & 040 ? 'r' : '-';
	o[5] = mode & 020 ? 'w' : '-';
	o[6] = mode & 02000 ? (mode & 010 ? 's' : 'S') : mode & 010 ? 'x' : '-';
	o[7] = mode & 04 ? 'r' : '-';
	o[8] = mode & 02 ? 'w' : '-';
	o[9] = mode & 01000 ? (mode & 01 ? 't' : 'T') : mode & 01 ? 'x' : '-';
	o[10] = '\0';
}

static void
strip_slashes(char *s)
{
	size_t n = strlen(s);

	while (n > 1 && s[n - 1] == '/')
		s[--n] = '\0';
}

/* Compare what we read with `tar tv` (GNU tar) of the same file. */
static void
check_against_gnu_tar(const char *file, const char *opts,
    const struct gotlist *l)
{
	char cmd[2048], line[8192], p[16], owner[256], size[64], date[16],
	    tm[16], want_p[16], want_owner[256], want_size[64], want_date[32],
	    *rest, *arrow;
	struct tm t;
	time_t mt;
	size_t i = 0, len;
	int off;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "TZ=UTC LC_ALL=C.UTF-8 tar "
	    "--quoting-style=literal %s '%s' 2>/dev/null", opts, file);
	f = popen(cmd, "r");
	CHECK(f != NULL);
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		const struct got *g;

		len = strlen(line);
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (i >= l->n) {
			CHECK(i < l->n);
			break;
		}
		g = &l->v[i++];
		off = 0;
		if (sscanf(line, "%15s %255s %63s %15s %15s %n", p, owner, size,
		    date, tm, &off) != 5 || off == 0) {
			CHECK(!"unparsable tar listing line");
			continue;
		}
		rest = line + off;
		perms(want_p, g->m.type, g->m.mode);
		/* GNU tar shows a regular "snapshot/" as a directory. */
		if (g->m.type == ARCA_T_REG && g->name_len > 0 &&
		    g->name[g->name_len - 1] == '/')
			want_p[0] = 'd';
		CHECK_STR(p, want_p);
		snprintf(want_owner, sizeof(want_owner), "%s/%s",
		    g->m.uname[0] ? g->m.uname : "", g->m.gname[0] ?
		    g->m.gname : "");
		if (!g->m.uname[0] || !g->m.gname[0]) {
			char u[64], gg[64];

			snprintf(u, sizeof(u), "%llu",
			    (unsigned long long)g->m.uid);
			snprintf(gg, sizeof(gg), "%llu",
			    (unsigned long long)g->m.gid);
			snprintf(want_owner, sizeof(want_owner), "%s/%s",
			    g->m.uname[0] ? g->m.uname : u,
			    g->m.gname[0] ? g->m.gname : gg);
		}
		if (strstr(opts, "numeric") != NULL)
			snprintf(want_owner, sizeof(want_owner), "%llu/%llu",
			    (unsigned long long)g->m.uid,
			    (unsigned long long)g->m.gid);
		CHECK_STR(owner, want_owner);
		if (g->m.type == ARCA_T_CHR || g->m.type == ARCA_T_BLK)
			snprintf(want_size, sizeof(want_size), "%u,%u",
			    g->m.devmajor, g->m.devminor);
		else
			snprintf(want_size, sizeof(want_size), "%llu",
			    (unsigned long long)g->m.size);
		CHECK_STR(size, want_size);
		mt = (time_t)g->m.mtime;
		gmtime_r(&mt, &t);
		strftime(want_date, sizeof(want_date), "%Y-%m-%d %H:%M", &t);
		snprintf(cmd, sizeof(cmd), "%s %s", date, tm);
		CHECK_STR(cmd, want_date);
		if (g->m.type == ARCA_T_SYMLINK) {
			arrow = strstr(rest, " -> ");
			CHECK(arrow != NULL);
			if (arrow == NULL)
				continue;
			*arrow = '\0';
			CHECK_STR(arrow + 4, g->m.linkname);
		}
		snprintf(cmd, sizeof(cmd), "%s", g->name);
		if (g->m.type == ARCA_T_DIR) {
			/* GNU tar shows every directory with a '/'. */
			strip_slashes(cmd);
			strip_slashes(rest);
		}
		CHECK_STR(rest, cmd);
	}
	CHECK_INT(pclose(f), 0);
	CHECK_INT(i, l->n);
}

/* ---------------------------------------------------------------- */
/* Python's tarfile. */

static const char py_list[] =
    "import sys, os, tarfile, zlib\n"
    "def h(s):\n"
    "    b = s.encode('utf-8', 'surrogateescape')\n"
    "    return b.hex() if b else '-'\n"
    "def n(s):\n"
    "    return h(s.rstrip('/') if len(s) > 1 else s)\n"
    "t = tarfile.open(sys.argv[1], 'r:', encoding='utf-8',"
    " errors='surrogateescape')\n"
    "for m in t:\n"
    "    d = t.extractfile(m).read() if m.isreg() else b''\n"
    "    print(n(m.name), m.type.decode(), '%o' % m.mode, m.uid, m.gid,"
    " h(m.uname), h(m.gname), m.size if m.isreg() else 0, int(m.mtime),"
    " h(m.linkname), m.devmajor if m.ischr() or m.isblk() else 0,"
    " m.devminor if m.ischr() or m.isblk() else 0, len(d),"
    " zlib.crc32(d))\n";

/* Python's view of one of our members, as the line py_list prints. */
static void
py_line_of(char *out, size_t cap, const struct got *g)
{
	char nm[8192], un[80], gn[80], lk[8192];
	char tf = typeflag(g->m.type);

	/*
	 * tarfile drops the trailing '/' of directory names and of every
	 * pax path; the names are compared without it (list.py too).
	 */
	snprintf(nm, sizeof(nm), "%s", g->name);
	strip_slashes(nm);
	hex(lk, nm);
	memcpy(nm, lk, strlen(lk) + 1);
	hex(un, g->m.uname);
	hex(gn, g->m.gname);
	hex(lk, g->m.linkname ? g->m.linkname : "");
	snprintf(out, cap, "%s %c %o %llu %llu %s %s %llu %lld %s %u %u %llu "
	    "%lu", nm, tf, g->m.mode, (unsigned long long)g->m.uid,
	    (unsigned long long)g->m.gid, un, gn,
	    (unsigned long long)g->m.size, (long long)g->m.mtime, lk,
	    g->m.devmajor, g->m.devminor, (unsigned long long)g->data_len,
	    (unsigned long)g->crc);
}

static void
check_against_python(const char *dir, const char *file,
    const struct gotlist *l)
{
	char cmd[2048], line[16384], want[16384];
	size_t i = 0, len;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "%s/list.py", dir);
	CHECK_INT(write_file(cmd, py_list, strlen(py_list)), 0);
	snprintf(cmd, sizeof(cmd), PY " '%s/list.py' '%s'", dir, file);
	f = popen(cmd, "r");
	CHECK(f != NULL);
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		len = strlen(line);
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (i >= l->n) {
			CHECK(i < l->n);
			break;
		}
		py_line_of(want, sizeof(want), &l->v[i++]);
		CHECK_STR(want, line);
	}
	CHECK_INT(pclose(f), 0);
	CHECK_INT(i, l->n);
}

/* ---------------------------------------------------------------- */
/* duplicity's volumes. */

static int
read_gz_file(const char *path, struct gotlist *l)
{
	struct arca_source *fs, *gs;
	int fd = open(path, O_RDONLY), rc;

	if (fd < 0)
		return -1;
	fs = arca_source_fd(&ctx, fd, path);
	gs = arca_gunzip_source(&ctx, fs, 0);
	rc = read_all(gs, 7000, l);
	arca_source_free(gs);
	arca_source_free(fs);
	close(fd);
	return rc;
}

static void
test_fixture_plain_volumes(void)
{
	char dir[1024], path[2048];
	struct gotlist l = { 0 };
	struct dirent *d;
	size_t len, files = 0, members = 0;
	DIR *dp;

	snprintf(dir, sizeof(dir), "%s/duplicity-0.8.22/plain",
	    test_data_dir());
	dp = opendir(dir);
	CHECK(dp != NULL);
	if (dp == NULL)
		return;
	while ((d = readdir(dp)) != NULL) {
		len = strlen(d->d_name);
		if ((len < 11 || strcmp(d->d_name + len - 11, ".difftar.gz")) &&
		    (len < 10 || strcmp(d->d_name + len - 10, ".sigtar.gz")))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		CHECK_INT(read_gz_file(path, &l), 0);
		CHECK(l.n > 0);
		check_against_gnu_tar(path, "-tvzf", &l);
		check_against_gnu_tar(path, "--numeric-owner -tvzf", &l);
		files++;
		members += l.n;
		gotlist_free(&l);
	}
	closedir(dp);
	CHECK_INT(files, 8);
	CHECK(members > 100);
}

/* The name duplicity gives a UTF-8 file, read back from its pax path. */
static void
test_fixture_pax_name(void)
{
	char path[2048];
	struct gotlist l = { 0 };
	size_t i;
	int seen = 0;

	snprintf(path, sizeof(path), "%s/duplicity-0.8.22/plain/"
	    "duplicity-full.20240101T000000Z.vol2.difftar.gz",
	    test_data_dir());
	CHECK_INT(read_gz_file(path, &l), 0);
	for (i = 0; i < l.n; i++)
		if (strcmp(l.v[i].name, "snapshot/\xc3\xbcn\xc3\xaf" "c\xc3\xb8"
		    "d\xc3\xa9.txt") == 0) {
			seen = 1;
			CHECK_INT(l.v[i].m.size, 11);
			CHECK_STR(l.v[i].m.uname, "root");
		}
	CHECK(seen);
	gotlist_free(&l);
}

static void
test_fixture_gpg_volume(void)
{
	char *dir = test_tmpdir(), cmd[4096], out[1024];
	struct arca_buf plain = { 0 };
	struct gotlist l = { 0 };
	struct counting c;
	size_t i, junk = 0;

	chmod(dir, 0700);
	snprintf(out, sizeof(out), "%s/vol1.tar", dir);
	/* --no-autostart: symmetric decryption needs no agent left behind. */
	snprintf(cmd, sizeof(cmd), "GNUPGHOME='%s' gpg --batch --quiet "
	    "--no-autostart --pinentry-mode loopback "
	    "--passphrase fixture-passphrase -o '%s' "
	    "-d '%s/duplicity-0.8.22/encrypted/"
	    "duplicity-full.20240101T000000Z.vol1.difftar.gpg' "
	    "2>'%s/gpg.err'", dir, out, test_data_dir(), dir);
	CHECK_INT(run(cmd), 0);
	CHECK_INT(read_file(out, &plain), 0);
	/* The volume really has junk after its trailer. */
	for (i = plain.len > 20000 ? plain.len - 20000 : 0; i < plain.len; i++)
		junk += plain.data[i] != 0;
	CHECK(junk > 1000);

	memset(&c, 0, sizeof(c));
	c.base.read = counting_read;
	c.in = arca_source_mem(plain.data, plain.len);
	CHECK_INT(read_all(&c.base, 65536, &l), 0);
	CHECK(l.n > 10);
	/* Nothing after the first zero block was even read. */
	CHECK(c.n < plain.len);
	for (i = 0; i < 512 && c.n >= 512; i++)
		CHECK_INT(plain.data[c.n - 512 + i], 0);
	check_against_gnu_tar(out, "-tvf", &l);
	check_against_python(dir, out, &l);
	arca_source_free(c.in);
	gotlist_free(&l);
	arca_buf_free(&plain);
	rmrf(dir);
	free(dir);
}

/* ---------------------------------------------------------------- */
/* Our writer. */

static char name150[160], link200[210];

static const struct ent *
all_types(size_t *n)
{
	static struct ent v[32];
	size_t i = 0;

	memset(name150, 0, sizeof(name150));
	strcpy(name150, "snapshot/");
	while (strlen(name150) < 150)
		strcat(name150, strlen(name150) % 20 == 0 ? "/" : "d");
	memset(link200, 0, sizeof(link200));
	strcpy(link200, "../../");
	while (strlen(link200) < 200)
		strcat(link200, "t");

#define E(...) v[i++] = (struct ent){ __VA_ARGS__ }
	E(.name = "snapshot/./", .type = ARCA_T_DIR, .mode = 0755,
	    .uname = "root", .gname = "root", .mtime = 1704063600);
	E(.name = "snapshot/file.txt", .type = ARCA_T_REG, .mode = 0644,
	    .uid = 1000, .gid = 1000, .uname = "alice", .gname = "staff",
	    .mtime = 1704063601, .size = 1000, .seed = 1);
	E(.name = name150, .type = ARCA_T_REG, .mode = 0600, .uname = "root",
	    .gname = "root", .mtime = 1704063602, .size = 513, .seed = 2);
	E(.name = "snapshot/\xc3\xbcn\xc3\xaf" "c\xc3\xb8" "d\xc3\xa9.txt",
	    .type = ARCA_T_REG, .mode = 0644, .uname = "root",
	    .gname = "root", .mtime = 1704063603, .size = 11, .seed = 3);
	E(.name = "snapshot/bad\xff" "byte.txt", .type = ARCA_T_REG,
	    .mode = 0644, .uname = "root", .gname = "root",
	    .mtime = 1704063604, .size = 5, .seed = 4);
	E(.name = "snapshot/bigids", .type = ARCA_T_REG, .mode = 0640,
	    .uid = 3000000, .gid = 4000000, .uname = "", .gname = "",
	    .mtime = 1704063605, .size = 7, .seed = 5);
	E(.name = "snapshot/midids", .type = ARCA_T_REG, .mode = 0640,
	    .uid = 300000, .gid = 300001, .uname = "", .gname = "",
	    .mtime = 1704063605, .size = 0);
	E(.name = "snapshot/future", .type = ARCA_T_REG, .mode = 0644,
	    .uname = "root", .gname = "root", .mtime = INT64_C(10413792000),
	    .size = 3, .seed = 6);
	E(.name = "snapshot/y2040", .type = ARCA_T_REG, .mode = 0644,
	    .uname = "root", .gname = "root", .mtime = INT64_C(2208988800),
	    .size = 1, .seed = 7);
	E(.name = "snapshot/longlink", .type = ARCA_T_SYMLINK, .mode = 0777,
	    .uname = "root", .gname = "root", .mtime = 1704063606,
	    .link = link200);
	E(.name = "snapshot/link", .type = ARCA_T_SYMLINK, .mode = 0777,
	    .uname = "root", .gname = "root", .mtime = 1704063607,
	    .link = "file.txt");
	E(.name = "snapshot/pipe", .type = ARCA_T_FIFO, .mode = 0644,
	    .uname = "root", .gname = "root", .mtime = 1704063608);
	E(.name = "snapshot/null", .type = ARCA_T_CHR, .mode = 0666,
	    .uname = "root", .gname = "root", .mtime = 1704063609, .maj = 1,
	    .min = 3);
	E(.name = "snapshot/sda", .type = ARCA_T_BLK, .mode = 0660,
	    .uname = "root", .gname = "disk", .gid = 6,
	    .mtime = 1704063610, .maj = 8, .min = 300000);
	E(.name = "snapshot/setuid", .type = ARCA_T_REG, .mode = 04755,
	    .uname = "root", .gname = "root", .mtime = 1704063611, .size = 2,
	    .seed = 8);
	E(.name = "snapshot/uname32", .type = ARCA_T_REG, .mode = 0644,
	    .uid = 1001, .gid = 1001,
	    .uname = "abcdefghijklmnopqrstuvwxyz012345",
	    .gname = "abcdefghijklmnopqrstuvwxyz01234",
	    .mtime = 1704063612, .size = 4, .seed = 9);
	E(.name = "snapshot/owners", .type = ARCA_T_REG, .mode = 0644,
	    .uid = 1002, .gid = 1002, .uname = "j\xc3\xbcrgen",
	    .gname = "gr\xff" "p", .mtime = 1704063612, .size = 1, .seed = 12);
	E(.name = "snapshot/noslash", .type = ARCA_T_DIR, .mode = 0700,
	    .uname = "root", .gname = "root", .mtime = 1704063613);
	E(.name = "deleted/gone", .type = ARCA_T_NONE, .mode = 0644,
	    .uid = 5, .gid = 5, .uname = "x", .gname = "y", .mtime = 99,
	    .size = 77);
	E(.name = "multivol_snapshot/big/1", .type = ARCA_T_REG,
	    .mode = 0644, .uname = "root", .gname = "root",
	    .mtime = 1704063614, .size = 65536, .seed = 10);
	E(.name = "snapshot/", .type = ARCA_T_REG, .mode = 0644,
	    .uname = "root", .gname = "root", .mtime = 1704063615,
	    .size = 600, .seed = 11);
	E(.name = "snapshot/empty", .type = ARCA_T_REG, .mode = 0644,
	    .uname = "root", .gname = "root", .mtime = 1704063616);
#undef E
	*n = i;
	return v;
}

static void
test_write_read_back(void)
{
	struct arca_buf tar = { 0 };
	struct gotlist l = { 0 };
	const struct ent *v;
	size_t n, i;
	size_t steps[] = { 1, 7, 512, 100000 };

	v = all_types(&n);
	CHECK_INT(write_ents(v, n, 0, &tar), 0);
	CHECK_INT(tar.len % 512, 0);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		CHECK_INT(read_mem(tar.data, tar.len, steps[i], &l), 0);
		CHECK_INT(l.n, n);
		if (l.n == n) {
			size_t j;

			for (j = 0; j < n; j++)
				check_got(&l.v[j], &v[j]);
		}
		gotlist_free(&l);
	}
	arca_buf_free(&tar);
}

static void
test_write_other_readers(void)
{
	char *dir = test_tmpdir(), path[1024];
	struct arca_buf tar = { 0 };
	struct gotlist l = { 0 };
	const struct ent *v;
	size_t n;

	v = all_types(&n);
	CHECK_INT(write_ents(v, n, 1, &tar), 0);
	snprintf(path, sizeof(path), "%s/all.tar", dir);
	CHECK_INT(write_file(path, tar.data, tar.len), 0);
	CHECK_INT(read_mem(tar.data, tar.len, 4096, &l), 0);
	CHECK_INT(l.n, n);
	check_against_gnu_tar(path, "-tvf", &l);
	check_against_gnu_tar(path, "--numeric-owner -tvf", &l);
	check_against_python(dir, path, &l);
	/* GNU tar finds nothing wrong reading it all, data included. */
	snprintf(path, sizeof(path), "tar -xOf '%s/all.tar' 2>&1 >/dev/null |"
	    " grep -v hdrcharset | grep -q .", dir);
	CHECK(run(path) != 0);
	gotlist_free(&l);
	arca_buf_free(&tar);
	rmrf(dir);
	free(dir);
}

/*
 * Members that need a pax header (or that libarchive would mangle) are
 * written byte for byte as Python's tarfile writes them for duplicity.
 */
static const char py_make[] =
    "import sys, os, tarfile\n"
    "def h(x):\n"
    "    return '' if x == '-' else os.fsdecode(bytes.fromhex(x))\n"
    "out = open(sys.argv[2], 'wb')\n"
    "for line in open(sys.argv[1]):\n"
    "    f = line.split()\n"
    "    ti = tarfile.TarInfo(h(f[0]))\n"
    "    ti.type = f[1].encode(); ti.mode = int(f[2], 8)\n"
    "    ti.uid = int(f[3]); ti.gid = int(f[4])\n"
    "    ti.uname = h(f[5]); ti.gname = h(f[6]); ti.size = int(f[7])\n"
    "    ti.mtime = int(f[8]); ti.linkname = h(f[9])\n"
    "    ti.devmajor = int(f[10]); ti.devminor = int(f[11])\n"
    "    out.write(ti.tobuf(tarfile.PAX_FORMAT, 'utf-8',"
    " 'surrogateescape'))\n"
    "    d = bytes(((i * 31 + int(f[12])) & 255) for i in range(ti.size))\n"
    "    out.write(d + b'\\0' * (-len(d) % 512))\n";

static void
test_special_members_match_tarfile(void)
{
	char *dir = test_tmpdir(), path[1024], cmd[3072], nm[1024], un[80],
	    gn[80], lk[1024];
	struct arca_buf spec = { 0 }, ours = { 0 }, theirs = { 0 };
	static struct ent sp[16];
	const struct ent *v;
	struct ent e;
	size_t n, i, k = 0;

	v = all_types(&n);
	for (i = 0; i < n; i++)
		if (strcmp(v[i].name, name150) == 0 || v[i].uid >= 300000 ||
		    v[i].mtime > INT64_C(0x7fffffff) ||
		    (v[i].link != NULL && strlen(v[i].link) > 100) ||
		    strcmp(v[i].name, "snapshot/uname32") == 0 ||
		    v[i].maj >= 262144 || v[i].min >= 262144 ||
		    has_high(v[i].name) || has_high(v[i].uname) ||
		    has_high(v[i].gname))
			sp[k++] = v[i];
	CHECK_INT(k, 11);
	for (i = 0; i < k; i++) {
		e = effective(&sp[i]);
		hex(nm, e.name);
		hex(un, e.uname);
		hex(gn, e.gname);
		hex(lk, e.link ? e.link : "");
		arca_buf_printf(&spec, "%s %c %o %llu %llu %s %s %llu %lld %s "
		    "%u %u %u\n", nm, typeflag(e.type), e.mode,
		    (unsigned long long)e.uid, (unsigned long long)e.gid, un,
		    gn, (unsigned long long)e.size, (long long)e.mtime, lk,
		    e.maj, e.min, e.seed);
	}
	snprintf(path, sizeof(path), "%s/spec", dir);
	CHECK_INT(write_file(path, spec.data, spec.len), 0);
	snprintf(path, sizeof(path), "%s/make.py", dir);
	CHECK_INT(write_file(path, py_make, strlen(py_make)), 0);
	snprintf(cmd, sizeof(cmd), PY " '%s/make.py' '%s/spec' '%s/py.tar'",
	    dir, dir, dir);
	CHECK_INT(run(cmd), 0);
	snprintf(path, sizeof(path), "%s/py.tar", dir);
	CHECK_INT(read_file(path, &theirs), 0);
	CHECK_INT(write_ents(sp, k, 0, &ours), 0);
	CHECK_INT(ours.len, theirs.len);
	CHECK(ours.len == theirs.len &&
	    memcmp(ours.data, theirs.data, ours.len) == 0);
	for (i = 0; i < ours.len && i < theirs.len; i++)
		if (ours.data[i] != theirs.data[i]) {
			/* Keep both for a look with cmp -l. */
			snprintf(path, sizeof(path), "%s/ours.tar", dir);
			write_file(path, ours.data, ours.len);
			fprintf(stderr, "first difference at %zu, see %s\n", i,
			    dir);
			dir[0] = '\0';
			break;
		}
	/* The pax records §6.1 quotes, literally. */
	CHECK(memmem(ours.data, ours.len, "15 uid=3000000\n15 gid=4000000\n",
	    30) != NULL);
	CHECK(memmem(ours.data, ours.len, "21 mtime=10413792000\n", 21) != NULL);
	CHECK(memmem(ours.data, ours.len, "21 hdrcharset=BINARY\n30 path="
	    "snapshot/bad\xff" "byte.txt\n", 51) != NULL);
	CHECK(memmem(ours.data, ours.len, "33 path=snapshot/\xc3\xbcn\xc3\xaf"
	    "c\xc3\xb8" "d\xc3\xa9.txt\n", 33) != NULL);
	CHECK(memmem(ours.data, ours.len, "snapshot/?n?c?d?.txt\0", 21) !=
	    NULL);
	CHECK(memmem(ours.data, ours.len, "21 hdrcharset=BINARY\n17 uname="
	    "j\xc3\xbcrgen\n14 gname=gr\xff" "p\n", 52) != NULL);
	CHECK(memmem(ours.data, ours.len, "atime", 5) == NULL);
	CHECK(memmem(ours.data, ours.len, "ctime", 5) == NULL);
	arca_buf_free(&spec);
	arca_buf_free(&ours);
	arca_buf_free(&theirs);
	if (dir[0] != '\0')
		rmrf(dir);
	free(dir);
}

/* Ordinary members carry no pax header and no extra records. */
static void
test_no_extra_records(void)
{
	struct ent v[2] = {
		{ .name = "snapshot/a", .type = ARCA_T_REG, .mode = 0644,
		  .uname = "root", .gname = "root", .mtime = 1704063600,
		  .size = 10, .seed = 1 },
		{ .name = "snapshot/d/", .type = ARCA_T_DIR, .mode = 0755,
		  .uname = "root", .gname = "root", .mtime = 1704063600 },
	};
	struct arca_buf tar = { 0 };

	CHECK_INT(write_ents(v, 2, 0, &tar), 0);
	CHECK_INT(tar.len, 512 + 512 + 512);
	CHECK_INT(tar.data[156], '0');
	CHECK_INT(tar.data[1024 + 156], '5');
	CHECK(memcmp(tar.data + 257, "ustar\0" "00", 8) == 0);
	CHECK(memmem(tar.data, tar.len, "PaxHeader", 9) == NULL);
	arca_buf_free(&tar);
}

static void
test_bytes_and_trailer(void)
{
	struct arca_buf tar = { 0 };
	const struct ent *v;
	size_t n, i, zeros;

	/* Empty archives: nothing, or one record of zeros. */
	CHECK_INT(write_ents(NULL, 0, 0, &tar), 0);
	CHECK_INT(tar.len, 0);
	CHECK_INT(write_ents(NULL, 0, 1, &tar), 0);
	CHECK_INT(tar.len, 10240);
	for (i = 0, zeros = 0; i < tar.len; i++)
		zeros += tar.data[i] == 0;
	CHECK_INT(zeros, 10240);

	/*
	 * 9728 bytes of members: tarfile's two zero blocks spill into a
	 * second record, so the archive is 20480 bytes.
	 */
	{
		struct ent e = { .name = "snapshot/f", .type = ARCA_T_REG,
		    .mode = 0644, .uname = "", .gname = "", .size = 9216 };

		CHECK_INT(write_ents(&e, 1, 1, &tar), 0);
		CHECK_INT(tar.len, 20480);
		e.size = 8704;
		CHECK_INT(write_ents(&e, 1, 1, &tar), 0);
		CHECK_INT(tar.len, 10240);
	}

	v = all_types(&n);
	CHECK_INT(write_ents(v, n, 0, &tar), 0);
	/* No trailer: the last block is the last member's data. */
	CHECK(tar.len % 512 == 0);
	i = tar.len;
	CHECK_INT(write_ents(v, n, 1, &tar), 0);
	CHECK_INT(tar.len % 10240, 0);
	CHECK(tar.len >= i + 1024);
	/* The trailer is zeros only, and nothing else changed. */
	n = tar.len - i;
	for (zeros = 0; i < tar.len; i++)
		zeros += tar.data[i] == 0;
	CHECK_INT(zeros, n);
	arca_buf_free(&tar);
}

static void
test_writer_misuse(void)
{
	struct arca_buf out = { 0 };
	struct arca_sink *s = arca_sink_buf(&out);
	struct arca_tar_writer *w = NULL;
	struct arca_meta m;
	struct ent e = { .name = "snapshot/a", .type = ARCA_T_REG,
	    .mode = 0644, .uname = "", .gname = "", .size = 4 };

	meta_of(&m, &e);
	CHECK_INT(arca_tar_writer_new(&ctx, s, &w), 0);
	CHECK_INT(arca_tar_write_header(w, "snapshot/a", &m), 0);
	CHECK_INT(arca_tar_write_data(w, "abcde", 5), ARCA_ERR_FATAL);
	CHECK(strstr(ctx.errmsg, "snapshot/a") != NULL);
	arca_tar_writer_free(w);

	arca_buf_reset(&out);
	CHECK_INT(arca_tar_writer_new(&ctx, s, &w), 0);
	CHECK_INT(arca_tar_write_header(w, "snapshot/a", &m), 0);
	CHECK_INT(arca_tar_write_data(w, "abc", 3), 0);
	CHECK_INT(arca_tar_writer_close(w, 0), ARCA_ERR_FATAL);
	arca_tar_writer_free(w);

	/* The own-header path checks as well (pax name). */
	arca_buf_reset(&out);
	CHECK_INT(arca_tar_writer_new(&ctx, s, &w), 0);
	CHECK_INT(arca_tar_write_header(w, "snapshot/\xff", &m), 0);
	CHECK_INT(arca_tar_write_data(w, "ab", 2), 0);
	CHECK_INT(arca_tar_write_header(w, "snapshot/b", &m), ARCA_ERR_FATAL);
	arca_tar_writer_free(w);
	arca_sink_free(s);
	arca_buf_free(&out);
}

static void
roundtrip_in_locale(void)
{
	struct arca_buf tar = { 0 };
	struct gotlist l = { 0 };
	const struct ent *v;
	size_t n, i;

	v = all_types(&n);
	CHECK_INT(write_ents(v, n, 0, &tar), 0);
	CHECK_INT(read_mem(tar.data, tar.len, 4096, &l), 0);
	CHECK_INT(l.n, n);
	for (i = 0; i < l.n && i < n; i++)
		check_got(&l.v[i], &v[i]);
	gotlist_free(&l);
	arca_buf_free(&tar);
}

/*
 * Names are bytes whatever the process locale says: in a UTF-8 locale,
 * and in a Latin-1 one, where libarchive left to itself would convert
 * pax names from UTF-8 to Latin-1.
 */
static void
test_locale_independent(void)
{
	char *dir = test_tmpdir(), cmd[1024];

	CHECK(setlocale(LC_ALL, "C.UTF-8") != NULL);
	roundtrip_in_locale();
	snprintf(cmd, sizeof(cmd), "localedef -i en_US -f ISO-8859-1 "
	    "'%s/en_US.ISO-8859-1' >/dev/null 2>&1", dir);
	CHECK_INT(run(cmd), 0);
	setenv("LOCPATH", dir, 1);
	CHECK(setlocale(LC_ALL, "en_US.ISO-8859-1") != NULL);
	roundtrip_in_locale();
	setlocale(LC_ALL, "C");
	unsetenv("LOCPATH");
	rmrf(dir);
	free(dir);
}

/* ---------------------------------------------------------------- */
/* Reader edge cases. */

static void
test_zero_block_then_junk(void)
{
	struct arca_buf tar = { 0 }, all = { 0 };
	struct gotlist l = { 0 };
	static const unsigned char zero[512];
	struct counting c;
	const struct ent *v;
	uint32_t x = 12345;
	size_t n, i;

	v = all_types(&n);
	CHECK_INT(write_ents(v, n, 0, &tar), 0);

	/* One zero block, then random junk. */
	arca_buf_append(&all, tar.data, tar.len);
	arca_buf_append(&all, zero, sizeof(zero));
	for (i = 0; i < 30000; i++) {
		x = x * 1103515245u + 12345u;
		arca_buf_putc(&all, (int)(x >> 16) | (i == 0));
	}
	memset(&c, 0, sizeof(c));
	c.base.read = counting_read;
	c.in = arca_source_mem(all.data, all.len);
	CHECK_INT(read_all(&c.base, 4096, &l), 0);
	CHECK_INT(l.n, n);
	CHECK_INT(c.n, tar.len + 512);
	arca_source_free(c.in);
	gotlist_free(&l);

	/* Junk that is itself a valid archive is still ignored. */
	arca_buf_reset(&all);
	arca_buf_append(&all, tar.data, tar.len);
	arca_buf_append(&all, zero, sizeof(zero));
	arca_buf_append(&all, tar.data, tar.len);
	CHECK_INT(read_mem(all.data, all.len, 4096, &l), 0);
	CHECK_INT(l.n, n);
	gotlist_free(&l);

	/* No trailer at all (gzip volumes), and nothing at all. */
	CHECK_INT(read_mem(tar.data, tar.len, 4096, &l), 0);
	CHECK_INT(l.n, n);
	gotlist_free(&l);
	CHECK_INT(read_mem("", 0, 4096, &l), 0);
	CHECK_INT(l.n, 0);
	/* An empty signature file: a record of zeros, then junk. */
	arca_buf_reset(&all);
	for (i = 0; i < 20; i++)
		arca_buf_append(&all, zero, sizeof(zero));
	arca_buf_append(&all, "junkjunk", 8);
	CHECK_INT(read_mem(all.data, all.len, 4096, &l), 0);
	CHECK_INT(l.n, 0);
	arca_buf_free(&tar);
	arca_buf_free(&all);
}

/* Reading a member streams: the source is not read ahead of the data. */
static void
test_streaming(void)
{
	struct ent e = { .name = "snapshot/big", .type = ARCA_T_REG,
	    .mode = 0644, .uname = "", .gname = "", .size = 3000000,
	    .seed = 3 };
	struct arca_buf tar = { 0 };
	struct arca_tar_reader *r = NULL;
	const struct arca_meta *m;
	const char *name;
	unsigned char buf[1000];
	struct counting c;

	CHECK_INT(write_ents(&e, 1, 1, &tar), 0);
	memset(&c, 0, sizeof(c));
	c.base.read = counting_read;
	c.in = arca_source_mem(tar.data, tar.len);
	CHECK_INT(arca_tar_reader_new(&ctx, &c.base, &r), 0);
	CHECK_INT(arca_tar_next(r, &name, &m), 1);
	CHECK(c.n <= 512);
	CHECK_INT(arca_tar_read_data(r, buf, sizeof(buf)), sizeof(buf));
	CHECK(c.n <= 512 + 65536);
	CHECK_INT(arca_tar_next(r, &name, &m), 0);
	CHECK_INT(arca_tar_next(r, &name, &m), 0);
	arca_tar_reader_free(r);
	arca_source_free(c.in);
	arca_buf_free(&tar);
}

static void
test_truncated(void)
{
	struct arca_buf tar = { 0 };
	struct gotlist l = { 0 };
	uint64_t b[32];
	const struct ent *v;
	size_t n, i, cut, bad = 0, boundary;
	int rc;

	v = all_types(&n);
	boundaries(v, n, b);
	CHECK_INT(write_ents(v, n, 0, &tar), 0);
	CHECK_INT(b[n - 1], tar.len);
	for (cut = 0; cut < tar.len; cut += 61) {
		for (i = 0, boundary = cut == 0; i < n; i++)
			if (b[i] == cut)
				boundary = 1;
		rc = read_mem(tar.data, cut, 4096, &l);
		if (boundary ? rc != 0 : rc != ARCA_ERR_CORRUPT) {
			fprintf(stderr, "cut %zu: rc %d (%s)\n", cut, rc,
			    ctx.errmsg);
			bad++;
		}
		gotlist_free(&l);
	}
	/* Exactly at each boundary, and one byte either side. */
	for (i = 0; i + 1 < n; i++) {
		CHECK_INT(read_mem(tar.data, (size_t)b[i], 4096, &l), 0);
		CHECK_INT(l.n, i + 1);
		gotlist_free(&l);
		CHECK_INT(read_mem(tar.data, (size_t)b[i] + 1, 4096, &l),
		    ARCA_ERR_CORRUPT);
		gotlist_free(&l);
		CHECK_INT(read_mem(tar.data, (size_t)b[i] - 1, 4096, &l),
		    ARCA_ERR_CORRUPT);
		gotlist_free(&l);
	}
	CHECK_INT(bad, 0);
	CHECK(strstr(ctx.errmsg, "truncated") != NULL);
	arca_buf_free(&tar);
}

/* Store sum in the checksum field of the header at h as "%06o\0 ". */
static void
put_checksum(unsigned char *h, long sum)
{
	char f[9];

	snprintf(f, sizeof(f), "%06lo", sum & 0777777);
	memcpy(h + 148, f, 6);
	h[154] = '\0';
	h[155] = ' ';
}

/* A sink that takes `room` bytes, then fails every write with IO. */
struct short_sink {
	struct arca_sink base;
	size_t room;
	size_t got;
	int failed;
};

static int
short_write(struct arca_sink *s, const void *p, size_t n)
{
	struct short_sink *k = (struct short_sink *)s;

	(void)p;
	if (k->failed || k->got + n > k->room) {
		k->failed = 1;
		return arca_error(&ctx, ARCA_ERR_IO, "disk full (test)");
	}
	k->got += n;
	return 0;
}

static int
short_close(struct arca_sink *s)
{
	(void)s;
	return 0;
}

static void
short_free(struct arca_sink *s)
{
	(void)s;
}

/*
 * A sink that fails at any point of the archive: the call that meets it
 * and every later one return the sink's error, nothing more is written,
 * and freeing the writer leaves no leak (valgrind.test_tar).  libarchive
 * writes the ordinary members, arca the pax one (a non-UTF-8 name).
 */
static void
test_sink_fails(void)
{
	static const char *const names[] = { "snapshot/a", "snapshot/\xff",
	    "snapshot/b" };
	static const char data[3000] = { 'x' };
	struct arca_meta m;
	struct ent e = { .name = "", .type = ARCA_T_REG, .mode = 0644,
	    .uname = "", .gname = "", .size = sizeof(data) };
	size_t room, i;
	int r;

	meta_of(&m, &e);
	for (room = 0; room <= 12288; room += 256) {
		struct short_sink k = { { short_write, short_close, short_free,
		    NULL, 0 }, room, 0, 0 };
		struct arca_tar_writer *w = NULL;

		CHECK_INT(arca_tar_writer_new(&ctx, &k.base, &w), 0);
		if (w == NULL)
			continue;
		r = 0;
		for (i = 0; i < 3 && r == 0; i++) {
			if ((r = arca_tar_write_header(w, names[i], &m)) == 0)
				r = arca_tar_write_data(w, data, sizeof(data));
		}
		if (r == 0)
			r = arca_tar_writer_close(w, 1);
		CHECK_INT(r, k.failed ? ARCA_ERR_IO : 0);
		if (k.failed) {
			CHECK(strstr(ctx.errmsg, "disk full") != NULL);
			/* Later calls repeat it and write nothing. */
			CHECK_INT(arca_tar_write_header(w, "snapshot/c", &m),
			    ARCA_ERR_IO);
			CHECK_INT(arca_tar_writer_close(w, 1), ARCA_ERR_IO);
			CHECK(k.got <= room);
		}
		arca_tar_writer_free(w);
	}
}

/*
 * Old tars stored the checksum as a sum of signed bytes; both sums are
 * accepted, and only those: bytes >= 0x80 make the two differ.
 */
static void
test_checksum_sums(void)
{
	struct arca_buf tar = { 0 }, bad = { 0 };
	struct gotlist l = { 0 };
	const struct ent *v;
	long us = 0, ss = 0;
	size_t n, i;

	v = all_types(&n);
	CHECK_INT(write_ents(v, 1, 0, &tar), 0);
	arca_buf_append(&bad, tar.data, tar.len);
	/* The unused tail of a ustar header: readers ignore its bytes. */
	memset(bad.data + 500, 0xf0, 12);
	for (i = 0; i < 512; i++) {
		unsigned char c = i >= 148 && i < 156 ? ' ' : bad.data[i];

		us += c;
		ss += (signed char)c;
	}
	CHECK(us != ss);
	put_checksum(bad.data, us);
	CHECK_INT(read_mem(bad.data, bad.len, 4096, &l), 0);
	CHECK_INT(l.n, 1);
	gotlist_free(&l);
	put_checksum(bad.data, ss);
	CHECK_INT(read_mem(bad.data, bad.len, 4096, &l), 0);
	CHECK_INT(l.n, 1);
	gotlist_free(&l);
	put_checksum(bad.data, us + 1);
	CHECK_INT(read_mem(bad.data, bad.len, 4096, &l), ARCA_ERR_CORRUPT);
	CHECK(strstr(ctx.errmsg, "checksum") != NULL);
	gotlist_free(&l);
	put_checksum(bad.data, ss - 1);
	CHECK_INT(read_mem(bad.data, bad.len, 4096, &l), ARCA_ERR_CORRUPT);
	gotlist_free(&l);
	arca_buf_free(&bad);
	arca_buf_free(&tar);
}

static void
test_bad_headers(void)
{
	struct arca_buf tar = { 0 }, bad = { 0 };
	struct gotlist l = { 0 };
	const struct ent *v;
	size_t n;

	v = all_types(&n);
	CHECK_INT(write_ents(v, n, 0, &tar), 0);
	/* Checksum. */
	arca_buf_append(&bad, tar.data, tar.len);
	bad.data[512 + 10] ^= 1;	/* name of the second member */
	CHECK_INT(read_mem(bad.data, bad.len, 4096, &l), ARCA_ERR_CORRUPT);
	CHECK(strstr(ctx.errmsg, "checksum") != NULL);
	CHECK_INT(l.n, 1);
	gotlist_free(&l);
	/* Not tar at all. */
	arca_buf_reset(&bad);
	while (bad.len < 2048)
		arca_buf_puts(&bad, "this is not a tar archive. ");
	CHECK_INT(read_mem(bad.data, bad.len, 4096, &l), ARCA_ERR_CORRUPT);
	gotlist_free(&l);
	/* A short first block. */
	CHECK_INT(read_mem(tar.data, 100, 4096, &l), ARCA_ERR_CORRUPT);
	gotlist_free(&l);
	arca_buf_free(&tar);
	arca_buf_free(&bad);
}

static unsigned int
block_sum(const unsigned char *h)
{
	unsigned int sum = 0;
	size_t i;

	for (i = 0; i < 512; i++)
		sum += (i >= 148 && i < 156) ? ' ' : h[i];
	return sum;
}

static int
is_header(const unsigned char *h)
{
	char f[9];

	memcpy(f, h + 148, 8);
	f[8] = '\0';
	return h[0] != 0 && strtoul(f, NULL, 8) == block_sum(h);
}

/*
 * Random damage to headers and data: refused or read, never a crash.
 * Half the time the damaged headers get a valid checksum again, as a
 * hostile archive would have.
 */
static void
test_random_damage(void)
{
	struct arca_buf tar = { 0 }, bad = { 0 };
	struct gotlist l = { 0 };
	const struct ent *v;
	uint32_t x = 4242;
	size_t n, i, k, odd = 0, pos;
	int rc;

	v = all_types(&n);
	CHECK_INT(write_ents(v, n, 1, &tar), 0);
	for (i = 0; i < 3000; i++) {
		arca_buf_reset(&bad);
		arca_buf_append(&bad, tar.data, tar.len);
		for (k = 0; k < 1 + i % 3; k++) {
			x = x * 1103515245u + 12345u;
			pos = (x >> 8) % (i % 2 ? 20000 : bad.len);
			x = x * 1103515245u + 12345u;
			bad.data[pos] ^= (unsigned char)(1 + (x >> 24) % 255);
			if (i % 4 < 2 && is_header(tar.data + pos / 512 * 512))
				snprintf((char *)bad.data + pos / 512 * 512 +
				    148, 8, "%06o", block_sum(bad.data +
				    pos / 512 * 512));
		}
		rc = read_mem(bad.data, bad.len, 4096, &l);
		if (rc != 0 && rc != ARCA_ERR_CORRUPT)
			odd++;
		gotlist_free(&l);
	}
	CHECK_INT(odd, 0);
	arca_buf_free(&tar);
	arca_buf_free(&bad);
}

static ssize_t
failing_read(struct arca_source *s, void *p, size_t n)
{
	(void)s;
	(void)p;
	(void)n;
	return arca_error(&ctx, ARCA_ERR_IO, "disk on fire");
}

/* Errors of the stages below come through with their own code. */
static void
test_source_errors(void)
{
	struct arca_source bad = { failing_read, NULL }, *ms, *gs;
	struct arca_buf gz = { 0 };
	struct gotlist l = { 0 };
	char path[2048];

	CHECK_INT(read_all(&bad, 4096, &l), ARCA_ERR_IO);
	CHECK_STR(ctx.errmsg, "disk on fire");
	gotlist_free(&l);

	/* A gzip volume cut in the middle of a member's data. */
	snprintf(path, sizeof(path), "%s/duplicity-0.8.22/plain/"
	    "duplicity-full.20240101T000000Z.vol1.difftar.gz",
	    test_data_dir());
	CHECK_INT(read_file(path, &gz), 0);
	ms = arca_source_mem(gz.data, gz.len / 2);
	gs = arca_gunzip_source(&ctx, ms, 0);
	CHECK_INT(read_all(gs, 4096, &l), ARCA_ERR_CORRUPT);
	CHECK(strstr(ctx.errmsg, "gzip") != NULL);
	CHECK(l.n >= 2);
	gotlist_free(&l);
	arca_source_free(gs);
	arca_source_free(ms);
	arca_buf_free(&gz);
}

/*
 * Other dialects, made by Python's tarfile and GNU tar: GNU (L/K long
 * names, base-256 numbers), ustar with prefix, pax from GNU tar (atime,
 * ctime, fractional times), global headers, regular members whose name
 * ends in '/'.  Python's tarfile is the reference for each.
 */
static const char py_dialects[] =
    "import sys, os, tarfile, io\n"
    "d = sys.argv[1]\n"
    "def add(t, name, typ=tarfile.REGTYPE, data=b'', **kw):\n"
    "    ti = tarfile.TarInfo(name); ti.type = typ; ti.mtime = 1704063600\n"
    "    ti.mode = 0o644; ti.uname = 'root'; ti.gname = 'root'\n"
    "    for k, v in kw.items(): setattr(ti, k, v)\n"
    "    ti.size = len(data)\n"
    "    t.addfile(ti, io.BytesIO(data))\n"
    "long = 'snapshot/' + '/'.join(['x' * 30] * 5) + '/f'\n"
    "for fmt, fn in ((tarfile.GNU_FORMAT, 'gnu.tar'),"
    " (tarfile.USTAR_FORMAT, 'ustar.tar'), (tarfile.PAX_FORMAT, 'pax.tar')):\n"
    "    t = tarfile.open(os.path.join(d, fn), 'w', format=fmt,"
    " encoding='utf-8', errors='surrogateescape',"
    " pax_headers={'comment': 'global'} if fn == 'pax.tar' else None)\n"
    "    add(t, 'snapshot/./', tarfile.DIRTYPE, mode=0o755)\n"
    "    add(t, long, data=b'long name data' * 50)\n"
    "    if fmt != tarfile.USTAR_FORMAT:\n"
    "        add(t, 'snapshot/l', tarfile.SYMTYPE, linkname='t' * 150)\n"
    "        add(t, 'snapshot/ids', data=b'x', uid=3000000, gid=4000000)\n"
    "        add(t, 'snapshot/2300', data=b'y', mtime=10413792000)\n"
    "        add(t, 'snapshot/\\u00fcn\\u00efc\\u00f8d\\u00e9', data=b'u')\n"
    "        add(t, os.fsdecode(b'snapshot/bad\\xffname'), data=b'b')\n"
    "        add(t, 'snapshot/\\u00e9/', data=b'slash' * 200)\n"
    "        add(t, 'snapshot/' + 'z' * 120 + '/', data=b'long slash')\n"
    "    add(t, 'snapshot/', data=b'single file' * 100)\n"
    "    add(t, 'deleted/x', mode=0, uname='', gname='', mtime=0)\n"
    "    add(t, 'snapshot/dev', tarfile.CHRTYPE, devmajor=4, devminor=64)\n"
    "    add(t, 'snapshot/fifo', tarfile.FIFOTYPE)\n"
    "    t.close()\n"
    "t = tarfile.open(os.path.join(d, 'hardlink.tar'), 'w')\n"
    "add(t, 'snapshot/a', data=b'a')\n"
    "add(t, 'snapshot/b', tarfile.LNKTYPE, linkname='snapshot/a')\n"
    "t.close()\n"
    "t = tarfile.open(os.path.join(d, 'bigpax.tar'), 'w',"
    " format=tarfile.PAX_FORMAT)\n"
    "add(t, 'snapshot/a', data=b'a', pax_headers={'comment': 'x' * (2 << 20)})\n"
    "t.close()\n"
    "t = tarfile.open(os.path.join(d, 'conttype.tar'), 'w')\n"
    "add(t, 'snapshot/a', data=b'a')\n"
    "add(t, 'snapshot/c', tarfile.CONTTYPE, data=b'c')\n"
    "t.close()\n";

static void
read_file_and_compare(const char *dir, const char *file, size_t min)
{
	char path[1024];
	struct arca_buf tar = { 0 };
	struct gotlist l = { 0 };

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	CHECK_INT(read_file(path, &tar), 0);
	CHECK_INT(read_mem(tar.data, tar.len, 3333, &l), 0);
	if (l.n < min)
		fprintf(stderr, "%s: %zu members (%s)\n", file, l.n,
		    ctx.errmsg);
	CHECK(l.n >= min);
	check_against_python(dir, path, &l);
	gotlist_free(&l);
	arca_buf_free(&tar);
}

static void
test_other_dialects(void)
{
	char *dir = test_tmpdir(), cmd[4096], path[1024];
	struct arca_buf tar = { 0 };
	struct gotlist l = { 0 };
	size_t i;
	int seen;

	snprintf(path, sizeof(path), "%s/dialects.py", dir);
	CHECK_INT(write_file(path, py_dialects, strlen(py_dialects)), 0);
	snprintf(cmd, sizeof(cmd), PY " '%s' '%s'", path, dir);
	CHECK_INT(run(cmd), 0);
	read_file_and_compare(dir, "gnu.tar", 13);
	read_file_and_compare(dir, "ustar.tar", 6);
	read_file_and_compare(dir, "pax.tar", 13);

	/* The single-file name keeps its data in every dialect. */
	snprintf(path, sizeof(path), "%s/gnu.tar", dir);
	CHECK_INT(read_file(path, &tar), 0);
	CHECK_INT(read_mem(tar.data, tar.len, 3333, &l), 0);
	for (i = 0, seen = 0; i < l.n; i++)
		if (strcmp(l.v[i].name, "snapshot/") == 0) {
			CHECK_INT(l.v[i].m.type, ARCA_T_REG);
			CHECK_INT(l.v[i].data_len, 1100);
			seen++;
		}
	CHECK_INT(seen, 1);
	gotlist_free(&l);

	/* Hard links and other types duplicity refuses. */
	snprintf(path, sizeof(path), "%s/hardlink.tar", dir);
	CHECK_INT(read_file(path, &tar), 0);
	CHECK_INT(read_mem(tar.data, tar.len, 3333, &l), ARCA_ERR_CORRUPT);
	CHECK(strstr(ctx.errmsg, "hard link") != NULL);
	CHECK_INT(l.n, 1);
	gotlist_free(&l);
	snprintf(path, sizeof(path), "%s/bigpax.tar", dir);
	CHECK_INT(read_file(path, &tar), 0);
	CHECK_INT(read_mem(tar.data, tar.len, 3333, &l), ARCA_ERR_CORRUPT);
	CHECK(strstr(ctx.errmsg, "too large") != NULL);
	gotlist_free(&l);
	snprintf(path, sizeof(path), "%s/conttype.tar", dir);
	CHECK_INT(read_file(path, &tar), 0);
	CHECK_INT(read_mem(tar.data, tar.len, 3333, &l), ARCA_ERR_CORRUPT);
	CHECK(strstr(ctx.errmsg, "type '7'") != NULL);
	gotlist_free(&l);

	/* Archives from GNU tar itself, in its three formats. */
	snprintf(cmd, sizeof(cmd), "set -e; cd '%s'; mkdir -p src/%s; "
	    "printf 'deep' > src/%s/file; printf 'x' > \"src/bad$(printf "
	    "'\\377')name\"; ln -s %s src/ln; mkfifo src/fifo; "
	    "touch -d @1704063600 src/ln src/fifo; "
	    "for f in gnu ustar pax; do tar --format=$f -cf gt-$f.tar -C src "
	    ". 2>/dev/null || true; done; ls gt-gnu.tar gt-pax.tar >/dev/null",
	    dir, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/"
	    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/"
	    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
	    "tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt"
	    "tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt");
	CHECK_INT(run(cmd), 0);
	read_file_and_compare(dir, "gt-gnu.tar", 7);
	read_file_and_compare(dir, "gt-pax.tar", 7);
	snprintf(path, sizeof(path), "%s/gt-ustar.tar", dir);
	if (access(path, F_OK) == 0)
		read_file_and_compare(dir, "gt-ustar.tar", 3);

	arca_buf_free(&tar);
	rmrf(dir);
	free(dir);
}

int
main(void)
{
	RUN(test_fixture_plain_volumes);
	RUN(test_fixture_pax_name);
	RUN(test_fixture_gpg_volume);
	RUN(test_write_read_back);
	RUN(test_write_other_readers);
	RUN(test_special_members_match_tarfile);
	RUN(test_no_extra_records);
	RUN(test_bytes_and_trailer);
	RUN(test_writer_misuse);
	RUN(test_locale_independent);
	RUN(test_zero_block_then_junk);
	RUN(test_streaming);
	RUN(test_truncated);
	RUN(test_bad_headers);
	RUN(test_checksum_sums);
	RUN(test_sink_fails);
	RUN(test_source_errors);
	RUN(test_random_damage);
	RUN(test_other_dialects);
	TEST_DONE();
}
