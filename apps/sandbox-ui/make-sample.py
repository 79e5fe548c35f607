"""Regenerate sample-data.json: the newest days of the demo history, redacted as if stored.

Run it where cavra-gql is installed: `python3 apps/sandbox-ui/make-sample.py`. The output is a
CAVRA JSON metadata store (`{"items": [...]}`), so `cavra-gql ingest` reads it too.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cavra_gql import kinds
from cavra_gql.demo import demo_records
from cavra_gql.redaction import redact

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
DAYS = 4
OUTPUT = Path(__file__).resolve().parent / "sample-data.json"


def sample_records() -> list[dict[str, object]]:
    """History records of the last DAYS days before NOW, newest first, secrets removed."""
    oldest = NOW - timedelta(days=DAYS)
    chosen = [
        redact(record)
        for record in demo_records(NOW)
        if kinds.in_history(record["metadata_kind"], record.get("connector_delivery_source"))
        and datetime.fromisoformat(record["created_at"]) >= oldest
    ]
    return list(reversed(chosen))


def main() -> None:
    items = sample_records()
    about = {
        "generated_by": "apps/sandbox-ui/make-sample.py from cavra_gql.demo.demo_records",
        "now": NOW.isoformat().replace("+00:00", "Z"),
        "days": DAYS,
        "records": len(items),
    }
    lines = [json.dumps(item, separators=(",", ":"), ensure_ascii=False) for item in items]
    text = '{\n"sample": ' + json.dumps(about) + ',\n"items": [\n' + ",\n".join(lines) + "\n]}\n"
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"{OUTPUT.name}: {len(items)} records, {len(text) // 1024} KiB")


if __name__ == "__main__":
    main()
