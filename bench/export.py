"""Export benchmark: `cavra-gql export` and `verify-export` over N generated records, their
throughput and peak RSS, to show that memory stays flat as the history grows."""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # `python bench/export.py`: import this checkout's packages
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import json
import os
import tempfile

from sqlalchemy.engine import make_url

from bench import generate
from bench.measure import ChildRun, python, run_child

NOW = generate.parse_now(generate.DEFAULT_NOW)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def loaded_database(args: argparse.Namespace) -> str:
    """The database to export from: --database as it is, else a SQLite file of N generated
    records in the work folder (generated and ingested once, reused after)."""
    if args.database:
        return str(args.database)
    path = args.workdir / f"export-{args.records}-s{args.seed}.sqlite3"
    url = f"sqlite:///{path}"
    if path.exists():
        log(f"reusing {path}")
        return url
    source = args.workdir / f"history-{args.records}-s{args.seed}-export.ndjson"
    if not source.exists():
        log(f"generating {args.records:,} records -> {source}")
        generate.write_ndjson(source, args.records, args.seed, NOW, 60.0)
    log(f"ingesting {source.name} (cavra-gql ingest)...")
    run = run_child(python("-m", "cavra_gql.cli", "ingest", str(source), "--database", url))
    if run.returncode != 0:
        path.unlink(missing_ok=True)
        raise SystemExit(f"ingest failed:\n{run.stdout[-2000:]}")
    return url


def measured(command: list[str], what: str) -> ChildRun:
    log(f"{what}...")
    run = run_child(command)
    if run.returncode not in (0, 3):
        raise SystemExit(f"{what} failed ({run.returncode}):\n{run.stdout[-2000:]}")
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database", help="export this database instead (already loaded)")
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "cavra-bench-export"
    )
    parser.add_argument("--formats", default="ndjson,csv")
    parser.add_argument("--keep", action="store_true", help="keep the export files")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    url = loaded_database(args)
    cli = ["-m", "cavra_gql.cli"]
    key, public = args.workdir / "bench-key.pem", args.workdir / "bench-key.pub.pem"
    if not key.exists():
        run_child(python(*cli, "export-key", "--private", str(key), "--public", str(public)))
    # The floor: the same command exporting nothing (interpreter, imports, engine).
    empty = args.workdir / "empty.ndjson"
    floor = measured(
        python(*cli, "export", "--database", url, "--output", str(empty), "--audit-id", "-"),
        "export of no record (the floor)",
    )
    rows = [("export, 0 records (floor)", 0, 0, floor)]
    for fmt in args.formats.split(","):
        output = args.workdir / f"bench-export.{fmt}"
        command = ["export", "--database", url, "--output", str(output), "--format", fmt]
        run = measured(python(*cli, *command, "--signing-key", str(key)), f"export {fmt}")
        manifest = json.loads(Path(f"{output}.manifest.json").read_text("utf-8"))
        count, size = manifest["record_count"], manifest["byte_size"]
        rows.append((f"export {fmt}, signed", count, size, run))
        check = ["verify-export", str(output), "--public-key", str(public)]
        rows.append((f"verify-export {fmt}", count, size, measured(python(*cli, *check), "verify")))
        if not args.keep:
            output.unlink()
    for path in (empty, Path(f"{empty}.manifest.json")):
        path.unlink(missing_ok=True)
    print(f"\n{make_url(url).render_as_string(hide_password=True)} ({os.cpu_count()} cores)")
    print(f"{'step':<28} {'records':>10} {'MB':>8} {'seconds':>8} {'rec/s':>9} {'peak RSS':>9}")
    for name, count, size, run in rows:
        rate = f"{count / run.seconds:,.0f}" if count else "-"
        print(
            f"{name:<28} {count:>10,} {size / 1e6:>8,.0f} {run.seconds:>8.1f} {rate:>9}"
            f" {run.peak_rss_kb / 1024:>6,.0f} MB"
        )


if __name__ == "__main__":
    main()
