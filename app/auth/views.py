"""Sign in, sign out, choose the language."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from app.auth.blueprint import bp
from app.extensions import db
from app.models import User
from app.services import governance

LANGUAGES = ("zh_CN", "en")


def safe_next(target: str | None, default: str | None = None) -> str:
    """``target`` if it is a path on this site (no scheme, host, ``//`` or backslash tricks), else default.

    :param target: the ``next`` value from the query string or the form.
    :param default: where to go otherwise; the inbox when not given.
    """
    fallback = default or url_for("tasks.inbox")
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return fallback
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return fallback
    return target


def _find_user(username: str) -> User | None:
    """The account of that username (sign-in is the one read the auth blueprint does itself)."""
    return db.session.scalar(select(User).where(User.username == username))


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the sign-in form; on POST check the password and go to ``next`` (a local path only)."""
    next_url = request.values.get("next", "")
    if current_user.is_authenticated and request.method == "GET":
        return redirect(safe_next(next_url))
    error = None
    username = request.form.get("username", "").strip()
    if request.method == "POST":
        user = _find_user(username) if username else None
        if user is not None and user.active and user.check_password(request.form.get("password", "")):
            login_user(user, remember=bool(request.form.get("remember")))
            return redirect(safe_next(next_url))
        error = _("Wrong username or password, or the account is disabled.")
    status = 401 if error else 200
    return render_template("auth/login.html", username=username, next_url=next_url, error=error), status


@bp.route("/logout", methods=["POST"])
def logout():
    """Sign out (a POST with the CSRF token, so a link on another site cannot sign anyone out)."""
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/locale", methods=["POST"])
def set_locale():
    """Switch the language for this session and, when signed in, remember it on the account."""
    locale = request.form.get("locale", "")
    if locale in LANGUAGES:
        session["locale"] = locale
        if current_user.is_authenticated and current_user.locale != locale:
            governance.set_locale(current_user, locale)
    return redirect(safe_next(request.form.get("next")))
