"""Form input: typed from an HTML post or JSON, validated against the form's JSON Schema, errors per field."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jsonschema import Draft202012Validator
from sqlalchemy import select

from app.extensions import db
from app.models import ConfigurationItem, HumanTask, User
from app.roles import role_name
from app.services.core.formdefs import PICKERS, FieldDef, FormDef
from app.services.core.runtime import get_runtime
from app.services.errors import InvalidInput
from app.services.registries import kedb, knowledge

_TRUE = {"1", "true", "on", "yes"}
_FALSE = {"0", "false", "off", "no", ""}

MESSAGES = {
    "required": ("此项为必填项。", "This field is required."),
    "type": ("格式不正确。", "This value has the wrong type."),
    "enum": ("请选择列表中的一项。", "Choose one of the listed values."),
    "maxLength": ("最多 {limit} 个字符。", "At most {limit} characters."),
    "minLength": ("至少 {limit} 个字符。", "At least {limit} characters."),
    "maximum": ("不能大于 {limit}。", "Must be at most {limit}."),
    "minimum": ("不能小于 {limit}。", "Must be at least {limit}."),
    "maxItems": ("最多选择 {limit} 项。", "Choose at most {limit}."),
    "minItems": ("至少选择 {limit} 项。", "Choose at least {limit}."),
    "pattern": ("格式不正确。", "This value does not have the expected format."),
    "datetime": ("请输入有效的日期和时间。", "Enter a valid date and time."),
    "date": ("请输入有效的日期。", "Enter a valid date."),
    "number": ("请输入数字。", "Enter a number."),
    "unknown_ci": ("配置项不存在：{value}", "No such configuration item: {value}"),
    "unknown_user": ("用户不存在：{value}", "No such user: {value}"),
    "lacks_role": ("{value} 不是{role}成员。", "{value} does not hold the role {role}."),
    "unknown_known_error": ("已知错误不存在：{value}", "No such known error: {value}"),
    "unknown_article": ("知识不存在：{value}", "No such knowledge article: {value}"),
    "unknown_field": ("此表单没有该字段。", "This form has no such field."),
    "invalid": ("输入无效。", "This value is not valid."),
}


def message(key: str, locale: str, **params: Any) -> str:
    """A validation message in the locale."""
    zh, en = MESSAGES.get(key, MESSAGES["invalid"])
    return (zh if locale.startswith("zh") else en).format(**params)


def form_for_task(task: HumanTask):
    """The form definition a human task references."""
    return get_runtime().forms.get(task.form)


def get_form(name: str) -> FormDef:
    """A form definition by its file name."""
    return get_runtime().forms.get(name)


def parse_form_input(form: FormDef, values) -> dict[str, Any]:
    """Turn an HTML form post (a MultiDict) into JSON-like values, keeping unparseable text as typed.

    Text that cannot become the schema's type is passed on as text so that validation reports it on its field
    and the page can show it again.
    """
    data: dict[str, Any] = {}
    for fdef in form.fields:
        if fdef.readonly:
            continue
        if fdef.is_array:
            items = [v for v in values.getlist(fdef.name) if v != ""]
            if items or fdef.name in values:
                data[fdef.name] = items
            continue
        if fdef.widget == "checkbox":
            data[fdef.name] = values.get(fdef.name, "").lower() in _TRUE
            continue
        raw = values.get(fdef.name)
        if raw is None or raw.strip() == "":
            continue
        data[fdef.name] = _typed(fdef, raw.strip())
    return data


def _typed(fdef: FieldDef, raw: str) -> Any:
    kind = fdef.schema.get("type")
    kinds = set(kind) if isinstance(kind, list) else {kind}
    if fdef.options:  # the option whose value renders as this text (booleans, numbers, strings)
        for opt in fdef.options:
            if _as_text(opt["value"]) == raw:
                return opt["value"]
    if "boolean" in kinds and raw.lower() in _TRUE | _FALSE:
        return raw.lower() in _TRUE
    try:
        if "integer" in kinds:
            return int(raw)
        if "number" in kinds:
            return float(raw)
    except ValueError:
        return raw
    return raw


def _as_text(value: Any) -> str:
    """How a value is written into an HTML form (booleans as true/false)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def validate_form(
    form: FormDef,
    data: dict[str, Any],
    *,
    actor: User,
    locale: str,
    tz: str,
    now: datetime,
    business_key: str | None = None,
) -> dict[str, Any]:
    """Validate input for a form; returns the clean data with auto fields filled.

    :raises InvalidInput: with a message per wrong field; nothing is stored.
    """
    if not isinstance(data, dict):
        raise InvalidInput(message("invalid", locale), {"_form": [message("invalid", locale)]})
    errors: dict[str, list[str]] = {}
    known = {f.name for f in form.fields}
    clean: dict[str, Any] = {}
    for key, value in data.items():
        fdef = form.field(key)
        if fdef is None:
            errors.setdefault(key, []).append(message("unknown_field", locale))
        elif not fdef.readonly:
            clean[key] = _normalise(fdef, value, tz, locale, errors)
    for fdef in form.fields:
        if fdef.widget == "checkbox" and not fdef.readonly and fdef.name not in clean:
            clean[fdef.name] = False  # an unticked box, as a browser sends it: gateways can test it
    for fdef in form.fields:
        if fdef.auto == "actor":
            clean[fdef.name] = actor.username
        elif fdef.auto == "now":
            clean[fdef.name] = now.astimezone(UTC).isoformat()
        elif fdef.auto == "business_key" and business_key:
            clean[fdef.name] = business_key
    for name in form.schema.get("required", []):
        if clean.get(name) in (None, "", []) and name not in errors:
            errors[name] = [message("required", locale)]
    for err in Draft202012Validator(form.schema).iter_errors(clean):
        if err.validator == "required":  # also from if/then rules: one message on each missing field
            for name in err.validator_value:
                if name not in err.instance and name not in errors:
                    errors[name] = [message("required", locale)]
            continue
        name = str(err.path[0]) if err.path else "_form"
        if name in errors:
            continue
        limit = err.validator_value if not isinstance(err.validator_value, list | dict | bool) else None
        errors.setdefault(name, []).append(message(str(err.validator), locale, limit=limit))
    _check_references(form, clean, locale, errors)
    if errors:
        first = ", ".join(sorted(k for k in errors if k in known) or sorted(errors))
        summary = ("请更正以下字段：" if locale.startswith("zh") else "Please correct: ") + first
        raise InvalidInput(summary, errors)
    return clean


def _normalise(fdef: FieldDef, value: Any, tz: str, locale: str, errors: dict[str, list[str]]) -> Any:
    """Datetimes typed in the user's zone become UTC ISO 8601; dates are checked."""
    if value in (None, "") or not isinstance(value, str):
        return value
    if fdef.widget == "datetime":
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            errors.setdefault(fdef.name, []).append(message("datetime", locale))
            return value
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=_zone(tz))
        return parsed.astimezone(UTC).isoformat()
    if fdef.widget == "date":
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            errors.setdefault(fdef.name, []).append(message("date", locale))
    if fdef.widget == "number" and fdef.schema.get("type") in ("number", "integer"):
        errors.setdefault(fdef.name, []).append(message("number", locale))
    return value


def _zone(tz: str):
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Asia/Shanghai")


def _check_references(
    form: FormDef, clean: dict[str, Any], locale: str, errors: dict[str, list[str]]
) -> None:
    """Pickers must name things that exist: CIs, users (holding the field's role, if it names one), known
    errors and knowledge articles."""
    for fdef in form.fields:
        value = clean.get(fdef.name)
        if not value or fdef.name in errors or fdef.widget not in PICKERS:
            continue
        given = [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)]
        if fdef.widget == "ci_picker":
            found = set(
                db.session.scalars(select(ConfigurationItem.code).where(ConfigurationItem.code.in_(given)))
            )
            missing_key = "unknown_ci"
        elif fdef.widget == "known_error_picker":
            found, missing_key = kedb.known_error_keys(given), "unknown_known_error"
        elif fdef.widget == "article_picker":
            found, missing_key = knowledge.article_keys(given), "unknown_article"
        else:
            _check_users(fdef, given, locale, errors)
            continue
        for item in given:
            if item not in found:
                errors.setdefault(fdef.name, []).append(message(missing_key, locale, value=item))


def _check_users(fdef: FieldDef, usernames: list[str], locale: str, errors: dict[str, list[str]]) -> None:
    """Every username must be an active user, and hold the field's role when it names one."""
    query = select(User).where(User.username.in_(usernames), User.active.is_(True))
    users = {user.username: user for user in db.session.scalars(query)}
    for username in usernames:
        user = users.get(username)
        if user is None:
            errors.setdefault(fdef.name, []).append(message("unknown_user", locale, value=username))
        elif fdef.role and not user.has_role(fdef.role):
            errors.setdefault(fdef.name, []).append(
                message("lacks_role", locale, value=username, role=role_name(fdef.role, locale))
            )
