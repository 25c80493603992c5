#!/usr/bin/env python3
"""Prints what bench/big-allocs/tracer.c found for one process: at its highest mark, the live
allocations of 1 MiB or more, summed by the stack that made them (addr2line names the frames).

Usage: report.py DIR PID [FRAMES]   (FRAMES: how many frames of each stack to show, default 6)
"""
import collections
import subprocess
import sys


def main():
    directory, pid = sys.argv[1], sys.argv[2]
    depth = int(sys.argv[3]) if len(sys.argv) > 3 else 6
    maps = []
    with open(f"{directory}/maps.{pid}") as f:
        for line in f:
            parts = line.split()
            if len(parts) < 6:
                continue
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            maps.append((lo, hi, int(parts[2], 16), parts[5]))
    names = {}

    def name(address):
        for lo, hi, offset, path in maps:
            if lo <= address < hi:
                key = (path, address - lo + offset)
                if key not in names:
                    out = subprocess.run(["addr2line", "-f", "-C", "-e", path, hex(key[1] - 1)],
                                         capture_output=True, text=True).stdout.split("\n")
                    fn = out[0] if out and out[0] != "??" else path.rsplit("/", 1)[-1]
                    names[key] = fn.split("(")[0][:70]
                return names[key]
        return hex(address)

    with open(f"{directory}/peak.{pid}") as f:
        lines = f.read().splitlines()
    print(f"process {pid}: {int(lines[0].split()[1]) / 1e6:.1f} MB live in allocations of 1 MiB or more")
    by_stack = collections.Counter()
    for line in lines[1:]:
        head, _, frames = line.partition(":")
        addresses = [int(x, 16) for x in frames.split()][2:]  # skip the tracer's own frames
        # operator new and the allocator's templates say nothing: start at the first other frame.
        named = [name(a) for a in addresses]
        while named and (named[0].startswith("operator new") or "allocat" in named[0]):
            named.pop(0)
        by_stack[" <- ".join(named[:depth])] += int(head.split()[1])
    for stack, size in by_stack.most_common():
        print(f"{size / 1e6:8.1f} MB  {stack}")


if __name__ == "__main__":
    main()
