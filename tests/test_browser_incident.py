"""The incident journey in headless Chromium: every user signs in on the sign-in page and works the forms.

requester raises -> desk records and classifies -> L1 investigates and resolves -> requester confirms ->
desk closes; the instance page then shows the instance completed and the diagram drawn by bpmn-js.
"""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser

STEP_TIMEOUT_MS = 15_000


def sign_in(page, base: str, username: str) -> None:
    """Sign in through the sign-in page (signing the previous user out through the user menu first)."""
    if page.locator("details.usermenu").count():
        page.locator("details.usermenu summary").click()
        page.locator("details.usermenu button[type=submit]").click()
        page.wait_for_url(re.compile(r".*/login$"))
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", "demo")
    page.locator("form button[type=submit].btn-primary").click()
    page.wait_for_url(re.compile(r".*/inbox$"))


def open_task(page, base: str, key: str, step: str) -> None:
    """Open the inbox row of that request and step."""
    page.goto(base + "/inbox")
    row = page.locator("table.list tbody tr", has_text=key).filter(has_text=step)
    row.locator("a[href^='/tasks/']").click()
    page.wait_for_selector("form.task-form")


def submit_task(page) -> None:
    """Submit the task form; the inbox comes back with a success message."""
    with page.expect_navigation():
        page.locator("form.task-form button[type=submit].btn-primary").click()
    if not re.search(r"/inbox$", page.url):  # say which field the server refused
        summary = page.locator("#error-summary")
        pytest.fail("the form was refused: " + (summary.inner_text() if summary.count() else page.url))
    assert page.locator(".alert-success").count() == 1


def test_incident_journey_in_the_browser(app, live_server, page):
    page.set_default_timeout(STEP_TIMEOUT_MS)
    base = live_server(app)

    # 1. The requester raises an incident; an empty submit first shows the errors at the top and per field.
    sign_in(page, base, "requester")
    page.locator("nav.mainnav a[data-go='s']").click()
    page.locator("table.list a[href='/start/incident']").first.click()
    page.locator("form[novalidate] button[type=submit].btn-primary").click()
    assert page.locator("#error-summary").is_visible()
    assert page.locator("#f-title-error").is_visible()
    page.fill("#f-title", "邮件系统无法登录")
    page.fill("#f-symptoms", "所有用户登录网页邮箱时提示会话无效。")
    page.fill("#f-contact", "13800000000")
    page.select_option("#f-channel", "web")
    page.fill("input[data-picker-filter='f-affected_cis']", "PORTAL")
    page.select_option("#f-affected_cis", ["APP-PORTAL"])
    page.locator("form[novalidate] button[type=submit].btn-primary").click()
    page.wait_for_url(re.compile(r".*/instances/\d+$"))
    instance_url = page.url
    key = page.locator("h1 .mono").inner_text().strip()
    assert re.fullmatch(r"INC-\d{4}-\d{6}", key)

    # 2. The service desk records it (the raise form's values are prefilled) and classifies it.
    sign_in(page, base, "desk")
    page.keyboard.press("Enter")  # the first inbox row is selected: Enter opens it
    page.wait_for_selector("form.task-form")
    assert page.input_value("#f-title") == "邮件系统无法登录"
    page.fill("#f-reporter", "张三")
    page.fill("#f-occurred_at", "2026-11-21T09:30")
    page.select_option("#f-impact", "high")
    page.check("input[name=impact_basis][value=actual]")
    page.select_option("#f-status", "in_progress")
    page.check("#f-within_remit")
    submit_task(page)

    open_task(page, base, key, "分类和初步支持")
    page.select_option("#f-category", "application")
    page.select_option("#f-urgency", "high")
    page.check("input[name=desk_decision][value=route]")
    submit_task(page)

    # 3. First-line support investigates and resolves.
    sign_in(page, base, "l1")
    open_task(page, base, key, "调查和分析（一线）")
    page.fill("#f-l1_diagnosis", "会话存储已满。")
    page.fill("#f-l1_solution", "清理会话存储。")
    page.check("input[name=l1_outcome][value=resolve]")
    submit_task(page)
    open_task(page, base, key, "解决和恢复（一线）")
    page.fill("#f-resolution", "清理会话存储并扩容。")
    page.check("input[name=resolution_type][value=permanent]")
    page.check("#f-root_cause_known")
    page.fill("#f-root_cause", "会话存储容量不足。")
    submit_task(page)

    # 4. The requester confirms the fix.
    sign_in(page, base, "requester")
    open_task(page, base, key, "事件关闭（用户确认）")
    page.check("input[name=confirmation][value=confirmed]")
    page.select_option("#f-satisfaction", "satisfied")
    submit_task(page)

    # 5. The desk closes the incident.
    sign_in(page, base, "desk")
    open_task(page, base, key, "事件关闭")
    page.select_option("#f-closure_code", "resolved")
    submit_task(page)

    # The instance page: completed, with the diagram drawn and the finished path highlighted.
    page.goto(instance_url)
    assert page.locator("[data-instance-status]").get_attribute("data-instance-status") == "completed"
    page.wait_for_selector("[data-bpmn-diagram][data-state=ready]")
    assert page.locator("[data-bpmn-diagram] svg").count() >= 1
    assert page.locator("[data-bpmn-diagram] .djs-element.done[data-element-id=end_closed]").count() == 1
    assert page.locator("[data-bpmn-diagram] .djs-element.done[data-element-id=resolve_l1]").count() == 1
    assert page.locator("ol.timeline > li").count() == 7
