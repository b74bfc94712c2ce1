"""User and role administration (the services check that the user is an administrator)."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.admin.blueprint import bp
from app.errors import plain
from app.services import governance
from app.services.errors import Conflict, InvalidInput

LANGUAGES = ("zh_CN", "en")


@bp.route("/")
@login_required
def index():
    """The admin home is the user list."""
    return redirect(url_for("admin.users"))


@bp.route("/users")
@login_required
def users():
    """Every user, filtered by name, with their roles."""
    q = (request.args.get("q") or "").strip()
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    result = governance.list_users(
        current_user, q=q or None, page=page, per_page=current_app.config.get("PAGE_SIZE", 25) * 2
    )
    return render_template("admin/users.html", page=result, q=q)


def _posted_user() -> tuple[governance.UserInput, set[str], set[str]]:
    """The user form's fields as the service's input, the roles ticked and the roles managed."""
    form = request.form
    data = governance.UserInput(
        username=form.get("username", "").strip(),
        display_name=form.get("display_name", "").strip(),
        email=form.get("email", "").strip() or None,
        password=form.get("password") or None,
        active=form.get("active") == "on",
        locale=form.get("locale") if form.get("locale") in LANGUAGES else None,
        timezone=form.get("timezone", "").strip() or None,
    )
    roles = set(form.getlist("roles"))
    managed = set(form.getlist("managers")) & roles
    return data, roles, managed


def _render_form(user, data, roles, managed, errors=None, message=None, status=200):
    """The create/edit page with the role table; on errors everything typed is shown again."""
    all_roles = governance.list_roles(current_user)
    return render_template(
        "admin/user_form.html",
        user=user,
        data=data,
        roles=roles,
        managed=managed,
        all_roles=all_roles,
        errors=errors or {},
        message=message,
    ), status


@bp.route("/users/new", methods=["GET", "POST"])
@login_required
def user_new():
    """Create a user with a first password and roles."""
    if request.method == "GET":
        return _render_form(None, governance.UserInput(username="", display_name=""), set(), set())
    data, roles, managed = _posted_user()
    try:
        created = governance.create_user(current_user, data, roles, managed)
    except (InvalidInput, Conflict) as exc:
        errors = plain(getattr(exc, "field_errors", None) or exc.details.get("fields", {}))
        return _render_form(None, data, roles, managed, errors, plain(exc.message), 422)
    flash(_("User %(username)s was created.", username=created.username), "success")
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@login_required
def user_edit(user_id: int):
    """Change a user's details, active flag, password and roles."""
    user = governance.get_user(current_user, user_id)
    if request.method == "GET":
        data = governance.UserInput(
            username=user.username,
            display_name=user.display_name,
            email=user.email,
            active=user.active,
            locale=user.locale,
            timezone=user.timezone,
        )
        return _render_form(user, data, user.role_codes, user.managed_role_codes)
    data, roles, managed = _posted_user()
    data.username = user.username
    try:
        governance.update_user(current_user, user_id, data, roles, managed)
    except (InvalidInput, Conflict) as exc:
        errors = plain(getattr(exc, "field_errors", None) or exc.details.get("fields", {}))
        return _render_form(user, data, roles, managed, errors, plain(exc.message), 422)
    flash(_("Changes to %(username)s were saved.", username=user.username), "success")
    return redirect(url_for("admin.users"))


@bp.route("/roles")
@login_required
def roles():
    """The role catalogue with each role's members (managers marked)."""
    return render_template("admin/roles.html", roles=governance.list_roles(current_user))
