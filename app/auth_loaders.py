"""Flask-Login loaders: the session cookie for pages, a bearer token for API clients."""

from __future__ import annotations

import hashlib

from flask import Request

from app.extensions import db, login_manager
from app.models import User


def hash_token(token: str) -> str:
    """The stored form of an API token (tokens are random, so a plain SHA-256 is enough)."""
    return hashlib.sha256(token.encode()).hexdigest()


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The signed-in user of a session, if still active."""
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    return user if user and user.active else None


@login_manager.request_loader
def load_user_from_token(request: Request) -> User | None:
    """``Authorization: Bearer <token>`` signs an API client in for one request."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer ") or request.blueprint != "api":
        return None
    digest = hash_token(header.removeprefix("Bearer ").strip())
    user = db.session.scalar(db.select(User).where(User.api_token_hash == digest))
    return user if user and user.active else None


@login_manager.unauthorized_handler
def unauthorized():
    """API callers get a JSON 401; people are sent to the sign-in page and brought back afterwards."""
    from flask import jsonify, redirect, request, url_for

    if request.blueprint == "api":
        body = {
            "error": {
                "status": 401,
                "code": "unauthorized",
                "message": "Sign in, or send 'Authorization: Bearer <token>'.",
            }
        }
        return jsonify(body), 401
    return redirect(url_for("auth.login", next=request.full_path if request.query_string else request.path))
