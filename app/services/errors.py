"""Domain exceptions raised by the services; app/errors.py maps them to HTTP in one place.

Messages are ``flask_babel.lazy_gettext`` strings (``_l("... %(role)s ...", role=...)``): the services know
no request, so each message is translated when it is rendered, in the language of whoever reads it. Code that
stores or serialises a message (JSON, a flash in the session, a CLI line) turns it into ``str`` first
(``app.errors.plain``); templates must not get the lazy object itself (its ``__html__`` skips escaping).
"""

from __future__ import annotations

from flask_babel.speaklater import LazyString

#: A user-facing message: a lazy translation, or a plain string (engine texts, the forms' own table).
Message = str | LazyString


class DomainError(Exception):
    """Base of every service error; ``message`` is a complete sentence a user can act on."""

    status = 400
    code = "bad_request"

    def __init__(self, message: Message, *, details: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class NotFound(DomainError):
    """The object does not exist, or the user may not know it exists."""

    status = 404
    code = "not_found"


class Forbidden(DomainError):
    """The user is signed in but may not do this to this object."""

    status = 403
    code = "forbidden"


class Conflict(DomainError):
    """The object changed under the request (task already completed, claimed by someone else...)."""

    status = 409
    code = "conflict"


class InvalidInput(DomainError):
    """Input failed validation; ``field_errors`` maps each field name to its messages."""

    status = 422
    code = "invalid_input"

    def __init__(self, message: Message, field_errors: dict[str, list[Message]] | None = None) -> None:
        super().__init__(message, details={"fields": field_errors or {}})
        self.field_errors = field_errors or {}


class ProcessProblem(DomainError):
    """A process definition or its execution failed (bad BPMN, a blocked script); names the element."""

    status = 422
    code = "process_error"
