"""Sum a py-spy raw profile (``--format raw``): where the samples went, inclusive and self.

    .venv/bin/python -m bench.profile_summary profile.txt --top 25

Each line of a raw profile is one stack, root first, frames joined by ``;``,
then a space and the number of samples that had it. A function's inclusive
share counts every sample with it anywhere on the stack (once, however deep
the recursion); its self share only those where it was the innermost frame.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

__all__ = ["Shares", "shares"]

Shares = tuple[int, Counter[str], Counter[str]]


def _function(frame: str) -> str:
    """``name (path/to/file.py:12)`` → ``name (path/to/file.py)``: lines apart are one function."""
    name, _, where = frame.partition(" (")
    path = where.rsplit(":", 1)[0].rstrip(")")
    for marker in ("site-packages/", "/work/", "python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{name} ({path})" if path else name


def shares(lines: list[str]) -> Shares:
    """Total samples, and samples per function inclusive and self.

    >>> total, inclusive, own = shares(["main (a.py:1);f (a.py:5);g (a.py:9) 3", "main (a.py:1) 1"])
    >>> total, inclusive["f (a.py)"], own["g (a.py)"], own["main (a.py)"]
    (4, 3, 3, 1)
    """
    total = 0
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    for line in lines:
        stack, _, count_text = line.rstrip().rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_function(f) for f in stack.split(";")]
        total += count
        for function in set(frames):
            inclusive[function] += count
        own[frames[-1]] += count
    return total, inclusive, own


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--within", help="only stacks with a frame containing this text")
    args = parser.parse_args()
    lines = args.profile.read_text().splitlines()
    everything = shares(lines)[0]
    if args.within:
        lines = [line for line in lines if args.within in line.rpartition(" ")[0]]
    total, inclusive, own = shares(lines)
    print(f"{total} samples of {everything} ({100 * total / max(everything, 1):.1f} %)")
    for title, counts in (("inclusive", inclusive), ("self", own)):
        print(f"\n{title}:")
        for function, count in counts.most_common(args.top):
            print(f"{100 * count / total:6.1f} %  {function}")


if __name__ == "__main__":
    main()
