#!/usr/bin/python3
"""mktree.py DIR PHASE: build or mutate arca's deterministic test tree.

PHASE 0 builds the tree in DIR (which must be missing or empty).
PHASE 1 and 2 mutate a tree left by the phase before.  Given a missing or
empty DIR, PHASE N builds phases 0..N in turn, so `mktree.py d 2` and
`mktree.py d 0; mktree.py d 1; mktree.py d 2` give the same tree.

Everything is fixed: file content comes from generators seeded by the file
name, every mtime is a constant of its phase, directories touched by a phase
get that phase's time at its end.  Run as root to get the file owned by
nobody (65534:65534); otherwise that file keeps the caller's owner.

Standard library only; run with /usr/bin/python3.
"""

import os
import random
import shutil
import stat
import sys

T0 = 1700000000		# 2023-11-14T22:13:20Z, phase 0
T1 = 1700086400		# phase 1: one day later
T2 = 1700172800		# phase 2
T_2300 = 10413792000	# 2300-01-01: beyond ustar's 8^11 s field
T_OLD = 1600000000	# a few dirs and files, so not everything is T0

BIG = b"big.bin"
BIG_SIZE = 2500000
SIZES = [0, 1, 511, 512, 65535, 65536, 65537, 131072, 300000]
LONG_NAME = b"long-" + b"n" * 191 + b".txt"	# 200 bytes
RAW_FF = b"raw\xffbyte"
NOBODY = 65534

WORDS = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet "
	 "kilo lima mike november oscar papa quebec romeo sierra tango "
	 "uniform victor whiskey xray yankee zulu backup volume manifest "
	 "signature delta chain restore the of and to in is").split()


def rng(name, salt=b""):
	if isinstance(name, str):
		name = name.encode()
	return random.Random(b"arca-mktree:" + name + b":" + salt)


def binary(name, size, salt=b""):
	return rng(name, salt).randbytes(size)


def text(name, size, salt=b""):
	"""size bytes of lines of words: text-like, compressible, diffable."""
	r = rng(name, salt)
	out = bytearray()
	n = 0
	while len(out) < size:
		n += 1
		line = "%05d %s\n" % (n, " ".join(r.choice(WORDS)
			for _ in range(r.randint(3, 14))))
		out += line.encode()
	return bytes(out[:size])


class Tree:
	def __init__(self, root):
		self.root = os.fsencode(root)
		self.touched = set()

	def p(self, rel):
		return os.path.join(self.root, rel) if rel else self.root

	def touch_parent(self, rel):
		self.touched.add(os.path.dirname(rel))

	def file(self, rel, data, mode=0o644, mtime=None, owner=None):
		path = self.p(rel)
		with open(path, "wb") as f:
			f.write(data)
		if owner is not None:
			os.chown(path, owner, owner)
		# after chown, which clears set-id bits
		os.chmod(path, mode)
		os.utime(path, (mtime, mtime))
		self.touch_parent(rel)

	def mkdir(self, rel, mode=0o755):
		os.mkdir(self.p(rel))
		os.chmod(self.p(rel), mode)
		self.touched.add(rel)
		self.touch_parent(rel)

	def symlink(self, rel, target, mtime):
		os.symlink(target, self.p(rel))
		os.utime(self.p(rel), (mtime, mtime), follow_symlinks=False)
		self.touch_parent(rel)

	def remove(self, rel):
		path = self.p(rel)
		if os.path.isdir(path) and not os.path.islink(path):
			shutil.rmtree(path)
		else:
			os.unlink(path)
		self.touch_parent(rel)

	def finish(self, mtime, fixed=None):
		"""Set every touched directory's mtime, deepest first, then the
		fixed ones ({rel: mtime}) that must not be the phase time."""
		fixed = fixed or {}
		for rel in sorted(self.touched, key=lambda r: -r.count(b"/")
				  - (1 if r else 0)):
			if rel not in fixed:
				os.utime(self.p(rel), (mtime, mtime))
		for rel, t in fixed.items():
			os.utime(self.p(rel), (t, t))
		self.touched = set()


def phase0(t):
	T = T0
	for size in SIZES:
		name = b"size-%d" % size
		gen = text if size == 131072 else binary
		t.file(name, gen(name, size), mtime=T)
	t.file(BIG, binary(BIG, BIG_SIZE), mtime=T)
	t.file(b"text.txt", text("text.txt", 20000), mtime=T)
	t.file(b"notes.txt", text("notes.txt", 700), mtime=T)
	t.file(b"private.txt", b"secret stuff\n", mode=0o600, mtime=T)
	t.file(b"script.sh", b"#!/bin/sh\necho arca test tree\n", mode=0o755,
	       mtime=T)
	t.file(b"setuid-bin", b"not really a program\n", mode=0o4755, mtime=T)
	t.file(b"owned-by-nobody", b"nobody's file\n", mtime=T,
	       owner=NOBODY if os.geteuid() == 0 else None)
	t.file(b"old-mtime.txt", b"older than the rest\n", mtime=T_OLD)
	t.file(b"future.txt", b"from the year 2300\n", mtime=T_2300)
	t.file(b"epoch.txt", b"from 1970\n", mtime=0)

	t.mkdir(b"emptydir")
	t.mkdir(b"private-dir", mode=0o700)
	t.file(b"private-dir/inside.txt", b"inside a 0700 dir\n", mode=0o600,
	       mtime=T)
	rel = b"deep"
	t.mkdir(rel)
	for i in range(1, 13):
		rel += b"/d%02d" % i
		t.mkdir(rel)
	t.file(rel + b"/leaf.txt", b"twelve levels down\n", mtime=T)

	t.symlink(b"link-to-text", b"text.txt", T)
	t.symlink(b"dangling", b"/nonexistent/arca-target", T)
	t.symlink(b"link-to-dir", b"deep/d01", T)
	t.symlink(b"link-retarget", b"text.txt", T)
	t.symlink(b"link-to-file", b"notes.txt", T)
	os.mkfifo(t.p(b"fifo"), 0o644)
	os.chmod(t.p(b"fifo"), 0o644)
	os.utime(t.p(b"fifo"), (T, T))

	for name in (b"name with spaces.txt", b"single'quote", b'double"quote',
		     b"back\\slash", b"tab\there", b"new\nline",
		     "ünïcødé.txt".encode(), RAW_FF, LONG_NAME):
		t.file(name, b"name: " + name + b"\n", mtime=T)
	t.mkdir(b"dir with spaces")
	t.file(b"dir with spaces/inner 'q' \"dq\".txt", b"inner\n", mtime=T)

	# joined-path order differs from component-wise order here
	t.mkdir(b"a")
	t.file(b"a/b", b"a/b\n", mtime=T)
	t.file(b"a-c", b"a-c\n", mtime=T)
	t.file(b"a.b", b"a.b\n", mtime=T)

	t.file(b"hardlink-1", text("hardlink", 3000), mtime=T)
	os.link(t.p(b"hardlink-1"), t.p(b"hardlink-2"))

	# victims of phase 1
	t.file(b"to-delete.txt", b"deleted in phase 1, back in phase 2\n",
	       mtime=T)
	t.file(b"rename-me.txt", b"renamed in phase 1\n", mtime=T)
	t.mkdir(b"olddir")
	t.file(b"olddir/kept.txt", b"moves with its dir\n", mtime=T)
	t.mkdir(b"tree")
	t.mkdir(b"tree/x")
	t.mkdir(b"tree/x/y")
	t.file(b"tree/top.txt", b"top\n", mtime=T)
	t.file(b"tree/x/y/z.bin", binary("z", 70000), mtime=T)
	t.mkdir(b"dir-to-file")
	t.file(b"dir-to-file/child.txt", b"child\n", mtime=T)
	t.file(b"file-to-dir", b"becomes a dir\n", mtime=T)

	t.finish(T, {b"emptydir": T_OLD})


def phase1(t):
	T = T1
	with open(t.p(BIG), "r+b") as f:
		f.seek(BIG_SIZE // 2)
		f.write(binary(BIG, 1000, b"edit1"))
	os.utime(t.p(BIG), (T, T))
	with open(t.p(b"text.txt"), "ab") as f:
		f.write(text("text.txt", 500, b"append1"))
	os.utime(t.p(b"text.txt"), (T, T))
	os.chmod(t.p(b"private.txt"), 0o640)	# mtime stays T0

	t.remove(b"to-delete.txt")
	t.remove(b"tree")
	os.rename(t.p(b"rename-me.txt"), t.p(b"renamed.txt"))
	t.touch_parent(b"renamed.txt")
	os.rename(t.p(b"olddir"), t.p(b"renamed-dir"))
	t.touch_parent(b"renamed-dir")

	t.remove(b"dir-to-file")
	t.file(b"dir-to-file", b"was a directory\n", mtime=T)
	t.remove(b"file-to-dir")
	t.mkdir(b"file-to-dir")
	t.file(b"file-to-dir/now.txt", b"was a file\n", mtime=T)

	t.remove(b"link-retarget")
	t.symlink(b"link-retarget", b"notes.txt", T)
	t.remove(b"link-to-file")
	t.file(b"link-to-file", b"was a symlink\n", mtime=T)

	t.file(b"new-200k.bin", binary("new-200k.bin", 200 * 1024), mtime=T)
	t.file(b"new.txt", b"new in phase 1\n", mtime=T)
	t.file(b"deep/d01/d02/d03/d04/d05/d06/d07/d08/d09/d10/d11/d12/new.txt",
	       b"new leaf\n", mtime=T)
	t.mkdir(b"new-empty-dir")
	# the moved directory keeps its own mtime: only its name changed
	t.finish(T, {b"renamed-dir": T0})


def phase2(t):
	T = T2
	os.truncate(t.p(BIG), 70000)
	os.utime(t.p(BIG), (T, T))
	t.file(b"to-delete.txt", b"re-added in phase 2 with new content\n",
	       mtime=T)
	t.remove(b"fifo")
	t.file(b"renamed-dir/added.txt", b"added under the renamed dir\n",
	       mtime=T)
	t.mkdir(b"renamed-dir/sub")
	t.file(b"renamed-dir/sub/more.bin", binary("more", 5000), mtime=T)
	t.file(RAW_FF, b"new content for the 0xff name\n", mtime=T)
	t.finish(T)


PHASES = [phase0, phase1, phase2]


def main(argv):
	if len(argv) != 3 or argv[2] not in ("0", "1", "2"):
		sys.stderr.write("usage: mktree.py DIR PHASE (PHASE 0, 1 or 2)\n")
		return 2
	d, phase = argv[1], int(argv[2])
	os.umask(0o022)
	fresh = not os.path.exists(d) or not os.listdir(d)
	if not os.path.exists(d):
		os.makedirs(d)
	if phase == 0 and not fresh:
		sys.stderr.write("mktree.py: %s is not empty\n" % d)
		return 2
	os.chmod(d, 0o755)
	t = Tree(d)
	for n in range(0 if fresh else phase, phase + 1):
		PHASES[n](t)
	return 0


if __name__ == "__main__":
	sys.exit(main(sys.argv))
