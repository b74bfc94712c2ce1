"""The unit of work every service command is: one transaction that commits once or leaves nothing behind."""

from __future__ import annotations

import functools
import json
from typing import Any

from app.extensions import db


def json_safe(value: Any) -> Any:
    """Plain JSON (dates become ISO strings): what is stored hashes and reads back the same everywhere."""
    return json.loads(json.dumps(value, default=str))


def command(fn):
    """Run a service command so that any failure leaves the session clean (nothing half-written survives)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except BaseException:
            db.session.rollback()
            raise

    return wrapper
