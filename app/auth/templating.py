"""Template helpers every page uses: navigation, locale, time zone, dates and values.

They are registered application-wide by the auth blueprint (which owns the session, the sign-in and the
language choice), so every blueprint's templates can use them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Blueprint, request, url_for
from flask_babel import format_date, format_datetime, get_locale, get_timezone, gettext, to_user_timezone
from flask_login import current_user
from markupsafe import Markup

from app.roles import ROLES
from app.services import core

#: Date-time pattern of every list and page (ISO-like, unambiguous in both languages).
DATETIME_PATTERN = "yyyy-MM-dd HH:mm"


def ui_locale() -> str:
    """The locale of this request: ``zh_CN`` or ``en``."""
    locale = get_locale()
    return "en" if locale is not None and locale.language == "en" else "zh_CN"


def ui_timezone() -> str:
    """The IANA name of the zone in which this request shows times."""
    zone = get_timezone()
    return getattr(zone, "zone", None) or str(zone)


def role_label(code: str | None) -> str:
    """A role's name in the request's language, the code itself for an unknown role."""
    if not code:
        return ""
    names = ROLES.get(code)
    if not names:
        return code
    return names[0] if ui_locale() == "zh_CN" else names[1]


def parse_datetime(value) -> datetime | None:
    """An aware datetime from a datetime or an ISO 8601 string; naive values are taken as UTC."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and len(value) >= 16 and value[4:5] == "-" and value[10:11] in ("T", " "):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def format_moment(value) -> str:
    """A datetime (or ISO string) in the user's zone as ``yyyy-MM-dd HH:mm``; '' for nothing."""
    moment = parse_datetime(value)
    if moment is None:
        return "" if value is None else str(value)
    return format_datetime(moment, DATETIME_PATTERN)


def format_day(value) -> str:
    """A date (or ISO date string) as ``yyyy-MM-dd``."""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value[:10])
        except ValueError:
            return value
    if isinstance(value, datetime):
        return format_datetime(value, "yyyy-MM-dd")
    return format_date(value, "yyyy-MM-dd") if isinstance(value, date) else ""


def local_input_value(value) -> str:
    """A stored ISO datetime as the value of an ``<input type=datetime-local>`` in the user's zone."""
    moment = parse_datetime(value)
    if moment is None:
        return "" if value is None else str(value)
    return to_user_timezone(moment).strftime("%Y-%m-%dT%H:%M")


def is_overdue(value) -> bool:
    """Whether a due time has passed."""
    moment = parse_datetime(value)
    return moment is not None and moment < datetime.now(UTC)


def display_value(value, field=None) -> str:
    """A task-data value as a person reads it: yes/no, local times, lists joined.

    :param field: the form field that wrote the value (a ``FieldDef``), when known, for its widget.
    """
    if value is None or value == "" or value == []:
        return "—"
    widget = getattr(field, "widget", None)
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, list):
        return ", ".join(display_value(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{key}: {display_value(item)}" for key, item in value.items())
    if widget == "date":
        return format_day(value)
    if widget == "datetime" or parse_datetime(value) is not None:
        return format_moment(value)
    return str(value)


def form_text(value) -> str:
    """How a value is written into an HTML input (booleans as true/false, as parse_form_input reads them)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def nav_items() -> list[dict]:
    """The top bar's links for the signed-in user: everyone's three, then one per special role."""
    if not current_user.is_authenticated:
        return []
    endpoint = request.endpoint or ""
    blueprint = request.blueprint or ""
    items = [
        ("i", gettext("Inbox"), "tasks.inbox", endpoint in {"tasks.inbox", "tasks.task"}),
        ("r", gettext("My requests"), "tasks.requests", endpoint in {"tasks.requests", "tasks.instance"}),
        ("s", gettext("Raise"), "tasks.start_list", endpoint in {"tasks.start_list", "tasks.start"}),
        ("c", gettext("CMDB"), "cmdb.index", blueprint == "cmdb"),
        ("e", gettext("Known errors"), "kedb.index", blueprint == "kedb"),
        ("b", gettext("Knowledge"), "kb.index", blueprint == "kb"),
    ]
    if current_user.role_codes & {"slm_manager", "slm_operator", "service_desk", "incident_manager", "admin"}:
        items.append(("l", gettext("SLA"), "sla.index", blueprint == "sla"))
    if current_user.has_role("process_owner"):
        items.append(("p", gettext("Processes"), "processes.index", blueprint == "processes"))
    if current_user.has_role("auditor"):
        items.append(("a", gettext("Audit"), "audit.log", blueprint == "audit"))
    if current_user.has_role("admin"):
        items.append(("m", gettext("Administration"), "admin.users", blueprint == "admin"))
    return [{"key": key, "label": label, "url": url_for(ep), "current": cur} for key, label, ep, cur in items]


def catalogue_label(catalogue: str, code: str | None) -> str:
    """A code of a registry catalogue (CI class, status, category...) in the request's language."""
    return core.label(catalogue, code, ui_locale())


def catalogue_choices(catalogue: str) -> list[tuple[str, str]]:
    """``(code, label)`` of a registry catalogue in the request's language, for selects."""
    return core.choices(catalogue, ui_locale())


def status_badge(status: str | None) -> Markup:
    """A coloured badge for an instance or task status, in the request's language."""
    names = {
        "running": gettext("Running"),
        "completed": gettext("Completed"),
        "cancelled": gettext("Cancelled"),
        "open": gettext("Open"),
        "closed": gettext("Closed"),
        "rejected": gettext("Rejected"),
        "error": gettext("Error"),
    }
    text = names.get(status or "", status or "")
    return Markup('<span class="badge badge-{0}">{1}</span>').format(status or "none", text)


def register(bp: Blueprint) -> None:
    """Make the helpers available to every template of the application."""
    for function in (
        ui_locale,
        ui_timezone,
        role_label,
        nav_items,
        display_value,
        status_badge,
        is_overdue,
        catalogue_label,
        catalogue_choices,
    ):
        bp.add_app_template_global(function)
    bp.add_app_template_filter(format_moment, "dt")
    bp.add_app_template_filter(format_day, "day")
    bp.add_app_template_filter(local_input_value, "local_input")
    bp.add_app_template_filter(form_text, "form_text")
