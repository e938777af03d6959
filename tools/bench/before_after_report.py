#!/usr/bin/env python3
"""Report of a before/after run (tools/bench/before-after.sh's JSON lines) as markdown.

For every figure: before and after, each the geometric mean of its build's runs (ABBA: runs 1 and 4
are before, 2 and 3 after), the ratio after/before as time (< 1 is faster), and the noise: the larger
of the two builds' own spreads (max/min of one build's runs − 1). A ratio is within noise when
|ratio − 1| ≤ noise. Kernels are compared by ms per iteration; model and stream figures are times
(ms) or rates (converted to time: 1/rate).
usage: before_after_report.py run.jsonl [--before .before/dist-node]
"""
import json
import math
import sys
from collections import defaultdict


def gmean(xs):
    return math.exp(sum(math.log(x) for x in xs) / len(xs))


def spread(xs):
    return max(xs) / min(xs) - 1 if len(xs) > 1 else float("nan")


def main():
    path = sys.argv[1]
    before_build = sys.argv[sys.argv.index("--before") + 1] if "--before" in sys.argv else ".before/dist-node"
    rows = [json.loads(line) for line in open(path) if line.strip()]
    failed = [r for r in rows if "failed" in r]
    # figure → build side → [ms]
    figs = defaultdict(lambda: {"before": [], "after": []})
    for r in rows:
        if "result" not in r:
            continue
        side = "before" if r["build"] == before_build else "after"
        part = r["run"].rsplit("-", 1)[0]
        res = r["result"]
        if part == "kernels":
            for k in res["results"]:
                if k.get("msPerIteration", 0) > 0:
                    figs[("kernels", f"{k['name']} [{k['precision']}]")][side].append(k["msPerIteration"])
        elif part == "model":
            for m in res["results"]:
                p = m["precision"]
                figs[("model", f"{p} frame vision+connector GPU ms")][side].append(m["frame"]["visionConnectorGpuMs"])
                figs[("model", f"{p} frame wall ms")][side].append(m["frame"]["totalWallMs"])
                figs[("model", f"{p} prefill GPU ms")][side].append(m["prefill"]["gpuMs"])
                figs[("model", f"{p} prefill wall ms")][side].append(m["prefill"]["wallMs"])
                figs[("model", f"{p} decode wall ms/token")][side].append(m["decode"]["wallMsPerToken"])
                figs[("model", f"{p} decode GPU ms/token")][side].append(m["decode"]["gpuMsPerToken"])
        elif part == "stream":
            p = res.get("precision", "?")
            for c in res["checkpoints"]:
                figs[("stream", f"{p} {c['minutes']} min first token ms")][side].append(c["firstTokenMs"])
                figs[("stream", f"{p} {c['minutes']} min ingest ms/frame")][side].append(1000 / c["ingestFps"])
                for stage, ms in c["stageMs"].items():
                    figs[("stream", f"{p} {c['minutes']} min {stage} ms")][side].append(ms)
    out = [f"# before/after: {path}", ""]
    if failed:
        out += [f"- failed: {r['run']} {r['build']}: {r['failed'][:200]!r}" for r in failed] + [""]
    for part in ("kernels", "model", "stream"):
        items = [(name, v) for (p, name), v in figs.items() if p == part and v["before"] and v["after"]]
        if not items:
            continue
        out += [f"## {part}", "", "| figure | before | after | after/before | noise | within noise |", "| --- | --- | --- | --- | --- | --- |"]
        ratios = defaultdict(list)
        outside = 0
        for name, v in items:
            b, a = gmean(v["before"]), gmean(v["after"])
            ratio = a / b
            noise = max(spread(v["before"]), spread(v["after"]))
            within = abs(ratio - 1) <= noise if not math.isnan(noise) else None
            outside += within is False
            prec = "f16" if "[f16]" in name or name.startswith("f16") else "f32" if "[f32]" in name or name.startswith("f32") else "-"
            ratios[prec].append(ratio)
            out.append(f"| {name} | {b:.4g} | {a:.4g} | {ratio:.3f} | {noise:.3f} | {'yes' if within else 'no' if within is False else '?'} |")
        out.append("")
        for prec, rs in sorted(ratios.items()):
            rs.sort()
            out.append(f"- {part} {prec}: {len(rs)} figures, median after/before {rs[len(rs) // 2]:.3f}, geometric mean {gmean(rs):.3f}")
        out.append(f"- {part}: {outside} of {len(items)} figures outside their own noise")
        out.append("")
    print("\n".join(out))


if __name__ == "__main__":
    main()
