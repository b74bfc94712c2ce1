"""Form input as users send it: typed from HTML posts, validated per field, auto fields never forged."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from werkzeug.datastructures import MultiDict

from app.services.errors import InvalidInput
from app.services.workflow import get_form, parse_form_input, validate_form
from tests import journey
from tests.conftest import user

NOW = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield


def _validate(name, data, locale="en", username="desk"):
    return validate_form(
        get_form(name),
        data,
        actor=user(username),
        locale=locale,
        tz="Asia/Shanghai",
        now=NOW,
        business_key="INC-2026-000001",
    )


def test_html_post_is_typed_by_the_schema(ctx):
    form = get_form("incident_record.json")
    posted = MultiDict(
        [
            ("within_remit", "on"),
            ("affected_cis", "SRV-DB-01"),
            ("affected_cis", "APP-EMS"),
            ("impact", "high"),
            ("symptoms", "  slow  "),
            ("error_codes", ""),
        ]
    )
    data = parse_form_input(form, posted)
    assert data["within_remit"] is True
    assert data["affected_cis"] == ["SRV-DB-01", "APP-EMS"]
    assert data["symptoms"] == "slow"
    assert "error_codes" not in data
    assert parse_form_input(form, MultiDict())["within_remit"] is False


def test_local_time_is_stored_in_utc_and_auto_fields_are_filled(ctx):
    clean = _validate("incident_record.json", dict(journey.RECORD, occurred_at="2026-11-21T09:30"))
    assert clean["occurred_at"] == "2026-11-21T01:30:00+00:00"  # Asia/Shanghai is UTC+8
    assert clean["incident_number"] == "INC-2026-000001"
    assert clean["recorded_by"] == "desk"
    assert clean["reported_at"] == NOW.isoformat()


def test_auto_fields_cannot_be_forged(ctx):
    clean = _validate(
        "incident_record.json",
        dict(journey.RECORD, recorded_by="someone_else", incident_number="INC-1999-999999"),
    )
    assert clean["recorded_by"] == "desk"
    assert clean["incident_number"] == "INC-2026-000001"


@pytest.mark.parametrize(("locale", "text"), [("en", "This field is required."), ("zh_CN", "此项为必填项。")])
def test_messages_name_each_field_in_the_users_language(ctx, locale, text):
    data = dict(journey.RECORD)
    del data["symptoms"]
    with pytest.raises(InvalidInput) as caught:
        _validate("incident_record.json", data, locale=locale)
    assert caught.value.field_errors == {"symptoms": [text]}


def test_too_long_and_wrong_choice_are_reported(ctx):
    data = dict(journey.RECORD, title="x" * 5000, impact="enormous")
    with pytest.raises(InvalidInput) as caught:
        _validate("incident_record.json", data)
    assert set(caught.value.field_errors) == {"title", "impact"}
    assert "At most" in caught.value.field_errors["title"][0]


def test_conditional_requirement_from_the_form_definition(ctx):
    data = dict(journey.RECORD, within_remit=False)
    with pytest.raises(InvalidInput) as caught:
        _validate("incident_record.json", data)
    assert "rejection_reason" in caught.value.field_errors


def test_lane_names_resolve_to_roles():
    from app.roles import lane_role

    assert lane_role("服务台 (service_desk)") == "service_desk"
    assert lane_role("一线支持（support_l1）") == "support_l1"
    assert lane_role("support_l2") == "support_l2"
    assert lane_role("服务台") == "service_desk"
    assert lane_role("janitors (janitor)") is None


def test_production_refuses_to_start_without_a_secret(monkeypatch):
    from config import ProductionConfig

    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        ProductionConfig()
    monkeypatch.setenv("SECRET_KEY", "a-long-random-production-secret")
    assert ProductionConfig().SECRET_KEY == "a-long-random-production-secret"
