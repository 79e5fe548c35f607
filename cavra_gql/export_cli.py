"""The `cavra-gql` export commands: export, verify-export and export-key."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from cavra_gql.export_formats import FORMATS  # light: the parser is built at every start

COMMANDS = ("export", "verify-export", "export-key")
# SPEC §3's filters as command-line options (--schedule-id, ...), in SPEC order.
FILTER_HELP = {
    "schedule_id": "its schedule_id, event_id or nested plan.schedule_id",
    "provider": "a provider it names",
    "metadata_kind": "its metadata_kind",
    "acknowledgement_state": "its acknowledgement_state (normalised)",
    "connector_delivery_source": "its connector_delivery_source",
    "delivery_success": "connector deliveries that succeeded (true) or failed (false)",
    "alert_level": "its top-level alert_level",
    "audit_id": "its audit_id or nested delivery plan audit_id",
    "delivery_id": "its delivery_id, event_id or session_id",
    "cadence": "its delivery plan cadence",
    "state": "its derived status (or outstanding)",
    "provider_category": "siem, itsm, chatops or webhook",
    "created_after": "created at or after this ISO-8601 date-time (UTC without offset)",
    "created_before": "created before this ISO-8601 date-time",
}
# Exit codes of verify-export.
VALID, INVALID, USAGE, SIGNATURE_UNCHECKED = 0, 1, 2, 3


def option(name: str) -> str:
    return "--" + name.replace("_", "-")


def add_parsers(commands: Any, database_help: str) -> None:
    export = commands.add_parser(
        "export", help="export the filtered history (NDJSON or CSV) with its manifest"
    )
    export.add_argument("--output", type=Path, required=True, metavar="FILE")
    export.add_argument(
        "--format", choices=FORMATS, help="default: csv for a .csv FILE, else ndjson"
    )
    export.add_argument("--manifest", type=Path, help="default: FILE.manifest.json")
    export.add_argument("--database", help=database_help)
    export.add_argument(
        "--signing-key",
        type=Path,
        metavar="PEM",
        help="Ed25519 private key (PKCS#8 PEM) signing the manifest "
        "(default: $CAVRA_GQL_EXPORT_SIGNING_KEY)",
    )
    filters = export.add_argument_group("filters (SPEC §3; records matching all of them)")
    for name, text in FILTER_HELP.items():
        filters.add_argument(option(name), dest=name, metavar="VALUE", help=text)

    verify = commands.add_parser("verify-export", help="check an export against its manifest")
    verify.add_argument("file", type=Path, metavar="FILE")
    verify.add_argument("--manifest", type=Path, help="default: FILE.manifest.json")
    verify.add_argument(
        "--public-key",
        type=Path,
        metavar="PEM",
        help="check the manifest's signature with this Ed25519 public key",
    )

    key = commands.add_parser("export-key", help="make an Ed25519 key pair for signing exports")
    key.add_argument("--private", type=Path, required=True, metavar="PEM")
    key.add_argument("--public", type=Path, required=True, metavar="PEM")


def main(args: argparse.Namespace) -> int:
    if args.command == "export-key":
        return _export_key(args.private, args.public)
    if args.command == "verify-export":
        return _verify(args.file, args.manifest, args.public_key)
    return _export(args)


def _fail(command: str, message: str, code: int = USAGE) -> int:
    print(f"cavra-gql {command}: {message}", file=sys.stderr)
    return code


def _manifest_path(file: Path, given: Path | None) -> Path:
    return given if given is not None else file.with_name(file.name + ".manifest.json")


def _export_key(private: Path, public: Path) -> int:
    from cavra_gql.signing import make_key_pair

    try:
        made = make_key_pair(private, public)
    except OSError as error:
        return _fail("export-key", f"{error.filename}: {error.strerror}")
    print(f"private key {private} (keep it secret), public key {public}; key id {made}")
    return VALID


def _export(args: argparse.Namespace) -> int:
    from cavra_gql.errors import BadInput
    from cavra_gql.export_formats import parse_format
    from cavra_gql.migrate import SchemaMismatch
    from cavra_gql.queries.filters import HistoryFilter
    from cavra_gql.settings import Settings

    output: Path = args.output
    try:
        fmt = parse_format(args.format or ("csv" if output.suffix.lower() == ".csv" else None))
        flt = HistoryFilter.parse({name: getattr(args, name) for name in FILTER_HELP}, option)
        settings = Settings.from_env(
            database_url=args.database, export_signing_key=args.signing_key
        )
    except BadInput as error:  # what and where, as REST says it
        return _fail("export", f"invalid option {error.field}: {error.reason}")
    except ValueError as error:  # a bad setting or signing key
        return _fail("export", str(error))
    if not output.parent.is_dir():
        return _fail("export", f"{output.parent}: no such directory")
    try:
        return _write(settings, flt, fmt, output, _manifest_path(output, args.manifest))
    except SchemaMismatch as error:
        return _fail("export", str(error), INVALID)
    except OSError as error:
        return _fail("export", f"cannot write the export: {error}", INVALID)


def _write(settings: Any, flt: Any, fmt: str, output: Path, manifest_path: Path) -> int:
    from cavra_gql.db import make_engine
    from cavra_gql.export import export_to_files

    engine = make_engine(settings.database_url)
    try:
        done = export_to_files(
            engine, flt, fmt, output, manifest_path, signing_key=settings.export_signing_key
        )
    finally:
        engine.dispose()
    signed = done.manifest.get("signature")
    how = f"signed with key {signed['key_id']}" if signed else "not signed"
    written = done.written
    print(
        f"{output}: {written.record_count} records, {written.byte_size} bytes, "
        f"sha256 {written.sha256} ({fmt}); manifest {manifest_path} ({how})"
    )
    return VALID


def _verify(file: Path, manifest_arg: Path | None, public_key_path: Path | None) -> int:
    from cavra_gql.signing import KeyFileError, load_public_key
    from cavra_gql.verify import ManifestError, read_manifest, verify

    manifest_path = _manifest_path(file, manifest_arg)
    for path in (file, manifest_path):
        if not path.is_file():
            return _fail("verify-export", f"{path}: no such file")
    try:
        public_key = load_public_key(public_key_path) if public_key_path else None
    except KeyFileError as error:
        return _fail("verify-export", str(error))
    try:
        document = read_manifest(manifest_path)
    except ManifestError as error:
        print(f"INVALID: {error}")
        return INVALID
    verdict = verify(file, document, public_key)
    if not verdict.valid:
        print(f"INVALID: {file} does not match {manifest_path}:")
        for problem in verdict.problems:
            print(f"  - {problem}")
        return INVALID
    m = verdict.measured
    unchecked = verdict.signature == "unchecked"
    head = "CONTENT OK, SIGNATURE NOT CHECKED" if unchecked else "OK"
    print(f"{head}: {file} matches {manifest_path}: {m.record_count} records, {m.byte_size} bytes,")
    print(f"  sha256 {m.sha256}")
    if verdict.signature == "valid":
        print(f"  signature valid (key {verdict.key_id})")
    elif verdict.signature == "absent":
        print("  the manifest is not signed")
    if not unchecked:
        return VALID
    print(
        f"WARNING: the manifest is signed (key {verdict.key_id}) but its signature was NOT "
        f"checked: give --public-key to check it (exit code {SIGNATURE_UNCHECKED})",
        file=sys.stderr,
    )
    return SIGNATURE_UNCHECKED
