#!/usr/bin/python3
"""bounds.py: write duplicity-format targets that attack arca's resource
bounds (memory, time, disk) rather than its path policy.  Builds on
hostile.py (same directory), which it imports for tar, manifest and set
writing.

Usage:
  bounds.py list
      print "NAME KIND" per variant; KIND is "refuse" (restore must fail
      with a message), "ok" (restore must succeed) or "any" (any exit,
      but bounded memory and time).
  bounds.py write VARIANT TARGET_DIR
      create TARGET_DIR (missing or empty) holding a --no-encryption gzip
      target (spec §2, §5, §6, §7, §8).

Standard library only; run with /usr/bin/python3.
"""

import gzip
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hostile as H  # noqa: E402

ZERO_MEMBER = None


def zeros_gz(mib):
	"""mib MiB of zero bytes as concatenated gzip members (arca, gzip and
	Python all read them as one stream); 64 MiB compress to ~64 KiB."""
	global ZERO_MEMBER
	if ZERO_MEMBER is None:
		ZERO_MEMBER = gzip.compress(b"\0" * (64 << 20), 9, mtime=0)
	small = gzip.compress(b"\0" * ((mib % 64) << 20), 9, mtime=0)
	return ZERO_MEMBER * (mib // 64) + (small if mib % 64 else b"")


def base():
	return H.head() + H.tail()


# A gzip volume that inflates to 1000 times its size: a small valid tar,
# then 256 MiB of zero bytes.  Zero blocks end a tar archive, so a reader
# that stops there finishes at once; one that inflates all of it spends
# seconds and, if it buffers, a gigabyte.
def v_gz_bomb_tail():
	vol = H.gz(base() + b"\0" * 1024) + zeros_gz(256)
	return [H.Set([], raw_volumes=[vol])]


# The same bomb inside a member that says it is 1 KiB long: after that
# kilobyte the next "header" is zeros, which ends the archive.
def v_gz_bomb_member():
	tar = H.head() + H.member(b"snapshot/zzz-after.txt", b"0",
				  b"a" * 1024)
	return [H.Set([], raw_volumes=[H.gz(tar) + zeros_gz(256)])]


# A signature file whose gzip inflates 1000-fold (64 MiB): every command
# copies it from the target into the archive dir, inflating it on the way
# (a temp file of the inflated size, then gzip again), so time grows with
# the inflated size here: kept small.
def v_sig_bomb():
	s = H.Set([base()])
	s.raw_sig = H.gz(H.tar_end(H.member(b"snapshot/", b"5"))) + \
		zeros_gz(64)
	return [s]


# A manifest of absurd length: 1 000 000 volume blocks (about 110 MB,
# over arca's 64 MiB cap for a manifest).
def v_manifest_huge():
	s = H.Set([base()])
	s.manifest_extra = b"".join(
		b"Volume %d:\n    StartingPath   .  \n    EndingPath     .  \n"
		b"    Hash SHA1 %040d\n" % (i, i) for i in range(2, 1000002))
	return [s]


# Under the cap but still long: 300 000 volume blocks naming volumes that
# do not exist on the target.
def v_manifest_long():
	s = H.Set([base()])
	s.manifest_extra = b"".join(
		b"Volume %d:\n    StartingPath   .  \n    EndingPath     .  \n"
		b"    Hash SHA1 %040d\n" % (i, i) for i in range(2, 300002))
	return [s]


# A manifest file list of 1 000 000 entries with a 64 KiB path each
# would be 64 GB: here 500 entries of 100 000-byte paths (50 MB).
def v_manifest_long_paths():
	s = H.Set([base()])
	s.filelist = [(b"new", b"d/" * 49999 + b"f")] * 500
	return [s]


# A path of 100 000 bytes made of 50 000 directories: "a/a/a/.../f".
def v_long_path():
	deep = b"/".join([b"a"] * 49999) + b"/f"
	vol = H.head() + H.reg(deep, b"deep\n") + H.tail()
	return [H.Set([vol])]


# One component of 100 000 bytes in a directory entry.
def v_long_dirname():
	vol = H.head() + H.dirm(b"D" * 100000) + H.tail()
	return [H.Set([vol])]


def rs_delta(*cmds):
	"""A librsync delta (spec §8.3): magic, then commands, then END."""
	out = b"rs\x026"
	for c in cmds:
		if c[0] == "copy":
			out += b"\x4a" + c[1].to_bytes(2, "big") + \
				c[2].to_bytes(2, "big")	# COPY_N2_N2
		elif c[0] == "copy8":
			out += b"\x50" + c[1].to_bytes(8, "big") + \
				c[2].to_bytes(8, "big")	# COPY_N8_N8
		else:
			out += b"\x41" + bytes([len(c[1])]) + c[1]	# LITERAL_N1
	return out + b"\0"


BASIS = bytes((i * 11 + 5) & 0xff for i in range(4000))


def delta_sets(delta):
	full = H.head() + H.reg(b"f.bin", BASIS) + H.tail()
	inc = H.member(b"diff/f.bin", b"0", delta)
	return [H.Set([full]), H.Set([inc], end=b"f.bin")]


# A delta that copies from beyond the end of the basis (4000 bytes).
def v_delta_beyond():
	return delta_sets(rs_delta(("copy", 0, 1000), ("copy", 5000, 1000)))


# ... from an offset near 2^64 (offset + length overflows).
def v_delta_overflow():
	return delta_sets(rs_delta(("copy8", (1 << 64) - 10, 100)))


# A benign delta: the control.
def v_delta_ok():
	return delta_sets(rs_delta(("copy", 0, 1000), ("lit", b"new bytes"),
				   ("copy", 1000, 3000)))


BIG = bytes((i * 13 + 1) & 0xff for i in range(3 * H.CHUNK + 5))


def mv(path, data, order):
	"""multivol chunks of data, emitted in the given chunk order (1-based,
	repeats and gaps allowed)."""
	out = b""
	for k in order:
		piece = data[(k - 1) * H.CHUNK:k * H.CHUNK]
		out += H.member(b"multivol_snapshot/" + path + b"/%d" % k, b"0",
				piece)
	return out


def mv_set(order):
	return [H.Set([H.head() + mv(b"big.bin", BIG, order) + H.tail()])]


def v_multivol_ok():
	return mv_set([1, 2, 3, 4])


def v_multivol_gap():
	return mv_set([1, 2, 4])


def v_multivol_repeat():
	return mv_set([1, 2, 2, 3, 4])


def v_multivol_late_start():
	return mv_set([2, 3, 4])


def v_multivol_backwards():
	return mv_set([1, 3, 2, 4])


# The volumes of a set: the manifest names volumes 1 and 2, but only the
# first exists on the target (the chunks of big.bin continue in vol2).
def v_volume_missing():
	v1 = H.head() + mv(b"big.bin", BIG, [1, 2])
	v2 = mv(b"big.bin", BIG, [3, 4]) + H.tail()
	s = H.Set([v1, v2], ranges=[(b".", b"big.bin 2"),
				    (b"big.bin 3", b"zzz-after.txt")])
	s.drop_volumes = [2]
	return [s]


# Two volumes that both carry chunks 1-2 (vol2 repeats vol1).
def v_volume_repeat():
	v1 = H.head() + mv(b"big.bin", BIG, [1, 2])
	v2 = mv(b"big.bin", BIG, [1, 2, 3, 4]) + H.tail()
	return [H.Set([v1, v2], ranges=[(b".", b"big.bin 2"),
					(b"big.bin 3", b"zzz-after.txt")])]


VARIANTS = [
	("gz-bomb-tail", "any", v_gz_bomb_tail),
	("gz-bomb-member", "any", v_gz_bomb_member),
	("sig-bomb", "any", v_sig_bomb),
	("manifest-huge", "refuse", v_manifest_huge),
	("manifest-long", "refuse", v_manifest_long),
	("manifest-long-paths", "any", v_manifest_long_paths),
	("long-path", "refuse", v_long_path),
	("long-dirname", "refuse", v_long_dirname),
	("delta-beyond", "refuse", v_delta_beyond),
	("delta-overflow", "refuse", v_delta_overflow),
	("delta-ok", "ok", v_delta_ok),
	("multivol-ok", "ok", v_multivol_ok),
	("multivol-gap", "refuse", v_multivol_gap),
	("multivol-repeat", "refuse", v_multivol_repeat),
	("multivol-late-start", "refuse", v_multivol_late_start),
	("multivol-backwards", "refuse", v_multivol_backwards),
	("volume-missing", "refuse", v_volume_missing),
	("volume-repeat", "refuse", v_volume_repeat),
]


def write_set(target, s, start, end=None):
	"""hostile.write_set, then the extras this module's sets carry."""
	H.write_set(target, s, start, end)
	if end is None:
		base_name = "duplicity-full.%s" % start
	else:
		base_name = "duplicity-inc.%s.to.%s" % (start, end)
	mpath = os.path.join(target, base_name + ".manifest")
	extra = getattr(s, "manifest_extra", None)
	files = getattr(s, "filelist", None)
	if extra is not None or files is not None:
		with open(mpath, "rb") as f:
			text = f.read()
		head, _, _ = text.partition(b"Filelist ")
		files = files or []
		text = head + (extra or b"") + b"Filelist %d\n" % len(files)
		text += b"".join(b"    " + k.ljust(7) + b"  " + H.mquote(p) +
				 b"\n" for k, p in files)
		with open(mpath, "wb") as f:
			f.write(text)
	for n in getattr(s, "drop_volumes", []):
		os.unlink(os.path.join(target, "%s.vol%d.difftar.gz" %
				       (base_name, n)))


def main(argv):
	if argv[:1] == ["list"]:
		for name, kind, _ in VARIANTS:
			print(name, kind)
		return 0
	if len(argv) != 3 or argv[0] != "write":
		sys.stderr.write(__doc__)
		return 2
	fn = {n: f for n, _, f in VARIANTS}.get(argv[1])
	if fn is None:
		sys.stderr.write("bounds.py: unknown variant %s\n" % argv[1])
		return 2
	target = argv[2]
	os.makedirs(target, exist_ok=True)
	if os.listdir(target):
		sys.stderr.write("bounds.py: %s is not empty\n" % target)
		return 2
	sets = fn()
	times = [H.T_FULL, H.T_INC, "20240103T000000Z"]
	write_set(target, sets[0], times[0])
	for i, s in enumerate(sets[1:]):
		write_set(target, s, times[i], times[i + 1])
	return 0


if __name__ == "__main__":
	sys.exit(main(sys.argv[1:]))
