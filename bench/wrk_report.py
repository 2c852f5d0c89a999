#!/usr/bin/env python3
"""Parse the wrk outputs that bench/run.sh saved and print the comparison.

Input: a directory of files named  r<round>__<case>__<proxy>.txt  (raw wrk
--latency output). Output on stdout: a plain aligned table, then the same
numbers as markdown (for docs/benchmarks.md).

Per case and proxy the value is the median over rounds (with 2 rounds, the
mean). Ratios are Gatehouse / competitor computed per round (the runs of one
round are back to back, so they share the machine's state) and the median of
those is shown; for requests/s higher is better, for latencies lower is
better. The per-round requests/s ratios are listed so a reader can see how
noisy the machine was.
"""
import os
import re
import statistics
import sys

PROXIES = ["gatehouse", "nginx", "haproxy"]
UNIT_US = {"us": 1.0, "ms": 1e3, "s": 1e6, "m": 60e6, "h": 3600e6}


def to_us(text):
    m = re.fullmatch(r"([0-9.]+)(us|ms|s|m|h)", text.strip())
    if not m:
        raise ValueError(f"bad latency {text!r}")
    return float(m.group(1)) * UNIT_US[m.group(2)]


def parse_wrk(text):
    out = {"rps": None, "p50": None, "p99": None, "errors": 0, "requests": 0}
    m = re.search(r"^Requests/sec:\s+([0-9.]+)", text, re.M)
    if m:
        out["rps"] = float(m.group(1))
    for pct, key in (("50", "p50"), ("99", "p99")):
        m = re.search(rf"^\s+{pct}%\s+(\S+)", text, re.M)
        if m:
            out[key] = to_us(m.group(1))
    m = re.search(r"^\s+(\d+) requests in", text, re.M)
    if m:
        out["requests"] = int(m.group(1))
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    if m:
        out["errors"] += int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        out["errors"] += sum(int(g) for g in m.groups())
    return out


def fmt_us(us):
    if us is None:
        return "n/a"
    if us >= 1e6:
        return f"{us / 1e6:.2f} s"
    if us >= 1e3:
        return f"{us / 1e3:.2f} ms"
    return f"{us:.0f} µs"


def fmt_rps(v):
    return "n/a" if v is None else f"{v:,.0f}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def fmt_ratio(r):
    return "n/a" if r is None else f"{r:.2f}x"


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def load(directory):
    runs = {}  # (case, proxy) -> [parsed per round]
    rounds = {}  # (case, round) -> {proxy: parsed}
    cases = []
    for name in sorted(os.listdir(directory)):
        m = re.fullmatch(r"r(\d+)__(.+)__(\w+)\.txt", name)
        if not m:
            continue
        rnd, case, proxy = int(m.group(1)), m.group(2), m.group(3)
        with open(os.path.join(directory, name), encoding="utf-8", errors="replace") as f:
            parsed = parse_wrk(f.read())
        runs.setdefault((case, proxy), []).append(parsed)
        rounds.setdefault((case, rnd), {})[proxy] = parsed
        if case not in cases:
            cases.append(case)
    return cases, runs, rounds


def case_order(cases, wanted):
    ordered = [c for c in wanted if c in cases]
    return ordered + [c for c in cases if c not in ordered]


def table(rows, markdown):
    if markdown:
        lines = ["| " + " | ".join(rows[0]) + " |",
                 "|" + "|".join("---" if i == 0 else "---:" for i in range(len(rows[0]))) + "|"]
        lines += ["| " + " | ".join(r) + " |" for r in rows[1:]]
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for n, r in enumerate(rows):
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main():
    directory = sys.argv[1]
    wanted = sys.argv[2].split(",") if len(sys.argv) > 2 else []
    cases, runs, rounds = load(directory)
    cases = case_order(cases, wanted)

    med = {}
    for (case, proxy), lst in runs.items():
        med[(case, proxy)] = {k: median([r[k] for r in lst]) for k in ("rps", "p50", "p99")}
        med[(case, proxy)]["errors"] = sum(r["errors"] for r in lst)
        med[(case, proxy)]["n"] = len(lst)

    abs_rows = [["case", "proxy", "requests/s", "p50", "p99", "errors", "rounds"]]
    for case in cases:
        for proxy in PROXIES:
            v = med.get((case, proxy))
            if not v:
                continue
            abs_rows.append([case, proxy, fmt_rps(v["rps"]), fmt_us(v["p50"]), fmt_us(v["p99"]),
                             str(v["errors"]), str(v["n"])])

    # Ratios are paired per round (the three proxies of one round ran back to
    # back, so they saw the same machine state) and the median over rounds is
    # reported; the per-round requests/s ratios show the spread.
    ratio_rows = [["case", "rps GH/nginx", "rps GH/haproxy", "p50 GH/nginx", "p50 GH/haproxy",
                   "p99 GH/nginx", "p99 GH/haproxy", "rps GH/nginx per round",
                   "rps GH/haproxy per round"]]
    for case in cases:
        paired = {}  # (metric, competitor) -> [ratio per round]
        for (c, rnd), by_proxy in sorted(rounds.items()):
            if c != case or "gatehouse" not in by_proxy:
                continue
            for comp in ("nginx", "haproxy"):
                if comp not in by_proxy:
                    continue
                for k in ("rps", "p50", "p99"):
                    paired.setdefault((k, comp), []).append(
                        ratio(by_proxy["gatehouse"][k], by_proxy[comp][k]))
        cell = lambda k, comp: fmt_ratio(median(paired.get((k, comp), [])))
        spread = lambda comp: " ".join(fmt_ratio(r) for r in paired.get(("rps", comp), [])) or "n/a"
        ratio_rows.append([case, cell("rps", "nginx"), cell("rps", "haproxy"),
                           cell("p50", "nginx"), cell("p50", "haproxy"),
                           cell("p99", "nginx"), cell("p99", "haproxy"),
                           spread("nginx"), spread("haproxy")])

    print("Absolute numbers (median over rounds):")
    print(table(abs_rows, False))
    print()
    print("Ratios Gatehouse/competitor, median of per-round paired ratios")
    print("(requests/s: higher is better for Gatehouse; p50/p99: lower is better):")
    print(table(ratio_rows, False))
    print()
    print("Markdown:")
    print()
    print(table(abs_rows, True))
    print()
    print(table(ratio_rows, True))


if __name__ == "__main__":
    main()
