"""Process versions: redeploying changed BPMN makes a new version; running instances stay on theirs."""

from __future__ import annotations

import shutil

from sqlalchemy import select

from app.extensions import db
from app.models import ProcessInstance, ProcessVersion
from app.services.workflow import deploy_directory
from tests import journey
from tests.conftest import ROOT, make_app, prepare_database, sign_in
from tests.test_api_incident import complete, start


def test_running_instance_stays_pinned_to_its_version(tmp_path):
    processes = tmp_path / "processes"
    shutil.copytree(ROOT / "processes", processes)
    app = make_app(f"sqlite:///{tmp_path / 'pin.sqlite'}", PROCESSES_DIR=str(processes))
    prepare_database(app)
    clients = {}
    for name in ("requester", "desk"):
        clients[name] = app.test_client()
        assert sign_in(clients[name], name).status_code == 302
    old = start(clients["requester"])

    # The process owner renames the classify step and redeploys.
    bpmn = processes / "incident.bpmn"
    bpmn.write_text(
        bpmn.read_text(encoding="utf-8").replace('name="分类和初步支持"', 'name="分类与初步支持"'),
        encoding="utf-8",
    )
    with app.app_context():
        report = deploy_directory(author="owner")
        created = {item.process_id for item in report if item.created}
        assert created == {"incident"}  # only the edited process gets a new version
        assert deploy_directory(author="owner")[0].created is False  # same content: no new version
        versions = db.session.scalars(
            select(ProcessVersion).where(ProcessVersion.process_id == "incident")
        ).all()
        assert len(versions) == 2 and sum(v.is_current for v in versions) == 1

    new = start(clients["requester"])
    desk = clients["desk"]
    for instance in (old, new):
        record = next(t for t in only_tasks(desk, "record_incident") if t["instance_id"] == instance["id"])
        complete(desk, record, journey.RECORD)
    names = {t["instance_id"]: t["name"] for t in only_tasks(desk, "classify_incident")}
    assert names == {old["id"]: "分类和初步支持", new["id"]: "分类与初步支持"}
    with app.app_context():
        pinned = {i.id: i.version.content_hash for i in db.session.scalars(select(ProcessInstance))}
        assert pinned[old["id"]] != pinned[new["id"]]
        db.engine.dispose()


def only_tasks(client, element_id):
    items = client.get("/api/v1/tasks").get_json()["items"]
    return [t for t in items if t["element_id"] == element_id]


def test_a_rejected_bpmn_deploys_nothing_and_names_the_problem(tmp_path):
    processes = tmp_path / "processes"
    shutil.copytree(ROOT / "processes", processes)
    (processes / "evil.bpmn").write_text(
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><definitions/>', encoding="utf-8"
    )
    app = make_app(f"sqlite:///{tmp_path / 'bad.sqlite'}", PROCESSES_DIR=str(processes))
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    result = runner.invoke(args=["processes", "deploy"])
    assert result.exit_code != 0
    assert "evil.bpmn" in result.output and "DOCTYPE" in result.output
    with app.app_context():
        assert db.session.scalars(select(ProcessVersion)).all() == []
        db.engine.dispose()
