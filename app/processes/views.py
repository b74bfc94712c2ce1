"""Browse process versions (current one marked), view a version's diagram, list instances."""

from __future__ import annotations

from itertools import groupby

from flask import Response, current_app, render_template, request
from flask_login import current_user, login_required

from app.processes.blueprint import bp
from app.services import workflow

STATUSES = ("running", "completed", "cancelled")


@bp.route("/")
@login_required
def index():
    """Every process with its versions, newest first; the current version is marked."""
    versions = workflow.list_versions(current_user)
    processes = [
        (process_id, list(group)) for process_id, group in groupby(versions, key=lambda v: v.process_id)
    ]
    return render_template("processes/index.html", processes=processes)


@bp.route("/versions/<int:version_id>")
@login_required
def version(version_id: int):
    """One version: its files and its diagram."""
    version = workflow.get_version(current_user, version_id)
    return render_template("processes/version.html", version=version)


@bp.route("/versions/<int:version_id>/diagram.xml")
@login_required
def version_xml(version_id: int):
    """The BPMN text of one version (the diagram viewer loads it)."""
    version = workflow.get_version(current_user, version_id)
    xml = version.files.get(f"{version.process_id}.bpmn", "")
    return Response(xml, mimetype="application/xml", headers={"Cache-Control": "private, max-age=3600"})


@bp.route("/instances")
@login_required
def instances():
    """All instances, by process and status, newest first."""
    process_id = request.args.get("process") or None
    status = request.args.get("status") or None
    status = status if status in STATUSES else None
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    result = workflow.list_instances(
        current_user,
        process_id=process_id,
        status=status,
        page=page,
        per_page=current_app.config.get("PAGE_SIZE", 25),
    )
    return render_template(
        "processes/instances.html",
        page=result,
        process_id=process_id or "",
        status=status or "",
        statuses=STATUSES,
    )
