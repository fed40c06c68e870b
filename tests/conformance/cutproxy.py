#!/usr/bin/python3
"""cutproxy.py: a TCP proxy on 127.0.0.1 that cuts every connection.

    cutproxy.py --target HOST:PORT --cut BYTES --port-file FILE

Forwards each connection to the target and, as soon as more than BYTES have
gone through in either direction, resets both sides (SO_LINGER 0): to the
client the server has gone away mid-transfer.  It is transparent to TLS and
SSH, so one proxy serves every backend.  Writes its port to FILE once it
listens.  Standard library only; for tests, loopback only.
"""

import argparse
import os
import socket
import struct
import threading


def reset(sock):
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                        struct.pack("ii", 1, 0))
    except OSError:
        pass
    # The other direction's thread may be blocked in recv on this socket:
    # close() alone would wait for it (nothing reaches the peer), shutdown
    # wakes it and tells the peer at once.
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


def pump(src, dst, limit, done):
    sent = 0
    try:
        while not done.is_set():
            data = src.recv(65536)
            if not data:
                try:
                    dst.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                return
            if sent + len(data) > limit:
                dst.sendall(data[:max(0, limit - sent)])
                break
            dst.sendall(data)
            sent += len(data)
    except OSError:
        pass
    done.set()
    reset(src)
    reset(dst)


def serve(client, target, limit):
    try:
        upstream = socket.create_connection(target, 10)
        upstream.settimeout(None)
    except OSError:
        reset(client)
        return
    done = threading.Event()
    for a, b in ((client, upstream), (upstream, client)):
        threading.Thread(target=pump, args=(a, b, limit, done),
                         daemon=True).start()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", required=True)
    ap.add_argument("--cut", type=int, required=True)
    ap.add_argument("--port-file", required=True)
    a = ap.parse_args()
    host, port = a.target.rsplit(":", 1)
    lsn = socket.socket()
    lsn.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsn.bind(("127.0.0.1", 0))
    lsn.listen(64)
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % lsn.getsockname()[1])
    os.rename(tmp, a.port_file)
    while True:
        c, _ = lsn.accept()
        serve(c, (host, int(port)), a.cut)


if __name__ == "__main__":
    main()
