"""What every service stands on; imports nothing of the other service packages.

- runtime:    ``Runtime``, ``get_runtime`` — engine, form catalogue, parsed process packages, clock
- unit:       ``command`` / ``writing`` (a command commits once or leaves nothing behind; on SQLite it
              holds the write lock), ``in_command``, ``json_safe``, ``unit_settings``
- keys:       ``next_key``, ``next_record_key``, ``prefix_for`` — business keys such as INC-2026-000123
- formdefs:   ``FormDef``, ``FieldDef``, ``FormCatalog``, ``parse_form``, ``pick``, ``WIDGETS``, ``PICKERS``
- catalogues: ``label``, ``choices``, ``both`` and the code lists (CI classes, statuses, categories...)
- notices:    ``notify``, ``render_text``, ``resolve_recipients``, ``unread_count``, ``list_notices``,
              ``mark_read`` — in-app notices, the one way the platform tells people things
- search:     ``where_words``, ``like_pattern``, ``words`` — keyword search shared by the registries
"""

from app.services.core.catalogues import (
    ARTICLE_STATES,
    CATALOGUES,
    CATEGORIES,
    CI_CLASSES,
    CI_STATUSES,
    KNOWN_ERROR_STATUSES,
    RELATION_INVERSE,
    RELATION_KINDS,
    both,
    choices,
    label,
)
from app.services.core.formdefs import PICKERS, WIDGETS, FieldDef, FormCatalog, FormDef, parse_form, pick
from app.services.core.keys import next_key, next_record_key, prefix_for
from app.services.core.notices import (
    list_notices,
    mark_read,
    notify,
    render_text,
    resolve_recipients,
    unread_count,
)
from app.services.core.runtime import Runtime, get_runtime
from app.services.core.search import like_pattern, where_words, words
from app.services.core.unit import Settings as unit_settings
from app.services.core.unit import command, in_command, json_safe, writing

__all__ = [
    "ARTICLE_STATES",
    "CATALOGUES",
    "CATEGORIES",
    "CI_CLASSES",
    "CI_STATUSES",
    "KNOWN_ERROR_STATUSES",
    "PICKERS",
    "RELATION_INVERSE",
    "RELATION_KINDS",
    "WIDGETS",
    "FieldDef",
    "FormCatalog",
    "FormDef",
    "Runtime",
    "both",
    "choices",
    "command",
    "get_runtime",
    "in_command",
    "json_safe",
    "label",
    "like_pattern",
    "list_notices",
    "mark_read",
    "next_key",
    "next_record_key",
    "notify",
    "parse_form",
    "pick",
    "prefix_for",
    "render_text",
    "resolve_recipients",
    "unit_settings",
    "unread_count",
    "where_words",
    "words",
    "writing",
]
