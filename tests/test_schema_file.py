"""`schema.graphql` is the schema printed from the code, and every part of it is documented."""

from __future__ import annotations

from pathlib import Path

from graphql import GraphQLInterfaceType, GraphQLObjectType

from cavra_gql.cli import main
from cavra_gql.schema import build_schema

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema.graphql"


def test_schema_file_matches_the_code() -> None:
    printed = build_schema().as_str() + "\n"
    assert SCHEMA_FILE.read_text(encoding="utf-8") == printed, (
        "schema.graphql is stale: run `cavra-gql export-schema --output schema.graphql`"
    )


def test_export_schema_command_prints_it(capsys) -> None:
    assert main(["export-schema"]) == 0
    assert capsys.readouterr().out == SCHEMA_FILE.read_text(encoding="utf-8")


def test_every_type_field_and_argument_has_a_description() -> None:
    schema = build_schema()._schema
    missing = []
    for name, graphql_type in schema.type_map.items():
        if name.startswith("__") or not isinstance(
            graphql_type, GraphQLObjectType | GraphQLInterfaceType
        ):
            continue
        if not graphql_type.description:
            missing.append(name)
        for field_name, field in graphql_type.fields.items():
            if not field.description:
                missing.append(f"{name}.{field_name}")
            missing += [
                f"{name}.{field_name}({arg})"
                for arg, argument in field.args.items()
                if not argument.description
            ]
    assert missing == []
