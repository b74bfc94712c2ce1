"""Process versions: deploy the processes folder, list versions (content-hashed, immutable)."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import ProcessVersion, User
from app.services.core.runtime import get_runtime
from app.services.core.unit import command
from app.services.errors import Forbidden, NotFound, ProcessProblem
from app.services.workflow import effects, schedules
from engine import EngineError


@dataclass(frozen=True)
class Deployed:
    """What one deploy did for one process."""

    process_id: str
    content_hash: str
    created: bool


@command
def deploy_directory(author: str | None = None) -> list[Deployed]:
    """Parse, lint and store every process of the processes folder; new content becomes the current version.

    :raises ProcessProblem: when any file is rejected (nothing is deployed then).
    """
    runtime = get_runtime()
    runtime.forms.reload()
    try:
        packages = runtime.load_processes()
    except EngineError as exc:
        raise ProcessProblem(str(exc)) from exc
    unknown = [
        (package.bpmn_file, element, name)
        for package in packages.values()
        for element, name in effects.unknown_effects(package.element_properties)
    ]
    if unknown:
        raise ProcessProblem(
            "; ".join(
                f"file {file}, element {element}: unknown platformEffect '{name}'. Use one of: "
                f"{', '.join(sorted(effects.EFFECTS)) or 'none defined'}."
                for file, element, name in unknown
            )
        )
    now = runtime.now()
    report = []
    for process_id, package in sorted(packages.items()):
        version = db.session.scalar(
            select(ProcessVersion).where(
                ProcessVersion.process_id == process_id, ProcessVersion.content_hash == package.content_hash
            )
        )
        created = version is None
        if created:
            version = ProcessVersion(
                process_id=process_id,
                content_hash=package.content_hash,
                name=package.name,
                files=dict(package.files),
                author=author,
                created_at=now,
            )
            db.session.add(version)
        if not version.is_current:
            for other in db.session.scalars(
                select(ProcessVersion).where(
                    ProcessVersion.process_id == process_id, ProcessVersion.is_current
                )
            ):
                other.is_current = False
            db.session.flush()
            version.is_current = True
            version.deployed_at = now
        report.append(Deployed(process_id, package.content_hash, created))
    schedules.sync_from_packages(packages, now)
    db.session.commit()
    return report


def _require_owner(actor: User) -> None:
    if not (actor.role_codes & {"process_owner", "auditor", "admin"}):
        raise Forbidden(_l("Only process owners and auditors may browse process versions."))


def list_versions(actor: User) -> list[ProcessVersion]:
    """Every stored version, grouped by process, newest first."""
    _require_owner(actor)
    query = select(ProcessVersion).order_by(ProcessVersion.process_id, ProcessVersion.id.desc())
    return list(db.session.scalars(query))


def get_version(actor: User, version_id: int) -> ProcessVersion:
    """One stored version."""
    _require_owner(actor)
    version = db.session.get(ProcessVersion, version_id)
    if version is None:
        raise NotFound(_l("No such process version."))
    return version
