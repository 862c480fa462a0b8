#!/usr/bin/env python3
"""slowproxy.py - a TCP relay that can make new connections hang
(stdlib only; for the tests of backends that stop answering mid-login).

    slowproxy.py LISTEN_PORT TARGET_PORT HOLDFILE SECONDS

Relays 127.0.0.1:LISTEN_PORT to 127.0.0.1:TARGET_PORT.  A connection
accepted while HOLDFILE exists is held for SECONDS before the relay starts
(what it sent waits in the socket), so a login through it stalls as on a
backend that accepted the connection and stopped answering.  Connections
made while HOLDFILE is absent are relayed at once.  Runs until killed; the
tests bound it with timeout(1).
"""
import os
import socket
import sys
import threading
import time


def pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def serve(client, target_port, hold):
    if hold > 0:
        time.sleep(hold)
    try:
        upstream = socket.create_connection(("127.0.0.1", target_port), timeout=10)
        upstream.settimeout(None)
    except OSError:
        client.close()
        return
    threading.Thread(target=pump, args=(upstream, client), daemon=True).start()
    pump(client, upstream)


def main():
    listen_port, target_port = int(sys.argv[1]), int(sys.argv[2])
    holdfile, seconds = sys.argv[3], float(sys.argv[4])
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", listen_port))
    srv.listen(64)
    while True:
        client, _ = srv.accept()
        hold = seconds if os.path.exists(holdfile) else 0
        threading.Thread(target=serve, args=(client, target_port, hold), daemon=True).start()


if __name__ == "__main__":
    main()
