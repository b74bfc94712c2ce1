"""Knowledge base pages: search, an article, the submit/edit form with uploads, review buttons, downloads.

Each view parses the request, makes one service call and renders; the service checks who may do what.
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.errors import plain
from app.kb.blueprint import bp
from app.kb.files import download, uploads
from app.services import registries
from app.services.core import get_runtime
from app.services.errors import Conflict, InvalidInput

FIELDS = ("title", "category", "body")


def field_labels() -> dict[str, str]:
    """Labels of an article's fields in the request's language."""
    return {
        "title": _("Title"),
        "category": _("Category"),
        "body": _("Text"),
        "attachments": _("Attachments"),
        "comment": _("Comment"),
    }


@bp.route("/")
@login_required
def index():
    """Search the knowledge base: words in titles, texts and attached documents; category and state."""
    filters = {
        "q": (request.args.get("q") or "").strip(),
        "category": request.args.get("category") or "",
        "state": request.args.get("state") or "",
        "mine": request.args.get("mine") == "1",
    }
    page = registries.search_articles(
        current_user,
        q=filters["q"] or None,
        category=filters["category"] or None,
        state=filters["state"] or None,
        mine=filters["mine"],
        page=max(request.args.get("page", 1, type=int) or 1, 1),
        per_page=current_app.config.get("PAGE_SIZE", 25),
    )
    return render_template(
        "kb/index.html", page=page, filters=filters, staff=registries.is_knowledge_staff(current_user)
    )


@bp.route("/<key>")
@login_required
def article(key: str):
    """One article (a view of a formal article is counted), its documents and the review actions."""
    item = registries.get_article(current_user, key)
    return render_template(
        "kb/article.html",
        article=item,
        labels=field_labels(),
        can_edit=registries.can_edit_article(current_user, item),
        can_review=registries.is_knowledge_staff(current_user) and item.state == "temporary",
        can_publish=current_user.has_role(registries.PUBLISHER),
    )


def _form(item, data: dict, errors: dict | None = None, message: str | None = None, status: int = 200):
    return render_template(
        "kb/form.html", article=item, data=data, errors=errors or {}, message=message, labels=field_labels()
    ), status


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    """Submit an article with documents (anyone); it waits in the temporary knowledge base for review."""
    if request.method == "GET":
        return _form(None, {"category": request.args.get("category", "")})
    data = {name: request.form.get(name, "") for name in FIELDS}
    try:
        created = registries.submit_article(current_user, data, files=uploads(request.files))
    except InvalidInput as exc:
        return _form(None, data, plain(exc.field_errors), plain(exc.message), 422)
    flash(_("Article %(key)s was submitted for review.", key=created.key), "success")
    return redirect(url_for("kb.article", key=created.key))


@bp.route("/<key>/edit", methods=["GET", "POST"])
@login_required
def edit(key: str):
    """Change an article and add documents (its author while temporary; knowledge roles)."""
    item = registries.editable_article(current_user, key)
    if request.method == "GET":
        return _form(item, {name: getattr(item, name) for name in FIELDS})
    data = {name: request.form.get(name, "") for name in FIELDS}
    try:
        registries.update_article(current_user, key, data, files=uploads(request.files))
    except InvalidInput as exc:
        return _form(item, data, plain(exc.field_errors), plain(exc.message), 422)
    flash(_("Changes to %(key)s were saved.", key=key), "success")
    return redirect(url_for("kb.article", key=key))


@bp.post("/<key>/publish")
@login_required
def publish(key: str):
    """Publish a temporary article (knowledge managers)."""
    try:
        registries.publish_article(
            current_user, key, get_runtime().now(), comment=request.form.get("comment")
        )
    except Conflict as exc:
        flash(plain(exc.message), "warning")
    else:
        flash(_("%(key)s is published in the formal knowledge base.", key=key), "success")
    return redirect(url_for("kb.article", key=key))


@bp.post("/<key>/reject")
@login_required
def reject(key: str):
    """Send a temporary article back to its author with a comment (knowledge roles)."""
    try:
        registries.reject_article(current_user, key, request.form.get("comment", ""))
    except (Conflict, InvalidInput) as exc:
        flash(plain(exc.message), "warning")
    else:
        flash(_("%(key)s was sent back to its author.", key=key), "info")
    return redirect(url_for("kb.article", key=key))


@bp.post("/<key>/retire")
@login_required
def retire(key: str):
    """Retire an article (knowledge managers)."""
    try:
        registries.retire_article(current_user, key)
    except Conflict as exc:
        flash(plain(exc.message), "warning")
    else:
        flash(_("%(key)s was retired.", key=key), "info")
    return redirect(url_for("kb.article", key=key))


@bp.post("/<key>/attachments")
@login_required
def attach(key: str):
    """Attach documents to an article (whoever may edit it)."""
    try:
        added = registries.add_attachments(current_user, key, uploads(request.files))
    except InvalidInput as exc:
        flash(plain(exc.message), "warning")
    else:
        flash(_("Attached: %(names)s.", names=", ".join(item.file_name for item in added)), "success")
    return redirect(url_for("kb.article", key=key) + "#attachments")


@bp.post("/<key>/attachments/<int:attachment_id>/delete")
@login_required
def detach(key: str, attachment_id: int):
    """Remove a document from an article (whoever may edit it)."""
    registries.remove_attachment(current_user, key, attachment_id)
    flash(_("The attachment was removed."), "info")
    return redirect(url_for("kb.article", key=key) + "#attachments")


@bp.get("/<key>/attachments/<int:attachment_id>")
@login_required
def attachment(key: str, attachment_id: int):
    """Download a document (temporary articles: their author and knowledge roles only)."""
    return download(registries.get_attachment(current_user, key, attachment_id))
