#!/usr/bin/env python3
"""Watch delivery latency for docs/benchmarks.md (issue 14), against a running cluster.

  latency  SERVER_PUT SERVER_WATCH N      p50/p99 of (event seen on a watch) - (PUT acknowledged),
                                          one write at a time, N writes (idle cluster otherwise)

What held watchers cost the writes is measured by `nds bench --hold-watchers` (docs/benchmarks.md).

Standard library only; every wait is bounded.
"""
import http.client
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


if __name__ == "__main__":
    if sys.argv[1] == "latency":
        latency(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        sys.exit(__doc__)
