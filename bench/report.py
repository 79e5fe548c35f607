"""The printed table (each figure beside its target, OK/MISS) and the JSON results file."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.measure import Timing

COLUMNS = ("figure", "p50 / value", "p99", "n", "target", "result")


@dataclass
class Row:
    section: str
    figure: str
    value: str
    p99: str = ""
    n: str = ""
    target: str = ""
    ok: bool | None = None

    @property
    def result(self) -> str:
        return "" if self.ok is None else "OK" if self.ok else "MISS"


def ms(value: float) -> str:
    return f"{value:,.1f} ms" if value < 100 else f"{value:,.0f} ms"


class Table:
    """Rows collected while measuring, printed once at the end."""

    def __init__(self, sections: tuple[str, ...]) -> None:
        self.sections = sections
        self.rows: list[Row] = []
        self.section = sections[0]

    def start(self, section: str) -> None:
        self.section = section

    def add(self, figure: str, value: str, target: str = "", ok: bool | None = None) -> Row:
        row = Row(self.section, figure, value, target=target, ok=ok)
        self.rows.append(row)
        return row

    def timing(
        self,
        figure: str,
        timing: Timing,
        target_ms: float | None = None,
        cpu: bool = False,
    ) -> Row:
        """A latency row: p50 (and server CPU per request when asked), p99, samples."""
        value = ms(timing.p50)
        if cpu and timing.server_cpu_ms is not None:
            value += f" (cpu {timing.server_cpu_ms:.2f} ms)"
        row = Row(self.section, figure, value, ms(timing.p99), str(timing.n))
        if timing.timed_out:
            row.value, row.p99 = f"> {timing.samples_ms[-1] / 1000:g} s (interrupted)", ""
        if target_ms is not None:
            row.target, row.ok = f"p50 <= {target_ms:g} ms", timing.p50 <= target_ms
        self.rows.append(row)
        return row

    def ordered(self) -> list[Row]:
        """Rows grouped by section in the table's order, measurement order within each."""
        return sorted(self.rows, key=lambda row: self.sections.index(row.section))

    def render(self, title: str) -> str:
        rows = self.ordered()
        widths = [len(c) for c in COLUMNS]
        cells = [(f"  {r.figure}", r.value, r.p99, r.n, r.target, r.result) for r in rows]
        for line in cells:
            widths = [max(w, len(c)) for w, c in zip(widths, line, strict=True)]
        rule = "-+-".join("-" * w for w in widths)

        def fmt(line: tuple[str, ...]) -> str:
            parts = [
                c.ljust(w) if i in (0, 4) else c.rjust(w)
                for i, (c, w) in enumerate(zip(line, widths, strict=True))
            ]
            return " | ".join(parts).rstrip()

        out = [title, "=" * len(rule), fmt(COLUMNS), rule]
        section = None
        for row, line in zip(rows, cells, strict=True):
            if row.section != section:
                section = row.section
                out.append(f"[{section}]")
            out.append(fmt(line))
        misses = sum(r.ok is False for r in self.rows)
        checked = sum(r.ok is not None for r in self.rows)
        out += [rule, f"targets met: {checked - misses}/{checked}"]
        return "\n".join(out)

    def as_json(self) -> list[dict[str, Any]]:
        return [asdict(row) | {"result": row.result} for row in self.ordered()]


def write_json(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
