#!/usr/bin/python3
"""gen_dataset.py: deterministic benchmark trees for arca and its peers.

  gen_dataset.py generate [--kind mix|small|tiny] [--scale S] [--files N]
                          [--seed SEED] DIR
  gen_dataset.py mutate [--seed SEED] [--fraction F] [--undo UNDO_DIR] DIR
  gen_dataset.py unmutate --undo UNDO_DIR DIR
  gen_dataset.py pick DIR
  gen_dataset.py stats DIR

generate writes a new tree into DIR (which must not exist or be empty).  The
same arguments always give the same names, bytes, modes and mtimes.  Kinds:

  mix    the benchmark mix of /work/shared/perf-notes.md: about 55 % of the
         bytes random (incompressible), 45 % English-like text that deflate -6
         shrinks to ~37 % (like real prose).  At --scale 1.0: two 200 MiB files
         (one random, one text), 30 medium files of 1-16 MiB and 20,000 small
         files of 1 B-256 KiB (log-uniform), ~970 MiB in 20,032 files.  Every
         count and size scales with --scale (--files overrides the small count).
  small  many small files: --files N (default 200,000) of 1 B-16 KiB,
         ~1.65 KiB on average (~330 MB at 200,000).
  tiny   for memory-flatness runs: --files N (default 1,000,000) of 0-128 B.

All kinds hold ~100 files per directory in two directory levels, a few
symlinks, a few names with spaces and UTF-8, and modes 0644/0600/0755.

mutate changes about --fraction (default 0.01) of the regular files, chosen by
--seed: in-place edits, appends, rewrites with a new size, deletions,
additions (some in a new directory) and 16 bytes overwritten in the middle of
the largest file.  Every changed file gets an mtime one hour after the newest
mtime in the tree, so every tool sees the change.  With --undo UNDO_DIR it
first saves what it changes there; unmutate puts the tree back exactly
(contents, modes, mtimes, directory mtimes) so a benchmark can replay the
same mutation for the next tool without regenerating the data.

pick prints a small file (1-64 KiB) from the middle of the sorted tree: the
one-file restore target.  stats prints files, directories, bytes.

Standard library only; run with /usr/bin/python3.
"""

import argparse
import json
import math
import operator
import os
import random
import shutil
import stat
import sys

MiB = 1 << 20
# 2023-11-14: far enough in the past that no tool sees "mtime in the future".
BASE_MTIME = 1700000000
PER_DIR = 100
RANDOM_SHARE = 0.55


# ---------------------------------------------------------------- content

def _vocabulary():
	"""Pseudo-words with a Zipf distribution, as 65,536 table slots.

	Drawing slots uniformly gives text whose deflate -6 ratio (~0.37) and
	word-length mix resemble prose, at C speed (itemgetter + join)."""
	r = random.Random("arca-bench-vocabulary-1")
	cons = "bcdfghjklmnprstvwz"
	vow = "aeiou"
	syl = [c + v for c in cons for v in vow] + [v + c for c in "nrstl" for v in vow]
	seen = set()
	words = []
	while len(words) < 8000:
		w = "".join(r.choice(syl) for _ in range(r.choice((1, 1, 2, 2, 2, 3, 3, 4))))
		if w not in seen:
			seen.add(w)
			words.append(w)
	weights = [1.0 / (i + 1) for i in range(len(words))]
	table = []
	for w in r.choices(words, weights=weights, k=65536):
		x = r.random()
		if x < 0.06:
			w += ","
		elif x < 0.08:
			w += ".\n"
		elif x < 0.10:
			w += "."
		elif x < 0.12:
			w = w.capitalize()
		table.append(w.encode() + b" ")
	return table


_TABLE = None


def text_bytes(r, n):
	"""n bytes of English-like text from generator r."""
	global _TABLE
	if _TABLE is None:
		_TABLE = _vocabulary()
	out = []
	got = 0
	while got < n:
		words = min(32768, (n - got) // 6 + 2)
		idx = memoryview(r.randbytes(2 * words)).cast("H")
		chunk = b"".join(operator.itemgetter(*idx)(_TABLE)) if words > 1 else _TABLE[idx[0]]
		out.append(chunk)
		got += len(chunk)
	data = b"".join(out)
	return data[:n]


def random_bytes(r, n):
	return r.randbytes(n)


def write_file(path, kind, size, seed_str, mode, mtime):
	"""Write one file of size bytes; big files in 4 MiB pieces."""
	r = random.Random(seed_str)
	gen = random_bytes if kind == "bin" else text_bytes
	fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
	try:
		left = size
		while left > 0:
			n = min(left, 4 * MiB)
			buf = gen(r, n)
			view = memoryview(buf)
			while view:
				w = os.write(fd, view)
				view = view[w:]
			left -= n
		os.fchmod(fd, mode)
	finally:
		os.close(fd)
	os.utime(path, (mtime, mtime))


# ---------------------------------------------------------------- layout

def log_uniform(r, lo, hi):
	return int(math.exp(r.uniform(math.log(lo), math.log(hi + 1)))) if hi > lo else lo


def file_name(i, kind, r):
	ext = ".bin" if kind == "bin" else ".txt"
	x = r.random()
	if x < 0.001:
		return "f%07d with space%s" % (i, ext)
	if x < 0.002:
		return "f%07d-\u00e9t\u00e9-\u5b9f%s" % (i, ext)
	return "f%07d%s" % (i, ext)


def small_dir(i):
	"""Two levels, PER_DIR files each: d000/s00/..."""
	d = i // PER_DIR
	return "d%03d/s%02d" % (d // 100, d % 100)


def layout(kind, scale, files, seed):
	"""The list of (relpath, content kind, size, mode, mtime) and symlinks."""
	r = random.Random("%s/layout/%s" % (seed, kind))
	entries = []
	links = []
	if kind == "mix":
		n_small = files if files is not None else max(10, round(20000 * scale))
		big = max(1, round(200 * MiB * scale))
		n_medium = max(1, round(30 * scale))
		specs = [("big/random.bin", "bin", big), ("big/text.log", "txt", big)]
		for i in range(n_medium):
			specs.append(("medium/m%03d" % i, None,
				      log_uniform(r, MiB, 16 * MiB)))
		size_lo, size_hi = 1, 256 * 1024
	elif kind == "small":
		n_small = files if files is not None else 200000
		specs = []
		size_lo, size_hi = 1, 16 * 1024
	elif kind == "tiny":
		n_small = files if files is not None else 1000000
		specs = []
		size_lo, size_hi = 0, 128
	else:
		raise SystemExit("unknown kind %r" % kind)

	for i in range(n_small):
		if kind == "tiny":
			size = r.randint(size_lo, size_hi)
		else:
			size = log_uniform(r, size_lo, size_hi)
		specs.append((None, None, size))

	# Content kind by running byte balance: RANDOM_SHARE of the bytes random,
	# exactly at every scale (a coin per file would drift at small scales).
	rand_b = 0
	total_b = 0
	i_small = 0
	for path, ck, size in specs:
		if ck is None:
			ck = "bin" if rand_b + size / 2 <= RANDOM_SHARE * (total_b + size) else "txt"
		if ck == "bin":
			rand_b += size
		total_b += size
		if path is None:
			path = small_dir(i_small) + "/" + file_name(i_small, ck, r)
			i_small += 1
		elif path.startswith("medium/"):
			path += ".bin" if ck == "bin" else ".txt"
		x = r.random()
		mode = 0o600 if x < 0.05 else 0o755 if x < 0.08 else 0o644
		mtime = BASE_MTIME + r.randrange(0, 86400 * 365)
		entries.append((path, ck, size, mode, mtime))

	# A few symlinks, one per 1000 files (relative targets inside the tree).
	for j in range(max(1, n_small // 1000)):
		target_i = r.randrange(len(entries))
		src_dir = small_dir(r.randrange(max(1, n_small)))
		links.append((src_dir + "/link%05d" % j, os.path.relpath(entries[target_i][0], src_dir)))
	return entries, links


def cmd_generate(args):
	root = args.dir
	if os.path.exists(root) and os.listdir(root):
		raise SystemExit("%s exists and is not empty" % root)
	os.umask(0o022)
	entries, links = layout(args.kind, args.scale, args.files, args.seed)
	dirs = set()
	total = 0
	rand_b = 0
	for n, (path, ck, size, mode, mtime) in enumerate(entries):
		full = os.path.join(root, path)
		d = os.path.dirname(full)
		if d not in dirs:
			os.makedirs(d, exist_ok=True)
			dirs.add(d)
		write_file(full, ck, size, "%s/file/%s" % (args.seed, path), mode, mtime)
		total += size
		rand_b += size if ck == "bin" else 0
		if args.progress and n % 50000 == 0 and n:
			print("  %d files" % n, file=sys.stderr)
	for path, target in links:
		full = os.path.join(root, path)
		os.makedirs(os.path.dirname(full), exist_ok=True)
		os.symlink(target, full)
		os.utime(full, (BASE_MTIME, BASE_MTIME), follow_symlinks=False)
	# Directory mtimes last, deepest first, so creating children does not
	# move them again.
	r = random.Random("%s/dirs" % args.seed)
	all_dirs = [root]
	for dp, dn, _ in os.walk(root):
		dn.sort()
		all_dirs.extend(os.path.join(dp, x) for x in dn)
	for d in sorted(all_dirs, key=lambda p: -p.count("/")):
		t = BASE_MTIME + 86400 * 365 + r.randrange(0, 86400)
		os.chmod(d, 0o755)
		os.utime(d, (t, t))
	print("generated %s: kind %s, %d files, %d symlinks, %d dirs, %.1f MiB, %.0f %% random"
	      % (root, args.kind, len(entries), len(links), len(all_dirs), total / MiB,
		 100.0 * rand_b / max(1, total)))


# ---------------------------------------------------------------- walking

def walk(root):
	"""Sorted relative paths of regular files, with their lstat."""
	out = []
	for dp, dn, fn in os.walk(root):
		dn.sort()
		for f in sorted(fn):
			full = os.path.join(dp, f)
			st = os.lstat(full)
			if stat.S_ISREG(st.st_mode):
				out.append((os.path.relpath(full, root), st))
	return out


def cmd_stats(args):
	files = 0
	total = 0
	dirs = 0
	links = 0
	for dp, dn, fn in os.walk(args.dir):
		dirs += 1
		for f in fn:
			st = os.lstat(os.path.join(dp, f))
			if stat.S_ISREG(st.st_mode):
				files += 1
				total += st.st_size
			elif stat.S_ISLNK(st.st_mode):
				links += 1
	print("%d files, %d symlinks, %d dirs, %d bytes (%.1f MiB)"
	      % (files, links, dirs, total, total / MiB))


def cmd_pick(args):
	files = walk(args.dir)
	small = [p for p, st in files if 1024 <= st.st_size <= 65536 and not p.startswith("big/")]
	if not small:
		small = [p for p, st in files if st.st_size <= 65536] or [p for p, _ in files]
	print(small[len(small) // 2])


# ---------------------------------------------------------------- mutate

class Undo:
	"""Saves what a mutation overwrites, so unmutate can put it back."""

	def __init__(self, root, undo_dir):
		self.root = root
		self.dir = undo_dir
		self.journal = []
		self.dirs = {}
		self.n = 0
		if undo_dir:
			if os.path.exists(undo_dir) and os.listdir(undo_dir):
				raise SystemExit("%s exists and is not empty" % undo_dir)
			os.makedirs(undo_dir, exist_ok=True)

	def _dir(self, rel):
		d = os.path.dirname(rel)
		while True:
			if d not in self.dirs:
				full = os.path.join(self.root, d)
				if os.path.isdir(full):
					st = os.stat(full)
					self.dirs[d] = (st.st_atime_ns, st.st_mtime_ns)
			if not d:
				break
			d = os.path.dirname(d)

	def save_file(self, rel):
		"""Before rewriting or deleting rel: keep a full copy."""
		self._dir(rel)
		if not self.dir:
			return
		copy = os.path.join(self.dir, "f%06d" % self.n)
		self.n += 1
		shutil.copy2(os.path.join(self.root, rel), copy)
		self.journal.append({"op": "restore", "path": rel, "copy": copy})

	def save_range(self, rel, off, n):
		"""Before overwriting n bytes at off of a big file: keep those."""
		self._dir(rel)
		if not self.dir:
			return
		full = os.path.join(self.root, rel)
		st = os.stat(full)
		with open(full, "rb") as f:
			f.seek(off)
			old = f.read(n)
		self.journal.append({"op": "patch", "path": rel, "off": off, "hex": old.hex(),
				     "atime_ns": st.st_atime_ns, "mtime_ns": st.st_mtime_ns})

	def added(self, rel, new_dir=None):
		self._dir(new_dir or rel)
		if self.dir:
			# Undone in reverse: the files first, then their new directory.
			if new_dir:
				self.journal.append({"op": "rmdir", "path": new_dir})
			self.journal.append({"op": "remove", "path": rel})

	def close(self):
		if not self.dir:
			return
		with open(os.path.join(self.dir, "journal.json"), "w") as f:
			json.dump({"root": os.path.abspath(self.root), "journal": self.journal,
				   "dirs": self.dirs}, f)


def cmd_mutate(args):
	root = args.dir
	files = walk(root)
	if not files:
		raise SystemExit("%s holds no files" % root)
	r = random.Random("%s/mutate" % args.seed)
	newest = max(st.st_mtime for _, st in files)
	mtime = int(newest) + 3600
	undo = Undo(root, args.undo)

	# The largest file, preferring the big/ ones of the mix.
	biggest = max(files, key=lambda e: (e[0].startswith("big/"), e[1].st_size, e[0]))
	others = [e for e in files if e[0] != biggest[0]]
	k = max(1, round(args.fraction * len(files)))
	chosen = r.sample(others, min(len(others), k))
	n_edit = n_append = n_rewrite = n_delete = 0
	touched = set()
	for n, (rel, st) in enumerate(chosen):
		full = os.path.join(root, rel)
		kind = "bin" if rel.endswith(".bin") else "txt"
		fr = random.Random("%s/mutate/%s" % (args.seed, rel))
		gen = random_bytes if kind == "bin" else text_bytes
		x = n / len(chosen)
		undo.save_file(rel)
		if x < 0.45:
			# Edit in place: a few bytes at a few offsets, size unchanged
			# (or the file grows from nothing).
			with open(full, "r+b") as f:
				if st.st_size == 0:
					f.write(gen(fr, 16))
				for _ in range(fr.randint(1, 4)):
					if st.st_size == 0:
						break
					off = fr.randrange(st.st_size)
					f.seek(off)
					f.write(gen(fr, min(16, st.st_size - off)))
			n_edit += 1
		elif x < 0.70:
			with open(full, "ab") as f:
				f.write(gen(fr, fr.randint(1, 4096)))
			n_append += 1
		elif x < 0.85:
			size = max(0, int(st.st_size * fr.uniform(0.5, 1.5)) + fr.randint(-10, 10))
			with open(full, "wb") as f:
				f.write(gen(fr, size))
			n_rewrite += 1
		else:
			os.unlink(full)
			n_delete += 1
			touched.add(os.path.dirname(full))
			continue
		os.utime(full, (mtime, mtime))

	# Additions: ~15 % of the changed count, a third in one new directory.
	n_add = max(1, round(0.15 * len(chosen)))
	new_dir = "added-%s" % args.seed
	for j in range(n_add):
		if j < n_add // 3:
			rel = "%s/new%05d.txt" % (new_dir, j)
			if not os.path.isdir(os.path.join(root, new_dir)):
				undo._dir(new_dir)
				os.mkdir(os.path.join(root, new_dir))
				touched.add(root)
		else:
			rel = os.path.join(os.path.dirname(r.choice(files)[0]), "new-%s-%05d.bin" % (args.seed, j))
		full = os.path.join(root, rel)
		if os.path.lexists(full):
			continue
		first_in_new_dir = j == 0 and n_add // 3 > 0
		undo.added(rel, new_dir if first_in_new_dir else None)
		touched.add(os.path.dirname(full))
		kind = "txt" if rel.endswith(".txt") else "bin"
		write_file(full, kind, log_uniform(r, 1, 64 * 1024),
			   "%s/add/%s" % (args.seed, rel), 0o644, mtime)

	# Directories that gained or lost entries: a fixed mtime too, so the
	# mutated tree is the same on every run.
	for d in touched:
		os.utime(d, (mtime, mtime))

	# A few bytes in the middle of the largest file.
	rel, st = biggest
	full = os.path.join(root, rel)
	off = st.st_size // 2
	undo.save_range(rel, off, 16)
	with open(full, "r+b") as f:
		f.seek(off)
		f.write(random.Random("%s/big" % args.seed).randbytes(min(16, st.st_size - off)))
	os.utime(full, (mtime, mtime))

	undo.close()
	print("mutated %s: %d of %d files changed (%d edited, %d appended, %d rewritten, "
	      "%d deleted), %d added, 16 bytes at offset %d of %s"
	      % (root, len(chosen) + n_add + 1, len(files), n_edit, n_append, n_rewrite,
		 n_delete, n_add, off, rel))


def cmd_unmutate(args):
	with open(os.path.join(args.undo, "journal.json")) as f:
		j = json.load(f)
	root = args.dir
	for e in reversed(j["journal"]):
		full = os.path.join(root, e["path"])
		if e["op"] == "restore":
			if os.path.lexists(full):
				os.unlink(full)
			shutil.copy2(e["copy"], full)
		elif e["op"] == "patch":
			with open(full, "r+b") as f:
				f.seek(e["off"])
				f.write(bytes.fromhex(e["hex"]))
			os.utime(full, ns=(e["atime_ns"], e["mtime_ns"]))
		elif e["op"] == "remove":
			if os.path.lexists(full):
				os.unlink(full)
		elif e["op"] == "rmdir":
			os.rmdir(full)
	for d, (at, mt) in sorted(j["dirs"].items(), key=lambda kv: -kv[0].count("/")):
		full = os.path.join(root, d)
		if os.path.isdir(full):
			os.utime(full, ns=(at, mt))
	shutil.rmtree(args.undo)
	print("unmutated %s: %d journal entries undone" % (root, len(j["journal"])))


def main():
	ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
				     formatter_class=argparse.RawDescriptionHelpFormatter)
	sub = ap.add_subparsers(dest="cmd", required=True)
	g = sub.add_parser("generate")
	g.add_argument("--kind", choices=("mix", "small", "tiny"), default="mix")
	g.add_argument("--scale", type=float, default=1.0)
	g.add_argument("--files", type=int)
	g.add_argument("--seed", default="1")
	g.add_argument("--progress", action="store_true")
	g.add_argument("dir")
	m = sub.add_parser("mutate")
	m.add_argument("--seed", default="1")
	m.add_argument("--fraction", type=float, default=0.01)
	m.add_argument("--undo")
	m.add_argument("dir")
	u = sub.add_parser("unmutate")
	u.add_argument("--undo", required=True)
	u.add_argument("dir")
	p = sub.add_parser("pick")
	p.add_argument("dir")
	s = sub.add_parser("stats")
	s.add_argument("dir")
	args = ap.parse_args()
	{"generate": cmd_generate, "mutate": cmd_mutate, "unmutate": cmd_unmutate,
	 "pick": cmd_pick, "stats": cmd_stats}[args.cmd](args)


if __name__ == "__main__":
	main()
