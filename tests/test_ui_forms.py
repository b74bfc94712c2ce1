"""The form macro renders every widget of docs/contracts.md; dates are shown and read in the user's zone."""

from __future__ import annotations

import re

from flask import render_template_string
from werkzeug.datastructures import MultiDict

from app.auth.templating import display_value, local_input_value
from app.services.core import parse_form
from app.tasks.formview import initial_values, submitted_values

ZH_EN = {"zh": "中", "en": "En"}

EVERY_WIDGET = {
    "title": {"zh": "测试", "en": "Test"},
    "schema": {
        "type": "object",
        "properties": {
            "summary": {"type": "string", "maxLength": 80},
            "details": {"type": "string"},
            "count": {"type": "integer", "minimum": 1, "maximum": 9},
            "impact": {"type": "string", "enum": ["high", "low"]},
            "approve": {"type": "boolean"},
            "urgent": {"type": "boolean"},
            "happened": {"type": "string"},
            "day": {"type": "string"},
            "cis": {"type": "array", "items": {"type": "string"}},
            "owner": {"type": "string"},
            "recorded_by": {"type": "string"},
        },
        "required": ["summary", "impact", "cis"],
    },
    "fields": [
        {
            "name": "summary",
            "label": {"zh": "摘要", "en": "Summary"},
            "widget": "text",
            "help": {"zh": "一句话", "en": "One line"},
        },
        {"name": "details", "label": ZH_EN, "widget": "textarea"},
        {"name": "count", "label": ZH_EN, "widget": "number"},
        {
            "name": "impact",
            "label": ZH_EN,
            "widget": "select",
            "options": [
                {"value": "high", "label": {"zh": "高", "en": "High"}},
                {"value": "low", "label": {"zh": "低", "en": "Low"}},
            ],
        },
        {
            "name": "approve",
            "label": ZH_EN,
            "widget": "radio",
            "options": [
                {"value": True, "label": {"zh": "同意", "en": "Yes"}},
                {"value": False, "label": {"zh": "不同意", "en": "No"}},
            ],
        },
        {"name": "urgent", "label": ZH_EN, "widget": "checkbox"},
        {"name": "happened", "label": ZH_EN, "widget": "datetime"},
        {"name": "day", "label": ZH_EN, "widget": "date"},
        {"name": "cis", "label": ZH_EN, "widget": "ci_picker"},
        {"name": "owner", "label": ZH_EN, "widget": "user_picker"},
        {"name": "recorded_by", "label": ZH_EN, "widget": "text", "auto": "actor"},
    ],
    "context": [],
}

TEMPLATE = (
    '{% import "_form.html" as forms %}'
    "{{ forms.error_summary(message, errors, form) }}{{ forms.fields(form, values, errors, choices, auto) }}"
)


def render(app, values=None, errors=None, message=None, lang="en"):
    form = parse_form("every", EVERY_WIDGET)
    with app.test_request_context("/", headers={"Accept-Language": lang}):
        return render_template_string(
            TEMPLATE,
            form=form,
            values=values or {},
            errors=errors or {},
            message=message,
            choices={
                "ci": [("SRV-1", "SRV-1 · 服务器"), ("APP-1", "APP-1 · 应用")],
                "users": [("desk", "李四")],
            },
            auto={"actor": "李四 (desk)"},
        )


def test_every_widget_renders_with_labels_required_marks_and_help(app):
    html = render(app)
    assert re.search(
        r'<input type="text" id="f-summary" name="summary" value="" maxlength="80" aria-required', html
    )
    assert 'aria-describedby="f-summary-help"' in html and "One line" in html
    assert '<textarea id="f-details" name="details"' in html
    assert 'type="number" id="f-count"' in html and 'step="1" min="1" max="9"' in html
    assert '<select id="f-impact" name="impact" aria-required="true">' in html and ">High</option>" in html
    assert 'type="radio" name="approve" value="true"' in html and 'value="false"' in html
    assert '<input type="checkbox" id="f-urgent" name="urgent" value="true"' in html
    assert 'type="datetime-local" id="f-happened"' in html
    assert 'type="date" id="f-day"' in html
    assert '<select id="f-cis" name="cis" multiple' in html and 'data-picker-filter="f-cis"' in html
    assert '<select id="f-owner" name="owner"' in html and '<option value="desk">李四</option>' in html
    assert 'data-picker-filter="f-owner"' in html and 'data-picker-source="/api/v1/users"' in html
    # Auto fields are shown, never submitted.
    assert "李四 (desk)" in html and 'name="recorded_by"' not in html
    assert html.count('class="req"') == 3


def test_errors_and_typed_values_are_shown_per_field(app):
    typed = {
        "summary": 'a "quoted" <value>',
        "count": "many",
        "impact": "low",
        "approve": "false",
        "urgent": "true",
        "cis": ["APP-1", "GONE-9"],
        "happened": "2026-11-21T09:30",
    }
    html = render(
        app,
        values=typed,
        errors={"count": ["Enter a number."], "cis": ["No such CI: GONE-9"]},
        message="Please correct: cis, count",
    )
    assert 'role="alert"' in html and "Please correct 2 problems." in html
    assert '<a href="#f-count">' in html
    assert 'id="f-count-error"><p class="field-error">Enter a number.</p>' in html
    assert 'aria-invalid="true"' in html
    assert 'value="a &#34;quoted&#34; &lt;value&gt;"' in html
    assert 'value="many"' in html and '<option value="low" selected>' in html
    assert 'name="approve" value="false" checked' in html and 'name="urgent" value="true" checked' in html
    assert '<option value="APP-1" selected>' in html and '<option value="GONE-9" selected>' in html
    assert 'value="2026-11-21T09:30"' in html


def test_submitted_and_initial_values(app):
    form = parse_form("every", EVERY_WIDGET)
    posted = MultiDict([("summary", "x"), ("cis", "SRV-1"), ("cis", "APP-1"), ("recorded_by", "forged")])
    assert submitted_values(form, posted) == {"summary": "x", "cis": ["SRV-1", "APP-1"]}
    with app.test_request_context("/"):
        values = initial_values(
            form, {"happened": "2026-11-21T01:30:00+00:00", "approve": False, "cis": ["A"]}
        )
    assert values == {"happened": "2026-11-21T09:30", "approve": "false", "cis": ["A"]}


def test_times_are_shown_in_the_users_zone(app):
    with app.test_request_context("/"):  # anonymous: the configured default zone, Asia/Shanghai
        assert display_value("2026-11-21T01:30:00+00:00") == "2026-11-21 09:30"
        assert local_input_value("2026-11-21T23:30:00Z") == "2026-11-22T07:30"
        assert display_value(True) in ("是", "Yes") and display_value(["a", "b"]) == "a, b"
        assert display_value(None) == "—"
