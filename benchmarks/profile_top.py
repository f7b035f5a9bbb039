"""Summarise py-spy ``--format raw`` profiles (collapsed stacks): the hottest frames.

    .venv/bin/python benchmarks/profile_top.py PROFILE.txt [--top 25] [--filter encola]

Prints, as a share of all samples, the top frames by *self* time (the leaf being executed) and by
*inclusive* time (anywhere on the stack), so the hot spots can be quoted with evidence.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path


def load(path: Path) -> list[tuple[list[str], int]]:
    stacks = []
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [f for f in stack.split(";") if not f.startswith(("thread (", "process "))]
        stacks.append((frames, int(count)))
    return stacks


def short(frame: str) -> str:
    # "name (path/to/file.py:123)" -> "name (file.py:123)" with the package part that matters
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    for marker in ("site-packages/", "/encola/", "lib/python3"):
        if marker in where:
            where = where.split(marker, 1)[1]
            break
    return f"{name} ({where})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("profiles", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--filter", default="", help="inclusive table: only frames whose text contains this")
    args = parser.parse_args()
    for path in args.profiles:
        stacks = load(path)
        total = sum(count for _, count in stacks) or 1
        leaf: Counter = Counter()
        inclusive: Counter = Counter()
        for frames, count in stacks:
            if frames:
                leaf[short(frames[-1])] += count
            for frame in set(short(f) for f in frames):
                inclusive[frame] += count
        print(f"== {path.name}: {total} samples")
        print("-- self")
        for frame, count in leaf.most_common(args.top):
            print(f"{100 * count / total:5.1f}%  {frame}")
        print("-- inclusive" + (f" (frames containing {args.filter!r})" if args.filter else ""))
        shown = 0
        for frame, count in inclusive.most_common():
            if args.filter and args.filter not in frame:
                continue
            print(f"{100 * count / total:5.1f}%  {frame}")
            shown += 1
            if shown >= args.top:
                break
        print()


if __name__ == "__main__":
    main()
