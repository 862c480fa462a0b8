#!/usr/bin/env python3
"""rwclient.py - load and probe clients for the routing and failover tests
(stdlib only; the wire code is pgwire.py's).

    rwclient.py COMMAND HOST PORT USER DB [ARGS...]

Commands:
  ext SQL...         one session; every SQL runs through the extended
                     protocol (Parse/Bind/Describe/Execute/Sync, unnamed
                     statement).  Special forms:
                       @NAME=SQL   Parse a named statement (then Sync)
                       @NAME       Bind + Execute the named statement
                       COPYIN SQL  COPY ... FROM STDIN; the rows come from
                                   the environment variable COPY_DATA
                     Prints one line per SQL: the rows ("a|b", rows joined
                     by ","), or the command tag when there are none, or
                     "ERROR <sqlstate> <message>".
  writer TABLE FIRST SECONDS OUTFILE
                     insert ids FIRST, FIRST+1, ... (one autocommit INSERT
                     each, reconnecting after any failure) for SECONDS;
                     every id whose INSERT was answered with CommandComplete
                     + ReadyForQuery (= committed) is appended to OUTFILE as
                     "<id> <unix time>" (flushed at once).  Prints "committed=N failed=M".
  causal TABLE FIRST SECONDS PRIMARY_PORT EVERY
                     one session: INSERT id, then at once SELECT it back with
                     inet_server_port(); every EVERY-th time wait 2.5 s
                     before the read.  Prints "writes=N missing=M
                     on_primary=P on_standby=S errors=E".
  reads SECONDS OUTFILE
                     a new session per read (SELECT inet_server_port()),
                     for SECONDS; appends "<unix time> ok <port>" or
                     "<unix time> error <text>" per attempt to OUTFILE.
  rowdesc SQL        simple Query; prints one line per RowDescription field
                     "name table_oid column_no type_oid typlen typmod
                     format", then "rows=N tag=<tag> ready=<status>".
  idle READYFILE WAIT [SQL...]
                     log in, run the SQLs (simple Query each), write
                     READYFILE, then wait up to WAIT seconds
                     for what the server says unprompted; prints
                     "<type> <severity> <sqlstate> <message>" per notice
                     or error, until the connection closes ("closed").
"""

import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgwire  # noqa: E402
from pgwire import Conn, Closed, cstr, data_rows, errors, parse_fields  # noqa: E402


def fmt_err(f):
    return "ERROR %s %s" % (f.get("C", "?"), f.get("M", "?"))


def tag_of(msgs):
    for t, p in msgs:
        if t == "C":
            return p.rstrip(b"\0").decode()
    return ""


def render(msgs):
    errs = errors(msgs)
    if errs:
        return fmt_err(errs[0])
    rows = data_rows(msgs)
    copy = [p.decode().rstrip("\n") for t, p in msgs if t == "d"]
    if copy:
        return ",".join(copy)
    if rows:
        return ",".join("|".join("" if v is None else v for v in r) for r in rows)
    return tag_of(msgs)


def parse_msg(name, sql):
    return cstr(name) + cstr(sql) + struct.pack("!h", 0)


def bind_execute(c, stmt):
    c.send("B", cstr("") + cstr(stmt) + struct.pack("!hhh", 0, 0, 0))
    c.send("D", b"P" + cstr(""))
    c.send("E", cstr("") + struct.pack("!i", 0))


def run_ext(c, sql):
    if sql.startswith("@"):
        if "=" in sql:
            name, text = sql[1:].split("=", 1)
            c.send("P", parse_msg(name, text))
            c.send("S")
            msgs = c.until_ready()
            errs = errors(msgs)
            return fmt_err(errs[0]) if errs else "PARSED"
        bind_execute(c, sql[1:])
        c.send("S")
        return render(c.until_ready())
    if sql.startswith("COPYIN "):
        c.send("P", parse_msg("", sql[7:]))
        c.send("B", cstr("") + cstr("") + struct.pack("!hhh", 0, 0, 0))
        c.send("E", cstr("") + struct.pack("!i", 0))
        c.send("H")
        msgs = []
        while True:
            typ, p = c.recv()
            msgs.append((typ, p))
            if typ == "G" or typ == "E":
                break
        if typ == "G":
            data = os.environ.get("COPY_DATA", "")
            if data:
                c.send("d", data.encode())
            c.send("c")
        c.send("S")
        msgs += c.until_ready()
        return render(msgs)
    c.send("P", parse_msg("", sql))
    bind_execute(c, "")
    c.send("S")
    return render(c.until_ready())


def cmd_ext(host, port, user, db, *sqls):
    c = Conn(host, port)
    c.login(user, db)
    for sql in sqls:
        print(run_ext(c, sql), flush=True)
    c.close()


def connect(host, port, user, db):
    c = Conn(host, port, timeout=10)
    err = c.startup(user, db)
    if err is not None:
        c.sock.close()
        raise RuntimeError(pgwire.fmt_error(err))
    return c


def cmd_writer(host, port, user, db, table, first, seconds, outfile):
    end = time.time() + float(seconds)
    i = int(first)
    committed = failed = 0
    c = None
    with open(outfile, "a") as out:
        while time.time() < end:
            try:
                if c is None:
                    c = connect(host, port, user, db)
                msgs = c.query("INSERT INTO %s (id) VALUES (%d)" % (table, i))
                if errors(msgs) or tag_of(msgs) != "INSERT 0 1":
                    raise RuntimeError("insert failed")
                out.write("%d %.3f\n" % (i, time.time()))
                out.flush()
                committed += 1
            except Exception:  # noqa: BLE001 - reconnect after anything
                failed += 1
                try:
                    if c is not None:
                        c.sock.close()
                except OSError:
                    pass
                c = None
                time.sleep(0.05)
            i += 1
    print("committed=%d failed=%d" % (committed, failed))


def cmd_causal(host, port, user, db, table, first, seconds, primary_port, every):
    end = time.time() + float(seconds)
    i = int(first)
    every = int(every)
    writes = missing = on_primary = on_standby = errs = 0
    c = connect(host, port, user, db)
    n = 0
    while time.time() < end:
        n += 1
        msgs = c.query("INSERT INTO %s (id) VALUES (%d)" % (table, i))
        if errors(msgs):
            errs += 1
            i += 1
            continue
        writes += 1
        if every > 0 and n % every == 0:
            time.sleep(2.5)
        msgs = c.query("SELECT inet_server_port(), count(*) FROM %s WHERE id = %d" % (table, i))
        if errors(msgs):
            errs += 1
        else:
            p, cnt = data_rows(msgs)[0]
            if p == primary_port:
                on_primary += 1
            else:
                on_standby += 1
            if cnt != "1":
                missing += 1
                sys.stderr.write("id %d missing (read on port %s)\n" % (i, p))
        i += 1
    c.close()
    print("writes=%d missing=%d on_primary=%d on_standby=%d errors=%d"
          % (writes, missing, on_primary, on_standby, errs))


def cmd_reads(host, port, user, db, seconds, outfile):
    end = time.time() + float(seconds)
    with open(outfile, "a") as out:
        while time.time() < end:
            t = time.time()
            try:
                c = connect(host, port, user, db)
                msgs = c.query("SELECT inet_server_port()")
                c.close()
                errs = errors(msgs)
                if errs:
                    line = "error %s" % fmt_err(errs[0])
                else:
                    line = "ok %s" % data_rows(msgs)[0][0]
            except Exception as e:  # noqa: BLE001 - any failure is an error here
                line = "error %s" % (str(e) or e.__class__.__name__)
            out.write("%.3f %s\n" % (t, line.replace("\n", " ")))
            out.flush()
            time.sleep(0.02)


def cmd_idle(host, port, user, db, readyfile, wait, *sqls):
    c = connect(host, port, user, db)
    for sql in sqls:
        msgs = c.query(sql)
        if errors(msgs):
            pgwire.die("%s: %s" % (sql, fmt_err(errors(msgs)[0])))
    with open(readyfile, "w") as f:
        f.write("ready\n")
    c.sock.settimeout(float(wait))
    while True:
        try:
            typ, p = c.recv()
        except socket.timeout:
            print("nothing more")
            return
        except (Closed, OSError):
            print("closed")
            return
        if typ in ("E", "N"):
            f = parse_fields(p)
            print("%s %s %s %s" % (typ, f.get("S", "?"), f.get("C", "?"), f.get("M", "?")), flush=True)
            if typ == "E":
                c.sock.settimeout(2)
        else:
            print("%s ?" % typ, flush=True)


def cmd_rowdesc(host, port, user, db, sql):
    c = Conn(host, port)
    c.login(user, db)
    msgs = c.query(sql)
    for t, p in msgs:
        if t != "T":
            continue
        (n,) = struct.unpack("!h", p[:2])
        i = 2
        for _ in range(n):
            j = p.index(b"\0", i)
            name = p[i:j].decode()
            toid, colno, typ, typlen, typmod, fmt = struct.unpack("!ihihih", p[j + 1:j + 19])
            print("%s %d %d %d %d %d %d" % (name, toid, colno, typ, typlen, typmod, fmt))
            i = j + 19
    errs = errors(msgs)
    if errs:
        print(fmt_err(errs[0]))
    print("rows=%d tag=%s ready=%s" % (len(data_rows(msgs)), tag_of(msgs), msgs[-1][1].decode()))
    c.close()


COMMANDS = {
    "rowdesc": cmd_rowdesc,
    "ext": cmd_ext,
    "writer": cmd_writer,
    "causal": cmd_causal,
    "reads": cmd_reads,
    "idle": cmd_idle,
}


def main():
    if len(sys.argv) < 6 or sys.argv[1] not in COMMANDS:
        sys.stderr.write(__doc__)
        sys.exit(2)
    try:
        COMMANDS[sys.argv[1]](*sys.argv[2:])
    except Closed:
        pgwire.die("connection closed by the server")
    except socket.timeout:
        pgwire.die("timed out waiting for the server")
    except TypeError as e:
        pgwire.die("bad arguments: %s" % e)


if __name__ == "__main__":
    main()
