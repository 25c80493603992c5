#!/usr/bin/env python3
"""Keeps N leases alive every second against one nds node (docs/leases.md, benchmarks.md).

Usage: lease_keepalive_load.py HOST:PORT LEASES SECONDS [CONNECTIONS]
Grants LEASES leases of 10 s, then for SECONDS seconds sends one keepalive per lease per second,
pipelined (at most 50 requests ahead per connection), and prints how many were answered 200.
"""
import asyncio
import sys
import time

PIPELINE = 50


async def read_reply(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    body = await reader.readexactly(length) if length else b""
    return status, body


async def batch(host, port, requests):
    reader, writer = await asyncio.open_connection(host, port)
    replies = []
    for i in range(0, len(requests), PIPELINE):
        chunk = requests[i:i + PIPELINE]
        writer.write(b"".join(chunk))
        await writer.drain()
        for _ in chunk:
            replies.append(await read_reply(reader))
    writer.close()
    return replies


def request(method, path, body=b""):
    return (f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n"
            .encode() + body)


async def main():
    host, port = sys.argv[1].rsplit(":", 1)
    port = int(port)
    leases, seconds = int(sys.argv[2]), int(sys.argv[3])
    conns = int(sys.argv[4]) if len(sys.argv) > 4 else 8
    grant = request("POST", "/leases", b'{"ttl_ms": 10000}')
    per = (leases + conns - 1) // conns
    results = await asyncio.gather(*[batch(host, port, [grant] * min(per, leases - c * per))
                                     for c in range(conns)])
    ids = []
    for replies in results:
        for status, body in replies:
            if status == 201:
                ids.append(int(body.split(b'"id":')[1].split(b",")[0]))
    print(f"granted {len(ids)} leases", flush=True)
    ok = sent = 0
    start = time.monotonic()
    for second in range(seconds):
        tick = time.monotonic()
        groups = [ids[c::conns] for c in range(conns)]
        results = await asyncio.gather(*[batch(host, port, [
            request("POST", f"/leases/{i}/keepalive") for i in g]) for g in groups])
        for replies in results:
            sent += len(replies)
            ok += sum(1 for s, _ in replies if s == 200)
        left = 1.0 - (time.monotonic() - tick)
        if left > 0:
            await asyncio.sleep(left)
    elapsed = time.monotonic() - start
    print(f"keepalives sent {sent} ok {ok} in {elapsed:.1f} s ({sent / elapsed:.0f}/s)")


asyncio.run(main())
