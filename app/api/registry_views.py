"""API routes of the registries (CMDB, KEDB, knowledge base) and the pickers' lookups.

Parse with marshmallow -> one service call -> dump with marshmallow, as app/api/views.py.
"""

from __future__ import annotations

from flask import current_app, jsonify, request
from flask_login import current_user, login_required

from app.api.blueprint import bp
from app.api.common import json_body, load, paged
from app.api.registry_schemas import (
    ArticleCreateInput,
    ArticleInput,
    ArticleOut,
    ArticleQuery,
    ArticleSummaryOut,
    AttachmentOut,
    CICreateInput,
    CIDetailOut,
    CIFullOut,
    CIWriteInput,
    KnownErrorInput,
    KnownErrorOut,
    KnownErrorQuery,
    ReasonInput,
    RelationInput,
    RelationOut,
    ReviewInput,
    UserOptionOut,
    UserQuery,
)
from app.kb.files import download, uploads
from app.services import registries
from app.services.core import get_runtime


def _per_page() -> int:
    return current_app.config.get("PAGE_SIZE", 25)


# --- CMDB -------------------------------------------------------------------------------------------------


@bp.get("/cis/<code>")
@login_required
def get_ci(code: str):
    """One CI with its relations both ways, its history and the known errors naming it."""
    return jsonify(CIDetailOut().dump(registries.get_ci(current_user, code)))


@bp.post("/cis")
@login_required
def create_ci():
    """Register a CI (configuration managers and operators)."""
    body = load(CICreateInput(), json_body())
    code, reason, change_key = body.pop("code"), body.pop("reason"), body.pop("change_key")
    item = registries.create_ci(current_user, code, body, reason=reason, change_key=change_key)
    return jsonify(CIFullOut().dump(item)), 201


@bp.patch("/cis/<code>")
@login_required
def update_ci(code: str):
    """Change a CI's fields; a reason is required unless a change key authorises the edit."""
    body = load(CIWriteInput(), json_body())
    reason, change_key = body.pop("reason"), body.pop("change_key")
    item = registries.update_ci(current_user, code, body, reason=reason, change_key=change_key)
    return jsonify(CIFullOut().dump(item))


@bp.post("/cis/<code>/relations")
@login_required
def relate_ci(code: str):
    """Record a relation from this CI to another."""
    body = load(RelationInput(), json_body())
    relation = registries.relate_cis(
        current_user, code, body["target"], body["kind"], reason=body["reason"], change_key=body["change_key"]
    )
    return jsonify(RelationOut().dump(relation)), 201


@bp.delete("/cis/<code>/relations/<int:relation_id>")
@login_required
def unrelate_ci(code: str, relation_id: int):
    """Remove a relation (with a reason)."""
    body = load(ReasonInput(), json_body() or {})
    registries.unrelate_cis(current_user, relation_id, reason=body["reason"], change_key=body["change_key"])
    return jsonify(CIDetailOut().dump(registries.get_ci(current_user, code)))


# --- KEDB -------------------------------------------------------------------------------------------------


@bp.get("/known-errors")
@login_required
def list_known_errors():
    """Known errors (``?q=`` words, ``status``, ``ci``), newest first; the known-error picker uses it."""
    query = load(KnownErrorQuery(), request.args.to_dict())
    query["ci_code"] = query.pop("ci")
    pagination = registries.search_known_errors(current_user, per_page=_per_page(), **query)
    return paged(pagination, KnownErrorOut(many=True))


@bp.get("/known-errors/<key>")
@login_required
def get_known_error(key: str):
    """One known error."""
    return jsonify(KnownErrorOut().dump(registries.get_known_error(current_user, key)))


@bp.post("/known-errors")
@login_required
def create_known_error():
    """Record a known error (problem managers and experts)."""
    body = load(KnownErrorInput(), json_body())
    return jsonify(KnownErrorOut().dump(registries.create_known_error(current_user, body))), 201


@bp.patch("/known-errors/<key>")
@login_required
def update_known_error(key: str):
    """Change a known error (problem managers and experts)."""
    body = load(KnownErrorInput(), json_body())
    return jsonify(KnownErrorOut().dump(registries.update_known_error(current_user, key, body)))


# --- Knowledge base ---------------------------------------------------------------------------------------


@bp.get("/articles")
@login_required
def list_articles():
    """Articles the caller may see (``?q=`` words in title, body and attachments; ``category``, ``state``)."""
    query = load(ArticleQuery(), request.args.to_dict())
    pagination = registries.search_articles(current_user, per_page=_per_page(), **query)
    return paged(pagination, ArticleSummaryOut(many=True))


@bp.get("/articles/<key>")
@login_required
def get_article(key: str):
    """One article with its attachments; counts a view of a formal article."""
    return jsonify(ArticleOut().dump(registries.get_article(current_user, key)))


@bp.post("/articles")
@login_required
def submit_article():
    """Submit an article (anyone); it starts temporary."""
    body = load(ArticleCreateInput(), json_body())
    source_key = body.pop("source_key")
    article = registries.submit_article(current_user, body, source_key=source_key)
    return jsonify(ArticleOut().dump(article)), 201


@bp.patch("/articles/<key>")
@login_required
def update_article(key: str):
    """Change an article (its author while temporary; knowledge roles)."""
    body = load(ArticleInput(), json_body())
    return jsonify(ArticleOut().dump(registries.update_article(current_user, key, body)))


@bp.post("/articles/<key>/publish")
@login_required
def publish_article(key: str):
    """Publish a temporary article into the formal knowledge base (knowledge managers)."""
    body = load(ReviewInput(), json_body() or {})
    article = registries.publish_article(current_user, key, get_runtime().now(), comment=body["comment"])
    return jsonify(ArticleOut().dump(article))


@bp.post("/articles/<key>/reject")
@login_required
def reject_article(key: str):
    """Send a temporary article back to its author with a comment (knowledge roles)."""
    body = load(ReviewInput(), json_body())
    return jsonify(ArticleOut().dump(registries.reject_article(current_user, key, body["comment"] or "")))


@bp.post("/articles/<key>/retire")
@login_required
def retire_article(key: str):
    """Retire an article (knowledge managers)."""
    return jsonify(ArticleOut().dump(registries.retire_article(current_user, key)))


@bp.post("/articles/<key>/attachments")
@login_required
def add_attachments(key: str):
    """Attach .txt/.docx/.xlsx documents (multipart field ``attachments``)."""
    added = registries.add_attachments(current_user, key, uploads(request.files))
    return jsonify(items=AttachmentOut(many=True).dump(added)), 201


@bp.get("/articles/<key>/attachments/<int:attachment_id>")
@login_required
def download_attachment(key: str, attachment_id: int):
    """Download a document (temporary articles: their author and knowledge roles only)."""
    return download(registries.get_attachment(current_user, key, attachment_id))


@bp.delete("/articles/<key>/attachments/<int:attachment_id>")
@login_required
def remove_attachment(key: str, attachment_id: int):
    """Remove a document from an article its caller may edit."""
    registries.remove_attachment(current_user, key, attachment_id)
    return jsonify(ArticleOut().dump(registries.get_article(current_user, key, count_view=False)))


# --- Pickers ----------------------------------------------------------------------------------------------


@bp.get("/users")
@login_required
def list_users():
    """Active people for the user picker (``?role=`` holders of a role, ``?q=`` words in username/name)."""
    query = load(UserQuery(), request.args.to_dict())
    return jsonify(items=UserOptionOut(many=True).dump(registries.picker_users(query["q"], query["role"])))
