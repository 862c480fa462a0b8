#!/usr/bin/env python3
"""Write the seed corpus of fuzz_pcp (t/fuzz/corpus/pcp/): real PCP
exchanges as the Pgpool-II 4.3 tools and server produce them."""
import os
import struct
import sys

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "pcp")
os.makedirs(out, exist_ok=True)


def pkt(t, payload=b""):
    return t.encode() + struct.pack(">i", len(payload) + 4) + payload


def strs(*items):
    return b"".join(s.encode() + b"\0" for s in items)


CC = "CommandComplete"
auth = pkt("M") + pkt("R", strs("pcpadmin", "a59a71ea7f209eb61734ee9be7bd31c3"))
seeds = {
    "auth_node_count": auth + pkt("L") + pkt("X"),
    "auth_node_info_all": auth + pkt("I", strs("-1")) + pkt("X"),
    "node_info_1": pkt("I", strs("1")),
    "health_check": pkt("H", strs("0")),
    "proc_count": pkt("N"),
    "proc_info": pkt("P", strs("0")),
    "pool_status": pkt("B"),
    "watchdog": pkt("W", strs("-1")),
    "attach": pkt("C", strs("1")),
    "detach": pkt("D", strs("1")),
    "detach_graceful": pkt("d", strs("1")),
    "promote_switchover": pkt("J", b"1 \0s"),
    "promote_graceful": pkt("j", b"0 \0n"),
    "recovery": pkt("O", strs("1")),
    "stop_smart": pkt("T", b"s"),
    "stop_cluster_fast": pkt("t", b"f"),
    "reload": pkt("Z", b"l"),
    "set_param": pkt("A", strs("client_min_messages", "debug1")),
    "bad_length": b"I\x00\x00\x01\x04" + b"1\0",
    "truncated_auth": pkt("M") + pkt("R", b"pcpadmin"),
    # replies
    "r_salt_auth": pkt("m", b"\xde\xad\xbe\xef") + pkt("r", strs("AuthenticationOK")),
    "r_node_count": pkt("l", strs(CC, "2")),
    "r_node_info": pkt("i", strs("ArraySize", "2"))
    + pkt("i", strs("NodeInfo", "localhost", "5432", "2", "0", "up", "1073741823.500000", "2",
                    "primary", "0", "", "", "1700000000"))
    + pkt("i", strs("NodeInfo", "localhost", "5433", "2", "0", "up", "1073741823.500000", "3",
                    "standby", "0", "streaming", "async", "1700000000"))
    + pkt("i", strs(CC)),
    "r_error": pkt("E", strs("SERROR", "CXX000", "Minforming node info failed",
                             "Dinvalid node ID : 5", "Fpcp_worker.c", "L832") + b"\0"),
    "r_notice_then_cc": pkt("N", strs("SNOTICE", "CXX000", "Mhello", "Fx.c", "L1") + b"\0")
    + pkt("c", strs(CC)),
    "r_pool_status": pkt("b", b"ArraySize\0" + struct.pack(">i", 1))
    + pkt("b", strs("ProcessConfig", "port", "9999", "pgpool accepting port number"))
    + pkt("b", strs(CC)),
    "r_proc_count": pkt("n", strs(CC, "2", "100", "101")),
    "r_proc_info": pkt("p", strs("ArraySize", "1"))
    + pkt("p", strs("ProcessInfo", "100", "2026-11-27 00:00:37", "1", "0", "0", "appdb", "app",
                    "2026-11-27 00:00:40", "2026-11-27 00:00:40", "", "0", "3", "0", "1", "4242",
                    "1", "Idle"))
    + pkt("p", strs(CC)),
    "r_health": pkt("h", strs(CC, "0", "/tmp", "11002", "up", "primary", "2020-02-24 22:02:42", "3",
                              "3", "0", "0", "0", "0.000000", "0", "5", "1", "3.666667",
                              "2020-02-24 22:02:47", "2020-02-24 22:02:47", "", "")),
    "r_watchdog": pkt("w", strs(CC, '{"NodeCount":1,"WatchdogNodes":[]}')),
}
for name, data in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
print(f"{len(seeds)} seeds in {out}")
