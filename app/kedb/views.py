"""KEDB pages: the list with search, one known error, the create/edit form.

Each view parses the request, makes one service call and renders; the service checks who may write.
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.errors import plain
from app.kedb.blueprint import bp
from app.services import registries
from app.services.errors import InvalidInput

TEXTS = ("title", "symptoms", "root_cause", "workaround")


def field_labels() -> dict[str, str]:
    """Labels of a known error's fields in the request's language."""
    return {
        "title": _("Title"),
        "symptoms": _("Symptoms"),
        "root_cause": _("Root cause"),
        "workaround": _("Workaround"),
        "status": _("Status"),
        "problem_key": _("Problem"),
        "ci_codes": _("Affected configuration items"),
    }


@bp.route("/")
@login_required
def index():
    """Known errors, newest first, filtered by words, status and CI."""
    filters = {
        "q": (request.args.get("q") or "").strip(),
        "status": request.args.get("status") or "",
        "ci": (request.args.get("ci") or "").strip(),
    }
    page = registries.search_known_errors(
        current_user,
        q=filters["q"] or None,
        status=filters["status"] or None,
        ci_code=filters["ci"] or None,
        page=max(request.args.get("page", 1, type=int) or 1, 1),
        per_page=current_app.config.get("PAGE_SIZE", 25),
    )
    return render_template(
        "kedb/index.html", page=page, filters=filters, can_edit=registries.can_edit_kedb(current_user)
    )


@bp.route("/<key>")
@login_required
def item(key: str):
    """One known error: symptoms, root cause, workaround, its problem and CIs."""
    record = registries.get_known_error(current_user, key)
    return render_template(
        "kedb/item.html",
        record=record,
        labels=field_labels(),
        can_edit=registries.can_edit_kedb(current_user),
        ci_names=registries.ci_names(record.ci_codes),
    )


def _posted(editing: bool) -> dict:
    data = {name: request.form.get(name, "") for name in TEXTS}
    data["problem_key"] = (request.form.get("problem_key") or "").strip() or None
    data["ci_codes"] = request.form.getlist("ci_codes")
    if editing:
        data["status"] = request.form.get("status", "")
    return data


def _form(record, data: dict, errors: dict | None = None, message: str | None = None, status: int = 200):
    return render_template(
        "kedb/form.html",
        record=record,
        data=data,
        errors=errors or {},
        message=message,
        labels=field_labels(),
        cis=registries.list_cis(),
    ), status


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    """Record a known error by hand (problem managers and experts)."""
    registries.require_kedb_editor(current_user)
    if request.method == "GET":
        return _form(None, {"ci_codes": [], "problem_key": request.args.get("problem", "")})
    data = _posted(editing=False)
    try:
        record = registries.create_known_error(current_user, data)
    except InvalidInput as exc:
        return _form(None, data, plain(exc.field_errors), plain(exc.message), 422)
    flash(_("Known error %(key)s was recorded.", key=record.key), "success")
    return redirect(url_for("kedb.item", key=record.key))


@bp.route("/<key>/edit", methods=["GET", "POST"])
@login_required
def edit(key: str):
    """Change a known error (problem managers and experts)."""
    registries.require_kedb_editor(current_user)
    record = registries.get_known_error(current_user, key)
    if request.method == "GET":
        data = {name: getattr(record, name) for name in (*TEXTS, "status", "problem_key")}
        data["ci_codes"] = record.ci_codes
        return _form(record, data)
    data = _posted(editing=True)
    try:
        registries.update_known_error(current_user, key, data)
    except InvalidInput as exc:
        return _form(record, data, plain(exc.field_errors), plain(exc.message), 422)
    flash(_("Changes to %(key)s were saved.", key=key), "success")
    return redirect(url_for("kedb.item", key=key))
