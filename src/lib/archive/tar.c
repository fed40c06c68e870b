/*
 * tar.c: tar streams for volumes and signature files (spec §6), on
 * libarchive.
 *
 * Writing.  duplicity 0.8.22 writes what Python's tarfile writes in pax
 * format.  libarchive's "pax restricted" writer gives the same set of
 * records for ordinary members, but not at the edges: it starts pax
 * headers at other limits (uid/gid >= 2^18 instead of 8^7, mtime >= 2^31
 * instead of 8^11, uname/gname longer than 31 instead of 32 bytes), splits
 * long ASCII names into the ustar prefix instead of writing a `path`
 * record, names the extended header "<dir>/PaxHeader/<base>", and decides
 * between UTF-8 and hdrcharset=BINARY from the process locale.  So
 * libarchive writes a member only when neither it nor duplicity needs a
 * pax header (tar_la_can_write); every other member is formatted here,
 * byte for byte as tarfile does (tar_own_header).  Both kinds go to the
 * sink through the same counter, so arca_tar_writer_bytes() is exact, and
 * libarchive's own end-of-archive blocks are dropped: the trailer is ours.
 * (libarchive's ordinary headers differ from tarfile's only in how the
 * numeric fields end, "000644 \0" against "0000644\0".)
 *
 * Reading.  libarchive parses the members, but the bytes reach it through
 * a scanner (tar_scan_headers, tar_la_read_cb) that walks the same headers
 * first, because libarchive alone gets three things wrong for us:
 *  - it turns a regular member whose name ends in '/' into a directory
 *    and drops its data, yet duplicity names the single file of a
 *    one-file backup "snapshot/" (typeflag 0, with data);
 *  - it accepts unknown typeflags as regular files, where duplicity
 *    refuses them;
 *  - at the end it reads on past the first zero block, looking for a
 *    second one, and a gpg volume has junk there; the scanner ends the
 *    stream at the first zero block, so nothing after it is ever read.
 * The scanner hands libarchive one member's headers at a time, keeps the
 * raw typeflag, and cross-checks libarchive's name, type and size, so the
 * two parsers cannot drift apart silently.
 *
 * Names are raw bytes.  libarchive converts pax names from UTF-8 to the
 * locale's charset; every libarchive call therefore runs in the C locale
 * of this thread (uselocale), where that conversion fails for non-ASCII
 * bytes and libarchive keeps the bytes unchanged.
 */
#include <archive.h>
#include <archive_entry.h>
#include <inttypes.h>
#include <limits.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/tar.h"
#include "format/entry.h"
#include "util/buf.h"
#include "util/ctx.h"
#include "util/stream.h"

#define TAR_BLOCK	512
#define TAR_RECORD	10240	/* tarfile pads archives to 20 blocks */
#define TAR_CHUNK	65536

/* Caps on what a header set may hold (libarchive's cap per header). */
#define TAR_EXT_MAX	(1 << 20)
#define TAR_EXT_CHAIN	16
#define TAR_HDRS_MAX \
	(TAR_EXT_CHAIN * (TAR_EXT_MAX + TAR_BLOCK) + TAR_BLOCK)

/* Largest values of the 8- and 12-byte octal fields, plus one. */
#define OCT7		(UINT64_C(1) << 21)
#define OCT11		(UINT64_C(1) << 33)
/* Where libarchive starts pax records for ids and mtime. */
#define LA_SMALL	(UINT64_C(1) << 18)
#define LA_MTIME_MAX	INT64_C(0x7fffffff)

static const unsigned char tar_zeros[TAR_BLOCK * 2];

/* ---------------------------------------------------------------- */
/* Byte helpers shared by both directions. */

static int
tar_is_ascii(const unsigned char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] & 0x80)
			return 0;
	return 1;
}

/*
 * Length of the well-formed UTF-8 sequence at s (as Python's strict
 * decoder sees it: no overlongs, no surrogates, nothing past U+10FFFF),
 * or 0 when s does not start one.
 */
static size_t
tar_utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (n == 0)
		return 0;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

static int
tar_utf8_valid(const unsigned char *s, size_t n)
{
	size_t k;

	while (n > 0) {
		if ((k = tar_utf8_len(s, n)) == 0)
			return 0;
		s += k;
		n -= k;
	}
	return 1;
}

/* ---------------------------------------------------------------- */
/* Writer. */

struct arca_tar_writer {
	struct arca_ctx *ctx;
	struct arca_sink *out;
	struct archive *a;
	struct archive_entry *e;
	locale_t cloc;
	uint64_t bytes;		/* bytes accepted by out */
	int err;		/* first failure; every later call repeats it */
	int discard;		/* drop libarchive's own end blocks */
	int closed;
	enum { W_IDLE, W_LA, W_OWN } member;
	uint64_t left;		/* data the current member still needs */
	uint64_t pad;		/* own members: zeros after the data */
	char what[64];		/* member name start, for messages */
	struct arca_buf dname;	/* a directory name with its '/' added */
};

/* Every byte of the archive passes here, from libarchive or from us. */
static int
tar_out(struct arca_tar_writer *w, const void *p, size_t n)
{
	int r;

	if (w->err)
		return w->err;
	if (n == 0)
		return 0;
	if ((r = arca_sink_write(w->out, p, n)) < 0)
		return w->err = r;
	w->bytes += n;
	return 0;
}

static int
tar_out_zeros(struct arca_tar_writer *w, uint64_t n)
{
	size_t k;
	int r;

	while (n > 0) {
		k = n < sizeof(tar_zeros) ? (size_t)n : sizeof(tar_zeros);
		if ((r = tar_out(w, tar_zeros, k)) < 0)
			return r;
		n -= k;
	}
	return 0;
}

static la_ssize_t
tar_la_write_cb(struct archive *a, void *ud, const void *p, size_t n)
{
	struct arca_tar_writer *w = ud;

	(void)a;
	/*
	 * A failed sink is not reported to libarchive: it would turn fatal
	 * and then never free its output buffer (libarchive 3.6 skips the
	 * close that frees it).  The error is kept in w->err, which every
	 * call into libarchive checks after it returns.
	 */
	if (!w->discard)
		(void)tar_out(w, p, n);
	return (la_ssize_t)n;
}

static int
tar_wfail(struct arca_tar_writer *w, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
tar_wfail(struct arca_tar_writer *w, int code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (w->err == 0) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		w->err = arca_error(w->ctx, code, "%s", msg);
	}
	return w->err;
}

/* After libarchive failed: keep the sink's error if that was the cause. */
static int
tar_la_wfail(struct arca_tar_writer *w)
{
	if (w->err)
		return w->err;
	return tar_wfail(w, ARCA_ERR_FATAL, "tar: libarchive: %s",
	    archive_error_string(w->a) ? archive_error_string(w->a) : "?");
}

int
arca_tar_writer_new(struct arca_ctx *ctx, struct arca_sink *out,
    struct arca_tar_writer **wp)
{
	struct arca_tar_writer *w;
	locale_t old;
	int r = ARCA_ERR_NOMEM;

	*wp = NULL;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return arca_error(ctx, ARCA_ERR_NOMEM, "tar: out of memory");
	w->ctx = ctx;
	w->out = out;
	if ((w->cloc = newlocale(LC_ALL_MASK, "C", (locale_t)0)) == 0 ||
	    (w->a = archive_write_new()) == NULL ||
	    (w->e = archive_entry_new()) == NULL) {
		arca_error(ctx, r, "tar: out of memory");
		goto err0;
	}
	old = uselocale(w->cloc);
	/*
	 * Block size 0 hands every write straight to the callback with no
	 * blocking or padding; the trailer is ours (arca_tar_writer_close).
	 */
	if (archive_write_set_format_pax_restricted(w->a) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(w->a, 0) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(w->a, 1) != ARCHIVE_OK ||
	    archive_write_open(w->a, w, NULL, tar_la_write_cb, NULL) !=
	    ARCHIVE_OK) {
		uselocale(old);
		r = arca_error(ctx, ARCA_ERR_FATAL, "tar: libarchive: %s",
		    archive_error_string(w->a) ? archive_error_string(w->a) :
		    "cannot open writer");
		goto err0;
	}
	uselocale(old);
	*wp = w;
	return 0;
err0:
	arca_tar_writer_free(w);
	return r;
}

/* The metadata a member is written with (deleted entries zeroed). */
struct tar_wmeta {
	char type;
	uint32_t mode;
	uint64_t uid, gid, size;
	int64_t mtime;
	const unsigned char *uname, *gname, *link;
	size_t uname_len, gname_len, link_len;
	int has_dev;
	uint32_t devmajor, devminor;
};

static int
tar_wmeta_fill(struct tar_wmeta *t, const struct arca_meta *m)
{
	memset(t, 0, sizeof(*t));
	t->uname = t->gname = t->link = (const unsigned char *)"";
	switch (m->type) {
	case ARCA_T_NONE:
		/* deleted/...: typeflag 0 and no metadata at all (§7.2). */
		t->type = '0';
		return 0;
	case ARCA_T_REG:
		t->type = '0';
		t->size = m->size;
		break;
	case ARCA_T_DIR:
		t->type = '5';
		break;
	case ARCA_T_SYMLINK:
		t->type = '2';
		if (m->linkname != NULL) {
			t->link = (const unsigned char *)m->linkname;
			t->link_len = strlen(m->linkname);
		}
		break;
	case ARCA_T_FIFO:
		t->type = '6';
		break;
	case ARCA_T_CHR:
	case ARCA_T_BLK:
		t->type = m->type == ARCA_T_CHR ? '3' : '4';
		t->has_dev = 1;
		t->devmajor = m->devmajor;
		t->devminor = m->devminor;
		break;
	default:
		return -1;
	}
	t->mode = m->mode & 07777;
	t->uid = m->uid;
	t->gid = m->gid;
	t->mtime = m->mtime;
	t->uname = (const unsigned char *)m->uname;
	t->uname_len = strnlen(m->uname, sizeof(m->uname));
	t->gname = (const unsigned char *)m->gname;
	t->gname_len = strnlen(m->gname, sizeof(m->gname));
	return 0;
}

/*
 * Would libarchive write this member with exactly the records duplicity
 * writes (none) and the name untouched?  See the comment at the top.
 */
static int
tar_la_can_write(const unsigned char *name, size_t len,
    const struct tar_wmeta *t)
{
	if (len == 0 || len > 100 || !tar_is_ascii(name, len))
		return 0;
	if (t->type == '2' && (t->link_len == 0 || t->link_len > 100 ||
	    !tar_is_ascii(t->link, t->link_len)))
		return 0;
	if (t->uid >= LA_SMALL || t->gid >= LA_SMALL ||
	    t->mtime < 0 || t->mtime >= LA_MTIME_MAX || t->size >= OCT11)
		return 0;
	if (t->uname_len > 31 || !tar_is_ascii(t->uname, t->uname_len) ||
	    t->gname_len > 31 || !tar_is_ascii(t->gname, t->gname_len))
		return 0;
	if (t->has_dev && (t->devmajor >= LA_SMALL || t->devminor >= LA_SMALL))
		return 0;
	return 1;
}

static int
tar_la_header(struct arca_tar_writer *w, const char *name,
    const struct tar_wmeta *t)
{
	struct archive_entry *e = w->e;
	locale_t old;
	unsigned int ft;
	int r;

	switch (t->type) {
	case '5': ft = AE_IFDIR; break;
	case '2': ft = AE_IFLNK; break;
	case '6': ft = AE_IFIFO; break;
	case '3': ft = AE_IFCHR; break;
	case '4': ft = AE_IFBLK; break;
	default: ft = AE_IFREG; break;
	}
	archive_entry_clear(e);
	archive_entry_copy_pathname(e, name);
	archive_entry_set_filetype(e, ft);
	archive_entry_set_perm(e, t->mode);
	archive_entry_set_uid(e, (la_int64_t)t->uid);
	archive_entry_set_gid(e, (la_int64_t)t->gid);
	archive_entry_copy_uname(e, (const char *)t->uname);
	archive_entry_copy_gname(e, (const char *)t->gname);
	archive_entry_set_mtime(e, (time_t)t->mtime, 0);
	archive_entry_set_size(e, (la_int64_t)t->size);
	if (ft == AE_IFLNK)
		archive_entry_copy_symlink(e, (const char *)t->link);
	if (t->has_dev) {
		archive_entry_set_rdevmajor(e, t->devmajor);
		archive_entry_set_rdevminor(e, t->devminor);
	}
	old = uselocale(w->cloc);
	r = archive_write_header(w->a, e);
	uselocale(old);
	/* A warning would mean libarchive changed something: refuse it. */
	if (r != ARCHIVE_OK || w->err)
		return tar_la_wfail(w);
	return 0;
}

/* Python's itn(): zero-padded octal and a NUL, value known to fit. */
static void
tar_put_octal(unsigned char *f, size_t width, uint64_t v)
{
	size_t i;

	f[width - 1] = '\0';
	for (i = width - 1; i-- > 0; v >>= 3)
		f[i] = (unsigned char)('0' + (v & 7));
}

/*
 * Python's stn() after encoding with "ascii"/"replace": each character
 * that is not ASCII becomes '?', where a character is a well-formed UTF-8
 * sequence or, failing that, a single byte; then truncate to width.
 */
static void
tar_put_ascii(unsigned char *f, size_t width, const unsigned char *s,
    size_t n)
{
	size_t o = 0, k;

	while (n > 0 && o < width) {
		if (s[0] < 0x80) {
			f[o++] = s[0];
			k = 1;
		} else {
			f[o++] = '?';
			if ((k = tar_utf8_len(s, n)) == 0)
				k = 1;
		}
		s += k;
		n -= k;
	}
}

struct tar_ustar {
	const unsigned char *name, *link, *uname, *gname;
	size_t name_len, link_len, uname_len, gname_len;
	uint32_t mode;
	uint64_t uid, gid, size, mtime;
	char type;
	int has_dev;
	uint32_t devmajor, devminor;
};

/* One header block as tarfile's _create_header() lays it out (§6.1). */
static void
tar_format_ustar(unsigned char h[TAR_BLOCK], const struct tar_ustar *u)
{
	unsigned int sum = 0;
	size_t i;

	memset(h, 0, TAR_BLOCK);
	tar_put_ascii(h, 100, u->name, u->name_len);
	tar_put_octal(h + 100, 8, u->mode & 07777);
	tar_put_octal(h + 108, 8, u->uid);
	tar_put_octal(h + 116, 8, u->gid);
	tar_put_octal(h + 124, 12, u->size);
	tar_put_octal(h + 136, 12, u->mtime);
	memset(h + 148, ' ', 8);
	h[156] = (unsigned char)u->type;
	tar_put_ascii(h + 157, 100, u->link, u->link_len);
	/* Magic and version: 8 bytes, not a string. */
	memcpy(h + 257, "ustar\0" "00", 8);	/* NOLINT(bugprone-not-null-terminated-result) */
	tar_put_ascii(h + 265, 32, u->uname, u->uname_len);
	tar_put_ascii(h + 297, 32, u->gname, u->gname_len);
	if (u->has_dev) {
		tar_put_octal(h + 329, 8, u->devmajor);
		tar_put_octal(h + 337, 8, u->devminor);
	}
	for (i = 0; i < TAR_BLOCK; i++)
		sum += h[i];
	/* "%06o\0" and the last of the eight spaces stays. */
	tar_put_octal(h + 148, 7, sum);
}

static int
tar_pax_add(struct arca_buf *b, const char *key, const void *val, size_t n)
{
	size_t l = strlen(key) + n + 3, p = 0, q;
	char num[24];

	/* The length counts its own digits: iterate to the fixed point. */
	for (;;) {
		q = l + (size_t)snprintf(num, sizeof(num), "%zu", p);
		if (q == p)
			break;
		p = q;
	}
	if (arca_buf_printf(b, "%zu %s=", p, key) < 0 ||
	    arca_buf_append(b, val, n) < 0 || arca_buf_putc(b, '\n') < 0)
		return ARCA_ERR_NOMEM;
	return 0;
}

static int
tar_pax_add_u(struct arca_buf *b, const char *key, uint64_t v)
{
	char num[24];
	int n = snprintf(num, sizeof(num), "%" PRIu64, v);

	return tar_pax_add(b, key, num, (size_t)n);
}

/*
 * The member's header(s) as tarfile's create_pax_header() writes them:
 * string fields that are not ASCII or too long and numbers that do not
 * fit go into a pax header named "././@PaxHeader" (their ustar fields
 * then hold '?'-replaced text or 0), with hdrcharset=BINARY first when a
 * value is not UTF-8.
 */
static int
tar_own_header(struct arca_tar_writer *w, const unsigned char *name,
    size_t name_len, const struct tar_wmeta *t)
{
	struct arca_buf rec = { 0 }, out = { 0 };
	struct tar_ustar u, x;
	unsigned char *h;
	int binary = 0, r = ARCA_ERR_NOMEM;
	struct {
		const char *key;
		const unsigned char *s;
		size_t n, limit;
	} str[4] = {
		{ "path", name, name_len, 100 },
		{ "linkpath", t->link, t->link_len, 100 },
		{ "uname", t->uname, t->uname_len, 32 },
		{ "gname", t->gname, t->gname_len, 32 },
	};
	int in_pax[4] = { 0 };
	char num[24];
	size_t i;
	int n;

	if (t->has_dev && (t->devmajor >= OCT7 || t->devminor >= OCT7))
		return arca_error(w->ctx, ARCA_ERR_FAILED,
		    "tar: device number of %s too large", w->what);
	memset(&u, 0, sizeof(u));
	for (i = 0; i < 4; i++) {
		if (!tar_is_ascii(str[i].s, str[i].n) ||
		    str[i].n > str[i].limit)
			in_pax[i] = 1;
		if (in_pax[i] && !tar_utf8_valid(str[i].s, str[i].n))
			binary = 1;
	}
	if (binary && arca_buf_puts(&rec, "21 hdrcharset=BINARY\n") < 0)
		goto out;
	for (i = 0; i < 4; i++)
		if (in_pax[i] && tar_pax_add(&rec, str[i].key, str[i].s,
		    str[i].n) < 0)
			goto out;
	u.uid = t->uid;
	u.gid = t->gid;
	u.size = t->size;
	u.mtime = (uint64_t)t->mtime;
	if (t->uid >= OCT7) {
		u.uid = 0;
		if (tar_pax_add_u(&rec, "uid", t->uid) < 0)
			goto out;
	}
	if (t->gid >= OCT7) {
		u.gid = 0;
		if (tar_pax_add_u(&rec, "gid", t->gid) < 0)
			goto out;
	}
	if (t->size >= OCT11) {
		u.size = 0;
		if (tar_pax_add_u(&rec, "size", t->size) < 0)
			goto out;
	}
	if (t->mtime < 0 || (uint64_t)t->mtime >= OCT11) {
		u.mtime = 0;
		n = snprintf(num, sizeof(num), "%" PRId64, t->mtime);
		if (tar_pax_add(&rec, "mtime", num, (size_t)n) < 0)
			goto out;
	}
	if (rec.len > 0) {
		memset(&x, 0, sizeof(x));
		x.name = (const unsigned char *)"././@PaxHeader";
		x.name_len = strlen("././@PaxHeader");
		x.link = x.uname = x.gname = (const unsigned char *)"";
		x.size = rec.len;
		x.type = 'x';
		if ((h = arca_buf_reserve(&out, TAR_BLOCK)) == NULL)
			goto out;
		tar_format_ustar(h, &x);
		out.len += TAR_BLOCK;
		if (arca_buf_append(&out, rec.data, rec.len) < 0 ||
		    arca_buf_append(&out, tar_zeros,
		    (TAR_BLOCK - rec.len % TAR_BLOCK) % TAR_BLOCK) < 0)
			goto out;
	}
	u.name = name;
	u.name_len = name_len;
	u.link = t->link;
	u.link_len = t->link_len;
	u.uname = t->uname;
	u.uname_len = t->uname_len;
	u.gname = t->gname;
	u.gname_len = t->gname_len;
	u.mode = t->mode;
	u.type = t->type;
	u.has_dev = t->has_dev;
	u.devmajor = t->devmajor;
	u.devminor = t->devminor;
	if ((h = arca_buf_reserve(&out, TAR_BLOCK)) == NULL)
		goto out;
	tar_format_ustar(h, &u);
	out.len += TAR_BLOCK;
	r = tar_out(w, out.data, out.len);
out:
	if (r == ARCA_ERR_NOMEM)
		r = tar_wfail(w, r, "tar: out of memory");
	arca_buf_free(&rec);
	arca_buf_free(&out);
	return r;
}

/* Check the current member got all its data, then pad it. */
static int
tar_end_member(struct arca_tar_writer *w)
{
	locale_t old;
	int r;

	if (w->member == W_IDLE)
		return 0;
	if (w->left != 0)
		return tar_wfail(w, ARCA_ERR_FATAL,
		    "tar: member %s got less data than its size", w->what);
	if (w->member == W_LA) {
		old = uselocale(w->cloc);
		r = archive_write_finish_entry(w->a);
		uselocale(old);
		if (r != ARCHIVE_OK)
			return tar_la_wfail(w);
	} else if ((r = tar_out_zeros(w, w->pad)) < 0)
		return r;
	w->member = W_IDLE;
	return 0;
}

int
arca_tar_write_header(struct arca_tar_writer *w, const char *name,
    const struct arca_meta *m)
{
	const unsigned char *n = (const unsigned char *)name;
	struct tar_wmeta t;
	size_t len;
	int r;

	if (w->err)
		return w->err;
	if (w->closed)
		return arca_error(w->ctx, ARCA_ERR_FATAL,
		    "tar: header after close");
	if ((r = tar_end_member(w)) < 0)
		return r;
	len = strlen(name);
	snprintf(w->what, sizeof(w->what), "%s", name);
	if (tar_wmeta_fill(&t, m) < 0)
		return arca_error(w->ctx, ARCA_ERR_FATAL,
		    "tar: member %s has an unknown type", w->what);
	if (t.type == '5' && (len == 0 || name[len - 1] != '/')) {
		/* tarfile (and libarchive) end directory names with '/'. */
		arca_buf_reset(&w->dname);
		if (arca_buf_append(&w->dname, name, len) < 0 ||
		    arca_buf_putc(&w->dname, '/') < 0)
			return tar_wfail(w, ARCA_ERR_NOMEM,
			    "tar: out of memory");
		name = (const char *)w->dname.data;
		n = w->dname.data;
		len++;
	}
	w->member = tar_la_can_write(n, len, &t) ? W_LA : W_OWN;
	if (w->member == W_LA)
		r = tar_la_header(w, name, &t);
	else
		r = tar_own_header(w, n, len, &t);
	if (r < 0) {
		w->member = W_IDLE;
		return r;
	}
	w->left = t.size;
	w->pad = (TAR_BLOCK - t.size % TAR_BLOCK) % TAR_BLOCK;
	return 0;
}

int
arca_tar_write_data(struct arca_tar_writer *w, const void *p, size_t n)
{
	locale_t old;
	la_ssize_t got;

	if (w->err)
		return w->err;
	if (n == 0)
		return 0;
	if (w->member == W_IDLE || n > w->left)
		return tar_wfail(w, ARCA_ERR_FATAL,
		    "tar: member %s got more data than its size", w->what);
	if (w->member == W_OWN) {
		if (tar_out(w, p, n) < 0)
			return w->err;
	} else {
		old = uselocale(w->cloc);
		got = archive_write_data(w->a, p, n);
		uselocale(old);
		if (got < 0 || (size_t)got != n || w->err)
			return tar_la_wfail(w);
	}
	w->left -= n;
	return 0;
}

uint64_t
arca_tar_writer_bytes(const struct arca_tar_writer *w)
{
	return w->bytes;
}

int
arca_tar_writer_close(struct arca_tar_writer *w, int trailer)
{
	locale_t old;
	uint64_t n;
	int r;

	if (w->err)
		return w->err;
	if (w->closed)
		return 0;
	if ((r = tar_end_member(w)) < 0)
		return r;
	/* libarchive's two end blocks are dropped; the trailer is ours. */
	w->discard = 1;
	old = uselocale(w->cloc);
	r = archive_write_close(w->a);
	uselocale(old);
	if (r != ARCHIVE_OK)
		return tar_la_wfail(w);
	w->closed = 1;
	if (!trailer)
		return 0;
	/* tarfile's close(): two zero blocks, then zeros to a record. */
	n = TAR_BLOCK * 2;
	n += (TAR_RECORD - (w->bytes + n) % TAR_RECORD) % TAR_RECORD;
	return tar_out_zeros(w, n);
}

void
arca_tar_writer_free(struct arca_tar_writer *w)
{
	locale_t old;

	if (w == NULL)
		return;
	/* The sink is borrowed and may be gone: libarchive must not write. */
	w->discard = 1;
	if (w->a != NULL) {
		old = uselocale(w->cloc != 0 ? w->cloc : LC_GLOBAL_LOCALE);
		archive_write_free(w->a);
		uselocale(old);
	}
	archive_entry_free(w->e);
	if (w->cloc != 0)
		freelocale(w->cloc);
	arca_buf_free(&w->dname);
	free(w);
}

/* ---------------------------------------------------------------- */
/* Reader: the scanner in front of libarchive. */

enum tar_scan_state { S_HEADERS, S_BODY, S_END };

/* Where the member's name came from, so a trailing '/' can be edited. */
enum tar_name_src { N_USTAR, N_PAX, N_LONG };

struct arca_tar_reader {
	struct arca_ctx *ctx;
	struct arca_source *src;
	struct archive *a;
	locale_t cloc;
	int err;		/* sticky: scanner, source or libarchive */
	int eof;
	int in_member;

	/* Scanner. */
	enum tar_scan_state state;
	uint64_t offset;	/* stream offset of the next byte read */
	uint64_t body_left;	/* data + padding still to pass through */
	struct arca_buf hdrs;	/* current header set, handed over whole */
	unsigned char chunk[TAR_CHUNK];
	unsigned long sets;	/* header sets scanned */
	unsigned long returned;	/* members returned by libarchive */
	struct arca_buf sname;	/* the last set's member name */
	char stype;		/* its typeflag, '\0' folded into '0'/'5' */
	uint64_t ssize;		/* its data size */
	int srewritten;		/* its final '/' hidden (see scan) */

	/* What arca_tar_next() hands out. */
	struct arca_buf name;
	struct arca_meta meta;
};

static int
tar_corrupt(struct arca_tar_reader *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
tar_corrupt(struct arca_tar_reader *r, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (r->err == 0)
		r->err = arca_error(r->ctx, ARCA_ERR_CORRUPT, "tar: %s", msg);
	return r->err;
}

/*
 * A numeric header field: octal (leading spaces, then digits, then only
 * spaces/NULs) or GNU base-256.  Negative or absurd values are refused.
 */
static int
tar_number(const unsigned char *f, size_t n, uint64_t *v)
{
	size_t i = 0;
	uint64_t x = 0;

	if (f[0] & 0x80) {
		if (f[0] & 0x40)
			return -1;	/* negative */
		x = f[0] & 0x3f;
		for (i = 1; i < n; i++) {
			if (x > (UINT64_MAX >> 8))
				return -1;
			x = (x << 8) | f[i];
		}
	} else {
		while (i < n && f[i] == ' ')
			i++;
		for (; i < n && f[i] >= '0' && f[i] <= '7'; i++) {
			if (x > (UINT64_MAX >> 3))
				return -1;
			x = (x << 3) | (uint64_t)(f[i] - '0');
		}
		for (; i < n; i++)
			if (f[i] != ' ' && f[i] != '\0')
				return -1;
	}
	if (x > INT64_MAX)
		return -1;
	*v = x;
	return 0;
}

/* The header checksum, unsigned or (old tars) signed, like every reader. */
static int
tar_checksum_ok(const unsigned char *h)
{
	uint64_t want;
	uint32_t us = 0, high = 0;	/* 32 bits: 512 * 255 fits, and vectorises */
	long ss;
	size_t i, k;

	for (k = 148; k < 156 && h[k] == ' '; k++)
		;
	want = 0;
	for (i = k; i < 156 && h[i] >= '0' && h[i] <= '7'; i++)
		want = want * 8 + (uint64_t)(h[i] - '0');
	if (i == k)
		return 0;
	for (; i < 156; i++)
		if (h[i] != ' ' && h[i] != '\0')
			return 0;
	/*
	 * Branch-free over the whole block (this runs for every member of
	 * every signature file), then the checksum field counted as spaces.
	 * The signed sum is the unsigned one less 256 per byte >= 0x80.
	 */
	for (i = 0; i < TAR_BLOCK; i++) {
		us += h[i];
		high += h[i] >> 7;
	}
	for (i = 148; i < 156; i++) {
		us -= h[i];
		high -= h[i] >> 7;
	}
	us += 8 * ' ';
	ss = (long)us - 256 * (long)high;
	return (long)want == (long)us || (long)want == ss;
}

static void
tar_set_checksum(unsigned char *h)
{
	unsigned int sum = 0;
	size_t i;

	memset(h + 148, ' ', 8);
	for (i = 0; i < TAR_BLOCK; i++)
		sum += h[i];
	tar_put_octal(h + 148, 7, sum);
}

/* Read exactly n bytes into hdrs; short is corruption. */
static int
tar_scan_take(struct arca_tar_reader *r, size_t n, const char *where)
{
	unsigned char *p;
	ssize_t got;

	if (r->hdrs.len + n > TAR_HDRS_MAX)
		return tar_corrupt(r, "extended headers too large at offset "
		    "%llu", (unsigned long long)r->offset);
	if ((p = arca_buf_reserve(&r->hdrs, n)) == NULL)
		return r->err = arca_error(r->ctx, ARCA_ERR_NOMEM,
		    "tar: out of memory");
	got = arca_source_read_full(r->src, p, n);
	if (got < 0)
		return r->err = (int)got;
	if ((size_t)got < n)
		return tar_corrupt(r, "archive truncated inside %s at offset "
		    "%llu", where, (unsigned long long)r->offset);
	r->hdrs.len += n;
	r->offset += n;
	return 0;
}

/*
 * Records of a pax header (data at d, n bytes): validate all, note the
 * last `path` (value offset into hdrs and length) and `size`.
 */
static int
tar_scan_pax(struct arca_tar_reader *r, size_t off, size_t n, int *has_path,
    size_t *path_off, size_t *path_len, int *has_size, uint64_t *size)
{
	const unsigned char *d = r->hdrs.data + off, *eq, *key;
	size_t pos = 0, len, i, klen;
	uint64_t v;

	while (pos < n) {
		len = 0;
		for (i = pos; i < n && d[i] >= '0' && d[i] <= '9'; i++) {
			if (len > TAR_EXT_MAX)
				break;
			len = len * 10 + (size_t)(d[i] - '0');
		}
		if (i == pos || i >= n || d[i] != ' ' || len <= i - pos + 1 ||
		    len > n - pos || d[pos + len - 1] != '\n')
			return tar_corrupt(r, "malformed pax record at offset "
			    "%llu", (unsigned long long)(r->offset - n));
		key = d + i + 1;
		eq = memchr(key, '=', (size_t)(d + pos + len - 1 - key));
		if (eq == NULL || eq == key)
			return tar_corrupt(r, "malformed pax record at offset "
			    "%llu", (unsigned long long)(r->offset - n));
		klen = (size_t)(eq - key);
		if (klen == 4 && memcmp(key, "path", 4) == 0) {
			*path_off = off + (size_t)(eq + 1 - d);
			*path_len = (size_t)(d + pos + len - 1 - (eq + 1));
			*has_path = *path_len > 0;
		} else if (klen == 4 && memcmp(key, "size", 4) == 0) {
			v = 0;
			for (i = (size_t)(eq + 1 - d); i < pos + len - 1; i++) {
				if (d[i] < '0' || d[i] > '9' ||
				    v > INT64_MAX / 10)
					return tar_corrupt(r, "bad pax size");
				v = v * 10 + (uint64_t)(d[i] - '0');
			}
			*size = v;
			*has_size = 1;
		} else if (klen > 11 && memcmp(key, "GNU.sparse.", 11) == 0)
			return tar_corrupt(r, "sparse members are not "
			    "supported");
		pos += len;
	}
	return 0;
}

/*
 * Scan one member's header set into hdrs: extended headers and the main
 * header.  Returns 1 when a member is ready, 0 at the end of the archive
 * (a zero block or end of data at a header boundary), or an error.
 */
static int
tar_scan_headers(struct arca_tar_reader *r)
{
	unsigned char *h;
	size_t hoff, ext_off, nl = 0, pl, path_off = 0, path_len = 0;
	size_t name_pos = 0;
	uint64_t size, pax_size = 0, start = r->offset;
	int chain = 0, have_name = 0, has_size = 0, x_path, x_has_size;
	size_t x_off, x_len;
	uint64_t x_size;
	enum tar_name_src nsrc = N_USTAR;
	ssize_t got;
	char tf;
	int e;

	arca_buf_reset(&r->hdrs);
	arca_buf_reset(&r->sname);
	for (;;) {
		hoff = r->hdrs.len;
		if ((h = arca_buf_reserve(&r->hdrs, TAR_BLOCK)) == NULL)
			return r->err = arca_error(r->ctx, ARCA_ERR_NOMEM,
			    "tar: out of memory");
		got = arca_source_read_full(r->src, h, TAR_BLOCK);
		if (got < 0)
			return r->err = (int)got;
		if (got == 0 && chain == 0)
			return 0;
		if (got < TAR_BLOCK)
			return tar_corrupt(r, "archive truncated inside a "
			    "header at offset %llu",
			    (unsigned long long)r->offset);
		if (h[0] == 0 && memcmp(h, tar_zeros, TAR_BLOCK) == 0) {
			/* End of archive: whatever follows is not ours. */
			if (chain == 0)
				return 0;
			return tar_corrupt(r, "end of archive right after an "
			    "extended header at offset %llu",
			    (unsigned long long)r->offset);
		}
		if (!tar_checksum_ok(h))
			return tar_corrupt(r, "bad header checksum at offset "
			    "%llu", (unsigned long long)r->offset);
		r->hdrs.len += TAR_BLOCK;
		r->offset += TAR_BLOCK;
		h = r->hdrs.data + hoff;
		tf = (char)h[156];
		if (tar_number(h + 124, 12, &size) < 0)
			return tar_corrupt(r, "bad size field at offset %llu",
			    (unsigned long long)(r->offset - TAR_BLOCK));
		if (tf != 'x' && tf != 'g' && tf != 'L' && tf != 'K') {
			/* Like Python's tarfile: a malformed number in mode,
			 * uid, gid or mtime makes the header invalid. */
			uint64_t dummy;
			static const size_t fields[][2] = { { 100, 8 },
			    { 108, 8 }, { 116, 8 }, { 136, 12 } };
			size_t k;

			for (k = 0; k < 4; k++)
				if (tar_number(h + fields[k][0], fields[k][1],
				    &dummy) < 0)
					return tar_corrupt(r, "bad numeric field "
					    "in the header at offset %llu",
					    (unsigned long long)(r->offset -
					    TAR_BLOCK));
			break;
		}
		if (++chain > TAR_EXT_CHAIN)
			return tar_corrupt(r, "too many extended headers at "
			    "offset %llu", (unsigned long long)start);
		if (size > TAR_EXT_MAX)
			return tar_corrupt(r, "extended header too large at "
			    "offset %llu", (unsigned long long)start);
		ext_off = r->hdrs.len;
		if ((e = tar_scan_take(r, (size_t)((size + TAR_BLOCK - 1) &
		    ~(uint64_t)(TAR_BLOCK - 1)), "an extended header")) < 0)
			return e;
		if (tf == 'x') {
			x_path = x_has_size = 0;
			x_off = x_len = 0;
			x_size = 0;
			if ((e = tar_scan_pax(r, ext_off, (size_t)size, &x_path,
			    &x_off, &x_len, &x_has_size, &x_size)) < 0)
				return e;
			/* The outermost extended header wins, as in tarfile. */
			if (x_path && !have_name) {
				have_name = 1;
				nsrc = N_PAX;
				path_off = x_off;
				path_len = x_len;
			}
			if (x_has_size && !has_size) {
				has_size = 1;
				pax_size = x_size;
			}
		} else if (tf == 'L' && !have_name) {
			have_name = 1;
			nsrc = N_LONG;
			path_off = ext_off;
			path_len = strnlen((const char *)r->hdrs.data + ext_off,
			    (size_t)size);
		}
	}

	/* The main header, at hoff. */
	if (tf == '1')
		return tar_corrupt(r, "hard links are not supported (offset "
		    "%llu)", (unsigned long long)(r->offset - TAR_BLOCK));
	/* What duplicity accepts; it refuses '7', 'S', 'V' and the like. */
	switch (tf) {
	case '0': case '\0': case '2': case '3': case '4': case '5': case '6':
		break;
	default:
		return tar_corrupt(r, "unsupported member type '%c' at offset "
		    "%llu", tf > 32 && tf < 127 ? tf : '?',
		    (unsigned long long)(r->offset - TAR_BLOCK));
	}
	if (have_name) {
		if (arca_buf_append(&r->sname, r->hdrs.data + path_off,
		    path_len) < 0)
			return r->err = arca_error(r->ctx, ARCA_ERR_NOMEM,
			    "tar: out of memory");
	} else {
		/* libarchive's reading of the name and prefix fields. */
		nl = strnlen((const char *)h, 100);
		name_pos = hoff + nl;
		if (memcmp(h + 257, "ustar  \0", 8) != 0 &&
		    memcmp(h + 257, "ustar", 5) == 0 && h[345] != 0) {
			pl = strnlen((const char *)h + 345, 155);
			if (arca_buf_append(&r->sname, h + 345, pl) < 0 ||
			    (h[345 + pl - 1] != '/' &&
			    arca_buf_putc(&r->sname, '/') < 0))
				return r->err = arca_error(r->ctx,
				    ARCA_ERR_NOMEM, "tar: out of memory");
		}
		if (arca_buf_append(&r->sname, h, nl) < 0)
			return r->err = arca_error(r->ctx, ARCA_ERR_NOMEM,
			    "tar: out of memory");
	}
	if (memchr(r->sname.data, '\0', r->sname.len) != NULL)
		return tar_corrupt(r, "member name contains a NUL byte at "
		    "offset %llu", (unsigned long long)start);

	r->srewritten = 0;
	if (tf == '\0')
		/* Old tars mark a directory by a trailing '/' (tarfile too). */
		tf = r->sname.len > 0 &&
		    r->sname.data[r->sname.len - 1] == '/' ? '5' : '0';
	if (tf == '5' && h[156] == '\0') {
		h[156] = '5';
		tar_set_checksum(h);
	}
	r->stype = tf;
	r->ssize = 0;
	if (tf == '0')
		r->ssize = has_size ? pax_size : size;
	else if (has_size && pax_size != 0)
		return tar_corrupt(r, "pax size on a member without data at "
		    "offset %llu", (unsigned long long)start);
	if (tf == '0' && r->sname.len > 0 &&
	    r->sname.data[r->sname.len - 1] == '/') {
		/*
		 * A regular file called "snapshot/" (one-file backups):
		 * libarchive would make it a directory and lose its data,
		 * so it sees an 'x' in place of the '/'.
		 */
		if (nsrc == N_USTAR) {
			if (nl == 0)
				return tar_corrupt(r, "unsupported member "
				    "name at offset %llu",
				    (unsigned long long)start);
			r->hdrs.data[name_pos - 1] = 'x';
			tar_set_checksum(h);
		} else
			r->hdrs.data[path_off + path_len - 1] = 'x';
		r->srewritten = 1;
	}
	r->body_left = (r->ssize + TAR_BLOCK - 1) & ~(uint64_t)(TAR_BLOCK - 1);
	if (r->body_left < r->ssize)
		return tar_corrupt(r, "member size overflows");
	r->sets++;
	return 1;
}

static la_ssize_t
tar_la_read_cb(struct archive *a, void *ud, const void **buf)
{
	struct arca_tar_reader *r = ud;
	ssize_t got;
	size_t n;
	int e;

	(void)a;
	if (r->err)
		return -1;
	for (;;) {
		switch (r->state) {
		case S_END:
			return 0;
		case S_BODY:
			if (r->body_left == 0) {
				r->state = S_HEADERS;
				continue;
			}
			n = r->body_left < sizeof(r->chunk) ?
			    (size_t)r->body_left : sizeof(r->chunk);
			got = arca_source_read(r->src, r->chunk, n);
			if (got < 0) {
				r->err = (int)got;
				return -1;
			}
			if (got == 0) {
				tar_corrupt(r, "archive truncated inside the "
				    "data of %.*s", (int)(r->sname.len > 200 ?
				    200 : r->sname.len),
				    (const char *)r->sname.data);
				return -1;
			}
			r->body_left -= (uint64_t)got;
			r->offset += (uint64_t)got;
			*buf = r->chunk;
			return got;
		case S_HEADERS:
			e = tar_scan_headers(r);
			if (e < 0)
				return -1;
			if (e == 0) {
				r->state = S_END;
				return 0;
			}
			r->state = S_BODY;
			*buf = r->hdrs.data;
			return (la_ssize_t)r->hdrs.len;
		}
	}
}

/* libarchive failed: report the scanner's or source's error if any. */
static int
tar_la_rfail(struct arca_tar_reader *r)
{
	const char *msg;

	if (r->err)
		return r->err;
	msg = archive_error_string(r->a);
	return tar_corrupt(r, "%s", msg != NULL ? msg : "libarchive failed");
}

int
arca_tar_reader_new(struct arca_ctx *ctx, struct arca_source *src,
    struct arca_tar_reader **rp)
{
	struct arca_tar_reader *r;
	locale_t old;
	int e;

	*rp = NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return arca_error(ctx, ARCA_ERR_NOMEM, "tar: out of memory");
	r->ctx = ctx;
	r->src = src;
	r->state = S_HEADERS;
	r->hdrs.max = TAR_HDRS_MAX;
	if ((r->cloc = newlocale(LC_ALL_MASK, "C", (locale_t)0)) == 0 ||
	    (r->a = archive_read_new()) == NULL) {
		arca_tar_reader_free(r);
		return arca_error(ctx, ARCA_ERR_NOMEM, "tar: out of memory");
	}
	old = uselocale(r->cloc);
	/* "empty" lets a volume without members (0 bytes of tar) read. */
	if (archive_read_support_format_tar(r->a) != ARCHIVE_OK ||
	    archive_read_support_format_empty(r->a) != ARCHIVE_OK ||
	    archive_read_open(r->a, r, NULL, tar_la_read_cb, NULL) !=
	    ARCHIVE_OK) {
		e = tar_la_rfail(r);
		uselocale(old);
		arca_tar_reader_free(r);
		return e;
	}
	uselocale(old);
	*rp = r;
	return 0;
}

static void
tar_meta_reset(struct arca_meta *m)
{
	free(m->linkname);
	memset(m, 0, sizeof(*m));
}

static void
tar_copy_owner(char *dst, size_t cap, const char *s)
{
	/* A name too long for the field is as good as unknown. */
	if (s == NULL || strlen(s) >= cap)
		dst[0] = '\0';
	else
		memcpy(dst, s, strlen(s) + 1);
}

/* Check libarchive's view of the member against the scanner's. */
static int
tar_crosscheck(struct arca_tar_reader *r, struct archive_entry *e)
{
	const char *lname = archive_entry_pathname(e);
	size_t n = r->sname.len;
	unsigned int want;

	if (r->sets != r->returned)
		return tar_corrupt(r, "internal: header scanner out of step");
	if (lname == NULL || strlen(lname) != n ||
	    (n > 0 && memcmp(lname, r->sname.data, n - (size_t)r->srewritten)
	    != 0) || (r->srewritten && lname[n - 1] != 'x'))
		return tar_corrupt(r, "inconsistent member name near offset "
		    "%llu", (unsigned long long)r->offset);
	switch (r->stype) {
	case '5': want = AE_IFDIR; break;
	case '2': want = AE_IFLNK; break;
	case '3': want = AE_IFCHR; break;
	case '4': want = AE_IFBLK; break;
	case '6': want = AE_IFIFO; break;
	default: want = AE_IFREG; break;
	}
	if (archive_entry_filetype(e) != want ||
	    (want == AE_IFREG && (archive_entry_size(e) < 0 ||
	    (uint64_t)archive_entry_size(e) != r->ssize)))
		return tar_corrupt(r, "inconsistent header for %.*s",
		    (int)(n > 200 ? 200 : n), (const char *)r->sname.data);
	/*
	 * libarchive reads the GNU sparse fields of any GNU header, even of
	 * a plain file, and then returns less data than the size says;
	 * tarfile (and so duplicity) ignores them.  Found by fuzz/fuzz_tar.
	 */
	if (archive_entry_sparse_count(e) != 0)
		return tar_corrupt(r, "sparse member %.*s",
		    (int)(n > 200 ? 200 : n), (const char *)r->sname.data);
	return 0;
}

int
arca_tar_next(struct arca_tar_reader *r, const char **name,
    const struct arca_meta **mp)
{
	struct arca_meta *m = &r->meta;
	struct archive_entry *e;
	const char *s;
	locale_t old;
	int rc;

	*name = NULL;
	*mp = NULL;
	if (r->err)
		return r->err;
	if (r->eof)
		return 0;
	tar_meta_reset(m);
	r->in_member = 0;
	old = uselocale(r->cloc);
	rc = archive_read_next_header(r->a, &e);
	uselocale(old);
	if (rc == ARCHIVE_EOF) {
		if (r->err)
			return r->err;
		r->eof = 1;
		return 0;
	}
	/* Warnings are libarchive keeping non-ASCII pax names unconverted. */
	if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN)
		return tar_la_rfail(r);
	r->returned++;
	if ((rc = tar_crosscheck(r, e)) < 0)
		return rc;

	switch (r->stype) {
	case '5': m->type = ARCA_T_DIR; break;
	case '2': m->type = ARCA_T_SYMLINK; break;
	case '3': m->type = ARCA_T_CHR; break;
	case '4': m->type = ARCA_T_BLK; break;
	case '6': m->type = ARCA_T_FIFO; break;
	default: m->type = ARCA_T_REG; break;
	}
	if (archive_entry_uid(e) < 0 || archive_entry_gid(e) < 0)
		return tar_corrupt(r, "negative owner id");
	m->mode = (uint32_t)archive_entry_perm(e) & 07777;
	m->uid = (uint64_t)archive_entry_uid(e);
	m->gid = (uint64_t)archive_entry_gid(e);
	tar_copy_owner(m->uname, sizeof(m->uname), archive_entry_uname(e));
	tar_copy_owner(m->gname, sizeof(m->gname), archive_entry_gname(e));
	m->mtime = (int64_t)archive_entry_mtime(e);
	m->size = r->ssize;
	if (m->type == ARCA_T_SYMLINK) {
		s = archive_entry_symlink(e);
		if ((m->linkname = arca_strdup(s != NULL ? s : "")) == NULL)
			return r->err = arca_error(r->ctx, ARCA_ERR_NOMEM,
			    "tar: out of memory");
	}
	if (m->type == ARCA_T_CHR || m->type == ARCA_T_BLK) {
		m->devmajor = (uint32_t)archive_entry_rdevmajor(e);
		m->devminor = (uint32_t)archive_entry_rdevminor(e);
	}
	arca_buf_reset(&r->name);
	if (arca_buf_append(&r->name, r->sname.data, r->sname.len) < 0)
		return r->err = arca_error(r->ctx, ARCA_ERR_NOMEM,
		    "tar: out of memory");
	r->in_member = 1;
	*name = (const char *)r->name.data;
	*mp = m;
	return 1;
}

ssize_t
arca_tar_read_data(struct arca_tar_reader *r, void *p, size_t n)
{
	locale_t old;
	la_ssize_t got;

	if (r->err)
		return r->err;
	if (!r->in_member || n == 0)
		return 0;
	if (n > (size_t)SSIZE_MAX)
		n = (size_t)SSIZE_MAX;
	old = uselocale(r->cloc);
	got = archive_read_data(r->a, p, n);
	uselocale(old);
	if (got < 0)
		return tar_la_rfail(r);
	if (got == 0)
		r->in_member = 0;
	return got;
}

void
arca_tar_reader_free(struct arca_tar_reader *r)
{
	locale_t old;

	if (r == NULL)
		return;
	if (r->a != NULL) {
		old = uselocale(r->cloc != 0 ? r->cloc : LC_GLOBAL_LOCALE);
		archive_read_free(r->a);
		uselocale(old);
	}
	if (r->cloc != 0)
		freelocale(r->cloc);
	tar_meta_reset(&r->meta);
	arca_buf_free(&r->hdrs);
	arca_buf_free(&r->sname);
	arca_buf_free(&r->name);
	free(r);
}
