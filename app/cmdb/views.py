"""CMDB pages: the CI list, a CI with relations and history, the create/edit form, relation buttons.

Each view parses the request, makes one service call and renders; the service checks who may change what.
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.cmdb.blueprint import bp
from app.errors import plain
from app.services import registries
from app.services.errors import Conflict, InvalidInput


def field_labels() -> dict[str, str]:
    """Labels of a CI's fields (and of the edit form's extra inputs) in the request's language."""
    return {
        "code": _("Code"),
        "name": _("Name"),
        "ci_class": _("Class"),
        "serial_number": _("Serial number"),
        "version": _("Version"),
        "status": _("Status"),
        "owner": _("Owner"),
        "purchase_date": _("Purchase date"),
        "description": _("Description"),
        "reason": _("Reason for the change"),
        "change_key": _("Authorising change"),
        "relation": _("Relation"),
        "target": _("Related item"),
        "kind": _("Relation"),
    }


@bp.route("/")
@login_required
def index():
    """Every CI, filtered by words, class and status, with counts per class and status."""
    filters = {
        "q": (request.args.get("q") or "").strip(),
        "ci_class": request.args.get("class") or "",
        "status": request.args.get("status") or "",
    }
    page = registries.search_cis(
        current_user,
        q=filters["q"] or None,
        ci_class=filters["ci_class"] or None,
        status=filters["status"] or None,
        page=max(request.args.get("page", 1, type=int) or 1, 1),
        per_page=current_app.config.get("PAGE_SIZE", 25),
    )
    return render_template(
        "cmdb/index.html",
        page=page,
        filters=filters,
        counts=registries.ci_counts(current_user),
        can_edit=registries.can_edit_cmdb(current_user),
    )


@bp.route("/<code>")
@login_required
def item(code: str):
    """One CI: its attributes, relations both ways, known errors and history."""
    view = registries.get_ci(current_user, code)
    can_edit = registries.can_edit_cmdb(current_user)
    return render_template(
        "cmdb/item.html",
        view=view,
        labels=field_labels(),
        can_edit=can_edit,
        all_cis=registries.list_cis() if can_edit else [],
    )


def _posted() -> tuple[dict, str | None, str | None]:
    """The form's CI fields, the reason and the change key."""
    data = {name: request.form.get(name, "") for name in registries.CI_FIELDS if name in request.form}
    return data, request.form.get("reason") or None, (request.form.get("change_key") or "").strip() or None


def _form(ci, data: dict, errors: dict | None = None, message: str | None = None, status: int = 200):
    return render_template(
        "cmdb/form.html", ci=ci, data=data, errors=errors or {}, message=message, labels=field_labels()
    ), status


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    """Register a CI (configuration managers and operators)."""
    registries.require_cmdb_editor(current_user)
    if request.method == "GET":
        return _form(None, {"status": "in_use"})
    data, reason, change_key = _posted()
    code = (request.form.get("code") or "").strip()
    try:
        created = registries.create_ci(current_user, code, data, reason=reason, change_key=change_key)
    except InvalidInput as exc:
        typed = {**data, "code": code, "reason": reason or "", "change_key": change_key or ""}
        return _form(None, typed, plain(exc.field_errors), plain(exc.message), 422)
    flash(_("%(code)s was registered.", code=created.code), "success")
    return redirect(url_for("cmdb.item", code=created.code))


@bp.route("/<code>/edit", methods=["GET", "POST"])
@login_required
def edit(code: str):
    """Change a CI's fields; a reason is required unless a change request authorises the edit."""
    registries.require_cmdb_editor(current_user)
    ci = registries.get_ci(current_user, code).ci
    if request.method == "GET":
        data = {name: getattr(ci, name) for name in registries.CI_FIELDS}
        data["purchase_date"] = ci.purchase_date.isoformat() if ci.purchase_date else ""
        return _form(ci, data)
    data, reason, change_key = _posted()
    try:
        registries.update_ci(current_user, code, data, reason=reason, change_key=change_key)
    except InvalidInput as exc:
        typed = {**data, "reason": reason or "", "change_key": change_key or ""}
        return _form(ci, typed, plain(exc.field_errors), plain(exc.message), 422)
    flash(_("Changes to %(code)s were saved.", code=code), "success")
    return redirect(url_for("cmdb.item", code=code))


@bp.post("/<code>/relations")
@login_required
def relate(code: str):
    """Record a relation from this CI to another."""
    form = request.form
    try:
        registries.relate_cis(
            current_user,
            code,
            (form.get("target") or "").strip(),
            form.get("kind", ""),
            reason=form.get("reason") or None,
            change_key=(form.get("change_key") or "").strip() or None,
        )
    except (InvalidInput, Conflict) as exc:
        _flash_problem(exc)
    else:
        flash(_("The relation was recorded."), "success")
    return redirect(url_for("cmdb.item", code=code) + "#relations")


@bp.post("/<code>/relations/<int:relation_id>/delete")
@login_required
def unrelate(code: str, relation_id: int):
    """Remove a relation (with a reason)."""
    try:
        registries.unrelate_cis(current_user, relation_id, reason=request.form.get("reason") or None)
    except InvalidInput as exc:
        _flash_problem(exc)
    else:
        flash(_("The relation was removed."), "success")
    return redirect(url_for("cmdb.item", code=code) + "#relations")


def _flash_problem(exc) -> None:
    """A failed relation form: the summary and each field's message as one warning."""
    fields = plain(getattr(exc, "field_errors", {}) or {})
    details = " ".join(msg for msgs in fields.values() for msg in msgs)
    flash(f"{plain(exc.message)} {details}".strip(), "warning")
