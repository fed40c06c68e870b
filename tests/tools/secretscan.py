#!/usr/bin/python3
"""secretscan.py: watch /proc for a secret while a process runs.

Usage: secretscan.py SECRET_FILE PID REPORT_FILE MARK

Waits until process PID has locked memory (VmLck > 0: arca has taken the
passphrase out of its environment and mlock'ed its copy; with
SECRETSCAN_NOLOCK=1 in the environment, for sanitizer builds, whose mlock
does nothing, until its core-dump limit is 0 instead), then, until PID
exits, reads /proc/*/environ and /proc/*/cmdline of every process over and
over and reports any that contains the secret.  Also records, for PID, its
core-dump limit, and which processes were seen (to show gpg ran).  Writes
one line per finding to REPORT_FILE:
  leak PID COMM environ|cmdline
  nolock                 (PID ran 20 s without locking memory)
  exited-before-lock     (PID ended before it locked memory)
  core SOFT HARD         (PID's RLIMIT_CORE)
  seen COMM              (every command name seen among PID's descendants
                          and processes whose environment holds MARK:
                          GPGME double-forks gpg, so it is no descendant)
Exit 0 in all cases; the caller judges.  Standard library only.
"""

import os
import sys
import time


def read(path):
	try:
		with open(path, "rb") as f:
			return f.read()
	except OSError:
		return b""


def children_of(root):
	"""PIDs descending from root (by PPid), root included."""
	parent = {}
	for p in os.listdir("/proc"):
		if p.isdigit():
			for line in read("/proc/%s/status" % p).split(b"\n"):
				if line.startswith(b"PPid:"):
					parent[int(p)] = int(line.split()[1])
	out = {root}
	changed = True
	while changed:
		changed = False
		for p, pp in parent.items():
			if pp in out and p not in out:
				out.add(p)
				changed = True
	return out


def vmlck(pid):
	for line in read("/proc/%d/status" % pid).split(b"\n"):
		if line.startswith(b"VmLck:"):
			return int(line.split()[1])
	return 0


def core_limit(pid):
	for line in read("/proc/%d/limits" % pid).split(b"\n"):
		if line.startswith(b"Max core file size"):
			f = line.split()
			return "%s %s" % (f[4].decode(), f[5].decode())
	return ""


def main(argv):
	if len(argv) != 4:
		sys.stderr.write(__doc__)
		return 2
	secret = read(argv[0]).rstrip(b"\n")
	pid = int(argv[1])
	mark = argv[3].encode()
	me = os.getpid()
	report = []
	deadline = time.monotonic() + 20
	nolock = bool(os.environ.get("SECRETSCAN_NOLOCK"))
	if nolock:
		report.append("nolock-expected")
	while (core_limit(pid) != "0 0") if nolock else (vmlck(pid) == 0):
		if not os.path.exists("/proc/%d" % pid) or \
		   b"zombie" in read("/proc/%d/status" % pid):
			report.append("exited-before-lock")
			break
		if time.monotonic() > deadline:
			report.append("nolock")
			break
		time.sleep(0.005)
	for line in read("/proc/%d/limits" % pid).split(b"\n"):
		if line.startswith(b"Max core file size"):
			f = line.split()
			report.append("core %s %s" % (f[4].decode(), f[5].decode()))
	leaks = set()
	seen = set()
	while os.path.exists("/proc/%d" % pid) and \
	      b"zombie" not in read("/proc/%d/status" % pid):
		for p in os.listdir("/proc"):
			if not p.isdigit() or int(p) == me:
				continue
			env = read("/proc/%s/environ" % p)
			comm = read("/proc/%s/comm" % p).strip().decode(
				errors="replace")
			if secret in env:
				leaks.add("leak %s %s environ" % (p, comm))
			if secret in read("/proc/%s/cmdline" % p):
				leaks.add("leak %s %s cmdline" % (p, comm))
			if mark in env and comm:
				seen.add("seen " + comm)
		for p in children_of(pid):
			comm = read("/proc/%d/comm" % p).strip()
			if comm:
				seen.add("seen " + comm.decode(errors="replace"))
	report.extend(sorted(leaks))
	report.extend(sorted(seen))
	with open(argv[2], "w") as f:
		f.write("\n".join(report) + "\n")
	return 0


if __name__ == "__main__":
	sys.exit(main(sys.argv[1:]))
