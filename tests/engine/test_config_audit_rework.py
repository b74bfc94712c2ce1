"""The report rework loop of processes/config_audit.bpmn: a few rejections through the public API, and 500
in memory (marked slow: SpiffWorkflow walks every finished loop pass on each step, so 500 passes cost ~25 s).

Walked with config_audit_walk.Walk.
"""

from __future__ import annotations

import copy

import pytest
from SpiffWorkflow.util.task import TaskState

from engine import Engine
from engine import snapshot as snapshots
from engine.engine import _run
from tests.engine.config_audit_walk import (
    MATCHES,
    REJECT,
    SCOPE,
    Walk,
    form_data,
    load_config_audit,
    report_and_end,
)


@pytest.fixture(scope="module")
def package():
    """config_audit.bpmn with its decision tables, loaded and linted like the platform loads it."""
    return load_config_audit()


def test_rejected_report_is_reworked(package):
    """Rejected twice (the writer is told each time), then approved: the loop runs three passes."""
    walk = Walk(package).scheduled().do("control_cis").verify({ci: MATCHES for ci in SCOPE})
    for rejection in (1, 2):
        walk.do("draft_audit_report", report_rework_notes=None if rejection == 1 else "已复核")
        walk.do("approve_audit_report", **REJECT)
        [draft] = walk.open_tasks("draft_audit_report")
        assert draft.data["audit_approval_comment"] == REJECT["audit_approval_comment"]
        assert walk.count("audit_report_returned") == rejection
    walk.do("draft_audit_report", report_rework_notes="已复核 APP-PORTAL-01").do("approve_audit_report")
    report_and_end(walk)
    assert (walk.count("draft_audit_report"), walk.count("approve_audit_report")) == (3, 3)
    assert walk.count("verify_ci") == 2  # rework revises the report; the findings stay


@pytest.mark.slow
def test_report_rework_loop_survives_500_passes(package):
    """500 rejections in a row: the standard loop still offers the draft, then approves and ends.

    The passes run in memory on the restored workflow (engine internals): through the public API each command
    re-reads the whole snapshot (3.7 MB after 500 passes), which takes minutes; the snapshot is then restored
    by a fresh Engine and the instance is finished through the public API.
    """
    walk = Walk(package).scheduled().do("control_cis").verify({ci: MATCHES for ci in SCOPE})
    draft = form_data("config_audit_draft_report.json", "op1", {"report_rework_notes": "已复核"})
    reject = form_data("config_audit_approve_report.json", "cm1", REJECT)
    workflow, _, _ = Engine()._restore(package, walk.result.snapshot)
    for _ in range(500):
        for element, data in (("draft_audit_report", draft), ("approve_audit_report", reject)):
            [task] = workflow.get_tasks(state=TaskState.READY, manual=True)
            assert task.task_spec.bpmn_id == element
            task.data.update(copy.deepcopy(data))
            task.run()
            _run(workflow)
    walk._took(Engine().state(package, snapshots.dump(workflow)))
    assert walk.count("approve_audit_report") == 500 and walk.count("audit_report_returned") == 500
    walk.do("draft_audit_report").do("approve_audit_report")
    report_and_end(walk)
