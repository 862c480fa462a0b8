#!/usr/bin/env python3
"""idle_clients.py - open N client connections to a PostgreSQL server or
proxy, take each through startup and authentication up to ReadyForQuery,
then hold them all idle until SIGTERM/SIGINT (or --hold seconds).

    idle_clients.py HOST PORT USER DATABASE N [--password PW] [--parallel P] [--hold S]

Prints "holding K ..." on stdout once every connection has either reached
ReadyForQuery (K of them) or failed; bench/compare.sh (idle mode) then reads
the proxy's RSS.  Authentication: trust, cleartext, md5 (SCRAM is not
needed for the bench: its pool_hba is trust).  Standard library only;
connections are opened P at a time with non-blocking sockets and epoll.
"""

import argparse
import hashlib
import resource
import selectors
import signal
import socket
import struct
import sys
import time


def startup_packet(user, db):
    body = struct.pack("!I", 196608)
    for k, v in (("user", user), ("database", db), ("application_name", "idle_clients")):
        body += k.encode() + b"\0" + v.encode() + b"\0"
    body += b"\0"
    return struct.pack("!I", len(body) + 4) + body


class Client:
    __slots__ = ("sock", "buf", "out", "state", "err")

    def __init__(self):
        self.sock = None
        self.buf = b""
        self.out = b""
        self.state = "connecting"
        self.err = None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("user")
    ap.add_argument("database")
    ap.add_argument("n", type=int)
    ap.add_argument("--password", default="")
    ap.add_argument("--parallel", type=int, default=64)
    ap.add_argument("--hold", type=float, default=0, help="seconds to hold (0 = until a signal)")
    a = ap.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = a.n + 64
    if soft != resource.RLIM_INFINITY and soft < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard) if hard != resource.RLIM_INFINITY else want, hard))
        except (ValueError, OSError):
            pass
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))

    sel = selectors.DefaultSelector()
    pkt = startup_packet(a.user, a.database)
    held, failed, errors = [], 0, {}
    started = 0
    inflight = 0
    t0 = time.time()

    def fail(c, why):
        nonlocal failed, inflight
        failed += 1
        inflight -= 1
        errors[why] = errors.get(why, 0) + 1
        try:
            sel.unregister(c.sock)
        except (KeyError, ValueError):
            pass
        c.sock.close()

    def send(c, data):
        c.out += data
        sel.modify(c.sock, selectors.EVENT_READ | selectors.EVENT_WRITE, c)

    def handle_msgs(c):
        nonlocal inflight
        while len(c.buf) >= 5:
            typ = c.buf[0:1]
            ln = struct.unpack("!I", c.buf[1:5])[0]
            if len(c.buf) < ln + 1:
                return
            body = c.buf[5:ln + 1]
            c.buf = c.buf[ln + 1:]
            if typ == b"R":
                code = struct.unpack("!I", body[:4])[0]
                if code == 0:
                    continue
                if code == 3:
                    pw = a.password.encode() + b"\0"
                    send(c, b"p" + struct.pack("!I", len(pw) + 4) + pw)
                elif code == 5:
                    salt = body[4:8]
                    inner = hashlib.md5(a.password.encode() + a.user.encode()).hexdigest()
                    pw = b"md5" + hashlib.md5(inner.encode() + salt).hexdigest().encode() + b"\0"
                    send(c, b"p" + struct.pack("!I", len(pw) + 4) + pw)
                else:
                    fail(c, "authentication method %d not supported here" % code)
                    return
            elif typ == b"E":
                fields = dict((f[0:1].decode(), f[1:].decode(errors="replace"))
                              for f in body.split(b"\0") if f)
                fail(c, "%s %s" % (fields.get("C", "?"), fields.get("M", "?")))
                return
            elif typ == b"Z":
                sel.unregister(c.sock)
                held.append(c.sock)
                inflight -= 1
                c.state = "ready"
                return

    while (started < a.n or inflight > 0) and not stop:
        while started < a.n and inflight < a.parallel:
            c = Client()
            try:
                c.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            except OSError as e:
                errors["socket(): %s" % e.strerror] = errors.get("socket(): %s" % e.strerror, 0) + a.n - started
                failed += a.n - started
                started = a.n
                break
            c.sock.setblocking(False)
            c.sock.connect_ex((a.host, a.port))
            c.out = pkt
            sel.register(c.sock, selectors.EVENT_WRITE, c)
            started += 1
            inflight += 1
        for key, ev in sel.select(timeout=30):
            c = key.data
            if ev & selectors.EVENT_WRITE and c.out:
                try:
                    n = c.sock.send(c.out)
                except OSError as e:
                    fail(c, "send: %s" % e.strerror)
                    continue
                c.out = c.out[n:]
                if not c.out:
                    sel.modify(c.sock, selectors.EVENT_READ, c)
                continue
            if ev & selectors.EVENT_READ:
                try:
                    data = c.sock.recv(65536)
                except OSError as e:
                    fail(c, "recv: %s" % e.strerror)
                    continue
                if not data:
                    fail(c, "connection closed by the server")
                    continue
                c.buf += data
                handle_msgs(c)

    note = "in %.1f s; %d failed%s; client nofile %d" % (
        time.time() - t0, failed,
        "".join(" [%d x %s]" % (n, w) for w, n in sorted(errors.items(), key=lambda x: -x[1])[:3]), soft)
    print("holding %d %s" % (len(held), note), flush=True)
    deadline = time.time() + a.hold if a.hold > 0 else None
    while not stop and (deadline is None or time.time() < deadline):
        time.sleep(0.2)
    for s in held:
        try:
            s.send(b"X\0\0\0\4")
        except OSError:
            pass
        s.close()
    return 0 if held else 1


if __name__ == "__main__":
    sys.exit(main())
