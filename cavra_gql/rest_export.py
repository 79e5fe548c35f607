"""The export route: the filtered history as one NDJSON or CSV download, its manifest in a header.

The manifest must describe exactly the bytes sent, and a second request would read another
snapshot: so the export is spooled to an anonymous temporary file (constant memory, hashed
while written), then sent with the manifest in `X-Cavra-Export-Manifest` (base64url of the
manifest file's text). The temporary file has no name and is gone once closed.
"""

from __future__ import annotations

import base64
import tempfile
from collections.abc import Iterator
from typing import BinaryIO

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from cavra_gql import deadline, manifest
from cavra_gql.errors import BadInput
from cavra_gql.export import default_file_name, export
from cavra_gql.export_formats import MEDIA_TYPES, parse_format
from cavra_gql.instants import now_us
from cavra_gql.queries.filters import HistoryFilter
from cavra_gql.rest import HISTORY_PATH
from cavra_gql.settings import Settings

EXPORT_PATH = HISTORY_PATH + "/export"
MANIFEST_HEADER = "X-Cavra-Export-Manifest"
CHUNK = 1 << 16
PAGING = ("limit", "offset", "after")


def _chunks(spool: BinaryIO) -> Iterator[bytes]:
    try:
        while chunk := spool.read(CHUNK):
            yield chunk
    finally:
        spool.close()


def routes(settings: Settings) -> list[Route]:
    def export_history(request: Request) -> Response:
        if request.method == "HEAD":
            # Starlette answers HEAD on every GET route; here its headers (the manifest)
            # would cost the whole export, spooled and thrown away.
            return Response(status_code=405, headers={"allow": "GET"})
        params = request.query_params
        fmt = parse_format(params.get("format"))
        for name in PAGING:
            if params.get(name, "").strip():
                raise BadInput(name, "an export holds every match: paging does not apply")
        flt = HistoryFilter.parse(params)
        generated_us = now_us()
        file_name = default_file_name(fmt, generated_us)
        # Closed by _chunks once sent (or when the response is dropped), or below on failure.
        spool = tempfile.TemporaryFile(prefix="cavra-export-")  # noqa: SIM115
        try:
            # A bulk read runs under the export limit, not the per-request one.
            with deadline.limit(settings.limits.export_time_limit_seconds):
                done = export(
                    request.app.state.engine,
                    flt,
                    fmt,
                    spool,
                    file_name=file_name,
                    signing_key=settings.export_signing_key,
                    generated_us=generated_us,
                )
            spool.seek(0)
        except BaseException:
            spool.close()
            raise
        text = manifest.dumps(done.manifest).encode("utf-8")
        digest = base64.b64encode(bytes.fromhex(done.written.sha256)).decode("ascii")
        headers = {
            "content-length": str(done.written.byte_size),
            "content-disposition": f'attachment; filename="{file_name}"',
            MANIFEST_HEADER: base64.urlsafe_b64encode(text).decode("ascii"),
            "repr-digest": f"sha-256=:{digest}:",  # RFC 9530
            "cache-control": "no-store",
        }
        return StreamingResponse(_chunks(spool), media_type=MEDIA_TYPES[fmt], headers=headers)

    return [Route(EXPORT_PATH, export_history, methods=["GET"])]
