#!/usr/bin/python3
"""swapper.py: while a restore runs, swap its directories for symlinks.

Usage: swapper.py RESTORE_DIR OUTSIDE_DIR STOP_FILE COUNT_FILE [SECONDS]

Until STOP_FILE exists (or SECONDS pass, default 120), scan RESTORE_DIR
over and over; every real directory found below it (not the root itself)
is renamed to "<name>.moved-N" and replaced by a symlink to OUTSIDE_DIR,
so that a restore that resolves paths again after checking them would
write into OUTSIDE_DIR.  Writes the number of swaps to COUNT_FILE.
Standard library only; run with /usr/bin/python3.
"""

import os
import sys
import time


def main(argv):
	if len(argv) < 4:
		sys.stderr.write(__doc__)
		return 2
	root, outside, stop, countfile = argv[:4]
	limit = time.monotonic() + (float(argv[4]) if len(argv) > 4 else 120)
	swaps = 0
	while not os.path.exists(stop) and time.monotonic() < limit:
		for dirpath, dirnames, _ in os.walk(root):
			for d in dirnames:
				if ".moved-" in d:
					continue
				p = os.path.join(dirpath, d)
				try:
					if os.path.islink(p):
						continue
					os.rename(p, "%s.moved-%d" % (p, swaps))
					os.symlink(outside, p)
					swaps += 1
				except OSError:
					pass
			dirnames[:] = [d for d in dirnames if ".moved-" in d]
	with open(countfile, "w") as f:
		f.write("%d\n" % swaps)
	return 0


if __name__ == "__main__":
	sys.exit(main(sys.argv[1:]))
