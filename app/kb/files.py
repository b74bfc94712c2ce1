"""Uploads in and downloads out: shared by the knowledge pages and the API."""

from __future__ import annotations

import io

from flask import Response, send_file
from werkzeug.datastructures import FileStorage, MultiDict

from app.models import ArticleAttachment
from app.services.registries import MAX_ATTACHMENT_BYTES, Upload


def uploads(files: MultiDict, field: str = "attachments") -> list[Upload]:
    """``(file name, bytes)`` of each file chosen in a multipart field (empty file inputs are skipped).

    At most one byte over the size limit is read: the service rejects the file naming it.
    """
    chosen: list[Upload] = []
    for storage in files.getlist(field):
        if isinstance(storage, FileStorage) and storage.filename:
            chosen.append((storage.filename, storage.stream.read(MAX_ATTACHMENT_BYTES + 1)))
    return chosen


def download(item: ArticleAttachment) -> Response:
    """The document as a download: its type, ``Content-Disposition: attachment`` and no sniffing."""
    response = send_file(
        io.BytesIO(item.data),
        mimetype=item.content_type,
        as_attachment=True,
        download_name=item.file_name,
        etag=item.sha256,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
