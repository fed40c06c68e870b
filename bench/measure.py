#!/usr/bin/python3
"""measure.py: wall time, CPU time and peak RSS of a command and everything it starts.

  measure.py [--timeout-after-exit S] OUT -- CMD [ARGS...]

Writes one line to OUT:

  wall user sys maxrss_main_kib maxrss_any_kib processes exit_status others_cpu

others_cpu is the CPU time the rest of the machine used meanwhile (all busy
time in /proc/stat minus this tree's user+sys, up to the command's exit): on
a shared machine it says how much the numbers were disturbed.

/usr/bin/time -f '%e %U %S %M' cannot see a grandchild that was reparented
away: GPGME double-forks every gpg it runs, so gpg's CPU (all of the
compression and encryption of arca's backup) and memory would be missed.
This wrapper makes itself a child subreaper (prctl PR_SET_CHILD_SUBREAPER),
so such orphans are reparented to it, and reaps every process of the tree
with wait4, summing user+sys and keeping each process's ru_maxrss.

maxrss_main is the command's own process (with what it reaped itself);
maxrss_any is the largest single process in the tree (a sum would not mean
much: the processes do not all peak at once).  A daemon started inside the
tree (gpg-agent) is not waited for: start it before measuring.  After the
command exits, remaining descendants get --timeout-after-exit seconds
(default 60) to finish, then the result is written without them and they
are listed on stderr.

The exit status of CMD is this program's exit status.  Standard library only.
"""

import ctypes
import os
import signal
import sys
import time

PR_SET_CHILD_SUBREAPER = 36


def busy_seconds():
	"""All CPUs' non-idle time so far, from /proc/stat."""
	with open("/proc/stat") as f:
		v = [int(x) for x in f.readline().split()[1:]]
	# user nice system idle iowait irq softirq steal guest guest_nice;
	# guest time is already inside user.
	busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7]
	return busy / os.sysconf("SC_CLK_TCK")


def main():
	argv = sys.argv[1:]
	grace = 60.0
	if len(argv) >= 2 and argv[0] == "--timeout-after-exit":
		grace = float(argv[1])
		argv = argv[2:]
	if len(argv) < 3 or argv[1] != "--":
		sys.exit("usage: measure.py [--timeout-after-exit S] OUT -- CMD [ARGS...]")
	out, cmd = argv[0], argv[2:]

	libc = ctypes.CDLL(None, use_errno=True)
	if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
		sys.exit("prctl(PR_SET_CHILD_SUBREAPER): errno %d" % ctypes.get_errno())

	b0 = busy_seconds()
	t0 = time.monotonic()
	pid = os.fork()
	if pid == 0:
		try:
			os.execvp(cmd[0], cmd)
		finally:
			os._exit(127)

	# The command's own exit is the end of the wall time; descendants still
	# running then are waited for (their CPU counts) but not timed.
	user = sys_t = 0.0
	rss_main = rss_any = 0
	procs = 0
	status = None
	wall = None
	deadline = None

	def on_alarm(signum, frame):
		raise TimeoutError

	signal.signal(signal.SIGALRM, on_alarm)
	while True:
		try:
			if deadline is not None:
				left = deadline - time.monotonic()
				if left <= 0:
					raise TimeoutError
				signal.setitimer(signal.ITIMER_REAL, left)
			p, st, ru = os.wait4(-1, 0)
			signal.setitimer(signal.ITIMER_REAL, 0)
		except ChildProcessError:
			break
		except TimeoutError:
			print("measure.py: descendants still running %.0f s after %s exited; not counted"
			      % (grace, cmd[0]), file=sys.stderr)
			os.system("ps -o pid,ppid,etime,args --ppid %d >&2" % os.getpid())
			break
		except InterruptedError:
			continue
		procs += 1
		user += ru.ru_utime
		sys_t += ru.ru_stime
		rss_any = max(rss_any, ru.ru_maxrss)
		if p == pid:
			wall = time.monotonic() - t0
			b1 = busy_seconds()
			rss_main = ru.ru_maxrss
			status = os.waitstatus_to_exitcode(st)
			if status < 0:
				status = 128 - status
			deadline = time.monotonic() + grace

	with open(out, "w") as f:
		others = max(0.0, b1 - b0 - user - sys_t)
		f.write("%.3f %.3f %.3f %d %d %d %d %.2f\n"
			% (wall, user, sys_t, rss_main, rss_any, procs, status, others))
	sys.exit(status)


if __name__ == "__main__":
	main()
