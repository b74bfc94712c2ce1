"""Checking uploaded documents by their content, and extracting their text for search.

Only UTF-8 text (.txt), Word (.docx) and Excel (.xlsx) files are accepted (seed 6.2 i: Word/Excel/Txt as
attachments). The extension must match the content: a .docx must be a ZIP package whose
``[Content_Types].xml`` declares a Word main document at ``/word/document.xml``; an .xlsx likewise with
``/xl/workbook.xml``. Packages are read without trusting their headers: the entry count and the declared
total uncompressed size are capped, and every entry read is cut off at the cap (a zip bomb lies in its
headers). XML is parsed by lxml with no DTD, no entity resolution and no network, and any DOCTYPE is refused.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from typing import NoReturn

from flask_babel import lazy_gettext as _l
from lxml import etree

from app.services.errors import InvalidInput

MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024  #: largest file accepted
MAX_UNCOMPRESSED = 40 * 1024 * 1024  #: largest total a package may unpack to
MAX_ENTRIES = 2000  #: most entries a package may hold
MAX_TEXT = 1_000_000  #: characters of extracted text kept for search

TYPES = {
    "txt": "text/plain; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_OOXML = "application/vnd.openxmlformats-officedocument."
_MAIN_PART = {
    "docx": ("/word/document.xml", _OOXML + "wordprocessingml.document.main+xml"),
    "xlsx": ("/xl/workbook.xml", _OOXML + "spreadsheetml.sheet.main+xml"),
}
_CT = "{http://schemas.openxmlformats.org/package/2006/content-types}"
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_S = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_DOCTYPE = re.compile(rb"<!DOCTYPE|<!ENTITY", re.IGNORECASE)


@dataclass(frozen=True)
class CheckedFile:
    """An accepted upload: a safe file name, its content type, bytes and searchable text."""

    file_name: str
    content_type: str
    data: bytes
    text: str


def safe_name(name: str | None) -> str:
    """The base name of an uploaded file without path parts or control characters (at most 255)."""
    base = re.split(r"[\\/]", name or "")[-1]
    cleaned = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip().strip(".")
    return cleaned[-255:] or "file"


def check_upload(file_name: str | None, data: bytes) -> CheckedFile:
    """Accept a .txt, .docx or .xlsx whose content is what its extension says, and extract its text.

    :raises InvalidInput: on the ``attachments`` field, naming the file and what is wrong with it.
    """
    name = safe_name(file_name)
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in TYPES:
        _reject(name, _l("only .txt, .docx and .xlsx files are accepted"))
    if len(data) > MAX_ATTACHMENT_BYTES:
        _reject(name, _l("it is larger than %(limit)s MiB", limit=MAX_ATTACHMENT_BYTES // (1024 * 1024)))
    if not data:
        _reject(name, _l("it is empty"))
    text = _text_file(name, data) if extension == "txt" else _package_text(name, data, extension)
    return CheckedFile(name, TYPES[extension], data, text[:MAX_TEXT])


def _reject(name: str, why) -> NoReturn:
    message = _l("The file %(name)s was not accepted: %(why)s.", name=name, why=why)
    raise InvalidInput(message, {"attachments": [message]})


def _text_file(name: str, data: bytes) -> str:
    if b"\x00" in data:
        _reject(name, _l("it is not a text file"))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        _reject(name, _l("it is not UTF-8 text"))


def _package_text(name: str, data: bytes, extension: str) -> str:
    """Open the ZIP package safely, check its content types, and return its text."""
    kind = _l("a Word document") if extension == "docx" else _l("an Excel workbook")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        _reject(name, _l("it is not %(kind)s (not a ZIP package)", kind=kind))
    if len(entries) > MAX_ENTRIES or sum(entry.file_size for entry in entries) > MAX_UNCOMPRESSED:
        _reject(name, _l("it unpacks to too much data"))
    with archive:
        names = {entry.filename for entry in entries}
        part, content_type = _MAIN_PART[extension]
        if "[Content_Types].xml" not in names or part.lstrip("/") not in names:
            _reject(name, _l("it is not %(kind)s", kind=kind))
        package = _Package(name, archive, names)
        types = package.xml("[Content_Types].xml")
        declared = {
            override.get("PartName"): override.get("ContentType") for override in types.iter(_CT + "Override")
        }
        if declared.get(part) != content_type:
            _reject(name, _l("it is not %(kind)s", kind=kind))
        return package.docx_text() if extension == "docx" else package.xlsx_text()


class _Package:
    """An open OOXML package whose parts are read within one budget of unpacked bytes."""

    def __init__(self, name: str, archive: zipfile.ZipFile, names: set[str]) -> None:
        self.name, self.archive, self.names = name, archive, names
        self.budget = MAX_UNCOMPRESSED

    def read(self, entry: str) -> bytes:
        """An entry's bytes; never more than what is left of the budget, whatever its header claims."""
        try:
            with self.archive.open(entry) as handle:
                content = handle.read(self.budget + 1)
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, RuntimeError):
            _reject(self.name, _l("a part of it cannot be read"))
        self.budget -= len(content)
        if self.budget < 0:
            _reject(self.name, _l("it unpacks to too much data"))
        return content

    def xml(self, entry: str) -> etree._Element:
        """Parse one XML part with no DTD, no entities and no network."""
        content = self.read(entry)
        if _DOCTYPE.search(content):
            _reject(self.name, _l("it contains a DOCTYPE, which documents never need"))
        parser = etree.XMLParser(
            resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
        )
        try:
            return etree.fromstring(content, parser)  # noqa: S320 - hardened parser, DOCTYPE refused above
        except etree.XMLSyntaxError:
            _reject(self.name, _l("a part of it is not well-formed XML"))

    def docx_text(self) -> str:
        """The text of word/document.xml, one line per paragraph."""
        return _docx_text(self.xml("word/document.xml"))

    def xlsx_text(self) -> str:
        """The shared strings of the workbook, plus inline strings of its sheets."""
        parts = []
        if "xl/sharedStrings.xml" in self.names:
            parts.extend(_strings(self.xml("xl/sharedStrings.xml"), "si"))
        sheets = sorted(n for n in self.names if n.startswith("xl/worksheets/") and n.endswith(".xml"))
        for sheet in sheets:
            parts.extend(_strings(self.xml(sheet), "is"))
        return "\n".join(part for part in parts if part)


def _docx_text(root: etree._Element) -> str:
    lines = []
    for paragraph in root.iter(_W + "p"):
        lines.append("".join(node.text or "" for node in paragraph.iter(_W + "t")))
    return "\n".join(line for line in lines if line)


def _strings(root: etree._Element, tag: str) -> list[str]:
    """The text of each ``si`` (shared string) or ``is`` (inline string) element."""
    return ["".join(node.text or "" for node in item.iter(_S + "t")) for item in root.iter(_S + tag)]
