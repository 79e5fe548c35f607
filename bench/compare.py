"""Print two or more benchmark result files side by side (e.g. SQLite and PostgreSQL)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def _label(document: dict[str, Any]) -> str:
    meta = document.get("meta", {})
    return f"{meta.get('dialect', '?')} {meta.get('records', 0):,} @{meta.get('commit', '?')}"


def _cell(row: dict[str, Any] | None) -> str:
    if row is None:
        return "-"
    result = f" {row['result']}" if row.get("result") else ""
    return f"{row['value']}{result}"


def side_by_side(paths: list[Path]) -> str:
    documents = [json.loads(path.read_text(encoding="utf-8")) for path in paths]
    labels = [_label(document) for document in documents]
    keyed = [{(r["section"], r["figure"]): r for r in d["rows"]} for d in documents]
    order: list[tuple[str, str]] = []
    for document in documents:
        for row in document["rows"]:
            key = (row["section"], row["figure"])
            if key not in order:
                order.append(key)
    targets = {key: next((k[key]["target"] for k in keyed if key in k), "") for key in order}
    header = ["figure", *labels, "target"]
    lines = [
        [f"  {figure}", *(_cell(k.get((section, figure))) for k in keyed), targets[section, figure]]
        for section, figure in order
    ]
    widths = [max(len(x) for x in column) for column in zip(header, *lines, strict=True)]

    def fmt(cells: list[str]) -> str:
        return " | ".join(
            c.ljust(w) if i in (0, len(cells) - 1) else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    out = [fmt(header), "-+-".join("-" * w for w in widths)]
    section = None
    for (row_section, _), line in zip(order, lines, strict=True):
        if row_section != section:
            section = row_section
            out.append(f"[{section}]")
        out.append(fmt(line))
    for label, path in zip(labels, paths, strict=True):
        out.append(f"{label}: {path}")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("results", nargs="+", type=Path, help="JSON files written by run.py")
    print(side_by_side(parser.parse_args().results))


if __name__ == "__main__":
    main()
