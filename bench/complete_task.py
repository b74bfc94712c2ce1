"""Per-step cost of completing a user task, platform against raw SpiffWorkflow, measured in the same run.

Baseline: raw SpiffWorkflow 3.2.0 on processes/incident.bpmn, each step = deserialize the snapshot,
complete the ready task, do_engine_steps, serialize (what any persistent use of the library must do per step).
Measured:
- service: ``app.services.workflow.complete_task`` (form validation, row lock, engine, task/timer rows, audit
  hash chain, one commit) on SQLite; target <= 3x the baseline per step;
- http: POST /api/v1/tasks/<id>/complete over loopback HTTP with a bearer token (werkzeug server, one
  connection per request); throughput as a fraction of the baseline's steps per second; target >= 0.2x.
"""

from __future__ import annotations

import http.client
import json
import logging
import statistics
import tempfile
import threading
import time
from pathlib import Path

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState
from werkzeug.serving import make_server

from tests import journey

logging.getLogger("werkzeug").setLevel(logging.WARNING)

ROOT = Path(__file__).resolve().parent.parent
STEPS = [
    ("desk", "record_incident", journey.RECORD),
    ("desk", "classify_incident", journey.CLASSIFY_ROUTE),
    ("l1", "investigate_l1", journey.INVESTIGATE_L1_RESOLVE),
    ("l1", "resolve_l1", journey.RESOLVE),
    ("requester", "confirm_resolution", journey.CONFIRM_OK),
    ("desk", "close_incident", journey.CLOSE),
]
ROUNDS = 40


def raw_per_step() -> float:
    """Seconds per step for raw SpiffWorkflow with a serialize/deserialize round trip each step."""
    parser = SpiffBpmnParser()
    parser.add_bpmn_file(str(ROOT / "processes" / "incident.bpmn"))
    parser.add_dmn_file(str(ROOT / "processes" / "incident_priority.dmn"))
    spec = parser.get_spec("incident")
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    timings = []
    for _ in range(ROUNDS):
        wf = BpmnWorkflow(spec)
        wf.get_tasks(state=TaskState.READY)[0].data.update(journey.RAISE)
        wf.do_engine_steps()
        ready = wf.get_tasks(state=TaskState.READY, manual=True)[0]
        ready.data.update(journey.RAISE)
        ready.run()
        wf.do_engine_steps()
        snapshot = serializer.serialize_json(wf)
        for _user, element, data in STEPS:
            began = time.perf_counter()
            wf = serializer.deserialize_json(snapshot)
            task = wf.get_tasks(state=TaskState.READY, manual=True)[0]
            assert task.task_spec.name == element, (task.task_spec.name, element)
            task.data.update(data)
            task.run()
            wf.do_engine_steps()
            snapshot = serializer.serialize_json(wf)
            timings.append(time.perf_counter() - began)
    return statistics.median(timings)


def _platform(tmp: Path):
    from app.extensions import db
    from tests.conftest import make_app, prepare_database

    app = make_app(f"sqlite:///{tmp / 'bench.sqlite'}", WTF_CSRF_ENABLED=False)
    prepare_database(app)
    return app, db


def service_per_step(app, db) -> float:
    """Seconds per step through the service layer (median)."""
    from app.models import HumanTask
    from tests.conftest import user

    timings = []
    with app.app_context():
        people = {name: user(name) for name in ("requester", "desk", "l1")}
        from app.services import workflow

        for _ in range(ROUNDS):
            instance = workflow.start_process(
                people["requester"], "incident", journey.RAISE, locale="en", tz="Asia/Shanghai"
            )
            for username, element, data in STEPS:
                task = db.session.scalar(
                    db.select(HumanTask).where(
                        HumanTask.instance_id == instance.id, HumanTask.status == "open"
                    )
                )
                assert task.element_id == element
                began = time.perf_counter()
                workflow.complete_task(people[username], task.id, data, locale="en", tz="Asia/Shanghai")
                timings.append(time.perf_counter() - began)
    return statistics.median(timings)


def http_steps_per_second(app, db) -> float:
    """Completed steps per second over loopback HTTP (wall clock over the whole run)."""
    from app.services.governance import issue_api_token
    from tests.conftest import user

    with app.app_context():
        tokens = {name: issue_api_token(user(name), user(name).id) for name in ("requester", "desk", "l1")}
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_port

    def call(method: str, path: str, username: str, body: dict | None = None) -> dict:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Authorization": f"Bearer {tokens[username]}", "Content-Type": "application/json"}
        connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = connection.getresponse()
        payload = json.loads(response.read())
        connection.close()
        assert response.status < 300, payload
        return payload

    steps = 0
    elapsed = 0.0
    try:
        for _ in range(ROUNDS):
            instance = call(
                "POST", "/api/v1/processes/incident/instances", "requester", {"data": journey.RAISE}
            )
            task = instance["open_tasks"][0]
            for index, (username, element, data) in enumerate(STEPS):
                assert task["element_id"] == element
                began = time.perf_counter()
                after = call("POST", f"/api/v1/tasks/{task['id']}/complete", username, {"data": data})
                elapsed += time.perf_counter() - began
                steps += 1
                if index + 1 < len(STEPS):
                    task = after["open_tasks"][0]
    finally:
        server.shutdown()
    return steps / elapsed


def main() -> None:
    """Run the three measurements and print the ratios."""
    with tempfile.TemporaryDirectory() as folder:
        app, db = _platform(Path(folder))
        raw = raw_per_step()
        service = service_per_step(app, db)
        raw_again = raw_per_step()  # the machine is shared: bracket the platform runs with two baselines
        baseline = min(raw, raw_again)
        throughput = http_steps_per_second(app, db)
        with app.app_context():
            db.engine.dispose()
    print(f"rounds: {ROUNDS} incidents x {len(STEPS)} steps; medians per step")
    print(f"service complete_task / raw SpiffWorkflow step: {service / baseline:.2f}x (target <= 3x)")
    print(f"HTTP complete_task throughput / raw throughput: {throughput * baseline:.3f}x (target >= 0.2x)")


if __name__ == "__main__":
    main()
