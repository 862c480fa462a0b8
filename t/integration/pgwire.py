#!/usr/bin/env python3
"""pgwire.py - a tiny PostgreSQL v3 protocol client (stdlib only) for the
integration tests: things psql cannot do or cannot show.

    pgwire.py COMMAND HOST PORT [ARGS...]

Every command prints what it saw and exits 0 when the server (the proxy)
behaved as PostgreSQL would, 1 otherwise (with the reason on stderr).
Run without arguments for the list of commands.
"""

import hashlib
import hmac
import base64
import os
import socket
import struct
import sys
import time

TIMEOUT = float(os.environ.get("PGWIRE_IO_TIMEOUT", "10"))


class Closed(Exception):
    pass


def die(msg):
    sys.stderr.write("pgwire: %s\n" % msg)
    sys.exit(1)


def cstr(s):
    return s.encode() + b"\0"


def parse_fields(payload):
    """ErrorResponse / NoticeResponse fields -> dict."""
    out = {}
    i = 0
    while i < len(payload) and payload[i] != 0:
        code = chr(payload[i])
        j = payload.index(b"\0", i + 1)
        out[code] = payload[i + 1:j].decode(errors="replace")
        i = j + 1
    return out


def fmt_error(f):
    return "%s %s %s" % (f.get("S", "?"), f.get("C", "?"), f.get("M", "?"))


class Conn:
    def __init__(self, host, port, timeout=TIMEOUT):
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        self.buf = b""
        self.params = {}
        self.key = None
        self.auth_seen = []

    # ---- raw I/O
    def sendall(self, data):
        self.sock.sendall(data)

    def send(self, typ, payload=b""):
        self.sock.sendall(typ.encode() + struct.pack("!i", len(payload) + 4) + payload)

    def _fill(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise Closed()
            self.buf += chunk

    def recv(self):
        """-> (type char, payload bytes); raises Closed on EOF,
        socket.timeout when nothing arrives."""
        self._fill(5)
        typ = chr(self.buf[0])
        (length,) = struct.unpack("!i", self.buf[1:5])
        if length < 4 or length > 1 << 30:
            raise Exception("bad length %d in message %r" % (length, typ))
        self._fill(1 + length)
        payload = self.buf[5:1 + length]
        self.buf = self.buf[1 + length:]
        return typ, payload

    def close(self):
        try:
            self.send("X")
        except OSError:
            pass
        self.sock.close()

    # ---- startup and authentication
    def startup(self, user, database, password=None, options=None, extra=None):
        """Log in.  Returns None on success (ReadyForQuery seen), else the
        ErrorResponse fields."""
        body = struct.pack("!i", 196608)
        body += cstr("user") + cstr(user) + cstr("database") + cstr(database)
        if options:
            body += cstr("options") + cstr(options)
        for k, v in (extra or {}).items():
            body += cstr(k) + cstr(v)
        body += b"\0"
        self.sendall(struct.pack("!i", len(body) + 4) + body)
        scram = None
        while True:
            typ, p = self.recv()
            if typ == "E":
                return parse_fields(p)
            if typ == "R":
                (code,) = struct.unpack("!i", p[:4])
                if code == 0:
                    self.auth_seen.append("ok")
                elif code == 3:
                    self.auth_seen.append("cleartext")
                    if password is None:
                        return {"S": "CLIENT", "C": "-", "M": "password requested (cleartext)"}
                    self.send("p", cstr(password))
                elif code == 5:
                    self.auth_seen.append("md5")
                    if password is None:
                        return {"S": "CLIENT", "C": "-", "M": "password requested (md5)"}
                    inner = hashlib.md5((password + user).encode()).hexdigest()
                    outer = hashlib.md5(inner.encode() + p[4:8]).hexdigest()
                    self.send("p", cstr("md5" + outer))
                elif code == 10:
                    mechs = [m.decode() for m in p[4:].split(b"\0") if m]
                    self.auth_seen.append("sasl:" + ",".join(mechs))
                    if password is None:
                        return {"S": "CLIENT", "C": "-", "M": "password requested (sasl)"}
                    if "SCRAM-SHA-256" not in mechs:
                        die("server offers no SCRAM-SHA-256: %r" % mechs)
                    scram = Scram(password)
                    first = scram.client_first().encode()
                    self.send("p", cstr("SCRAM-SHA-256") + struct.pack("!i", len(first)) + first)
                elif code == 11:
                    self.send("p", scram.client_final(p[4:].decode()).encode())
                elif code == 12:
                    scram.verify_final(p[4:].decode())
                else:
                    die("unsupported authentication request %d" % code)
            elif typ == "S":
                k, v = p.split(b"\0")[:2]
                self.params[k.decode()] = v.decode()
            elif typ == "K":
                self.key = struct.unpack("!ii", p)
            elif typ == "Z":
                return None
            elif typ == "N":
                pass
            else:
                die("unexpected message %r during startup" % typ)

    def login(self, user, database, password=None, **kw):
        err = self.startup(user, database, password, **kw)
        if err is not None:
            die("login as %s to %s failed: %s" % (user, database, fmt_error(err)))

    # ---- queries
    def until_ready(self):
        """Read messages up to and including ReadyForQuery."""
        msgs = []
        while True:
            typ, p = self.recv()
            msgs.append((typ, p))
            if typ == "Z":
                return msgs

    def query(self, sql):
        self.send("Q", cstr(sql))
        return self.until_ready()


class Scram:
    def __init__(self, password):
        self.password = password
        self.nonce = base64.b64encode(os.urandom(18)).decode()

    def client_first(self):
        self.first_bare = "n=,r=" + self.nonce
        return "n,," + self.first_bare

    def client_final(self, server_first):
        attrs = dict(a.split("=", 1) for a in server_first.split(","))
        if not attrs["r"].startswith(self.nonce):
            die("SCRAM: server nonce does not extend ours")
        salt = base64.b64decode(attrs["s"])
        iters = int(attrs["i"])
        salted = hashlib.pbkdf2_hmac("sha256", self.password.encode(), salt, iters)
        client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
        stored_key = hashlib.sha256(client_key).digest()
        without_proof = "c=biws,r=" + attrs["r"]
        self.auth_message = ",".join([self.first_bare, server_first, without_proof]).encode()
        sig = hmac.new(stored_key, self.auth_message, hashlib.sha256).digest()
        proof = bytes(a ^ b for a, b in zip(client_key, sig))
        self.server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
        return without_proof + ",p=" + base64.b64encode(proof).decode()

    def verify_final(self, server_final):
        attrs = dict(a.split("=", 1) for a in server_final.split(","))
        want = hmac.new(self.server_key, self.auth_message, hashlib.sha256).digest()
        if base64.b64decode(attrs.get("v", "")) != want:
            die("SCRAM: server signature does not verify")


def types(msgs):
    return "".join(t for t, _ in msgs)


def data_rows(msgs):
    rows = []
    for t, p in msgs:
        if t != "D":
            continue
        (n,) = struct.unpack("!h", p[:2])
        i = 2
        row = []
        for _ in range(n):
            (ln,) = struct.unpack("!i", p[i:i + 4])
            i += 4
            if ln < 0:
                row.append(None)
            else:
                row.append(p[i:i + ln].decode())
                i += ln
        rows.append(row)
    return rows


def errors(msgs):
    return [parse_fields(p) for t, p in msgs if t == "E"]


# ------------------------------------------------------------------ commands
def cmd_auth_request(host, port, user, db):
    """Print the first authentication request the server makes of USER."""
    c = Conn(host, port)
    err = c.startup(user, db)
    if c.auth_seen:
        print(c.auth_seen[0] if c.auth_seen[0] != "ok" else "trust")
    elif err:
        print("error " + fmt_error(err))
    c.sock.close()


def cmd_login(host, port, user, db, password):
    """Log in (cleartext/md5/SCRAM as asked) and print current_user."""
    c = Conn(host, port)
    err = c.startup(user, db, password or None)
    if err is not None:
        print("auth=%s error %s" % (",".join(c.auth_seen), fmt_error(err)))
        sys.exit(1)
    rows = data_rows(c.query("SELECT current_user"))
    print("auth=%s user=%s" % (",".join(c.auth_seen), rows[0][0]))
    c.close()


def cmd_params(host, port, user, db):
    """Print the ParameterStatus values and whether BackendKeyData came."""
    c = Conn(host, port)
    c.login(user, db)
    for k in sorted(c.params):
        print("%s=%s" % (k, c.params[k]))
    print("backend_key_data=%s" % ("yes" if c.key else "no"))
    c.close()


def cmd_empty_query(host, port, user, db):
    c = Conn(host, port)
    c.login(user, db)
    got = types(c.query(""))
    print(got)
    if got != "IZ":
        die("empty query: expected EmptyQueryResponse + ReadyForQuery (IZ), got %r" % got)
    got = types(c.query(";"))
    if got != "IZ":
        die("query ';': expected IZ, got %r" % got)
    c.close()


def cmd_extended(host, port, user, db):
    """Pipelined extended protocol, an error inside a pipeline, Flush,
    Close, and a prepared statement reused by name."""
    c = Conn(host, port)
    c.login(user, db)
    fail = []
    # 1: named statement + unnamed statement in one pipeline.
    c.send("P", cstr("s1") + cstr("SELECT $1::int + 1") + struct.pack("!h", 0))
    c.send("B", cstr("") + cstr("s1") + struct.pack("!h", 0) + struct.pack("!h", 1)
           + struct.pack("!i", 2) + b"41" + struct.pack("!h", 0))
    c.send("D", b"P" + cstr(""))
    c.send("E", cstr("") + struct.pack("!i", 0))
    c.send("P", cstr("") + cstr("SELECT 'x' AS a UNION ALL SELECT 'y'") + struct.pack("!h", 0))
    c.send("B", cstr("") + cstr("") + struct.pack("!hhh", 0, 0, 0))
    c.send("E", cstr("") + struct.pack("!i", 0))
    c.send("S")
    msgs = c.until_ready()
    t = types(msgs)
    print("pipeline1 " + t)
    if t != "12TDC12DDCZ":
        fail.append("pipeline1: expected 12TDC12DDCZ, got %s" % t)
    if data_rows(msgs) != [["42"], ["x"], ["y"]]:
        fail.append("pipeline1 rows: %r" % data_rows(msgs))
    # 2: an error in the middle: the rest up to Sync is skipped.
    c.send("P", cstr("") + cstr("SELECT 1/(SELECT 0)") + struct.pack("!h", 0))
    c.send("B", cstr("") + cstr("") + struct.pack("!hhh", 0, 0, 0))
    c.send("E", cstr("") + struct.pack("!i", 0))
    c.send("P", cstr("") + cstr("SELECT 2") + struct.pack("!h", 0))
    c.send("B", cstr("") + cstr("") + struct.pack("!hhh", 0, 0, 0))
    c.send("E", cstr("") + struct.pack("!i", 0))
    c.send("S")
    msgs = c.until_ready()
    t = types(msgs)
    print("pipeline2 " + t)
    errs = errors(msgs)
    if t != "12EZ" or not errs or errs[0].get("C") != "22012":
        fail.append("pipeline2: expected 12EZ with 22012, got %s %r" % (t, errs))
    if msgs[-1][1] != b"I":
        fail.append("pipeline2: transaction status after Sync %r, want I" % msgs[-1][1])
    # 3: Flush makes ParseComplete arrive before Sync; reuse s1; Close it.
    c.send("P", cstr("s2") + cstr("SELECT 7") + struct.pack("!h", 0))
    c.send("H")
    typ, _ = c.recv()
    print("flush " + typ)
    if typ != "1":
        fail.append("flush: expected ParseComplete before Sync, got %r" % typ)
    c.send("B", cstr("") + cstr("s1") + struct.pack("!h", 0) + struct.pack("!h", 1)
           + struct.pack("!i", 1) + b"9" + struct.pack("!h", 0))
    c.send("E", cstr("") + struct.pack("!i", 0))
    c.send("C", b"S" + cstr("s1"))
    c.send("C", b"S" + cstr("s2"))
    c.send("S")
    msgs = c.until_ready()
    t = types(msgs)
    print("pipeline3 " + t)
    if t != "2DC33Z" or data_rows(msgs) != [["10"]]:
        fail.append("pipeline3: expected 2DC33Z with 10, got %s %r" % (t, data_rows(msgs)))
    # 4: s1 is gone now.
    c.send("B", cstr("") + cstr("s1") + struct.pack("!hhh", 0, 0, 0))
    c.send("S")
    msgs = c.until_ready()
    errs = errors(msgs)
    if not errs or errs[0].get("C") != "26000":
        fail.append("closed statement: expected 26000, got %s %r" % (types(msgs), errs))
    c.close()
    if fail:
        die("; ".join(fail))


def cmd_funccall(host, port, user, db, oid):
    """FunctionCall (int4pl(2, 3)) -> FunctionCallResponse 5."""
    c = Conn(host, port)
    c.login(user, db)
    body = struct.pack("!i", int(oid)) + struct.pack("!hh", 1, 0) + struct.pack("!h", 2)
    body += struct.pack("!i", 1) + b"2" + struct.pack("!i", 1) + b"3"
    body += struct.pack("!h", 0)
    c.send("F", body)
    msgs = c.until_ready()
    t = types(msgs)
    res = None
    for typ, p in msgs:
        if typ == "V":
            (ln,) = struct.unpack("!i", p[:4])
            res = p[4:4 + ln].decode()
    print("%s %s" % (t, res))
    if t != "VZ" or res != "5":
        die("function call: expected VZ with 5, got %s %r %r" % (t, res, errors(msgs)))
    c.close()


def cmd_listen(host, port, user, db, channel, readyfile, wait):
    """LISTEN, tell the test we are ready (READYFILE), then wait idle for a
    NotificationResponse that arrives without any query being sent."""
    c = Conn(host, port)
    c.login(user, db)
    t = types(c.query("LISTEN " + channel))
    if not t.endswith("Z") or "E" in t:
        die("LISTEN failed: %s" % t)
    with open(readyfile, "w") as f:
        f.write("ready\n")
    c.sock.settimeout(float(wait))
    try:
        typ, p = c.recv()
    except socket.timeout:
        die("no notification within %ss while idle" % wait)
    if typ != "A":
        die("expected NotificationResponse, got %r" % typ)
    (pid,) = struct.unpack("!i", p[:4])
    ch, payload = p[4:].split(b"\0")[:2]
    print("notification %s %s" % (ch.decode(), payload.decode()))
    c.close()


def cancel_request(host, port, pid, key):
    s = socket.create_connection((host, int(port)), timeout=TIMEOUT)
    s.sendall(struct.pack("!iiii", 16, 80877102, pid, key))
    # The server closes without answering.
    try:
        s.recv(1)
    except OSError:
        pass
    s.close()


def cmd_cancel(host, port, user, db):
    """CancelRequest on a new connection with the BackendKeyData that the
    proxy sent: pg_sleep(30) ends with 57014 within seconds, the session
    stays usable.  A wrong key cancels nothing."""
    c = Conn(host, port)
    c.login(user, db)
    if not c.key:
        die("no BackendKeyData received")
    pid, key = c.key
    # wrong key first: must not cancel pg_sleep(2)
    t0 = time.time()
    c.send("Q", cstr("SELECT pg_sleep(2), 'slept'"))
    time.sleep(0.5)
    cancel_request(host, port, pid, key ^ 0x5a5a5a5a)
    cancel_request(host, port, pid + 1, key)
    msgs = c.until_ready()
    if errors(msgs) or data_rows(msgs) != [["", "slept"]]:
        die("a CancelRequest with a wrong key interfered: %s %r" % (types(msgs), errors(msgs)))
    print("wrong-key: not cancelled (%.1fs)" % (time.time() - t0))
    # right key
    t0 = time.time()
    c.send("Q", cstr("SELECT pg_sleep(30)"))
    time.sleep(1.0)
    cancel_request(host, port, pid, key)
    c.sock.settimeout(15)
    try:
        msgs = c.until_ready()
    except socket.timeout:
        die("query not cancelled within 15 s of the CancelRequest")
    dt = time.time() - t0
    errs = errors(msgs)
    if not errs or errs[0].get("C") != "57014":
        die("expected 57014 after CancelRequest, got %s %r" % (types(msgs), errs))
    print("cancelled after %.1fs: %s" % (dt, fmt_error(errs[0])))
    if dt > 10:
        die("cancel took %.1f s" % dt)
    rows = data_rows(c.query("SELECT 'after-cancel'"))
    if rows != [["after-cancel"]]:
        die("session unusable after cancel: %r" % rows)
    c.close()


def expect_refusal(name, host, port, data, wait=5.0):
    """Send DATA on a fresh connection; the server must answer with an
    ErrorResponse or close the connection within WAIT seconds."""
    s = socket.create_connection((host, int(port)), timeout=wait)
    try:
        s.sendall(data)
    except OSError:
        print("%s: closed (send)" % name)
        return True
    got = b""
    deadline = time.time() + wait
    try:
        while time.time() < deadline:
            s.settimeout(max(0.1, deadline - time.time()))
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
    except socket.timeout:
        s.close()
        if got[:1] == b"E":
            print("%s: ErrorResponse %s (connection left open)" % (name, fmt_error(parse_fields(got[5:]))))
            return True
        print("%s: NO ANSWER within %.0fs (got %r)" % (name, wait, got[:40]))
        return False
    except ConnectionResetError:
        pass
    s.close()
    if got[:1] == b"E":
        print("%s: ErrorResponse %s" % (name, fmt_error(parse_fields(got[5:]))))
        return True
    if got == b"":
        print("%s: closed" % name)
        return True
    print("%s: UNEXPECTED answer %r" % (name, got[:60]))
    return False


def cmd_malformed(host, port):
    """Malformed startup packets; each must be refused (ErrorResponse or
    close) promptly."""
    v3 = struct.pack("!i", 196608)
    good_params = cstr("user") + cstr("app") + cstr("database") + cstr("appdb") + b"\0"
    cases = [
        ("length-2", struct.pack("!i", 2)),
        ("length-0", struct.pack("!i", 0)),
        ("length-negative", struct.pack("!i", -8) + v3),
        ("length-2GB", struct.pack("!i", 0x7FFFFFFF) + v3 + good_params),
        ("length-1GB-no-body", struct.pack("!i", 0x40000000)),
        ("garbage-http", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("garbage-random", bytes(range(7, 250, 3)) * 4),
        ("protocol-2.0", struct.pack("!i", 8 + len(good_params)) + struct.pack("!i", 2 << 16) + good_params),
        ("protocol-4.0", struct.pack("!i", 8 + len(good_params)) + struct.pack("!i", 4 << 16) + good_params),
        ("unknown-request-code", struct.pack("!ii", 8, 1234 << 16 | 9999)),
        ("no-user", struct.pack("!i", 8 + 16) + v3 + cstr("database") + cstr("appdb") + b"\0"),
        ("unterminated-params", struct.pack("!i", 16) + v3 + b"user\0app"),
        ("cancel-short", struct.pack("!ii", 12, 80877102) + struct.pack("!i", 1)),
    ]
    ok = True
    for name, data in cases:
        ok = expect_refusal(name, host, port, data) and ok
    # version errors must come as ErrorResponse, like PostgreSQL's
    # "unsupported frontend protocol" (0A000 / 08P01)
    for name, ver in (("protocol-2.0", 2 << 16), ("protocol-4.0", 4 << 16)):
        s = socket.create_connection((host, int(port)), timeout=5)
        s.sendall(struct.pack("!i", 8 + len(good_params)) + struct.pack("!i", ver) + good_params)
        try:
            got = s.recv(65536)
        except OSError:
            got = b""
        s.close()
        if got[:1] != b"E":
            print("%s: expected an ErrorResponse, got %r" % (name, got[:40]))
            ok = False
        elif got[1:2] == b"\0" or not got[1:5].startswith(b"\0"):
            # protocol-2 style ErrorResponse: 'E' + text
            print("%s: error text (v2 format): %s" % (name, got[1:].split(b"\0")[0].decode(errors="replace")))
        else:
            print("%s: error text: %s" % (name, parse_fields(got[5:]).get("M")))
    if not ok:
        sys.exit(1)


def cmd_oversize(host, port, user, db):
    """Inside a session: a message with a 2 GB length header gets an
    ErrorResponse (or the connection closed), promptly."""
    c = Conn(host, port)
    c.login(user, db)
    c.sendall(b"Q" + struct.pack("!i", 0x7FFFFFFF) + b"SELECT 1")
    try:
        typ, p = c.recv()
    except Closed:
        print("oversize: closed without ErrorResponse")
        sys.exit(2)
    except socket.timeout:
        die("no answer within %ss to a 2 GB message header" % TIMEOUT)
    if typ != "E":
        die("expected ErrorResponse, got %r" % typ)
    print("oversize: ErrorResponse %s" % fmt_error(parse_fields(p)))


def cmd_badtype(host, port, user, db):
    """Inside a session: an unknown message type is refused like PostgreSQL
    does (ErrorResponse 08P01 and close)."""
    c = Conn(host, port)
    c.login(user, db)
    c.send("z", b"junk")
    try:
        typ, p = c.recv()
    except Closed:
        print("badtype: closed without ErrorResponse")
        sys.exit(2)
    except socket.timeout:
        die("no answer within %ss to an unknown message type" % TIMEOUT)
    if typ != "E":
        die("expected ErrorResponse, got %r" % typ)
    print("badtype: ErrorResponse %s" % fmt_error(parse_fields(p)))


def cmd_partial_startup(host, port, seconds):
    """Open a connection, send half a startup packet and stay silent for
    SECONDS (a slow client must not block anybody else)."""
    s = socket.create_connection((host, int(port)), timeout=5)
    s.sendall(struct.pack("!i", 40)[:3])
    print("holding", flush=True)
    time.sleep(float(seconds))
    s.close()


def cmd_startup_error(host, port, user, db):
    """Print the ErrorResponse fields a login attempt gets (S C M), or ok."""
    c = Conn(host, port)
    err = c.startup(user, db, os.environ.get("PGPASSWORD"))
    if err is None:
        print("ok")
    else:
        print(fmt_error(err))
    c.sock.close()


COMMANDS = {
    "auth-request": (cmd_auth_request, "USER DB"),
    "login": (cmd_login, "USER DB PASSWORD"),
    "params": (cmd_params, "USER DB"),
    "empty-query": (cmd_empty_query, "USER DB"),
    "extended": (cmd_extended, "USER DB"),
    "funccall": (cmd_funccall, "USER DB OID_OF_INT4PL"),
    "listen": (cmd_listen, "USER DB CHANNEL READYFILE WAIT_SECONDS"),
    "cancel": (cmd_cancel, "USER DB"),
    "malformed": (cmd_malformed, ""),
    "oversize": (cmd_oversize, "USER DB"),
    "badtype": (cmd_badtype, "USER DB"),
    "partial-startup": (cmd_partial_startup, "SECONDS"),
    "startup-error": (cmd_startup_error, "USER DB"),
}


def run_command(commands, doc, arg_prefix="HOST PORT ", min_args=4):
    """Run sys.argv[1] of commands {name: (fn, usage)} with the remaining
    arguments; usage on a bad call, one clear line on a closed connection,
    a timeout or bad arguments (also used by secwire.py)."""
    if len(sys.argv) < min_args or sys.argv[1] not in commands:
        sys.stderr.write(doc)
        for k, (_, a) in commands.items():
            sys.stderr.write("  %s %s%s\n" % (k, arg_prefix, a))
        sys.exit(2)
    fn, _ = commands[sys.argv[1]]
    try:
        fn(*sys.argv[2:])
    except Closed:
        die("connection closed by the server")
    except socket.timeout:
        die("timed out waiting for the server")
    except TypeError as e:
        die("bad arguments: %s" % e)


if __name__ == "__main__":
    run_command(COMMANDS, __doc__)
