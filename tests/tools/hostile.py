#!/usr/bin/python3
"""hostile.py: write duplicity-format targets whose volumes attack a restore.

Usage:
  hostile.py list
      print the variant names, one a line, as "NAME KIND" where KIND is
      "refuse" (a correct restore must fail or refuse a member),
      "contain" (the restore may succeed, but must not touch anything
      outside its directory), "ok" (a benign control that must restore),
      "backup" (the signature file is hostile: an incremental backup onto
      the target must not crash) or "backup-ok" (its benign control).
  hostile.py write VARIANT TARGET_DIR --outside DIR [--restore-dir DIR]
      create TARGET_DIR (must be missing or empty) holding a --no-encryption
      gzip target of duplicity 0.8.22 (spec §2, §5, §6, §7): for each set a
      plain manifest with the right SHA1 of every volume, the gzip volumes
      and a signature file.  DIR is the canary directory outside the
      restore; symlinks and absolute names point into it.  Prints
      "probe PATH" lines: paths that exist afterwards only if the attack
      worked (besides anything inside DIR, which the caller lists).

The tar members are built byte by byte here (not with tarfile) so that
names, sizes and link targets are exactly as hostile as intended.
Standard library only; run with /usr/bin/python3.
"""

import gzip
import hashlib
import os
import sys

T_FULL = "20240101T000000Z"
T_INC = "20240102T000000Z"
MTIME = 1704063600
BLOCK = 512
CHUNK = 65536

# ----- tar (spec §6) --------------------------------------------------------


def _octal(value, width):
	"""ustar numeric field: %0(width-1)o + NUL."""
	s = b"%0*o" % (width - 1, value)
	if len(s) > width - 1:
		raise ValueError("value %d does not fit %d bytes" % (value, width))
	return s + b"\0"


def _field(data, width):
	if len(data) > width:
		data = data[:width]
	return data + b"\0" * (width - len(data))


def header(name, typeflag=b"0", size=0, mode=0o644, linkname=b"", uid=0,
	   gid=0, mtime=MTIME, uname=b"root", gname=b"root", raw_mode=None,
	   bad_checksum=False):
	"""One 512-byte ustar header, checksum filled in, as duplicity's."""
	h = bytearray(BLOCK)
	h[0:100] = _field(name, 100)
	h[100:108] = raw_mode if raw_mode is not None else _octal(mode, 8)
	h[108:116] = _octal(uid, 8)
	h[116:124] = _octal(gid, 8)
	h[124:136] = _octal(size, 12)
	h[136:148] = _octal(mtime, 12)
	h[148:156] = b" " * 8
	h[156:157] = typeflag
	h[157:257] = _field(linkname, 100)
	h[257:265] = b"ustar\x0000"
	h[265:297] = _field(uname, 32)
	h[297:329] = _field(gname, 32)
	csum = sum(h)
	if bad_checksum:
		csum += 1
	h[148:156] = b"%06o\0 " % csum
	return bytes(h)


def pad(data):
	return data + b"\0" * (-len(data) % BLOCK)


def pax_record(key, value):
	"""'<len> key=value\\n', len counting the whole record."""
	body = b" " + key + b"=" + value + b"\n"
	n = len(body) + 1
	while len(b"%d" % n) + len(body) != n:
		n += 1
	return b"%d" % n + body


def member(name, typeflag=b"0", data=b"", mode=None, linkname=b"",
	   declared=None, short=False, **kw):
	"""Header(s) + data + padding.  Names or link targets longer than 100
	bytes or not ASCII get a pax 'x' header, as Python's tarfile writes.
	declared: size claimed in the header; short: stop after data, no
	padding (a member cut off by the end of the volume)."""
	if mode is None:
		mode = {b"5": 0o755, b"2": 0o777}.get(typeflag, 0o644)
	recs = b""
	if len(name) > 100 or not name.isascii():
		recs += pax_record(b"path", name)
	if len(linkname) > 100 or not linkname.isascii():
		recs += pax_record(b"linkpath", linkname)
	out = b""
	if recs:
		out += header(b"././@PaxHeader", b"x", len(recs), mode=0,
			      uname=b"", gname=b"", mtime=0) + pad(recs)
		name = name[:100]
		linkname = linkname[:100]
	size = len(data) if declared is None else declared
	out += header(name, typeflag, size, mode=mode, linkname=linkname, **kw)
	return out + (data if short else pad(data))


def reg(path, data, **kw):
	return member(b"snapshot/" + path, b"0", data, **kw)


def dirm(path, **kw):
	return member(b"snapshot/" + path + b"/", b"5", **kw)


def sym(path, target, **kw):
	return member(b"snapshot/" + path, b"2", linkname=target, **kw)


def deleted(path):
	return member(b"deleted/" + path, b"0", mode=0, mtime=0, uname=b"",
		      gname=b"")


def multivol(path, data):
	"""A file >= 64 KiB as multivol_snapshot/<path>/<k> chunks (§7.4)."""
	out, k = b"", 1
	while True:
		piece = data[(k - 1) * CHUNK:k * CHUNK]
		out += member(b"multivol_snapshot/" + path + b"/%d" % k, b"0",
			      piece)
		if len(piece) < CHUNK:
			return out
		k += 1


def tar_end(data):
	"""Trailer of a signature file: two zero blocks, padded to 10240."""
	data += b"\0" * 1024
	return data + b"\0" * (-len(data) % 10240)


# ----- manifest (spec §5) ---------------------------------------------------

_QUOTE = set(b" \t\n\r\x0b\x0c\\\"'")


def mquote(path):
	if not any(c in _QUOTE for c in path):
		return path
	out = b"".join(b"\\x%02x" % c if c in _QUOTE else bytes([c])
		       for c in path)
	return b'"' + out + b'"'


def field(value):
	"""An index already quoted, optionally followed by ' <block>'; with
	no block number the line ends in two spaces, as duplicity writes."""
	return value if b" " in value else value + b"  "


def manifest(vols, files=(), volnums=None):
	"""vols: list of (start, end, sha1hex), start/end quoted (see
	field()); files: (type, path)."""
	out = b"Hostname hostile-host\nLocaldir src\n"
	for i, (start, end, sha) in enumerate(vols):
		num = volnums[i] if volnums else i + 1
		out += b"Volume %d:\n" % num
		out += b"    StartingPath   " + field(start) + b"\n"
		out += b"    EndingPath     " + field(end) + b"\n"
		out += b"    Hash SHA1 " + sha.encode() + b"\n"
	out += b"Filelist %d\n" % len(files)
	for kind, path in files:
		out += b"    " + kind.ljust(7) + b"  " + mquote(path) + b"\n"
	return out


# ----- sets -----------------------------------------------------------------


def gz(data):
	return gzip.compress(data, 6, mtime=0)


class Set:
	"""One backup set: volumes are lists of tar bytes (already joined)."""

	def __init__(self, volumes, end=b"zzz-after.txt", sig=None,
		     raw_volumes=None, volnums=None, ranges=None):
		self.volumes = volumes
		self.end = end
		self.ranges = ranges	# [(start, end)] per volume, quoted
		self.sig = sig if sig is not None else member(b"snapshot/", b"5")
		self.raw_volumes = raw_volumes	# already the stored bytes
		self.raw_sig = None		# the stored signature file
		self.volnums = volnums


def write_set(target, s, start, end=None):
	if end is None:
		base = "duplicity-full.%s" % start
		signame = "duplicity-full-signatures.%s.sigtar.gz" % start
	else:
		base = "duplicity-inc.%s.to.%s" % (start, end)
		signame = "duplicity-new-signatures.%s.to.%s.sigtar.gz" % (
			start, end)
	stored = s.raw_volumes or [gz(v) for v in s.volumes]
	vols = []
	for i, blob in enumerate(stored):
		name = "%s.vol%d.difftar.gz" % (base, i + 1)
		with open(os.path.join(target, name), "wb") as f:
			f.write(blob)
		if s.ranges:
			start_end = s.ranges[i]
		else:
			start_end = (b".", mquote(s.end))
		vols.append(start_end + (hashlib.sha1(blob).hexdigest(),))
	with open(os.path.join(target, base + ".manifest"), "wb") as f:
		f.write(manifest(vols, volnums=s.volnums))
	# The signature file: the root directory entry (and whatever the
	# variant adds); restore does not need more, collection-status only
	# needs it to exist.
	with open(os.path.join(target, signame), "wb") as f:
		f.write(s.raw_sig if s.raw_sig is not None else
			gz(tar_end(s.sig)))


# ----- variants -------------------------------------------------------------

README = b"benign file before the hostile member\n"
AFTER = b"benign file after the hostile member\n"


def head():
	return dirm(b".", mode=0o755) + reg(b"README.txt", README)


def tail():
	return reg(b"zzz-after.txt", AFTER)


def v_benign(o):
	big = bytes((i * 7 + 3) & 0xff for i in range(CHUNK + 1000))
	vol = (head() + multivol(b"big.bin", big) + dirm(b"dir") +
	       reg(b"dir/f.txt", b"in a dir\n") + sym(b"lnk", b"README.txt") +
	       tail())
	return [Set([vol])], []


def v_benign_inc(o):
	full = (head() + dirm(b"dir") + reg(b"dir/f.txt", b"in a dir\n") +
		tail())
	inc = (deleted(b"dir/f.txt") + reg(b"new.txt", b"added later\n"))
	return [Set([full]), Set([inc], end=b"new.txt")], []


def v_benign_2vol(o):
	big = bytes((i * 13 + 1) & 0xff for i in range(3 * CHUNK + 5))
	v1 = head() + multivol(b"big.bin", big)[:2 * (BLOCK + CHUNK)]
	v2 = multivol(b"big.bin", big)[2 * (BLOCK + CHUNK):] + tail()
	return [Set([v1, v2], ranges=[(b".", b"big.bin 2"),
				      (b"big.bin 3", b"zzz-after.txt")])], []


def v_dotdot(o):
	return [Set([head() + reg(b"../escape.txt", b"pwned\n") + tail()])], \
		[o.beside("../escape.txt")]


def v_dotdot_deep(o):
	return [Set([head() + dirm(b"a") +
		     reg(b"a/../../escape2.txt", b"pwned\n") + tail()])], \
		[o.beside("a/../../escape2.txt")]


def v_dotdot_far(o):
	# far enough up to leave the caller's work dir: lands in /
	up = b"../" * 40
	return [Set([head() + reg(up + b"tmp/arca-hostile-far.txt", b"pwned\n") +
		     tail()])], ["/tmp/arca-hostile-far.txt"]


def v_absolute(o):
	# "snapshot//<outside>/abs.txt": an absolute path after the prefix
	return [Set([head() + reg(o.outside.encode() + b"/abs.txt",
				  b"pwned\n") + tail()])], \
		[os.path.join(o.outside, "abs.txt")]


def v_absolute_etc(o):
	return [Set([head() + reg(b"/etc/arca-hostile-evil", b"pwned\n") +
		     tail()])], ["/etc/arca-hostile-evil"]


def v_multivol_dotdot(o):
	return [Set([head() + multivol(b"../mv-escape.bin", b"x" * 70000) +
		     tail()])], \
		[o.beside("../mv-escape.bin")]


def v_symlink_escape(o):
	return [Set([head() + sym(b"link", o.outside.encode()) +
		     reg(b"link/pwned.txt", b"pwned\n") + tail()])], \
		[os.path.join(o.outside, "pwned.txt")]


def v_symlink_parent(o):
	# a symlink inside a real directory, then a directory and a file
	# created through it
	return [Set([head() + dirm(b"d") + sym(b"d/s", o.outside.encode()) +
		     dirm(b"d/s/sub") + reg(b"d/s/sub/pwned.txt", b"pwned\n") +
		     tail()])], \
		[os.path.join(o.outside, "sub")]


def v_symlink_relative(o):
	up = b"../" * 40	# more than enough to reach / from the restore
	return [Set([head() + sym(b"rel", up + o.outside.lstrip("/").encode()) +
		     reg(b"rel/pwned-rel.txt", b"pwned\n") + tail()])], \
		[os.path.join(o.outside, "pwned-rel.txt")]


def v_symlink_multivol(o):
	return [Set([head() + sym(b"m", o.outside.encode()) +
		     multivol(b"m/big.bin", b"y" * 70000) + tail()])], \
		[os.path.join(o.outside, "big.bin")]


def v_symlink_then_file(o):
	# the same path twice: a symlink to a canary file, then a regular
	# file; writing the second through the first overwrites the canary
	victim = os.path.join(o.outside, "victim.txt").encode()
	return [Set([head() + sym(b"x", victim) + reg(b"x", b"pwned\n") +
		     tail()])], []


def v_symlink_dir_swap(o):
	# full: dir d with a file; incremental: d becomes a symlink outside
	# but d/f.txt is not deleted, so the merge still writes d/f.txt
	full = head() + dirm(b"d") + reg(b"d/f.txt", b"in d\n") + tail()
	inc = sym(b"d", o.outside.encode()) + reg(b"d/g.txt", b"pwned\n")
	return [Set([full]), Set([inc], end=b"d/g.txt")], \
		[os.path.join(o.outside, "f.txt"),
		 os.path.join(o.outside, "g.txt")]


def v_dir_then_symlink(o):
	# a directory (its mode and mtime are applied at the end), then the
	# same path as a symlink to the outside dir: the late chmod/utime must
	# not follow it
	return [Set([head() + dirm(b"d", mode=0o777, mtime=86400) +
		     sym(b"d", o.outside.encode()) + tail()])], []


def v_root_symlink(o):
	# the root itself is a symlink to the outside dir, then a file
	vol = (member(b"snapshot/./", b"2", linkname=o.outside.encode()) +
	       reg(b"README.txt", README) + tail())
	return [Set([vol])], [os.path.join(o.outside, "README.txt")]


def v_hardlink(o):
	victim = os.path.join(o.outside, "victim.txt").encode()
	return [Set([head() + member(b"snapshot/hl", b"1", linkname=victim) +
		     tail()])], []


def v_hardlink_inner(o):
	return [Set([head() + member(b"snapshot/hl", b"1",
				     linkname=b"snapshot/README.txt") +
		     tail()])], []


def v_deleted_dotdot(o):
	return [Set([head() + deleted(b"../x") + tail()])], []


def v_huge_size(o):
	# declares the largest ustar size (8 GiB - 1), holds 1000 bytes
	return [Set([head() + member(b"snapshot/zzz-huge.bin", b"0",
				     b"h" * 1000, declared=8 ** 11 - 1,
				     short=True)], end=b"zzz-huge.bin")], []


def v_huge_size_pax(o):
	recs = pax_record(b"size", b"1000000000000000")
	vol = (head() + header(b"././@PaxHeader", b"x", len(recs), mode=0,
			       uname=b"", gname=b"", mtime=0) + pad(recs) +
	       header(b"snapshot/zzz-huge.bin", b"0", 0) + b"p" * 3000)
	return [Set([vol], end=b"zzz-huge.bin")], []


def v_long_name(o):
	# a member name of 100 000 bytes (one path component), in a pax path
	name = b"snapshot/" + b"A" * (100000 - len(b"snapshot/"))
	return [Set([head() + member(name, b"0", b"long\n")],
		    end=b"README.txt")], []


def v_long_link(o):
	return [Set([head() + sym(b"longlink", b"/" + b"L" * 99999) + tail()])], []


def v_pax_bomb(o):
	# a pax header declaring 8 GiB of records, followed by 4 KiB
	vol = (head() + header(b"././@PaxHeader", b"x", 8 ** 11 - 1, mode=0,
			       uname=b"", gname=b"", mtime=0) +
	       pax_record(b"path", b"snapshot/zzz") + b"\n" * 4000)
	return [Set([vol], end=b"README.txt")], []


def v_gnu_longname_bomb(o):
	vol = (head() + header(b"././@LongLink", b"L", 8 ** 11 - 1,
			       mode=0o644) + b"B" * 4096)
	return [Set([vol], end=b"README.txt")], []


def v_pax_bad_record(o):
	# record length larger than the header's data
	recs = b"999999 path=snapshot/zzz\n"
	vol = (head() + header(b"././@PaxHeader", b"x", len(recs), mode=0,
			       uname=b"", gname=b"", mtime=0) + pad(recs) +
	       reg(b"zzz", b"data\n"))
	return [Set([vol], end=b"zzz")], []


def v_bad_checksum(o):
	vol = head() + header(b"snapshot/zz", b"0", 4, bad_checksum=True) + \
		pad(b"bad\n")
	return [Set([vol], end=b"zz")], []


def v_bad_octal(o):
	vol = head() + header(b"snapshot/zz", b"0", 4,
			      raw_mode=b"9x9x9x9\0") + pad(b"bad\n")
	return [Set([vol], end=b"zz")], []


def v_not_gzip(o):
	# the right SHA1, but the volume is not gzip at all
	return [Set([], raw_volumes=[b"this is not a gzip stream\n" * 100])], []


def v_garbage_tar(o):
	junk = bytes((i * 131 + 17) & 0xff for i in range(20000))
	return [Set([], raw_volumes=[gz(junk)])], []


def v_unknown_prefix(o):
	vol = head() + member(b"evil/../../x", b"0", b"pwned\n") + tail()
	return [Set([vol])], []


def v_manifest_bigvol(o):
	# one real volume, but the manifest numbers it 2 000 000 000
	return [Set([head() + tail()], volnums=[2000000000])], []


# Signature files (§8) attack the next incremental backup, which reads them.

def sig_set(sig=None, raw=None):
	s = Set([head() + tail()], sig=sig)
	s.raw_sig = raw
	return s


def sigm(path, data, **kw):
	return member(b"signature/" + path, b"0", data, **kw)


def rs_header(block_len, strong_len):
	return b"rs\x016" + block_len.to_bytes(4, "big") + \
		strong_len.to_bytes(4, "big")


ROOT_SIG = member(b"snapshot/", b"5")


def v_sig_benign(o):
	return [sig_set(ROOT_SIG)], []


def v_sig_huge(o):
	return [sig_set(ROOT_SIG + sigm(b"README.txt", rs_header(512, 8),
					declared=8 ** 11 - 1, short=True))], []


def v_sig_dotdot(o):
	return [sig_set(ROOT_SIG + sigm(b"../README.txt", rs_header(512, 8)))], []


def v_sig_bad_header(o):
	# block length 0 and a 255-byte strong sum: both impossible
	return [sig_set(ROOT_SIG + sigm(b"README.txt", rs_header(0, 255) +
					b"\1" * 300))], []


def v_sig_huge_blocks(o):
	# block length 2^31 and a sum table that stops in the middle
	return [sig_set(ROOT_SIG + sigm(b"README.txt",
					rs_header(1 << 31, 8) + b"\2" * 7))], []


def v_sig_garbage(o):
	return [sig_set(raw=b"not a signature file\n" * 50)], []


def v_sig_unknown_prefix(o):
	return [sig_set(ROOT_SIG + member(b"bogus/README.txt", b"0", b"x"))], []


VARIANTS = [
	("benign", "ok", v_benign),
	("benign-inc", "ok", v_benign_inc),
	("benign-2vol", "ok", v_benign_2vol),
	("dotdot", "refuse", v_dotdot),
	("dotdot-deep", "refuse", v_dotdot_deep),
	("dotdot-far", "refuse", v_dotdot_far),
	("absolute", "refuse", v_absolute),
	("absolute-etc", "refuse", v_absolute_etc),
	("multivol-dotdot", "refuse", v_multivol_dotdot),
	("symlink-escape", "refuse", v_symlink_escape),
	("symlink-parent", "refuse", v_symlink_parent),
	("symlink-relative", "refuse", v_symlink_relative),
	("symlink-multivol", "refuse", v_symlink_multivol),
	("symlink-then-file", "contain", v_symlink_then_file),
	("symlink-dir-swap", "refuse", v_symlink_dir_swap),
	("dir-then-symlink", "contain", v_dir_then_symlink),
	("root-symlink", "contain", v_root_symlink),
	("hardlink", "refuse", v_hardlink),
	("hardlink-inner", "refuse", v_hardlink_inner),
	("deleted-dotdot", "refuse", v_deleted_dotdot),
	("huge-size", "refuse", v_huge_size),
	("huge-size-pax", "refuse", v_huge_size_pax),
	("long-name", "refuse", v_long_name),
	("long-link", "contain", v_long_link),
	("pax-bomb", "refuse", v_pax_bomb),
	("gnu-longname-bomb", "refuse", v_gnu_longname_bomb),
	("pax-bad-record", "refuse", v_pax_bad_record),
	("bad-checksum", "refuse", v_bad_checksum),
	("bad-octal", "refuse", v_bad_octal),
	("not-gzip", "refuse", v_not_gzip),
	("garbage-tar", "refuse", v_garbage_tar),
	("unknown-prefix", "refuse", v_unknown_prefix),
	("manifest-bigvol", "contain", v_manifest_bigvol),
	("sig-benign", "backup-ok", v_sig_benign),
	("sig-huge", "backup", v_sig_huge),
	("sig-dotdot", "backup", v_sig_dotdot),
	("sig-bad-header", "backup", v_sig_bad_header),
	("sig-huge-blocks", "backup", v_sig_huge_blocks),
	("sig-garbage", "backup", v_sig_garbage),
	("sig-unknown-prefix", "backup", v_sig_unknown_prefix),
]


class Opts:
	def __init__(self, outside, restore):
		self.outside = os.path.abspath(outside)
		self.restore = os.path.abspath(restore)

	def beside(self, rel):
		"""Where rel, taken relative to the restore dir, would land."""
		return os.path.normpath(os.path.join(self.restore, rel))


def usage():
	sys.stderr.write(__doc__)
	return 2


def main(argv):
	if len(argv) >= 1 and argv[0] == "list":
		for name, kind, _ in VARIANTS:
			print(name, kind)
		return 0
	if len(argv) < 3 or argv[0] != "write":
		return usage()
	variant, target = argv[1], argv[2]
	outside = restore = None
	rest = argv[3:]
	while rest:
		if rest[0] == "--outside" and len(rest) > 1:
			outside = rest[1]
		elif rest[0] == "--restore-dir" and len(rest) > 1:
			restore = rest[1]
		else:
			return usage()
		rest = rest[2:]
	if outside is None:
		return usage()
	if restore is None:
		restore = os.path.join(os.path.dirname(os.path.abspath(target)),
				       "restore")
	fn = {n: f for n, _, f in VARIANTS}.get(variant)
	if fn is None:
		sys.stderr.write("hostile.py: unknown variant %s\n" % variant)
		return 2
	os.makedirs(target, exist_ok=True)
	if os.listdir(target):
		sys.stderr.write("hostile.py: %s is not empty\n" % target)
		return 2
	sets, probes = fn(Opts(outside, restore))
	write_set(target, sets[0], T_FULL)
	times = [T_FULL, T_INC, "20240103T000000Z", "20240104T000000Z"]
	for i, s in enumerate(sets[1:]):
		write_set(target, s, times[i], times[i + 1])
	for p in probes:
		print("probe", p)
	return 0


if __name__ == "__main__":
	sys.exit(main(sys.argv[1:]))
