#!/usr/bin/env python3
"""Reads valgrind memcheck logs and fails on what focusnet's own code did.

usage: valgrind_check.py ROOT LOG...

A memory error (invalid read or write, invalid free, use of uninitialised
values, overlapping copies, ...) or a "definitely lost" block counts when the
first frame of its stack that is neither valgrind's replacement of an
allocator nor the C library lies in ROOT/lib, ROOT/cli or ROOT/tests: the
code that allocated the block or made the access. The OpenCL stack's own
records (tests/valgrind.supp keeps most of them out of the log) do not count.
Prints each record that counts and a line per log; exits 1 if any counted."""
import os
import re
import sys

ERROR_RE = re.compile(
    r"^(Invalid (read|write|free)|Mismatched free|Conditional jump|Use of uninitialised|"
    r"Syscall param|Source and destination overlap|Argument '.*' of function|"
    r"Jump to the invalid address|Process terminating)")
LEAK_RE = re.compile(r"are definitely lost in loss record")
FRAME_RE = re.compile(r"^\s*(at|by) 0x[0-9A-Fa-f]+: (\S+) \((.*)\)$")


def records(path):
    """Yields each record of the log as a list of lines, prefix removed."""
    cur = []
    with open(path, errors="replace") as f:
        for line in f:
            m = re.match(r"^==\d+== ?(.*)$", line.rstrip("\n"))
            if not m:
                continue
            text = m.group(1)
            if text.strip() == "":
                if cur:
                    yield cur
                cur = []
            else:
                cur.append(text)
    if cur:
        yield cur


def site(lines, roots):
    """The first frame that is not valgrind's or libc's, and whether it is ours."""
    for line in lines:
        m = FRAME_RE.match(line)
        if not m:
            continue
        where = m.group(3)
        if "vgpreload" in where or "/valgrind/" in where:
            continue
        if "libc.so" in where or where.startswith(("string/", "stdlib/", "libio/", "malloc/")) \
                or "/glibc" in where or "sysdeps/" in where:
            continue
        return m.group(2) + " (" + where + ")", any(where.startswith(r) for r in roots)
    return None, False


def main():
    root = os.path.realpath(sys.argv[1])
    roots = [os.path.join(root, d) + "/" for d in ("lib", "cli", "tests")]
    bad_total = 0
    for path in sys.argv[2:]:
        errors = leaks = 0
        for rec in records(path):
            kind = "error" if ERROR_RE.match(rec[0]) else "leak" if LEAK_RE.search(rec[0]) else None
            if not kind:
                continue
            where, ours = site(rec[1:], roots)
            if not ours:
                continue
            if kind == "error":
                errors += 1
            else:
                leaks += 1
            print("%s: %s at %s" % (os.path.basename(path), rec[0], where))
            for line in rec[1:12]:
                print("    " + line)
        name = os.path.basename(path)
        print("%s: %d memory errors and %d definitely lost blocks in focusnet code"
              % (name, errors, leaks))
        bad_total += errors + leaks
    sys.exit(1 if bad_total else 0)


if __name__ == "__main__":
    main()
