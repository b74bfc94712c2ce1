"""`flask seed-demo`: one demo user per role of spec/processes.md, and the registries' demo data."""

from __future__ import annotations

from sqlalchemy import select

from app.demo_registries import seed_registries
from app.extensions import db
from app.models import User
from app.roles import ROLES
from app.services import governance
from app.services.core import command

DEMO_PASSWORD = "demo"  # noqa: S105 - published demo credential, documented in the README

#: username -> (display name, roles, roles managed). The first nine are the incident journey's cast.
DEMO_USERS: dict[str, tuple[str, set[str], set[str]]] = {
    "requester": ("张三 (请求者)", set(), set()),
    "desk": ("李四 (服务台)", {"service_desk"}, set()),
    "l1": ("王五 (一线支持)", {"support_l1"}, set()),
    "l2": ("赵六 (二线支持)", {"support_l2"}, set()),
    "l3": ("钱七 (三线支持)", {"support_l3"}, set()),
    "incmgr": (
        "孙八 (事件管理组长)",
        {"incident_manager", "service_desk", "support_l1", "support_l2", "support_l3"},
        {"service_desk", "support_l1", "support_l2", "support_l3"},
    ),
    "owner": ("周九 (流程负责人)", {"process_owner"}, set()),
    "auditor": ("吴十 (审计员)", {"auditor"}, set()),
    "admin": ("管理员", {"admin"}, set()),
}


#: Board members, so that a CAB or ECAB vote has several voters.
BOARD_MEMBERS: dict[str, tuple[str, set[str], set[str]]] = {
    **{f"cab{n}": (f"变更委员 {n} (CAB)", {"cab"}, set()) for n in range(1, 6)},
    **{f"ecab{n}": (f"紧急变更委员 {n} (ECAB)", {"ecab"}, set()) for n in range(1, 4)},
}


def _all_demo_users() -> dict[str, tuple[str, set[str], set[str]]]:
    """The cast above, the board members, and one user per remaining role, named after the role."""
    cast = {**DEMO_USERS, **BOARD_MEMBERS}
    covered = set().union(*(roles for _, roles, _ in cast.values()))
    for code, (zh, _en) in ROLES.items():
        if code not in covered and code != "requester":
            cast[code] = (f"{zh} (demo)", {code}, {code})
    return cast


@command
def seed_demo() -> list[str]:
    """Create the roles, demo users and CIs that do not exist yet; returns the usernames created."""

    governance.ensure_roles()
    seed_registries()
    governance.ensure_defaults()
    db.session.commit()
    created = []
    for username, (display, roles, managed) in _all_demo_users().items():
        if db.session.scalar(select(User.id).where(User.username == username)) is not None:
            continue
        governance.create_user(
            None,
            governance.UserInput(
                username=username, display_name=display, password=DEMO_PASSWORD, timezone="Asia/Shanghai"
            ),
            roles,
            managed,
        )
        created.append(username)
    return created
