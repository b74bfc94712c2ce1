"""What every API route shares: input loaded by marshmallow (422 per field), pages, the caller's locale."""

from __future__ import annotations

from flask import current_app, jsonify, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import Schema, ValidationError

from app.api.schemas import PageOut
from app.services.errors import InvalidInput


def load(schema: Schema, source: dict | None) -> dict:
    """Validate input; a load error becomes 422 naming each field."""
    if source is None:
        raise InvalidInput(
            _l("The request body must be a JSON object."), {"_body": [_l("Send a JSON object.")]}
        )
    try:
        return schema.load(source)
    except ValidationError as exc:
        errors = exc.messages if isinstance(exc.messages, dict) else {"_body": exc.messages}
        raise InvalidInput(_l("The request has invalid fields."), errors) from exc


def json_body() -> dict | None:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else None


def locale() -> str:
    return str(get_locale() or "zh_CN")


def tz() -> str:
    return current_user.timezone or current_app.config["BABEL_DEFAULT_TIMEZONE"]


def paged(pagination, schema: Schema):
    meta = PageOut().dump(pagination)
    return jsonify(items=schema.dump(pagination.items), **meta)
