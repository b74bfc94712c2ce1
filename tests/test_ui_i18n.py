"""The Chinese catalogue covers every UI string of the sources, and the pages use it."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "app" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"


def babel_mapping() -> tuple[list[tuple[str, str]], dict[str, dict]]:
    """babel.cfg's methods and options (keywords such as _l), with its patterns made relative to app/."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as cfg:
        methods, options = parse_mapping_cfg(cfg)
    return (
        [(pattern.removeprefix("app/"), method) for pattern, method in methods],
        {pattern.removeprefix("app/"): opts for pattern, opts in options.items()},
    )


def source_msgids() -> set[str]:
    """Every string app/ marks for translation (_, gettext, ngettext, _l...: what pybabel extract finds)."""
    methods, options = babel_mapping()
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(str(ROOT / "app"), methods, options):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_lazy_service_messages_are_extracted():
    """The services' errors are _l(...) strings; the extraction must see them, or they go untranslated."""
    found = source_msgids()
    assert "This task has already been completed." in found
    assert "This task is for the role '%(role)s', which you do not hold." in found


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
