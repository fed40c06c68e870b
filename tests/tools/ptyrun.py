#!/usr/bin/python3
"""ptyrun.py OUT STDOUT CMD...: run CMD with stderr (and stdout when STDOUT
is "tty", else into the file STDOUT) on a pseudo-terminal 200 columns wide;
write everything the terminal got to OUT; exit with CMD's status."""
import fcntl
import os
import struct
import subprocess
import sys
import termios

out, where, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
master, slave = os.openpty()
fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
stdout = slave if where == "tty" else open(where, "wb")
p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=stdout,
                     stderr=slave)
os.close(slave)
got = bytearray()
while True:
    try:
        b = os.read(master, 65536)
    except OSError:  # EIO: the last writer closed the terminal
        break
    if not b:
        break
    got += b
rc = p.wait()
with open(out, "wb") as f:
    f.write(got)
sys.exit(rc)
