#!/usr/bin/env python3
"""Accuracy per question family of needle-replay.js output (the one-pass answers):
colour, time, presence of a shape that was there (yes) and of one that was not (no).

    python3 tools/needle/replay_families.py replay.txt [more.txt …]
"""
import collections
import re
import sys

LINE = re.compile(r'seed (\d+) \((\d+) frames\) "(.*?)" expected (\S+): engine (.*?), one pass (.*?)(?: \(timestamps.*?\))?; from memory')

for path in sys.argv[1:]:
    right, total = collections.Counter(), collections.Counter()
    for line in open(path, encoding="utf-8"):
        m = LINE.match(line)
        if not m:
            continue
        question, expected, answer = m.group(3), m.group(4), m.group(6).strip()
        family = "colour" if question.startswith("What color") else "time" if question.startswith("When") else f"presence ({expected})"
        total[family] += 1
        right[family] += answer == expected
    print(path + ": " + ", ".join(f"{k} {right[k]}/{total[k]} ({100 * right[k] / total[k]:.0f} %)" for k in sorted(total)))
