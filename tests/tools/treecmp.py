#!/usr/bin/python3
"""treecmp.py: compare directory trees the way a restore must reproduce them.

  treecmp.py [--no-owner] [--ignore-dir-mtime] A B
  treecmp.py [--no-owner] [--ignore-dir-mtime] --expected expected.json INDEX DIR
  treecmp.py --self-test

Entries are read with lstat (symlinks are never followed), names as bytes.
Compared: the set of names; the type; regular files: size, sha256,
mode & 07777, integer mtime; directories and fifos: mode and mtime;
symlinks: the target only (duplicity restores neither their mode nor mtime);
device nodes: mode, mtime and device number; uid/gid of everything unless
--no-owner.  Hard links are not compared (duplicity stores each name as a
separate file).  The root directory is compared too, as ".".

--expected compares DIR to entry list INDEX of a fixture's expected.json
(list of {"time", "timestr", "entries": [{path, type, mode, uid, gid, mtime,
size, sha256, target}]}); fields an entry lacks are not compared.

Every difference is printed as "PATH: WHAT: A=... B=..." (for --expected,
expected=... actual=...).  Exit 0 and "trees match (N entries)" if none,
1 if any, 2 for usage errors or an unreadable tree.

Standard library only; run with /usr/bin/python3.
"""

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile

TYPES = [
	(stat.S_ISREG, "reg"), (stat.S_ISDIR, "dir"), (stat.S_ISLNK, "sym"),
	(stat.S_ISFIFO, "fifo"), (stat.S_ISCHR, "chr"), (stat.S_ISBLK, "blk"),
	(stat.S_ISSOCK, "sock"),
]


class Usage(Exception):
	pass


def show(path):
	"""A path for humans: UTF-8 where valid, escapes for everything else."""
	s = path.decode("utf-8", "backslashreplace")
	out = []
	for c in s:
		if c == "\\" or c.isprintable() or c == " ":
			out.append(c)
		elif c == "\n":
			out.append("\\n")
		elif c == "\t":
			out.append("\\t")
		else:
			out.append("\\x%02x" % ord(c) if ord(c) < 256 else
				   "\\u%04x" % ord(c))
	return "".join(out)


def sha256(path):
	h = hashlib.sha256()
	with open(path, "rb") as f:
		while True:
			b = f.read(1 << 20)
			if not b:
				break
			h.update(b)
	return h.hexdigest()


def describe(full, st):
	"""The comparable facts of one entry, as a dict like expected.json's."""
	kind = next((name for test, name in TYPES if test(st.st_mode)), "?")
	d = {"type": kind, "uid": st.st_uid, "gid": st.st_gid}
	if kind == "sym":
		d["target"] = os.readlink(full)
		return d
	d["mode"] = "%04o" % stat.S_IMODE(st.st_mode)
	d["mtime"] = st.st_mtime_ns // 1000000000
	if kind == "reg":
		d["size"] = st.st_size
		d["sha256"] = sha256(full)
	elif kind in ("chr", "blk"):
		d["rdev"] = "%d,%d" % (os.major(st.st_rdev), os.minor(st.st_rdev))
	return d


def scan(root):
	"""{relative path (bytes, root = b"."): describe()} for a tree."""
	root = os.fsencode(root)
	try:
		st = os.lstat(root)
	except OSError as e:
		raise Usage("cannot read %s: %s" % (show(root), e.strerror))
	if not stat.S_ISDIR(st.st_mode):
		raise Usage("%s is not a directory" % show(root))
	out = {}

	def walk(rel, full, st):
		out[rel] = describe(full, st)
		if not stat.S_ISDIR(st.st_mode):
			return
		for name in sorted(os.listdir(full)):
			sub = name if rel == b"." else rel + b"/" + name
			path = os.path.join(full, name)
			walk(sub, path, os.lstat(path))

	walk(b".", root, st)
	return out


def compare(a, b, opts, la="A", lb="B"):
	"""Differences between two {path: facts} maps, as printable lines."""
	diffs = []
	for path in sorted(set(a) | set(b), key=lambda p: p.split(b"/")):
		sp = show(path)
		if path not in b:
			diffs.append("%s: only in %s (%s)" % (sp, la, a[path]["type"]))
			continue
		if path not in a:
			diffs.append("%s: only in %s (%s)" % (sp, lb, b[path]["type"]))
			continue
		x, y = a[path], b[path]
		if x["type"] != y["type"]:
			diffs.append("%s: type: %s=%s %s=%s" % (sp, la, x["type"],
				     lb, y["type"]))
			continue
		kind = x["type"]
		fields = ["size", "sha256", "mode", "mtime", "target", "rdev"]
		if not opts["no_owner"]:
			fields += ["uid", "gid"]
		if kind == "sym":
			fields = [f for f in fields if f not in ("mode", "mtime")]
		if kind == "dir" and opts["ignore_dir_mtime"]:
			fields.remove("mtime")
		for f in fields:
			if f not in x or f not in y:
				continue
			vx, vy = x[f], y[f]
			if f == "target":
				vx, vy = show(vx), show(vy)
			if vx != vy:
				diffs.append("%s: %s: %s=%s %s=%s" % (sp, f, la, vx,
					     lb, vy))
	return diffs


def load_expected(fn, index):
	try:
		with open(fn, "rb") as f:
			data = json.load(f)
	except (OSError, ValueError) as e:
		raise Usage("cannot read %s: %s" % (fn, e))
	try:
		entries = data[int(index)]["entries"]
	except (ValueError, IndexError, KeyError, TypeError):
		raise Usage("%s has no entry list number %s (0..%d)" %
			    (fn, index, len(data) - 1))
	out = {}
	for e in entries:
		d = dict(e)
		path = os.fsencode(d.pop("path"))
		if "target" in d:
			d["target"] = os.fsencode(d["target"])
		if "mode" in d:
			d["mode"] = "%04o" % int(d["mode"], 8)
		out[path] = d
	return out


def report(diffs, n):
	for line in diffs:
		print(line)
	if diffs:
		print("%d difference%s" % (len(diffs), "" if len(diffs) == 1
					   else "s"))
		return 1
	print("trees match (%d entries)" % n)
	return 0


def run(argv):
	opts = {"no_owner": False, "ignore_dir_mtime": False}
	expected = None
	args = []
	i = 0
	while i < len(argv):
		a = argv[i]
		if a == "--no-owner":
			opts["no_owner"] = True
		elif a == "--ignore-dir-mtime":
			opts["ignore_dir_mtime"] = True
		elif a == "--expected":
			if i + 1 >= len(argv):
				raise Usage("--expected needs a file")
			expected = argv[i + 1]
			i += 1
		elif a == "--self-test":
			return self_test()
		elif a == "--":
			args += argv[i + 1:]
			break
		elif a.startswith("--"):
			raise Usage("unknown option %s" % a)
		else:
			args.append(a)
		i += 1
	if expected is not None:
		if len(args) != 2:
			raise Usage("--expected FILE needs INDEX and DIR")
		want = load_expected(expected, args[0])
		have = scan(args[1])
		return report(compare(want, have, opts, "expected", "actual"),
			      len(set(want) | set(have)))
	if len(args) != 2:
		raise Usage("need two directories")
	a, b = scan(args[0]), scan(args[1])
	return report(compare(a, b, opts), len(set(a) | set(b)))


def main(argv):
	try:
		return run(argv[1:])
	except Usage as e:
		sys.stderr.write("treecmp.py: %s\n" % e)
		sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
		return 2


# ------------------------------------------------------------ self test

def self_test():
	"""Check mktree.py and this tool against each other and a fixture."""
	here = os.path.dirname(os.path.abspath(__file__))
	mktree = os.path.join(here, "mktree.py")
	fails = []

	def check(cond, what):
		print("%s %s" % ("ok  " if cond else "FAIL", what))
		if not cond:
			fails.append(what)

	def cmp(*args):
		r = subprocess.run([sys.executable, __file__] + list(args),
				   capture_output=True)
		return r.returncode, r.stdout.decode("utf-8", "replace")

	def mk(d, phase):
		subprocess.run([sys.executable, mktree, d, str(phase)], check=True)

	tmp = tempfile.mkdtemp(prefix="arca-treecmp-")
	try:
		a, b, c = (os.path.join(tmp, x) for x in ("a", "b", "c"))
		mk(a, 0)
		mk(b, 0)
		rc, out = cmp(a, b)
		check(rc == 0 and out.startswith("trees match ("),
		      "mktree twice gives identical trees: " + out.strip())
		n = int(out.split("(")[1].split()[0]) if rc == 0 else 0
		check(n > 60, "phase 0 tree has %d entries" % n)

		st = os.lstat(os.path.join(a, "hardlink-1"))
		check(st.st_nlink == 2, "hard-linked pair")
		check(os.lstat(os.path.join(a, "future.txt")).st_mtime ==
		      10413792000, "mtime in 2300")
		check(os.lstat(os.path.join(a, "epoch.txt")).st_mtime == 0,
		      "mtime 0")
		check(os.path.exists(os.fsencode(a) + b"/raw\xffbyte"),
		      "raw 0xff name")

		# a copy matches; mutating it is reported, field by field
		subprocess.run(["cp", "-a", a, c], check=True)
		rc, out = cmp(a, c)
		check(rc == 0, "cp -a copy matches")
		root_st = os.lstat(c)
		f = os.path.join(c, "size-65536")
		st = os.lstat(f)
		with open(f, "r+b") as fh:
			fh.seek(30000)
			x = fh.read(1)
			fh.seek(30000)
			fh.write(bytes([x[0] ^ 1]))
		os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
		os.chmod(os.path.join(c, "private.txt"), 0o644)
		os.utime(os.path.join(c, "deep/d01"), (5, 5))
		os.unlink(os.path.join(c, "link-retarget"))
		os.symlink("elsewhere", os.path.join(c, "link-retarget"))
		os.unlink(os.path.join(c, "a.b"))
		os.unlink(os.path.join(c, "new\nline"))
		os.mkdir(os.path.join(c, "new\nline"))
		os.chown(os.path.join(c, "notes.txt"), 4242, -1)
		os.utime(c, ns=(root_st.st_atime_ns, root_st.st_mtime_ns))
		rc, out = cmp(a, c)
		want = [
			"size-65536: sha256: ",
			"private.txt: mode: A=0600 B=0644",
			"deep/d01: mtime: A=1700000000 B=5",
			"link-retarget: target: A=text.txt B=elsewhere",
			"a.b: only in A (reg)",
			"new\\nline: type: A=reg B=dir",
			"notes.txt: uid: A=%d B=4242" % os.getuid(),
			"7 differences",
		]
		check(rc == 1 and all(w in out for w in want),
		      "mutations reported:\n" + out)
		check("size-65536: size" not in out, "same size not reported")
		rc, out = cmp("--ignore-dir-mtime", "--no-owner", a, c)
		check(rc == 1 and "deep/d01" not in out and "uid" not in out
		      and "5 differences" in out,
		      "--ignore-dir-mtime and --no-owner drop those")

		# phases: stepwise equals at once, and each phase changes things
		mk(a, 1)
		mk(a, 2)
		mk(c + "2", 2)
		rc, out = cmp(a, c + "2")
		check(rc == 0, "phase 0,1,2 stepwise equals phase 2 at once: "
		      + out.strip())
		mk(b, 1)
		rc, out = cmp(a, b)
		check(rc == 1 and "fifo: only in A" not in out and
		      "fifo: only in B (fifo)" in out and
		      "big.bin: size: A=70000 B=2500000" in out,
		      "phase 1 and 2 differ")
		shutil.rmtree(c)
		os.mkdir(c)
		mk(c, 0)
		rc, out = cmp(b, c)
		for w in ("private.txt: mode: A=0640 B=0600",
			  "tree: only in B (dir)", "renamed.txt: only in A",
			  "rename-me.txt: only in B", "dir-to-file: type: A=reg B=dir",
			  "file-to-dir: type: A=dir B=reg",
			  "link-to-file: type: A=reg B=sym",
			  "link-retarget: target: A=notes.txt B=text.txt",
			  "new-empty-dir: only in A (dir)", "big.bin: sha256",
			  "text.txt: size: A=20500 B=20000"):
			check(w in out, "phase 1 change seen: " + w)
		check("private.txt: mtime" not in out and
		      os.lstat(os.path.join(b, "renamed-dir")).st_mtime == 1700000000
		      and "size-300000" not in out,
		      "phase 1 keeps mtimes it should")

		# --expected against a real duplicity restore of the fixture
		data = os.environ.get("ARCA_TEST_DATA",
				      os.path.join(here, "..", "data"))
		fx = os.path.join(data, "duplicity-0.8.22")
		ej = os.path.join(fx, "expected.json")
		dup = shutil.which("duplicity")
		if dup is None:
			print("SKIP --expected vs duplicity: duplicity not found")
		else:
			for idx, t in enumerate(("20240101T000000Z",
						 "20240102T000000Z",
						 "20240103T000000Z")):
				out_dir = os.path.join(tmp, "restore%d" % idx)
				r = subprocess.run([dup, "restore", "--no-encryption",
						    "--archive-dir",
						    os.path.join(tmp, "cache"),
						    "--time", t,
						    "file://" + os.path.abspath(
							    os.path.join(fx, "plain")),
						    out_dir],
						   capture_output=True)
				check(r.returncode == 0, "duplicity restore %s" % t)
				rc, out = cmp("--expected", ej, str(idx), out_dir)
				check(rc == 0, "--expected %d matches duplicity's "
				      "restore: %s" % (idx, out.strip()))
			rc, out = cmp("--expected", ej, "0",
				      os.path.join(tmp, "restore1"))
			check(rc == 1 and "docs/b.txt: only in expected" in out
			      and "newdir: only in actual (dir)" in out and
			      "private.txt: mode: expected=0600 actual=0640"
			      in out, "--expected reports differences:\n" + out)
			rc, out = cmp("--expected", ej, "7", a)
			check(rc == 2, "--expected with a bad index is refused")
	finally:
		shutil.rmtree(tmp, ignore_errors=True)
	print("self-test: %s" % ("FAILED: %d" % len(fails) if fails else
				 "all passed"))
	return 1 if fails else 0


if __name__ == "__main__":
	sys.exit(main(sys.argv))
