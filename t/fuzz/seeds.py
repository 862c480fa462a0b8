#!/usr/bin/env python3
"""Write the seed corpora of the startup, frontend, scram, hba and passwd
fuzz targets (t/fuzz/corpus/<target>/): small, valid inputs (complete
authentication exchanges with correct proofs included), so that the fuzzers
start from the deep paths.  Needs openssl(1) for the AES entry.

    t/fuzz/seeds.py [CORPUS_DIR]
"""
import base64
import hashlib
import hmac
import os
import struct
import subprocess
import sys

top = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def write(target, name, data):
    d = os.path.join(top, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def cstr(s):
    return (s if isinstance(s, bytes) else s.encode()) + b"\0"


def startup(params, version=196608):
    body = struct.pack("!i", version) + b"".join(cstr(k) + cstr(v) for k, v in params) + b"\0"
    return struct.pack("!i", len(body) + 4) + body


def msg(t, payload=b""):
    return t.encode() + struct.pack("!i", len(payload) + 4) + payload


SSLREQ = struct.pack("!ii", 8, 80877103)
GSSREQ = struct.pack("!ii", 8, 80877104)
CANCEL = struct.pack("!iiii", 16, 80877102, 12345, 67890)

# ------------------------------------------------------------- startup
write("startup", "psql", startup([("user", "app"), ("database", "appdb"), ("application_name", "psql"),
                                  ("client_encoding", "UTF8")]))
write("startup", "user_only", startup([("user", "app")]))
write("startup", "ssl_then_startup", SSLREQ + startup([("user", "app"), ("database", "appdb")]))
write("startup", "gss_ssl_startup", GSSREQ + SSLREQ + startup([("user", "u"), ("options", "-c search_path=x")]))
write("startup", "cancel", CANCEL)
write("startup", "protocol_3_2", startup([("user", "app"), ("_pq_.foo", "bar")], version=196610))
write("startup", "protocol_2", startup([("user", "app")], version=131072))
write("startup", "replication", startup([("user", "app"), ("replication", "database")]))

# ------------------------------------------------------------- scram (RFC 7677 example)
CN = "rOprNGfwEbeRWgbNEkqO"
SN = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
SALT_B64 = "W22ZaJ0SNY7soEsUEjb6gQ=="


def scram_final(password, salt, iters, client_first_bare, server_first, cbind_b64, nonce):
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iters)
    ck = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    sk = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    stored = hashlib.sha256(ck).digest()
    without = "c=%s,r=%s" % (cbind_b64, nonce)
    auth = ",".join([client_first_bare, server_first, without]).encode()
    sig = hmac.new(stored, auth, hashlib.sha256).digest()
    proof = bytes(a ^ b for a, b in zip(ck, sig))
    server_sig = hmac.new(sk, auth, hashlib.sha256).digest()
    return without + ",p=" + base64.b64encode(proof).decode(), "v=" + base64.b64encode(server_sig).decode()


salt = base64.b64decode(SALT_B64)
sfirst = "r=%s%s,s=%s,i=4096" % (CN, SN, SALT_B64)
final, vfinal = scram_final("pencil", salt, 4096, "n=user,r=" + CN, sfirst, "biws", CN + SN)
write("scram", "server_rfc7677", b"\x00" + ("n,,n=user,r=%s\n%s" % (CN, final)).encode())
write("scram", "server_wrong_proof", b"\x00" + ("n,,n=user,r=%s\n%s" % (CN, final[:-8] + "AAAAAAA=")).encode())
write("scram", "server_y_flag", b"\x02" + ("y,,n=,r=%s\nc=eSws,r=%s%s,p=AAAA" % (CN, CN, SN)).encode())
gs2 = b"p=tls-server-end-point,,"
cb = base64.b64encode(gs2 + b"\x42" * 32).decode()
pfinal, _ = scram_final("pencil", salt, 4096, "n=,r=" + CN, sfirst, cb, CN + SN)
write("scram", "server_plus", b"\x02" + gs2 + ("n=,r=%s\n%s" % (CN, pfinal)).encode())
write("scram", "client_rfc7677", b"\x01" + ("%s\n%s" % (sfirst, vfinal)).encode())
write("scram", "client_extension", b"\x01" + ("r=%s%s,s=%s,i=4096,x=ext\nv=AAAA" % (CN, SN, SALT_B64)).encode())
write("scram", "client_error", b"\x01" + ("%s\ne=invalid-proof" % sfirst).encode())

# ------------------------------------------------------------- frontend
# fuzz_frontend.c: password "secret", verifier salt "fuzz-salt-01234\0",
# md5 salt "ZZZZ", server nonce base64("Z" * 18).
FSALT = b"fuzz-salt-01234\0"
FSN = base64.b64encode(b"Z" * 18).decode()
FCN = "fyko+d2lbbFgONRv9qkxdawL"
after = (msg("Q", cstr("SELECT 1"))
         + msg("P", cstr("s1") + cstr("SELECT $1::int") + struct.pack("!hi", 1, 23))
         + msg("B", cstr("p1") + cstr("s1") + struct.pack("!hh", 1, 0) + struct.pack("!h", 1)
               + struct.pack("!i", 1) + b"7" + struct.pack("!hh", 1, 0))
         + msg("D", b"P" + cstr("p1")) + msg("E", cstr("p1") + struct.pack("!i", 0))
         + msg("S") + msg("C", b"S" + cstr("s1")) + msg("C", b"P" + cstr("p1")) + msg("H")
         + msg("E", b"SERROR\0C42601\0Msyntax error\0\0") + msg("X"))


def su(user):
    return startup([("user", user), ("database", "appdb"), ("application_name", "fuzz")])


def scram_exchange(user, mech, gs2hdr, cbind):
    first_bare = "n=,r=" + FCN
    first = gs2hdr + first_bare.encode()
    sf = "r=%s%s,s=%s,i=4096" % (FCN, FSN, base64.b64encode(FSALT).decode())
    cbb64 = base64.b64encode(gs2hdr + cbind).decode()
    fin, _ = scram_final("secret", FSALT, 4096, first_bare, sf, cbb64, FCN + FSN)
    return (su(user) + msg("p", cstr(mech) + struct.pack("!i", len(first)) + first)
            + msg("p", fin.encode()))


write("frontend", "password_text", b"\x00" + su("textuser") + msg("p", cstr("secret")) + after)
write("frontend", "password_aes", b"\x00" + su("aesuser") + msg("p", cstr("secret")) + after)
write("frontend", "password_scram_entry", b"\x00" + su("scramuser") + msg("p", cstr("secret")))
write("frontend", "password_unknown", b"\x00" + su("nobody") + msg("p", cstr("whatever")) + after)
inner = hashlib.md5(b"secretmd5user").hexdigest()
outer = "md5" + hashlib.md5(inner.encode() + b"ZZZZ").hexdigest()
write("frontend", "md5", b"\x01" + su("md5user") + msg("p", cstr(outer)) + after)
inner = hashlib.md5(b"secretplainuser").hexdigest()
outer = "md5" + hashlib.md5(inner.encode() + b"ZZZZ").hexdigest()
write("frontend", "md5_plain_entry", b"\x01" + SSLREQ + su("plainuser") + msg("p", cstr(outer)))
write("frontend", "scram", b"\x02" + scram_exchange("scramuser", "SCRAM-SHA-256", b"n,,", b"") + after)
write("frontend", "scram_plus", b"\x03" + scram_exchange("scramuser", "SCRAM-SHA-256-PLUS",
                                                          b"p=tls-server-end-point,,", b"\x42" * 32) + after)
write("frontend", "scram_y_over_tls", b"\x03" + scram_exchange("scramuser", "SCRAM-SHA-256", b"y,,", b""))
write("frontend", "scram_unknown_user", b"\x02" + scram_exchange("nobody", "SCRAM-SHA-256", b"n,,", b""))
write("frontend", "cert_ok", b"\x04" + su("textuser") + after)
write("frontend", "trust", b"\x05" + GSSREQ + su("app") + after)
write("frontend", "reject", b"\x06" + su("app"))
write("frontend", "wrong_type", b"\x00" + su("textuser") + msg("Q", cstr("SELECT 1")))

# ------------------------------------------------------------- hba
write("hba", "tests", """# TYPE  DATABASE  USER        ADDRESS        METHOD
local   all       all                        trust
host    all       md5user     127.0.0.1/32   md5
host    all       pwuser      127.0.0.1/32   password
host    all       scramuser   127.0.0.1/32   scram-sha-256
host    all       rejectuser  127.0.0.1/32   reject
host    all       app         127.0.0.1/32   trust
""")
write("hba", "tls", """hostssl all  all  0.0.0.0/0  cert
hostnossl appdb,postgres "app","postgres" 127.0.0.1 255.255.255.255 scram-sha-256
hostssl all all ::1/128 md5
host all all ::ffff:10.0.0.0/104 password
host all all samehost trust
host all all samenet reject
""" + "\0app\0appdb")
write("hba", "quoted", 'host "all" "a""b",app 10.0.0.0/8 trust # comment\nlocal sameuser all md5\n')

# ------------------------------------------------------------- passwd
aes = subprocess.run(["openssl", "enc", "-aes-256-cbc", "-md", "sha1", "-nosalt", "-pass", "pass:fuzz key",
                      "-base64", "-A"], input=b"secret", capture_output=True, check=True).stdout.decode().strip()
salted = hashlib.pbkdf2_hmac("sha256", b"secret", FSALT, 4096)
ck = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
skey = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
verifier = "SCRAM-SHA-256$4096:%s$%s:%s" % (base64.b64encode(FSALT).decode(),
                                             base64.b64encode(hashlib.sha256(ck).digest()).decode(),
                                             base64.b64encode(skey).decode())
write("passwd", "all_kinds", "\n".join([
    "textuser:TEXTsecret",
    "plainuser:secret",
    "md5user:md5" + hashlib.md5(b"secretmd5user").hexdigest(),
    "scramuser:" + verifier,
    "aesuser:AES" + aes,
    "mapped:TEXTsecret:backend:AES" + aes,
    "# comment",
    "",
]))
write("passwd", "aes_only", aes)
write("passwd", "verifier_only", verifier)
write("passwd", "odd_lines", "nocolon\n:empty\nuser:\nu:p:bu\r\nu2:md5XYZ\n")
