"""`pb-engine analyse` on the Pabulib files at hand, timed per file and by size, with the extrapolation
to the whole archive (about 1,750 files, 259 MB).

    .venv/bin/python benchmarks/bench_archive.py                                 # ../shared/data/pabulib*
    .venv/bin/python benchmarks/bench_archive.py FOLDER... --rules greedy,phragmen --processes 1,2

For each folder, the same run of `pb-engine analyse` (a fresh --out each time, so nothing is resumed)
with each --processes count side by side in one invocation (the machine is shared: compare within a
run). Printed: the command's own timing table (seconds of each rule inside its worker), the wall
time of each run and the speed-up, then the extrapolation: seconds per MB of .pb text measured here
times 259 MB, divided by the workers, and the same by ballots (the archive's 1,750 files hold about
6.3 million votes, pabulib's own count).
"""

from __future__ import annotations

import argparse
import csv
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = [ROOT.parent / "shared" / "data" / "pabulib", ROOT.parent / "shared" / "data" / "pabulib-quirks"]
ARCHIVE_MB, ARCHIVE_VOTES, ARCHIVE_FILES, LARGE_FILES = 259, 6_332_143, 1_750, 30


def run(folders, rules, processes) -> tuple[float, list[dict], str]:
    with tempfile.TemporaryDirectory() as tmp:
        rows, output, started = [], "", time.perf_counter()
        for folder in folders:
            out = Path(tmp) / f"{Path(folder).name}.csv"
            cmd = [str(ROOT / ".venv" / "bin" / "pb-engine"), "analyse", str(folder), "--rules", rules,
                   "--out", str(out), "--processes", str(processes)]
            done = subprocess.run(cmd, capture_output=True, text=True)
            output += f"$ {' '.join(cmd[1:])}\n{done.stderr}\n"
            with out.open(newline="", encoding="utf-8") as fh:
                rows += list(csv.DictReader(fh))
        return time.perf_counter() - started, rows, output


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folders", nargs="*", default=[str(f) for f in DEFAULT])
    ap.add_argument("--rules", default="greedy,mes:completion=add1,max-welfare,phragmen")
    ap.add_argument("--processes", default="1,2", help="comma-separated process counts to compare")
    args = ap.parse_args()
    counts = [int(x) for x in args.processes.split(",")]
    mb = sum(p.stat().st_size for f in args.folders for p in Path(f).rglob("*.pb")) / 1e6
    walls, inside = {}, {}
    for n in counts:
        wall, rows, output = run(args.folders, args.rules, n)
        walls[n] = wall
        print(output if n == counts[0] else "", end="")
        files = {r["file"] for r in rows}
        votes = sum({r["file"]: int(r["voters"] or 0) for r in rows}.values())
        inside[n] = sum(float(x) for x in re.findall(r"file\(s\) analysed in ([0-9.]+) s", output))
        print(f"--processes {n}: {len(files)} files, {mb:.2f} MB, wall {wall:.1f} s "
              f"({inside[n]:.1f} s of it analysing, after each command's start-up)")
    base = counts[0]
    for n in counts[1:]:
        print(f"speed-up {base} -> {n} processes: {walls[base] / walls[n]:.2f}x in wall time, "
              f"{inside[base] / max(inside[n], 1e-9):.2f}x in analysing time")
    rule_secs = {}
    for r in rows:
        if r["status"] == "ok" and r["rule"] != "official":
            rule_secs[r["rule"]] = rule_secs.get(r["rule"], 0) + float(r["seconds"])
    slowest = sorted(((float(r["seconds"]), r["file"], r["rule"]) for r in rows if r["status"] == "ok"), reverse=True)[:5]
    print("slowest (rule inside its worker): " + "; ".join(f"{f} {rule} {s:.1f} s" for s, f, rule in slowest))
    print("seconds per rule, all files: " + ", ".join(f"{k} {v:.1f}" for k, v in rule_secs.items()))
    # By class of file: the archive is mostly district rounds (a few hundred to a few thousand ballots) and
    # some city-wide ones of 60,000-130,000 ballots (LARGE_FILES, assumed: Łódź, Warszawa, Wrocław, Kraków
    # over the years). Seconds of one file = its parse + every rule, as measured inside its worker.
    per_file = {}
    for r in rows:
        if r["status"] == "ok" or r["rule"] == "official":
            per_file.setdefault(r["file"], [int(r["voters"] or 0), float(r["parse_seconds"] or 0)])
            per_file[r["file"]][1] += float(r["seconds"] or 0)
    small = sorted(sec for v, sec in per_file.values() if v < 50_000)
    large = [sec for v, sec in per_file.values() if v >= 50_000]
    if small and large:
        median, mean = small[len(small) // 2], sum(small) / len(small)
        big = sum(large) / len(large)
        for label, per_small in (("median", median), ("mean, outliers included", mean)):
            total = (ARCHIVE_FILES - LARGE_FILES) * per_small + LARGE_FILES * big
            print(f"by class ({label}): {ARCHIVE_FILES - LARGE_FILES} district files x {per_small:.2f} s + "
                  f"{LARGE_FILES} city-wide x {big:.1f} s = {total / 60:.1f} min of work; "
                  + ", ".join(f"{total / n / 60:.1f} min on {n} worker(s)" for n in (1, 2, 8)))
    for n in counts:
        per_mb = walls[n] / mb
        print(f"extrapolation with {n} process(es): {per_mb:.2f} s/MB x {ARCHIVE_MB} MB = "
              f"{per_mb * ARCHIVE_MB / 60:.1f} min;  by votes: {walls[n] / max(votes, 1) * ARCHIVE_VOTES / 60:.1f} min")


if __name__ == "__main__":
    main()
