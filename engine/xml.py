"""Safe XML parsing for BPMN and DMN files.

Process files are uploaded by process owners, so they are parsed as untrusted input: no DTD at all
(BPMN and DMN never need one, and a DTD is how entity-expansion bombs get in), no network, no
entity resolution, no huge trees. Only the parsed tree is handed to SpiffWorkflow.
"""

from __future__ import annotations

import re

from lxml import etree

from .errors import ProcessLoadError

_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def _parser() -> etree.XMLParser:
    # A new parser per call: lxml parsers are not thread safe.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_pis=True,
        encoding="utf-8",
    )


def _as_bytes(text: str | bytes) -> bytes:
    return text.encode("utf-8") if isinstance(text, str) else text


def parse_xml(text: str | bytes, filename: str) -> etree._Element:
    """Parse one BPMN/DMN document safely and return its root element.

    :param text: the document; ``str`` or UTF-8 ``bytes``.
    :param filename: the file name, used in error messages.
    :raises ProcessLoadError: the document has a DOCTYPE/ENTITY declaration or is not well formed.
    """
    data = _as_bytes(text)
    if _DOCTYPE.search(data):
        raise ProcessLoadError(
            "the file declares a DOCTYPE or ENTITY, which is not allowed",
            file=filename,
            hint="Remove the <!DOCTYPE ...> declaration; BPMN and DMN files never need one.",
        )
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise ProcessLoadError(
            f"the file is not well-formed XML (line {exc.lineno}: {exc.msg})",
            file=filename,
            hint="Save the diagram again from the modeler, or fix the XML at that line.",
        ) from exc
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise ProcessLoadError(
            "the file declares a DOCTYPE, which is not allowed",
            file=filename,
            hint="Remove the <!DOCTYPE ...> declaration; BPMN and DMN files never need one.",
        )
    return root


def element_at_line(root: etree._Element, line: int | None) -> str | None:
    """Return the id of the element starting at ``line`` (or its nearest ancestor with an id)."""
    if not line:
        return None
    for element in root.iter():
        if not isinstance(element.tag, str) or element.sourceline != line:
            continue
        node: etree._Element | None = element
        while node is not None:
            if node.get("id"):
                return node.get("id")
            node = node.getparent()
    return None
