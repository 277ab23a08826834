"""`pb-engine analyse FOLDER --rules greedy,mes:completion=add1,max-welfare,phragmen --out FILE.csv`.

Every Pabulib file of FOLDER (recursively) under each rule: one CSV row per file and rule
(pb_engine/analysis/archive.py: the comparison's figures, agreement with the file's `selected`
outcome, seconds per rule), plus a row "official" for the file's own outcome.

- Work is spread over local processes (`--processes`, default: every core), or over `pb-engine
  worker`s on any machine when a Redis URL is given (`--redis`, or PB_REDIS_URL): the same function,
  fed the file's text so that workers need no shared folder (pb_engine.jobs.fan_out).
- Largest files first, so that the slowest one does not start last.
- Resumable: rows are written as each file finishes; a later run with the same --out keeps the rows
  of every file already done with the same bytes (sha256) and the same rules, drops a half-written
  file's rows, and does only the rest.
"""

from __future__ import annotations

import csv
import os
import sys
import time
from pathlib import Path

import click

from pb_engine import jobs
from pb_engine.analysis.archive import COLUMNS, analyse_file, parse_rule
from pb_engine.commands.allocate import expand

UNREADABLE = "unreadable"


def _one(source: str, rules: list[str], label: str) -> dict:
    """A local worker process's entry: HiGHS's banner kept off stdout, then the file."""
    from pb_engine.commands import paused_gc, quiet_highs_banner

    quiet_highs_banner()
    with paused_gc():
        return analyse_file(source, rules, label=label)


def _rules(text: str) -> list[str]:
    rules = [r.strip() for r in text.split(",") if r.strip()]
    if not rules:
        raise click.BadParameter("name at least one rule", param_hint="--rules")
    for r in rules:
        try:
            parse_rule(r)
        except ValueError as e:
            raise click.BadParameter(str(e), param_hint="--rules") from None
        except Exception as e:  # ValidationFailed of an option: its message names it
            raise click.BadParameter(getattr(e, "message", str(e)), param_hint="--rules") from None
    return rules


def finished(out: Path, rules: list[str]) -> tuple[list[dict], set[tuple[str, str]]]:
    """Rows of --out to keep and the (file, sha256) pairs they finish: a file counts as done when it has a
    row for every chosen rule (or its `unreadable` row)."""
    if not out.exists() or out.stat().st_size == 0:
        return [], set()
    with out.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise click.ClickException(f"{out} has other columns than this version writes; give another --out")
        rows = list(reader)
    by_file: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        if None in row or None in row.values():  # a line cut short by an interruption
            continue
        by_file.setdefault((row["file"], row["sha256"]), []).append(row)
    done, kept = set(), []
    for key, file_rows in by_file.items():
        have = {r["rule"] for r in file_rows}
        if set(rules) <= have or any(r["status"] == UNREADABLE for r in file_rows):
            done.add(key)
            kept.extend(r for r in file_rows if r["rule"] in rules or r["rule"] in ("official", ""))
    return kept, done


@click.command("analyse")
@click.argument("folder", type=click.Path(exists=True, file_okay=True, dir_okay=True))
@click.option("--rules", "rules_text", default="greedy,mes:completion=add1,max-welfare,phragmen", show_default=True,
              help="registered rule ids, comma-separated; options as id:name=value (pb-engine rules)")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="the CSV to write (or resume)")
@click.option("--processes", default=None, type=click.IntRange(min=1), help="local processes (default: every core)")
@click.option("--redis", "redis_url", default=None, help="spread over `pb-engine worker`s on this Redis (default: "
              "$PB_REDIS_URL when --remote is given)")
@click.option("--remote", is_flag=True, help="use the queue workers at $PB_REDIS_URL instead of local processes")
@click.option("--queue", default=jobs.QUEUE, show_default=True, help="the Redis queue the workers take from")
@click.option("--timing/--no-timing", default=True, show_default=True, help="print seconds per file and by size")
def analyse(folder, rules_text, out, processes, redis_url, remote, queue, timing):
    """Run the chosen rules on every Pabulib file of FOLDER and write one row per file and rule to --out."""
    rules = _rules(rules_text)
    url = redis_url or (jobs.redis_url() if remote else None)
    if remote and not url:
        raise click.UsageError("--remote needs a Redis URL: --redis URL or PB_REDIS_URL")
    root = Path(folder)
    files = expand([folder])
    if not files:
        raise click.ClickException(f"no .pb files in {folder}")
    out_path = Path(out)
    kept, done = finished(out_path, rules)
    import hashlib

    todo = []
    for path in files:
        label = str(path.relative_to(root)) if root.is_dir() else path.name
        data = path.read_bytes()
        if (label, hashlib.sha256(data).hexdigest()) in done:
            continue
        todo.append((path, label, len(data)))
    todo.sort(key=lambda t: -t[2])  # largest first
    click.echo(f"{len(files)} file(s) in {folder}: {len(files) - len(todo)} already in {out}, {len(todo)} to do "
               f"with {', '.join(rules)} on " + (f"queue workers at {url}" if url else
                                                 f"{processes or os.cpu_count()} local process(es)"), err=True)
    tmp = out_path.with_name(out_path.name + ".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as fh:  # the kept rows, without any half-written line
        w = csv.DictWriter(fh, COLUMNS)
        w.writeheader()
        w.writerows(kept)
    os.replace(tmp, out_path)
    if url:
        items = [(str(p), rules, p.read_text(encoding="utf-8", errors="replace"), label) for p, label, _ in todo]
        function = "pb_engine.analysis.archive:analyse_file"
    else:
        items = [(str(p), rules, label) for p, label, _ in todo]
        function = "pb_engine.commands.analyse:_one"
    if not url and todo:
        from pb_engine.allocation import mes_kernel

        # once, here: worker processes fork with the compiled MES kernel instead of each loading it (MES
        # may be among the rules, and is many files' official rule)
        mes_kernel.warm()
    timings, failed = [], 0
    started = time.perf_counter()
    with out_path.open("a", newline="", encoding="utf-8") as fh, \
            click.progressbar(length=sum(s for _, _, s in todo) or 1, label="analysing", file=sys.stderr,
                              show_pos=False, show_eta=True) as bar:
        w = csv.DictWriter(fh, COLUMNS)
        for i, result, error in jobs.fan_out(function, items, processes=processes, redis=url, queue=queue):
            path, label, size = todo[i]
            if error or result.get("error"):
                failed += 1
                message = error or result["error"]
                w.writerow({"file": label, "sha256": (result or {}).get("sha256", ""), "rule": "",
                            "status": UNREADABLE, "message": message})
                click.echo(f"\nerror: {label}: {message}", err=True)
            else:
                w.writerows(result["rows"])
                timings.append((label, size, result["rows"]))
            fh.flush()  # a finished file is on disk: an interruption never costs it again
            bar.update(size)
    wall = time.perf_counter() - started
    click.echo(f"{len(todo)} file(s) analysed in {wall:.1f} s ({failed} unreadable); rows in {out}", err=True)
    if timing and timings:
        for line in timing_table(timings, rules):
            click.echo(line, err=True)
    if failed:
        sys.exit(1)


SIZE_BANDS = ((1_000, "< 1,000 ballots"), (10_000, "1,000-9,999"), (50_000, "10,000-49,999"),
              (10**9, ">= 50,000"))


def timing_table(timings, rules) -> list[str]:
    """Seconds per file (parse and each rule, as measured inside its worker) and summed by ballots."""
    lines = ["", "file | ballots | projects | parse s | " + " | ".join(f"{r} s" for r in rules)]
    bands: dict[str, list] = {}
    for label, _size, rows in sorted(timings, key=lambda t: -int(t[2][0]["voters"] if t[2] else 0)):
        by_rule = {r["rule"]: r for r in rows}
        first = rows[0]
        secs = [float(by_rule[r]["seconds"]) if by_rule.get(r, {}).get("status") == "ok" else None for r in rules]
        lines.append(f"{label} | {first['voters']} | {first['projects']} | {float(first['parse_seconds']):.3f} | "
                     + " | ".join("-" if s is None else f"{s:.3f}" for s in secs))
        band = next(name for top, name in SIZE_BANDS if int(first["voters"]) < top)
        bands.setdefault(band, []).append((float(first["parse_seconds"]), secs))
    lines += ["", "ballots | files | parse s | " + " | ".join(f"{r} s" for r in rules) + " | total s"]
    for _top, name in SIZE_BANDS:
        entries = bands.get(name)
        if not entries:
            continue
        parse = sum(p for p, _ in entries)
        per = [sum(s[i] or 0 for _, s in entries) for i in range(len(rules))]
        lines.append(f"{name} | {len(entries)} | {parse:.2f} | " + " | ".join(f"{x:.2f}" for x in per)
                     + f" | {parse + sum(per):.2f}")
    return lines


commands = [analyse]
