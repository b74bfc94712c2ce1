"""The role inbox: which open tasks a user sees, and claiming, releasing and reassigning them."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select

from app.extensions import db
from app.models import HumanTask, Membership, ProcessInstance, User
from app.roles import REQUESTER, lazy_role_name
from app.services.core.runtime import get_runtime
from app.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.services.workflow.pipeline import Command


def check_can_see(actor: User, task: HumanTask) -> None:
    """Only holders of the task's role see it; a personal task (the requester's confirmation, a CAB member's
    vote) only its assignee."""
    if task.role == REQUESTER:
        if task.assignee_id != actor.id:
            raise Forbidden(_l("This task belongs to the person who raised the request."))
    elif task.personal and task.assignee_id != actor.id:
        raise Forbidden(_l("This task is assigned to one person only."))
    elif not actor.has_role(task.role):
        raise Forbidden(
            _l("This task is for the role '%(role)s', which you do not hold.", role=lazy_role_name(task.role))
        )


def check_can_work(actor: User, task: HumanTask) -> None:
    """Seeing the task, separation of duties, and it is not claimed by somebody else."""
    check_can_see(actor, task)
    check_separation(actor, task)
    if task.assignee_id is not None and task.assignee_id != actor.id:
        raise Conflict(_l("This task is claimed by %(name)s.", name=task.assignee.display_name))


def check_separation(actor: User, task: HumanTask) -> None:
    """The ``separateFrom`` rule of the task's element: whoever started the instance or completed one of the
    named elements may not do this task (the requester of a change cannot approve it...)."""
    package = get_runtime().package_for(task.instance.version)
    rule = package.element_properties.get(task.element_id, {}).get("separateFrom", "")
    tokens = [token.strip() for token in rule.split(",") if token.strip()]
    if not tokens:
        return
    if "starter" in tokens and task.instance.started_by_id == actor.id:
        raise Forbidden(
            _l(
                "Separation of duties: you raised this request, so you may not do the step '%(step)s'.",
                step=task.name,
            )
        )
    elements = [name for name in tokens if name != "starter"]
    if not elements:
        return
    done = db.session.scalar(
        select(HumanTask.name)
        .where(
            HumanTask.instance_id == task.instance_id,
            HumanTask.element_id.in_(elements),
            HumanTask.completed_by_id == actor.id,
        )
        .limit(1)
    )
    if done is not None:
        raise Forbidden(
            _l(
                "Separation of duties: you did the step '%(done)s' of this request, so you may not "
                "do the step '%(step)s'.",
                done=done,
                step=task.name,
            )
        )


def get_task(actor: User, task_id: int) -> HumanTask:
    """A task the user may see."""
    task = db.session.get(HumanTask, task_id)
    if task is None:
        raise NotFound(_l("No such task."))
    check_can_see(actor, task)
    return task


def _visible(actor: User):
    roles = actor.role_codes - {REQUESTER}
    mine = HumanTask.assignee_id == actor.id
    return or_(and_(HumanTask.role.in_(roles), ~HumanTask.personal), and_(HumanTask.personal, mine))


SORTS = {
    "due": (HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.id),
    "priority": (HumanTask.priority.is_(None), HumanTask.priority, HumanTask.id),
    "created": (HumanTask.id.desc(),),
}


def inbox(
    actor: User,
    *,
    role: str | None = None,
    scope: str = "all",
    q: str | None = None,
    sort: str = "due",
    page: int = 1,
    per_page: int = 25,
):
    """Open tasks of the user's roles, filtered, sorted and paged (a Flask-SQLAlchemy Pagination)."""
    query = select(HumanTask).join(ProcessInstance).where(HumanTask.status == "open", _visible(actor))
    if role:
        query = query.where(HumanTask.role == role)
    if scope == "mine":
        query = query.where(HumanTask.assignee_id == actor.id)
    elif scope == "unassigned":
        query = query.where(HumanTask.assignee_id.is_(None))
    if q:
        like = f"%{q.strip()}%"
        query = query.where(
            or_(
                ProcessInstance.business_key.ilike(like),
                ProcessInstance.title.ilike(like),
                HumanTask.name.ilike(like),
            )
        )
    query = query.order_by(*SORTS.get(sort, SORTS["due"]))
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def _locked(task_id: int) -> HumanTask:
    task = db.session.scalar(
        select(HumanTask)
        .where(HumanTask.id == task_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if task is None:
        raise NotFound(_l("No such task."))
    if task.status != "open":
        raise Conflict(_l("This task is no longer open."))
    return task


def _note(cmd: Command, kind: str, actor: User, task: HumanTask, **extra) -> None:
    cmd.note(
        kind,
        actor.username,
        task.instance_id,
        {"task_id": task.id, "element_id": task.element_id, **extra},
        {"assignee": task.assignee.username if task.assignee else None},
    )


def claim_task(actor: User, task_id: int) -> HumanTask:
    """Take an open task of one's role so that colleagues see it is being worked on."""
    with Command() as cmd:
        task = _locked(task_id)
        check_can_work(actor, task)
        if task.assignee_id != actor.id:
            task.assignee = actor
            _note(cmd, "claim", actor, task)
    return task


def release_task(actor: User, task_id: int) -> HumanTask:
    """Give a claimed task back to the role's queue (its holder, or a manager of the role)."""
    with Command() as cmd:
        task = _locked(task_id)
        check_can_see(actor, task)
        if task.personal:
            raise Conflict(_l("A requester's task cannot be released."))
        if task.assignee_id not in (None, actor.id) and not can_reassign(actor, task):
            raise Forbidden(_l("Only the person holding this task or a manager of its role may release it."))
        task.assignee = None
        _note(cmd, "release", actor, task)
    return task


def can_reassign(actor: User, task: HumanTask) -> bool:
    """Managers of the task's role (and admins) may hand it to another holder of the role."""
    return not task.personal and (task.role in actor.managed_role_codes or actor.has_role("admin"))


def task_candidates(task: HumanTask) -> list[User]:
    """Active users holding the task's role, by name."""
    query = (
        select(User)
        .join(Membership)
        .where(Membership.role_code == task.role, User.active)
        .order_by(User.display_name)
    )
    return list(db.session.scalars(query))


def reassign_task(actor: User, task_id: int, username: str) -> HumanTask:
    """Hand a task to another holder of its role (managers only)."""
    with Command() as cmd:
        task = _locked(task_id)
        if not can_reassign(actor, task):
            raise Forbidden(_l("Only a manager of this task's role may reassign it."))
        target = db.session.scalar(select(User).where(User.username == username, User.active))
        if target is None or not target.has_role(task.role):
            raise InvalidInput(
                _l("Choose a user who holds the task's role."),
                {"assignee": [_l("This user does not hold the task's role.")]},
            )
        task.assignee = target
        _note(cmd, "reassign", actor, task, assignee=target.username)
    return task
