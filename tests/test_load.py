"""Mixed load, bounded: readers over HTTP while files are imported; no errors, no torn reads."""

from __future__ import annotations

from pathlib import Path

from bench import generate, load


def test_readers_and_an_importer_together(tmp_path: Path, database_url: str) -> None:
    now = generate.parse_now(generate.DEFAULT_NOW)
    base = tmp_path / "base.ndjson"
    generate.write_ndjson(base, 1_000, 3, now, days=5.0)
    paths = [base, *load.write_files(tmp_path, 6, 300, 40)]
    totals, _ = load.whole_file_totals(paths)
    assert len(set(totals)) == len(totals)  # every file adds history records: tears would show

    result = load.run(database_url, paths, duration=12.0, idle_share=0.3, readers=3)

    assert result["errors"] == 0, result["error_samples"]
    assert result["files_imported"] >= 1
    assert result["idle"] and result["under_ingest"]
    assert result["torn_reads"] == [], (result["totals_seen"], totals)
    assert totals[1] in result["totals_seen"]  # the readers read before the imports
    assert result["ids_stored"] == result["ids_written"] > 1_000
    assert result["lost_records"] == 0
