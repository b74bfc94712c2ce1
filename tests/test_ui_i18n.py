"""The Chinese catalogue covers every UI string of the sources, and the pages use it."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "app" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
METHODS = [("**.py", "python"), ("templates/**.html", "jinja2")]  # babel.cfg, relative to app/


def source_msgids() -> set[str]:
    """Every string app/ wraps in _(), gettext or ngettext (what pybabel extract -F babel.cfg finds)."""
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(str(ROOT / "app"), METHODS):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_every_ui_string_has_a_chinese_translation():
    with PO.open("rb") as handle:
        catalog = read_po(handle)
    translated = {
        (m.id[0] if isinstance(m.id, tuple) else m.id)
        for m in catalog
        if m.id and not m.fuzzy and all(m.string if isinstance(m.string, tuple) else [m.string])
    }
    missing = sorted(source_msgids() - translated)
    assert not missing, f"untranslated (run pybabel extract/update, then translate): {missing}"


def test_pages_use_the_catalogue(client):
    page = client.get("/login", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "跳到主要内容" in page and "IT 运维服务台" in page
