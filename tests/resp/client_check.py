#!/usr/bin/env python3
"""Drives an nds RESP front with the redis-py client (Debian's python3-redis), the way an
application would, and exits non-zero on the first surprise. Used by tests/resp_cluster_test.cc.

Usage: client_check.py PORT_A PORT_B  (two nodes of one cluster; B may be a follower)
"""
import sys

import redis


def main():
    a = redis.Redis(host="127.0.0.1", port=int(sys.argv[1]), socket_timeout=10)
    b = redis.Redis(host="127.0.0.1", port=int(sys.argv[2]), socket_timeout=10)
    assert a.ping()
    assert a.set("py:k", "v1")
    assert b.get("py:k") == b"v1", "a write on one node reads back on another"
    assert b.set("py:k", "v2", nx=True) is None
    assert b.set("py:k", "v3", xx=True)
    assert a.getset("py:k", "v4") == b"v3"
    assert b.incr("py:n") == 1
    assert a.incrby("py:n", 41) == 42
    assert b.decr("py:n") == 41
    try:
        a.incr("py:k")
        raise AssertionError("INCR of a string must fail")
    except redis.ResponseError as e:
        assert "not an integer" in str(e), e
    assert a.mset({"py:m1": "1", "py:m2": "2"})
    assert b.mget(["py:m1", "py:m2", "py:none"]) == [b"1", b"2", None]
    assert b.append("py:m1", "0") == 2
    assert a.strlen("py:m1") == 2
    assert a.exists("py:m1", "py:m2", "py:none") == 2
    assert b.ttl("py:m1") == -1 and b.ttl("py:none") == -2
    assert a.expire("py:m1", 100) is True
    assert 0 < b.ttl("py:m1") <= 100
    assert b.persist("py:m1") is True and a.ttl("py:m1") == -1
    assert a.set("py:e", "v", px=60000) and 0 < b.pttl("py:e") <= 60000
    assert a.setex("py:e", 30, "w") and b.get("py:e") == b"w"
    with b.pipeline(transaction=False) as p:
        for i in range(100):
            p.set("py:p%03d" % i, str(i))
        p.get("py:p042")
        replies = p.execute()
    assert replies[-1] == b"42", replies[-1]
    keys = set(b.scan_iter(match="py:p*", count=7))
    assert keys == {("py:p%03d" % i).encode() for i in range(100)}, len(keys)
    assert len(a.keys("py:m*")) == 2
    assert a.delete("py:m1", "py:m2", "py:none") == 2
    assert a.client_setname("checker") and a.client_getname() in ("checker", b"checker")
    try:
        a.execute_command("LPUSH", "l", "x")
        raise AssertionError("LPUSH must be unknown")
    except redis.ResponseError as e:
        assert "unknown command" in str(e), e
    print("redis-py: ok")


if __name__ == "__main__":
    main()
