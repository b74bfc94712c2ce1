"""Every error becomes an HTTP answer here, in one place: HTML for pages, JSON for the API."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel.speaklater import LazyString
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from app.extensions import db
from app.services.errors import DomainError, Message

log = logging.getLogger(__name__)

TITLES = {
    400: "Bad request",
    401: "Sign-in required",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request too large",
    503: "Busy",
    422: "Invalid input",
    500: "Internal error",
}


def wants_json() -> bool:
    """API paths, and clients that prefer JSON over HTML, get JSON errors."""
    if request.blueprint == "api" or request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return (
        best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def plain(value: Any) -> Any:
    """``value`` with every lazy string turned into ``str`` in the request's language (through dicts, lists).

    For JSON bodies, flashes (stored in the session) and templates: a lazy string's ``__html__`` would make
    Jinja skip escaping the user text inside it (a display name, a process id from the URL).
    """
    if isinstance(value, LazyString):
        return str(value)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


def error_response(status: int, code: str, message: Message, details: dict | None = None):
    """Render one error as JSON or as the error page (lazy messages are translated here)."""
    message, details = plain(message), plain(details)
    if wants_json():
        body = {"error": {"status": status, "code": code, "message": message}}
        if details:
            body["error"].update(details)
        return jsonify(body), status
    title = _(TITLES.get(status, "Error"))
    return render_template(
        "errors/error.html", status=status, title=title, message=message, details=details or {}
    ), status


def register_error_handlers(app: Flask) -> None:
    """Map domain exceptions, HTTP exceptions, CSRF failures and crashes to answers."""

    @app.errorhandler(DomainError)
    def _domain(exc: DomainError):
        db.session.rollback()
        return error_response(exc.status, exc.code, exc.message, exc.details)

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError):
        message = _("The form has expired or did not come from this site. Reload the page and submit again.")
        return error_response(400, "csrf", message)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        if exc.code == 401 and not wants_json():
            return exc.get_response()
        status = exc.code or 500
        return error_response(status, (exc.name or "error").lower().replace(" ", "_"), exc.description or "")

    @app.errorhandler(OperationalError)
    def _database_busy(exc: OperationalError):
        db.session.rollback()
        if "locked" not in str(exc.orig).lower() and "busy" not in str(exc.orig).lower():
            return _crash(exc)
        log.warning("database busy on %s %s: %s", request.method, request.path, exc.orig)
        response, status = error_response(
            503, "busy", _("The platform is busy right now. Nothing was saved; please try again.")
        )
        response = app.make_response((response, status))
        response.headers["Retry-After"] = "2"
        return response

    @app.errorhandler(StaleDataError)
    @app.errorhandler(IntegrityError)
    def _concurrent_change(exc: Exception):
        # A row changed or was created by a concurrent command after this one read it: nothing was saved.
        db.session.rollback()
        log.warning("concurrent change on %s %s: %s", request.method, request.path, exc)
        message = _("Someone else changed this at the same time. Nothing was saved; reload and try again.")
        return error_response(409, "conflict", message)

    @app.errorhandler(DataError)
    def _out_of_range(exc: DataError):
        db.session.rollback()
        log.warning("value the database refuses on %s %s: %s", request.method, request.path, exc.orig)
        return error_response(400, "bad_value", _("A value in the request is out of range."))

    @app.errorhandler(Exception)
    def _crash(exc: Exception):
        db.session.rollback()
        log.exception("Unhandled error on %s %s", request.method, request.path)
        if app.config.get("PROPAGATE_EXCEPTIONS") and app.testing:
            raise exc
        return error_response(500, "internal", _("Something went wrong on our side. The error was logged."))
