"""The write audit log: one row per accepted API write, newest first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select

from cavra_gql import jsontext
from cavra_gql.principal import Principal
from cavra_gql.queries.tables import write_audit_log
from cavra_gql.queries.upsert import UpsertCounts

MAX_ENTRIES = 500


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at_us: int
    actor: str
    role: str
    operation: str
    request_id: str
    record_count: int
    new: int
    updated: int
    unchanged: int
    session_ids: list[str]


def record_write(
    conn: Connection,
    *,
    at_us: int,
    principal: Principal,
    operation: str,
    request_id: str,
    session_ids: Sequence[str],
    counts: UpsertCounts,
) -> int:
    """Add an entry in the write's own transaction; returns its id."""
    result = conn.execute(
        insert(write_audit_log)
        .values(
            at_us=at_us,
            actor=principal.name,
            role=principal.role.value,
            operation=operation,
            request_id=request_id,
            record_count=len(session_ids),
            new=counts.new,
            updated=counts.updated,
            unchanged=counts.unchanged,
            session_ids_json=jsontext.dumps(list(session_ids)),
        )
        .returning(write_audit_log.c.id)
    )
    return int(result.scalar_one())


def entries(conn: Connection, limit: int, before_id: int | None = None) -> list[AuditEntry]:
    """Newest first; `before_id` continues from an earlier page."""
    t = write_audit_log
    query = select(t).order_by(t.c.id.desc()).limit(min(limit, MAX_ENTRIES))
    if before_id is not None:
        query = query.where(t.c.id < before_id)
    found = []
    for row in conn.execute(query):
        values = dict(row._mapping)
        session_ids = jsontext.loads(values.pop("session_ids_json"))
        found.append(AuditEntry(**values, session_ids=session_ids))
    return found
