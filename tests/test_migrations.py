"""Schema migrations: a database at the first schema is refused, upgraded by `cavra-gql
migrate` with every record and answer intact; the migrations make what the models describe;
several processes may create one database at once."""

from __future__ import annotations

import random
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, SQLModel
from starlette.testclient import TestClient

from cavra_gql import migrate
from cavra_gql.app import create_app
from cavra_gql.db import make_engine
from cavra_gql.ingest import ingest_values
from cavra_gql.jsontext import dumps
from cavra_gql.migrate import FIRST, OutdatedDatabase, UnknownRevision
from cavra_gql.models import WriteAuditEntry
from cavra_gql.settings import Settings
from tests.conftest import drop_tables
from tests.filter_cases import extended_history
from tests.graphql_ops import DASHBOARD, HISTORY
from tests.record_factory import random_history
from tests.server import free_port

HISTORY_URL = "/runtime/go-pilot/rollback-drill-notifications"
CLI = (sys.executable, "-m", "cavra_gql.cli")
# The tables revisions after the first one add.
TREND = "{ auditDeliveryTrend(bucket: DAY) { start attempts failures successes } }"


def cli(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *argv], capture_output=True, text=True, timeout=120)


def records() -> list[dict[str, Any]]:
    return [*extended_history(), *random_history(random.Random(5), 300)]


@pytest.fixture
def empty_url(database_url: str) -> Iterator[str]:
    """An empty database (no tables at all); PostgreSQL's is emptied again afterwards."""
    postgres = make_url(database_url).get_backend_name() == "postgresql"
    if postgres:
        drop_tables(database_url)
    yield database_url
    if postgres:  # whatever this test left, the next one starts from an empty database
        drop_tables(database_url)


def plain_engine(url: str) -> Engine:
    """An engine with no schema handling, as another tool (or an older cavra-gql) has."""
    return create_engine(url)


def first_schema_database(url: str) -> None:
    engine = plain_engine(url)
    assert migrate.upgrade(engine, to=FIRST) == (None, FIRST)
    store_as_first(engine)
    engine.dispose()


def create_first_tables(engine: Engine) -> None:
    """The tables as cavra-gql made them before it had migrations: revision FIRST's tables
    (test_first_revision_makes_the_first_tables), no version table."""
    migrate.upgrade(engine, to=FIRST)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE alembic_version"))


def pre_migration_database(url: str) -> None:
    engine = plain_engine(url)
    create_first_tables(engine)
    store_as_first(engine)
    engine.dispose()


def store_as_first(target: Engine) -> None:
    """records() as today's import path stores them, in tables of the first schema: imported
    into a scratch database at head, then the columns revision FIRST has copied over."""
    with tempfile.TemporaryDirectory() as scratch:
        source = make_engine(f"sqlite:///{scratch}/head.sqlite3")
        ingest_values(source, records(), "history")
        with source.connect() as read, target.begin() as write:
            for name, columns in sorted(migrate._first_columns().items()):
                table = SQLModel.metadata.tables[name]
                # Surrogate ids are left to the target (PostgreSQL's sequences must count them).
                kept = [table.c[column] for column in sorted(columns - {"id"})]
                found = [dict(row._mapping) for row in read.execute(select(*kept))]
                if found:
                    write.execute(table.insert(), found)
        source.dispose()


def rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table revision 0001 has, in primary-key order."""
    engine = plain_engine(url)
    found = {}
    with engine.connect() as conn:
        for name, columns in sorted(migrate._first_columns().items()):
            table = SQLModel.metadata.tables[name]
            kept = [column for column in table.columns if column.name in columns]
            query = select(*kept).order_by(*table.primary_key.columns)
            if name.endswith("_summary"):  # surrogate ids change when a bucket is recounted
                kept = [column for column in kept if column.name != "id"]
                query = select(*kept).order_by(*kept)
            found[name] = [tuple(row) for row in conn.execute(query)]
    engine.dispose()
    assert found["evidence_records"] and found["record_summary"] and found["record_providers"]
    return found


def answers(url: str, engine: Engine) -> dict[str, Any]:
    """The GraphQL and REST answers over the whole history (minus generation instants)."""
    found: dict[str, Any] = {}
    with TestClient(create_app(Settings(database_url=url), engine=engine)) as client:
        for name, query, variables in [
            ("history", HISTORY, {"limit": 500}),
            ("siem failures", HISTORY, {"providerCategory": "siem", "deliverySuccess": False}),
            ("dashboard", DASHBOARD, {}),
            ("trend", TREND, {}),
        ]:
            body = client.post("/graphql", json={"query": query, "variables": variables}).json()
            assert "errors" not in body, body
            found[name] = body["data"]
        for name, path in [("rest history", "?limit=500"), ("rest dashboard", "/dashboard")]:
            found[name] = client.get(HISTORY_URL + path).json()
    found["dashboard"]["rollbackDrillNotificationDashboard"].pop("generatedAt")
    found["rest dashboard"].pop("generated_at")
    assert found["history"]["rollbackDrillNotifications"]["total"] > 100
    return found


def masked(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def assert_refused(url: str, tmp_path: Path, message: str) -> None:
    """make_engine, the app, `cavra-gql api` and `cavra-gql ingest` all refuse with `message`."""
    with pytest.raises(OutdatedDatabase) as refused:
        make_engine(url)
    assert str(refused.value) == message
    with pytest.raises(OutdatedDatabase), TestClient(create_app(Settings(database_url=url))):
        pass
    export = tmp_path / "export.ndjson"
    export.write_text("\n".join(dumps(record) for record in extended_history()) + "\n")
    for argv in [("api", "--port", str(free_port())), ("ingest", str(export))]:
        result = cli(*argv, "--database", url)
        assert (result.returncode, result.stderr) == (1, f"cavra-gql: {message}\n"), argv


def test_first_schema_database_is_refused_then_migrated_intact(
    empty_url: str, tmp_path: Path
) -> None:
    first_schema_database(empty_url)
    before_rows = rows(empty_url)
    plain = plain_engine(empty_url)
    before_answers = answers(empty_url, plain)
    plain.dispose()

    assert_refused(
        empty_url,
        tmp_path,
        f"this database is at schema revision 0001, cavra-gql needs {migrate.head()}: "
        f"run `cavra-gql migrate --database {masked(empty_url)}`",
    )
    assert rows(empty_url) == before_rows  # refusing touched nothing

    upgraded = cli("migrate", "--database", empty_url)
    assert upgraded.returncode == 0, upgraded.stderr
    assert upgraded.stdout == f"{masked(empty_url)}: schema revision 0001 -> 0007 (upgraded)\n"
    again = cli("migrate", "--database", empty_url)
    assert again.stdout == f"{masked(empty_url)}: schema revision 0007 -> 0007 (already current)\n"

    assert rows(empty_url) == before_rows
    engine = make_engine(empty_url)
    try:
        assert answers(empty_url, engine) == before_answers
        entry = WriteAuditEntry(
            at_us=1, actor="ops", role="operator", operation="ingestRecords", request_id="r1",
            record_count=1, new=1, session_ids_json='["s1"]',
        )  # fmt: skip
        with Session(engine) as session:
            session.add(entry)
            session.commit()
        with Session(engine) as session:
            [stored] = session.scalars(select(WriteAuditEntry)).all()
            assert (stored.actor, stored.session_ids_json) == ("ops", '["s1"]')
    finally:
        engine.dispose()
    ingest = cli("ingest", "--database", empty_url, str(tmp_path / "export.ndjson"))
    assert ingest.returncode == 0, ingest.stderr


def test_database_made_before_migrations_counts_as_first_revision(empty_url: str) -> None:
    pre_migration_database(empty_url)
    before_rows = rows(empty_url)
    with pytest.raises(OutdatedDatabase, match=r"at schema revision 0001 \(made before migr"):
        make_engine(empty_url)

    upgraded = cli("migrate", "--database", empty_url)
    assert upgraded.returncode == 0, upgraded.stderr
    assert upgraded.stdout.endswith(": schema revision 0001 -> 0007 (upgraded)\n")
    assert rows(empty_url) == before_rows
    make_engine(empty_url).dispose()
    engine = plain_engine(empty_url)
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_heads() == ("0007",)
    engine.dispose()


def test_database_older_than_the_first_revision_is_refused(empty_url: str) -> None:
    engine = plain_engine(empty_url)
    create_first_tables(engine)
    with engine.begin() as conn:  # as a build before the notification-plan route columns
        conn.execute(text("ALTER TABLE evidence_records DROP COLUMN route_plan_id"))
    engine.dispose()
    message = (
        "this database was made by a cavra-gql older than schema revision 0001 (table "
        "evidence_records lacks route_plan_id): it cannot be upgraded; re-create it and ingest "
        "the sources again"
    )
    with pytest.raises(OutdatedDatabase) as refused:
        make_engine(empty_url)
    assert str(refused.value) == message
    result = cli("migrate", "--database", empty_url)
    assert (result.returncode, result.stderr) == (1, f"cavra-gql: {message}\n")


def test_database_of_a_newer_cavra_gql_is_refused(empty_url: str) -> None:
    make_engine(empty_url).dispose()
    engine = plain_engine(empty_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0999'"))
    engine.dispose()
    with pytest.raises(UnknownRevision, match="at schema revision 0999, which this cavra-gql"):
        make_engine(empty_url)
    result = cli("migrate", "--database", empty_url)
    assert result.returncode == 1
    assert result.stderr.startswith("cavra-gql: this database is at schema revision 0999")


def test_migrate_creates_an_empty_database(empty_url: str) -> None:
    result = cli("migrate", "--database", empty_url)
    assert result.stdout == f"{masked(empty_url)}: schema revision none -> 0007 (created)\n"
    make_engine(empty_url).dispose()


def test_first_revision_makes_the_first_tables() -> None:
    made = migrate._first_columns()
    assert set(made) == migrate.FIRST_TABLES
    assert made["plan_required_routes"] == {"session_id", "position", "provider"}


def test_head_migrations_make_what_the_models_describe(empty_url: str) -> None:
    engine = make_engine(empty_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, SQLModel.metadata) == []
        migrated = schema_dump(engine)
    finally:
        engine.dispose()
    if make_url(empty_url).get_backend_name() == "postgresql":
        drop_tables(empty_url)
        engine = plain_engine(empty_url)
    else:
        engine = plain_engine(empty_url + "-create-all")
    SQLModel.metadata.create_all(engine)
    try:
        assert migrated == schema_dump(engine)
    finally:
        engine.dispose()


def schema_dump(engine: Engine) -> set[tuple[Any, ...]]:
    """Every table, column (type, collation, nullability, default), index and constraint as
    the database reports it: partial indexes, DESC keys, WITHOUT ROWID and collations included.
    """
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            query = "SELECT type, name, sql FROM sqlite_master WHERE name != 'alembic_version'"
        else:
            query = """
                SELECT table_name, column_name, data_type, collation_name, is_nullable,
                       column_default
                FROM information_schema.columns WHERE table_schema = current_schema()
                UNION ALL SELECT tablename, indexname, indexdef, NULL, NULL, NULL
                FROM pg_indexes WHERE schemaname = current_schema()
                UNION ALL SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid),
                       NULL, NULL, NULL
                FROM pg_constraint WHERE connamespace = current_schema()::regnamespace
            """
        found = {tuple(row) for row in conn.exec_driver_sql(query)}
    if engine.dialect.name == "sqlite":  # ALTER TABLE ADD COLUMN keeps other whitespace
        found = {(kind, name, sql and " ".join(sql.split())) for kind, name, sql in found}
    found = {row for row in found if "alembic_version" not in str(row[:2])}
    assert len(found) > 20 and any("WHERE" in str(row) for row in found)
    return found


def _together(argvs: list[list[str]]) -> list[tuple[int, str]]:
    """Start the commands, let each get ready, then release them at the same moment."""
    processes = [
        subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for argv in argvs
    ]
    for process in processes:  # each says "ready" once its imports are done
        assert process.stdout is not None and process.stdout.readline() == "ready\n"
    for process in processes:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.close()
    results = []
    for process in processes:
        assert process.stdout is not None
        with process.stdout:
            results.append((process.wait(timeout=120), process.stdout.read()))
    return results


READY_THEN = (
    "import sys; from cavra_gql.db import make_engine; from cavra_gql import cli, migrate; "
    "print('ready', flush=True); sys.stdin.readline(); "
)


def test_several_processes_create_one_empty_database_at_once(empty_url: str) -> None:
    code = READY_THEN + f"make_engine({empty_url!r}).dispose(); print('made')"
    results = _together([[sys.executable, "-c", code] for _ in range(4)])
    assert results == [(0, "made\n")] * 4
    make_engine(empty_url).dispose()


def test_several_migrates_at_once_upgrade_once(empty_url: str) -> None:
    first_schema_database(empty_url)
    before_rows = rows(empty_url)
    code = READY_THEN + f"sys.exit(cli.main(['migrate', '--database', {empty_url!r}]))"
    results = _together([[sys.executable, "-c", code] for _ in range(3)])
    assert sorted(output.rsplit("(", 1)[1] for _, output in results) == [
        "already current)\n",
        "already current)\n",
        "upgraded)\n",
    ]
    assert {status for status, _ in results} == {0}
    assert rows(empty_url) == before_rows


def test_revision_0003_rolls_up_what_the_import_path_rolls_up(database_url: str) -> None:
    """The data migration's frozen SQL and summary_upkeep.roll_up_whole agree on real data."""
    from alembic import command
    from sqlalchemy import delete

    from cavra_gql.queries.tables import provider_summary, record_summary

    engine = make_engine(database_url)
    ingest_values(engine, records(), "history")
    with engine.connect() as conn:
        whole = {
            table.name: _whole_rows(conn, table) for table in (record_summary, provider_summary)
        }
    assert whole["record_summary"] and whole["provider_summary"]
    with engine.begin() as conn:
        for table in (record_summary, provider_summary):
            conn.execute(delete(table).where(table.c.width_us == 0))
        command.stamp(migrate._config(conn), "0002")
        command.upgrade(migrate._config(conn), "0003")
        # 0004 changed only an index, 0005 to 0007 added the change feed, sync's tables and the
        # ingest counters
        command.stamp(migrate._config(conn), "head")
    with engine.connect() as conn:
        for table in (record_summary, provider_summary):
            assert _whole_rows(conn, table) == whole[table.name]
    engine.dispose()


def _whole_rows(conn: Any, table: Any) -> list[tuple[Any, ...]]:
    kept = [column for column in table.columns if column.name != "id"]
    query = select(*kept).where(table.c.width_us == 0)
    return sorted((tuple(row) for row in conn.execute(query)), key=repr)
