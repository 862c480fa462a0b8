#!/usr/bin/env python3
"""secwire.py - hostile and TLS clients for the security tests
(t/integration/75-tls.sh, 85-bad-input.sh); stdlib only, builds on
pgwire.py.

    secwire.py COMMAND ARGS...

Every command prints what it saw; exit 0 when the server behaved as
PostgreSQL (or Pgpool-II, for PCP) would, 1 otherwise (reason on stderr).
Run without arguments for the list.
"""

import base64
import hashlib
import hmac
import os
import socket
import ssl
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgwire  # noqa: E402
from pgwire import Closed, Conn, cstr, data_rows, die, fmt_error, parse_fields  # noqa: E402

TIMEOUT = float(os.environ.get("PGWIRE_IO_TIMEOUT", "10"))
SSLREQ = struct.pack("!ii", 8, 80877103)


def startup_packet(user, db, version=196608):
    body = struct.pack("!i", version) + cstr("user") + cstr(user) + cstr("database") + cstr(db) + b"\0"
    return struct.pack("!i", len(body) + 4) + body


def read_answer(s, wait):
    """Bytes the server sends until it closes or WAIT seconds pass:
    (bytes, closed)."""
    got = b""
    deadline = time.time() + wait
    try:
        while time.time() < deadline:
            s.settimeout(max(0.05, deadline - time.time()))
            chunk = s.recv(65536)
            if not chunk:
                return got, True
            got += chunk
    except socket.timeout:
        return got, False
    except (ConnectionResetError, BrokenPipeError, ssl.SSLError, OSError):
        return got, True
    return got, False


def first_error(got):
    """Fields of the first ErrorResponse in GOT (protocol 3), or None."""
    i = 0
    while i + 5 <= len(got):
        t = got[i:i + 1]
        (ln,) = struct.unpack("!i", got[i + 1:i + 5])
        if ln < 4:
            return None
        if t == b"E":
            return parse_fields(got[i + 5:i + 1 + ln])
        i += 1 + ln
    return None


def expect_error(name, got, closed, code=None, text=None):
    err = first_error(got)
    if err is None:
        print("%s: no ErrorResponse (closed=%s, got %r)" % (name, closed, got[:60]))
        return False
    print("%s: %s" % (name, fmt_error(err)))
    if code and err.get("C") != code:
        sys.stderr.write("%s: expected SQLSTATE %s, got %s\n" % (name, code, err.get("C")))
        return False
    if text and text not in err.get("M", ""):
        sys.stderr.write("%s: expected message containing %r, got %r\n" % (name, text, err.get("M")))
        return False
    return True


# ------------------------------------------------------------------ TLS
def tls_context(cafile=None, certfile=None, keyfile=None, alpn=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if cafile:
        ctx.load_verify_locations(cafile)
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if certfile:
        ctx.load_cert_chain(certfile, keyfile)
    if alpn:
        ctx.set_alpn_protocols([alpn])
    return ctx


class TlsConn(Conn):
    """pgwire.Conn over an already wrapped socket."""

    def __init__(self, sock):  # noqa: super().__init__ would connect
        self.sock = sock
        self.buf = b""
        self.params = {}
        self.key = None
        self.auth_seen = []


def cmd_direct_tls(host, port, user, db, alpn):
    """PostgreSQL 17 direct TLS: a ClientHello first, no SSLRequest.  With
    ALPN (e.g. postgresql) log in and query; ALPN "-" = none offered: the
    server must close (with an error) after the handshake."""
    raw = socket.create_connection((host, int(port)), timeout=TIMEOUT)
    ctx = tls_context(alpn=None if alpn == "-" else alpn)
    try:
        s = ctx.wrap_socket(raw, server_hostname="localhost")
    except (ssl.SSLError, OSError) as e:
        print("handshake failed: %s" % e)
        sys.exit(3)
    print("handshake ok: %s alpn=%s" % (s.version(), s.selected_alpn_protocol()))
    c = TlsConn(s)
    try:
        err = c.startup(user, db)
    except (Closed, ssl.SSLError, ConnectionResetError):
        print("closed after the handshake")
        sys.exit(2)
    if err is not None:
        print("error %s" % fmt_error(err))
        sys.exit(2)
    rows = data_rows(c.query("SELECT 'direct ' || current_user"))
    print("query: %s" % rows[0][0])
    c.close()


def client_hello_bytes(alpn="postgresql"):
    """A real TLS ClientHello, as bytes (from a memory BIO)."""
    ctx = tls_context(alpn=alpn)
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname="localhost")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def cmd_half_tls(host, port, how, wait):
    """Start a TLS handshake and stop half way: HOW = sslrequest (SSLRequest,
    'S', then half a ClientHello) or direct (half a ClientHello).  The
    server must drop the connection by itself within WAIT seconds
    (authentication_timeout); prints how long it took."""
    s = socket.create_connection((host, int(port)), timeout=TIMEOUT)
    if how == "sslrequest":
        s.sendall(SSLREQ)
        a = s.recv(1)
        if a != b"S":
            die("SSLRequest answered %r, not 'S'" % a)
    hello = client_hello_bytes()
    s.sendall(hello[:len(hello) // 2])
    t0 = time.time()
    got, closed = read_answer(s, float(wait))
    dt = time.time() - t0
    s.close()
    if not closed:
        die("connection still open %.1f s after half a ClientHello" % dt)
    print("half-tls %s: dropped after %.1f s" % (how, dt))


def cmd_ssl_garbage(host, port, expect):
    """SSLRequest with unencrypted bytes right behind it (CVE-2021-23214).
    EXPECT = S (TLS on: refused with 08P01 "received unencrypted data after
    SSL request") or N (TLS off: 'N', then the bytes are a startup packet:
    refused as one)."""
    s = socket.create_connection((host, int(port)), timeout=TIMEOUT)
    s.sendall(SSLREQ + startup_packet("app", "appdb"))
    got, closed = read_answer(s, 5)
    s.close()
    if expect == "S":
        if not expect_error("ssl-garbage", got, closed, "08P01", "received unencrypted data after SSL request"):
            sys.exit(1)
        return
    if got[:1] != b"N":
        die("SSLRequest not answered 'N': %r" % got[:20])
    # the startup packet after 'N' is a normal login
    print("ssl-garbage (TLS off): N, then %r" % got[1:2])


def cmd_ssl_then_garbage(host, port):
    """SSLRequest, 'S', then plain garbage instead of a ClientHello: the
    handshake fails and the connection is closed."""
    s = socket.create_connection((host, int(port)), timeout=TIMEOUT)
    s.sendall(SSLREQ)
    if s.recv(1) != b"S":
        die("SSLRequest not answered 'S'")
    s.sendall(b"GET / HTTP/1.0\r\n\r\n" * 4)
    got, closed = read_answer(s, 5)
    s.close()
    if not closed:
        die("connection still open after garbage instead of a ClientHello")
    print("ssl-then-garbage: closed (%d bytes back: a TLS alert or nothing)" % len(got))


# ------------------------------------------------------------------ bad input
def cmd_bad_input(host, port):
    """Startup and in-session framing abuse; each must be answered as
    PostgreSQL does (ErrorResponse with its SQLSTATE, or a close)."""
    ok = True
    good = cstr("user") + cstr("app") + cstr("database") + cstr("appdb") + b"\0"
    v3 = struct.pack("!i", 196608)
    cases = [
        # name, bytes, sqlstate (None: a close is fine too), message part
        ("startup-length-3", struct.pack("!i", 3), "08P01", "invalid length of startup packet"),
        ("startup-length-10001", struct.pack("!i", 10001) + v3 + good, "08P01", "invalid length of startup packet"),
        ("startup-length-2GB", struct.pack("!i", 0x7FFFFFFF) + v3, "08P01", "invalid length of startup packet"),
        ("startup-length-negative", struct.pack("!i", -1) + v3, "08P01", "invalid length of startup packet"),
        ("protocol-1.0", struct.pack("!i", 8 + len(good)) + struct.pack("!i", 1 << 16) + good, "0A000",
         "unsupported frontend protocol"),
        ("protocol-2.0", struct.pack("!i", 8 + len(good)) + struct.pack("!i", 2 << 16) + good, "0A000",
         "unsupported frontend protocol"),
        ("protocol-4.0", struct.pack("!i", 8 + len(good)) + struct.pack("!i", 4 << 16) + good, "0A000",
         "unsupported frontend protocol"),
        ("protocol-65535.65535", struct.pack("!i", 8 + len(good)) + struct.pack("!I", 0xFFFFFFFF) + good,
         "0A000", "unsupported frontend protocol"),
        ("no-terminator", struct.pack("!i", 8 + len(good) - 1) + v3 + good[:-1], "08P01", "invalid startup packet"),
        ("ssl-request-long", struct.pack("!ii", 12, 80877103) + b"abcd", "08P01", None),
        ("cancel-long", struct.pack("!ii", 20, 80877102) + b"x" * 12, "08P01", None),
    ]
    for name, data, code, text in cases:
        s = socket.create_connection((host, int(port)), timeout=TIMEOUT)
        s.sendall(data)
        got, closed = read_answer(s, 5)
        s.close()
        ok = expect_error(name, got, closed, code, text) and ok
    # truncated: a header promising more than ever comes, then the client
    # goes away: nothing to answer, the proxy must just clean up
    for name, data in (("startup-truncated", struct.pack("!i", 200) + v3 + b"user\0"),
                       ("startup-3-bytes", b"\0\0\0")):
        s = socket.create_connection((host, int(port)), timeout=TIMEOUT)
        s.sendall(data)
        s.close()
        print("%s: sent and closed" % name)
    # inside a session
    for name, data, code in (
            ("msg-length-3", b"Q" + struct.pack("!i", 3), "08P01"),
            ("msg-length-negative", b"Q" + struct.pack("!i", -5) + b"x", "08P01"),
            ("msg-length-2GB", b"Q" + struct.pack("!i", 0x7FFFFFF0) + b"SELECT 1", "08P01"),
            ("msg-unknown-type", b"\x01" + struct.pack("!i", 8) + b"abcd", "08P01")):
        c = Conn(host, port)
        c.login("app", "appdb")
        c.sendall(data)
        got, closed = read_answer(c.sock, 5)
        c.sock.close()
        ok = expect_error(name, got, closed, code) and ok
    # truncated inside a session: half a Query, then EOF
    c = Conn(host, port)
    c.login("app", "appdb")
    c.sendall(b"Q" + struct.pack("!i", 100) + b"SELECT")
    c.sock.close()
    print("msg-truncated: sent and closed")
    # a message above the authentication limit while authenticating
    c = Conn(host, port)
    c.sendall(startup_packet("scramuser", "appdb"))
    typ, p = c.recv()
    if typ != "R":
        die("no authentication request for scramuser: %r" % typ)
    c.sendall(b"p" + struct.pack("!i", 1 << 20) + b"x" * 100)
    got, closed = read_answer(c.sock, 5)
    c.sock.close()
    ok = expect_error("auth-msg-1MB", got, closed, "08P01") and ok
    if not ok:
        sys.exit(1)


def cmd_slowloris(host, port, limit):
    """Send a startup packet one byte a second; the server must drop the
    connection within LIMIT seconds (authentication_timeout), with
    "canceling authentication due to timeout" or a close."""
    s = socket.create_connection((host, int(port)), timeout=TIMEOUT)
    pkt = startup_packet("app", "appdb")
    t0 = time.time()
    for b in pkt:
        try:
            s.sendall(bytes([b]))
        except OSError:
            break
        got, closed = read_answer(s, 1.0)
        if got or closed:
            break
        if time.time() - t0 > float(limit):
            die("slow client still connected after %.1f s" % (time.time() - t0))
    else:
        die("the whole startup packet went through one byte a second")
    dt = time.time() - t0
    err = first_error(got)
    print("slowloris: dropped after %.1f s: %s" % (dt, fmt_error(err) if err else "closed"))
    if err and err.get("C") != "08P01":
        die("expected 08P01, got %s" % fmt_error(err))


def cmd_cycles(host, port, n):
    """N connect / log in / quit cycles as app (plus one in ten that only
    connects and closes); prints the rate."""
    t0 = time.time()
    for i in range(int(n)):
        if i % 10 == 9:
            s = socket.create_connection((host, int(port)), timeout=TIMEOUT)
            s.close()
            continue
        c = Conn(host, port)
        err = c.startup("app", "appdb")
        if err is not None:
            die("cycle %d: %s" % (i, fmt_error(err)))
        c.close()
    dt = time.time() - t0
    print("cycles: %s in %.1f s (%.0f/s)" % (n, dt, int(n) / dt))


# ------------------------------------------------------------------ SCRAM abuse
def scram_begin(host, port, user, db, mech="SCRAM-SHA-256", first=None, tls=False):
    if tls:
        raw = socket.create_connection((host, int(port)), timeout=TIMEOUT)
        raw.sendall(SSLREQ)
        if raw.recv(1) != b"S":
            die("TLS not offered")
        c = TlsConn(tls_context().wrap_socket(raw, server_hostname="localhost"))
    else:
        c = Conn(host, port)
    c.sendall(startup_packet(user, db))
    typ, p = c.recv()
    if typ == "E":
        return c, None, None, parse_fields(p)
    (code,) = struct.unpack("!i", p[:4])
    if code != 10:
        die("expected SASL, got authentication request %d" % code)
    nonce = base64.b64encode(os.urandom(18)).decode()
    if first is None:
        first = "n,,n=,r=" + nonce
    c.send("p", cstr(mech) + struct.pack("!i", len(first)) + first.encode())
    typ, p = c.recv()
    if typ == "E":
        return c, nonce, None, parse_fields(p)
    return c, nonce, p[4:].decode(), None


def scram_proof(password, nonce, server_first, cbind="biws", rnonce=None, iters=None):
    attrs = dict(a.split("=", 1) for a in server_first.split(","))
    salt = base64.b64decode(attrs["s"])
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iters or int(attrs["i"]))
    ck = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored = hashlib.sha256(ck).digest()
    without = "c=%s,r=%s" % (cbind, rnonce if rnonce is not None else attrs["r"])
    auth = ",".join(["n=,r=" + nonce, server_first, without]).encode()
    sig = hmac.new(stored, auth, hashlib.sha256).digest()
    return without + ",p=" + base64.b64encode(bytes(a ^ b for a, b in zip(ck, sig))).decode()


def cmd_scram_abuse(host, port, user, db, password):
    """SCRAM exchanges gone wrong, each answered as PostgreSQL does:
    28P01 "password authentication failed" for a wrong proof, 08P01 for a
    malformed exchange (bad nonce, bad channel binding, garbage)."""
    ok = True

    def final(name, make, code, text=None):
        nonlocal ok
        c, nonce, sfirst, err = scram_begin(host, port, user, db)
        if err:
            print("%s: refused at client-first: %s" % (name, fmt_error(err)))
            ok = False
            return
        m = make(nonce, sfirst)
        c.send("p", m.encode() if isinstance(m, str) else m)
        got, closed = read_answer(c.sock, 5)
        c.sock.close()
        if code is None:
            # the right proof: SASLFinal, AuthenticationOk, ..., ReadyForQuery
            if first_error(got) is not None or b"Z\0\0\0\x05" not in got:
                print("%s: NOT logged in (%r)" % (name, got[:60]))
                ok = False
            else:
                print("%s: logged in" % name)
            return
        ok = expect_error(name, got, closed, code, text) and ok

    final("right-password", lambda n, sf: scram_proof(password, n, sf), None)  # must NOT error: checked below
    final("wrong-proof", lambda n, sf: scram_proof(password + "x", n, sf), "28P01", "password authentication failed")
    final("random-proof", lambda n, sf: scram_proof(password, n, sf)[:-44] + base64.b64encode(os.urandom(32)).decode(),
          "28P01", "password authentication failed")
    final("nonce-not-ours", lambda n, sf: scram_proof(password, n, sf, rnonce=n + "AAAAAAAAAAAAAAAAAAAAAAAA"),
          "08P01")
    final("nonce-client-only", lambda n, sf: scram_proof(password, n, sf, rnonce=n), "08P01")
    final("nonce-empty", lambda n, sf: scram_proof(password, n, sf, rnonce=""), "08P01")
    final("proof-short", lambda n, sf: scram_proof(password, n, sf)[:-10], "08P01")
    final("proof-missing", lambda n, sf: "c=biws,r=" + dict(a.split("=", 1) for a in sf.split(","))["r"], "08P01")
    final("cbind-wrong", lambda n, sf: scram_proof(password, n, sf, cbind="eSws"), "08P01")
    final("iterations-mine", lambda n, sf: scram_proof(password, n, sf, iters=1), "28P01",
          "password authentication failed")
    final("garbage-after-proof", lambda n, sf: scram_proof(password, n, sf) + ",x=1", "08P01")
    final("nul-in-final", lambda n, sf: b"c=biws\0,r=x,p=y", "08P01")
    # client-first abuse
    for name, first, code in (("first-empty", "", "08P01"),
                              ("first-p-without-tls", "p=tls-server-end-point,,n=,r=abc", "08P01"),
                              ("first-authzid", "n,a=admin,n=,r=abc", "08P01"),
                              ("first-no-nonce", "n,,n=", "08P01"),
                              ("first-bad-flag", "q,,n=,r=abc", "08P01"),
                              ("first-nonce-comma", "n,,n=,r=a\x01b", "08P01")):
        c, nonce, sfirst, err = scram_begin(host, port, user, db, first=first)
        c.sock.close()
        if err is None:
            print("%s: accepted (server-first %r)" % (name, sfirst))
            ok = False
        else:
            print("%s: %s" % (name, fmt_error(err)))
            ok = ok and err.get("C") == code
    c, nonce, sfirst, err = scram_begin(host, port, user, db, mech="SCRAM-SHA-1")
    c.sock.close()
    print("mechanism-sha1: %s" % (fmt_error(err) if err else "ACCEPTED"))
    ok = ok and err is not None and err.get("C") == "08P01"
    if not ok:
        sys.exit(1)


def cmd_wrong_passwords(host, port, user, db, n):
    """N logins with wrong passwords (SCRAM); each must get 28P01."""
    t0 = time.time()
    for i in range(int(n)):
        c = Conn(host, port)
        err = c.startup(user, db, "wrong-%d" % i)
        c.sock.close()
        if err is None or err.get("C") != "28P01":
            die("attempt %d: %s" % (i, fmt_error(err) if err else "logged in with a wrong password"))
    print("wrong passwords: %s refused with 28P01 in %.1f s" % (n, time.time() - t0))


# ------------------------------------------------------------------ PCP
def pcp_pkt(t, payload=b""):
    return t.encode() + struct.pack("!i", len(payload) + 4) + payload


def pcp_error(got):
    """(severity, message, detail) of the first PCP 'E' packet, or None."""
    if len(got) < 5 or got[:1] != b"E":
        return None
    (ln,) = struct.unpack("!i", got[1:5])
    f = parse_fields(got[5:1 + ln])
    return f.get("S"), f.get("M"), f.get("D")


def cmd_pcp_abuse(host, port):
    """Truncated, oversized and garbage PCP packets to pcpd: an 'E'
    packet or a close for each, as Pgpool-II's pcp_child does; pcpd
    keeps serving."""
    ok = True
    cases = [
        ("length-3", b"M" + struct.pack("!i", 3), "incorrect packet length"),
        ("length-negative", b"M" + struct.pack("!i", -1), "incorrect packet length"),
        ("length-1MB", b"R" + struct.pack("!i", 1 << 20) + b"x" * 64, "incorrect packet length"),
        ("length-261", b"R" + struct.pack("!i", 261) + b"x" * 257, "incorrect packet length"),
        ("command-before-auth", pcp_pkt("L"), "authentication failed"),
        ("auth-without-salt", pcp_pkt("R", cstr("pcpadmin") + cstr("md5" + "0" * 32)), "authentication failed"),
        ("auth-garbage", pcp_pkt("M") + pcp_pkt("R", b"\xff" * 40), "authenticate"),
        ("auth-wrong-password", pcp_pkt("M") + pcp_pkt("R", cstr("pcpadmin") + cstr("md5" + "0" * 32)),
         "authenticat"),
        ("auth-unknown-user", pcp_pkt("M") + pcp_pkt("R", cstr("nobody") + cstr("md5" + "0" * 32)), "authenticat"),
        ("garbage-http", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", None),
        ("garbage-bytes", bytes(range(256)), None),
    ]
    for name, data, text in cases:
        s = socket.create_connection((host, int(port)), timeout=TIMEOUT)
        try:
            s.sendall(data)
        except OSError:
            pass
        got, closed = read_answer(s, 5)
        s.close()
        # skip the salt packet of 'M'
        if got[:1] == b"m":
            (ln,) = struct.unpack("!i", got[1:5])
            got = got[1 + ln:]
        e = pcp_error(got)
        if e is None:
            if closed and text is None:
                print("%s: closed" % name)
                continue
            print("%s: no error packet (closed=%s, got %r)" % (name, closed, got[:40]))
            ok = False
            continue
        print("%s: %s %s (%s)" % ((name,) + e))
        if not closed:
            print("%s: connection left open after a FATAL" % name)
            ok = False
        if text and text not in (e[1] or "") + " " + (e[2] or ""):
            sys.stderr.write("%s: expected %r in the error\n" % (name, text))
            ok = False
    # truncated: half a packet, then EOF; and half a packet, then silence
    s = socket.create_connection((host, int(port)), timeout=TIMEOUT)
    s.sendall(b"R" + struct.pack("!i", 100) + b"pcpadmin")
    s.close()
    print("truncated-then-eof: sent and closed")
    if not ok:
        sys.exit(1)


COMMANDS = {
    "direct-tls": (cmd_direct_tls, "HOST PORT USER DB ALPN|-"),
    "half-tls": (cmd_half_tls, "HOST PORT sslrequest|direct WAIT_SECONDS"),
    "ssl-garbage": (cmd_ssl_garbage, "HOST PORT S|N"),
    "ssl-then-garbage": (cmd_ssl_then_garbage, "HOST PORT"),
    "bad-input": (cmd_bad_input, "HOST PORT"),
    "slowloris": (cmd_slowloris, "HOST PORT LIMIT_SECONDS"),
    "cycles": (cmd_cycles, "HOST PORT N"),
    "scram-abuse": (cmd_scram_abuse, "HOST PORT USER DB PASSWORD"),
    "wrong-passwords": (cmd_wrong_passwords, "HOST PORT USER DB N"),
    "pcp-abuse": (cmd_pcp_abuse, "HOST PORT"),
}


if __name__ == "__main__":
    pgwire.run_command(COMMANDS, __doc__, arg_prefix="", min_args=2)
