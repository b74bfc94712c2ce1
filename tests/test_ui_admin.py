"""Admin pages: only administrators; errors per field; roles and manager flags saved."""

from __future__ import annotations

import pytest

from app.extensions import db
from tests.conftest import sign_in, user


def text(response) -> str:
    """The body of a response as text."""
    return response.get_data(as_text=True)


@pytest.mark.parametrize("username", ["requester", "desk", "owner", "auditor"])
def test_admin_pages_refuse_non_admins(app, as_user, username):
    client = as_user(username)
    with app.app_context():
        desk_id = user("desk").id
    for path in ("/admin/users", "/admin/users/new", f"/admin/users/{desk_id}", "/admin/roles"):
        assert client.get(path).status_code == 403, path
    response = client.post(f"/admin/users/{desk_id}", data={"display_name": "x", "roles": ["admin"]})
    assert response.status_code == 403
    with app.app_context():
        assert not user("desk").has_role("admin")


def test_users_and_roles_lists(as_user):
    admin = as_user("admin")
    page = text(admin.get("/admin/users", headers={"Accept-Language": "en"}))
    assert "incmgr" in page and "Service desk" in page and "★" in page
    assert "desk" in text(admin.get("/admin/users", query_string={"q": "desk"}))
    assert "incmgr" not in text(admin.get("/admin/users", query_string={"q": "desk"}))
    roles = text(admin.get("/admin/roles", headers={"Accept-Language": "zh-CN"}))
    assert "服务台" in roles and "李四 (服务台)" in roles


def test_create_user_with_roles_then_sign_in(app, as_user):
    admin = as_user("admin")
    form = {
        "username": "wang",
        "display_name": "王工",
        "email": "wang@example.cn",
        "password": "s3cret!",
        "active": "on",
        "locale": "zh_CN",
        "timezone": "Asia/Shanghai",
        "roles": ["support_l2", "support_l3"],
        "managers": ["support_l3"],
    }
    response = admin.post("/admin/users/new", data=form)
    assert response.status_code == 302, text(response)[:2000]
    with app.app_context():
        created = user("wang")
        assert created.role_codes == {"support_l2", "support_l3"}
        assert created.managed_role_codes == {"support_l3"}
    assert sign_in(app.test_client(), "wang", "s3cret!").status_code == 302


def test_invalid_new_user_is_422_with_messages_and_values_kept(app, as_user):
    admin = as_user("admin")
    form = {
        "username": "bad name!",
        "display_name": "",
        "email": "x@example.cn",
        "password": "",
        "roles": ["support_l1"],
        "managers": [],
    }
    response = admin.post("/admin/users/new", data=form)
    assert response.status_code == 422
    page = text(response)
    assert 'id="u-username-error"' in page and 'id="u-display_name-error"' in page
    assert 'id="u-password-error"' in page
    assert 'value="bad name!"' in page and 'value="x@example.cn"' in page
    assert 'name="roles" value="support_l1" checked' in page
    taken = admin.post(
        "/admin/users/new", data=dict(form, username="desk", display_name="D", password="abcd")
    )
    assert taken.status_code == 422 and 'id="u-username-error"' in text(taken)


def test_edit_user_roles_manager_flags_password_and_active(app, as_user):
    admin = as_user("admin")
    with app.app_context():
        l1_id = user("l1").id
    page = text(admin.get(f"/admin/users/{l1_id}"))
    assert 'name="roles" value="support_l1" checked' in page
    form = {
        "display_name": "王五",
        "email": "",
        "password": "newpass",
        "active": "on",
        "roles": ["support_l1", "support_l2"],
        "managers": ["support_l1"],
    }
    response = admin.post(f"/admin/users/{l1_id}", data=form)
    assert response.status_code == 302
    with app.app_context():
        l1 = user("l1")
        assert l1.role_codes == {"support_l1", "support_l2"} and l1.managed_role_codes == {"support_l1"}
    assert sign_in(app.test_client(), "l1", "newpass").status_code == 302
    assert sign_in(app.test_client(), "l1", "demo").status_code == 401

    admin.post(f"/admin/users/{l1_id}", data=dict(form, active=""))
    assert sign_in(app.test_client(), "l1", "newpass").status_code == 401


def test_admin_cannot_remove_own_admin_role(app, as_user):
    admin = as_user("admin")
    with app.app_context():
        admin_id = user("admin").id
    response = admin.post(
        f"/admin/users/{admin_id}", data={"display_name": "管理员", "active": "on", "roles": []}
    )
    assert response.status_code == 422
    with app.app_context():
        db.session.expire_all()
        assert user("admin").has_role("admin")
