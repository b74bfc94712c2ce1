"""Small real Office documents built in memory for the knowledge base tests (a .docx and an .xlsx are ZIP
packages of XML parts), plus a helper that records a process instance for a business key."""

from __future__ import annotations

import io
import zipfile
from xml.sax.saxutils import escape

from sqlalchemy import select

from app.extensions import db
from app.models import ProcessInstance, ProcessVersion
from tests.conftest import user

_OOXML = "application/vnd.openxmlformats-officedocument"
_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"


def _package(parts: dict[str, str], overrides: dict[str, str]) -> bytes:
    types = "".join(f'<Override PartName="{name}" ContentType="{kind}"/>' for name, kind in overrides.items())
    content_types = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>' + types + "</Types>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", content_types)
        for name, text in parts.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def docx(*paragraphs: str, document_xml: str | None = None) -> bytes:
    """A minimal Word document with one paragraph per argument."""
    body = "".join(f"<w:p><w:r><w:t>{escape(text)}</w:t></w:r></w:p>" for text in paragraphs)
    document = document_xml or (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        f"<w:body>{body}</w:body></w:document>"
    )
    rels = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{_RELS}" Target="word/document.xml"/></Relationships>'
    )
    return _package(
        {"_rels/.rels": rels, "word/document.xml": document},
        {"/word/document.xml": f"{_OOXML}.wordprocessingml.document.main+xml"},
    )


def xlsx(*strings: str) -> bytes:
    """A minimal Excel workbook whose one sheet holds each string (as shared strings) in column A."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    shared = "".join(f"<si><t>{escape(text)}</t></si>" for text in strings)
    rows = "".join(
        f'<row r="{i + 1}"><c r="A{i + 1}" t="s"><v>{i}</v></c></row>' for i in range(len(strings))
    )
    return _package(
        {
            "xl/workbook.xml": f'<workbook xmlns="{main}"><sheets><sheet name="S" sheetId="1"/></sheets>'
            "</workbook>",
            "xl/sharedStrings.xml": f'<sst xmlns="{main}" count="{len(strings)}">{shared}</sst>',
            "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{main}"><sheetData>{rows}</sheetData>'
            "</worksheet>",
        },
        {
            "/xl/workbook.xml": f"{_OOXML}.spreadsheetml.sheet.main+xml",
            "/xl/sharedStrings.xml": f"{_OOXML}.spreadsheetml.sharedStrings+xml",
        },
    )


def zip_bomb(megabytes: int = 60) -> bytes:
    """A .docx-shaped package whose document unpacks to ``megabytes`` of zeros (a few dozen KiB zipped)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", docx_content_types())
        archive.writestr("word/document.xml", b"\0" * (megabytes * 1024 * 1024))
    return buffer.getvalue()


def docx_content_types() -> str:
    """The [Content_Types].xml of a Word document."""
    with zipfile.ZipFile(io.BytesIO(docx("x"))) as archive:
        return archive.read("[Content_Types].xml").decode()


def record_instance(process_id: str, business_key: str, username: str = "requester") -> ProcessInstance:
    """A process instance row with this business key (the registries only check that it exists and its
    process); call inside an app context, the caller commits."""
    version = db.session.scalar(select(ProcessVersion).limit(1))
    instance = ProcessInstance(
        version_id=version.id,
        process_id=process_id,
        business_key=business_key,
        title=business_key,
        status="running",
        snapshot="{}",
        started_by_id=user(username).id,
    )
    db.session.add(instance)
    return instance
