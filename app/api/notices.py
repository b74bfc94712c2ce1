"""API: the caller's notices (unread count, list, mark read)."""

from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user, login_required
from marshmallow import Schema, fields

from app.api.blueprint import bp
from app.services import core
from app.services.core import get_runtime


class NoticeOut(Schema):
    """One notice."""

    id = fields.Integer()
    text = fields.String()
    business_key = fields.Function(lambda n: n.instance.business_key if n.instance else None)
    instance_id = fields.Integer(allow_none=True)
    element_id = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    read_at = fields.AwareDateTime(allow_none=True)


@bp.get("/notifications")
@login_required
def list_notices():
    """The caller's notices, newest first (``?unread=1`` for unread only), with the unread count."""
    page = core.list_notices(
        current_user,
        unread_only=bool(request.args.get("unread")),
        page=max(request.args.get("page", 1, type=int) or 1, 1),
    )
    return jsonify(
        items=NoticeOut(many=True).dump(page.items),
        page=page.page,
        pages=page.pages,
        total=page.total,
        unread=core.unread_count(current_user),
    )


@bp.post("/notifications/read")
@login_required
def read_notices():
    """Mark the given notice ids read (``{"ids": [..]}``), or all of them without ids."""
    body = request.get_json(silent=True) or {}
    ids = body.get("ids") if isinstance(body, dict) else None
    ids = [i for i in ids if isinstance(i, int)] if isinstance(ids, list) else None
    marked = core.mark_read(current_user, ids, get_runtime().now())
    return jsonify(marked=marked, unread=core.unread_count(current_user))
