#!/usr/bin/env python3
"""Watch figures for docs/benchmarks.md (issue 14), against a running cluster.

  latency  SERVER_PUT SERVER_WATCH N      p50/p99 of (event seen on a watch) - (PUT acknowledged),
                                          one write at a time, N writes (idle cluster otherwise)
  hold     SERVER COUNT SECONDS [PREFIX]  opens COUNT watches of PREFIX (bench/) on SERVER and
                                          drains them for SECONDS; prints lines received and
                                          watches cut off (run `nds bench -w put` beside it)

Standard library only; every wait is bounded.
"""
import http.client
import selectors
import socket
import sys
import time


def open_watch(server, query):
    host, port = server.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=10)
    s.sendall(f"GET /watch?{query} HTTP/1.1\r\nHost: {server}\r\n\r\n".encode())
    return s


def latency(put_server, watch_server, n):
    host, port = put_server.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    w = open_watch(watch_server, "prefix=lat/")
    w.settimeout(10)
    buf = b""
    # Wait for the first progress line: the watch is live.
    while b"progress" not in buf:
        buf += w.recv(65536)
    buf = b""
    samples = []
    for i in range(n):
        key = f"lat/k{i}"
        conn.request("PUT", "/store/" + key, body=b"v")
        resp = conn.getresponse()
        resp.read()
        acked = time.perf_counter()
        needle = ('"key":"' + key + '"').encode()
        while needle not in buf:
            buf += w.recv(65536)
        seen = time.perf_counter()
        buf = buf[buf.index(needle):]
        samples.append(max(0.0, seen - acked))
        time.sleep(0.01)  # an idle cluster between writes
    samples.sort()
    p = lambda q: samples[min(len(samples) - 1, int(q * len(samples)))] * 1000
    print(f"watch delivery after ack: n={n} p50={p(0.5):.3f} ms p99={p(0.99):.3f} ms "
          f"max={samples[-1]*1000:.3f} ms")


def hold(server, count, seconds, prefix="bench/"):
    sel = selectors.DefaultSelector()
    socks = []
    for _ in range(count):
        s = open_watch(server, "prefix=" + prefix)
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
        socks.append(s)
    received = 0
    closed = 0
    end = time.time() + seconds
    while time.time() < end:
        for key, _ in sel.select(timeout=0.5):
            try:
                data = key.fileobj.recv(1 << 20)
            except BlockingIOError:
                continue
            if not data:
                sel.unregister(key.fileobj)
                closed += 1
                continue
            received += data.count(b"\n")
    print(f"{count} watches for {seconds}s: {received} lines received, {closed} closed early")


if __name__ == "__main__":
    if sys.argv[1] == "latency":
        latency(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif sys.argv[1] == "hold":
        hold(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), *sys.argv[5:6])
    else:
        sys.exit(__doc__)
