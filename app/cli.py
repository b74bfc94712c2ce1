"""Project commands: `flask seed-demo`, `flask processes ...`, `flask audit verify`, `flask users token`."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext
from flask_babel import force_locale
from sqlalchemy import select

from app.extensions import db
from app.models import ProcessVersion, User
from app.services.core import get_runtime
from app.services.errors import DomainError
from engine import EngineError

processes_cli = AppGroup("processes", help="Validate, list and deploy the BPMN processes.")
audit_cli = AppGroup("audit", help="Check the audit log.")
users_cli = AppGroup("users", help="Manage users from the shell.")


@processes_cli.command("validate")
def processes_validate() -> None:
    """Parse and lint every file in the processes folder; exit 1 listing every problem."""
    try:
        packages = get_runtime().load_processes()
    except EngineError as exc:
        raise click.ClickException(str(exc)) from exc
    for process_id, package in sorted(packages.items()):
        click.echo(f"ok  {process_id:<20} {package.content_hash[:12]}  {len(package.user_tasks)} user tasks")


@processes_cli.command("deploy")
def processes_deploy() -> None:
    """Store new versions of the processes folder and make them current (running instances stay pinned)."""
    from app.services.workflow import deploy_directory

    try:
        report = deploy_directory(author="cli")
    except DomainError as exc:
        with force_locale("en"):  # the command line speaks English
            raise click.ClickException(str(exc.message)) from exc
    for item in report:
        state = "new version" if item.created else "unchanged"
        click.echo(f"{item.process_id:<20} {item.content_hash[:12]}  {state}")


@processes_cli.command("list")
def processes_list() -> None:
    """List stored process versions; * marks the current one."""
    for version in db.session.scalars(
        select(ProcessVersion).order_by(ProcessVersion.process_id, ProcessVersion.id)
    ):
        mark = "*" if version.is_current else " "
        created = f"{version.created_at:%Y-%m-%d %H:%M} UTC"
        click.echo(f"{mark} {version.process_id:<20} {version.content_hash[:12]}  {created}")


@audit_cli.command("verify")
def audit_verify() -> None:
    """Recompute the audit log's hash chain; exit 1 at the first altered or missing event."""
    from app.services.governance import verify_chain

    report = verify_chain()
    click.echo(report.message)
    if not report.ok:
        raise SystemExit(1)


@audit_cli.command("checkpoint")
def audit_checkpoint() -> None:
    """Sign the current end of the audit log into the checkpoint file (the scheduler does it every minute)."""
    from app.services.governance import write_checkpoint

    click.echo(f"Checkpoint written at event {write_checkpoint()}.")


@users_cli.command("token")
@click.argument("username")
def users_token(username: str) -> None:
    """Issue a new API token for USERNAME (printed once; the old token stops working)."""
    from app.services.governance import issue_api_token

    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"No user '{username}'.")
    click.echo(issue_api_token(user, user.id))


@click.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Create roles, one demo user per role (password 'demo') and demo CIs; deploy the processes."""
    from app.demo import seed_demo
    from app.services.workflow import deploy_directory

    created = seed_demo()
    deploy_directory(author="seed-demo")
    click.echo(f"Demo users created: {', '.join(created) if created else 'none (already there)'}")


def register_cli(app: Flask) -> None:
    """Attach the project's commands to `flask`."""
    app.cli.add_command(processes_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(seed_demo_command)
