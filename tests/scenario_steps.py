"""Form values for each step of the cross-process scenarios (tests/test_scenarios*.py).

One dict per user task, named after the process and the element id; each fills exactly the form's required
fields and the if/then rules of the path the scenario takes.
"""

from __future__ import annotations

# --- incident: escalated to third line, which cannot solve it; the incident manager opens a problem ------

INCIDENT_RAISE = {
    "title": "门户网站间歇性 502",
    "symptoms": "The portal answers 502 Bad Gateway several times an hour.",
    "contact": "13800000001",
    "channel": "web",
    "affected_cis": ["APP-PORTAL"],
}
INCIDENT_RECORD = {
    "title": "门户网站间歇性 502",
    "reporter": "张三",
    "contact": "13800000001",
    "occurred_at": "2026-11-21T08:00",
    "affected_cis": ["APP-PORTAL"],
    "symptoms": "502 from the web tier under load.",
    "impact": "high",
    "impact_basis": "actual",
    "status": "in_progress",
    "within_remit": True,
}
INCIDENT_CLASSIFY = {"category": "application", "urgency": "high", "desk_decision": "route"}
INCIDENT_L1_ESCALATE = {
    "l1_diagnosis": "Network and DNS fine.",
    "l1_outcome": "escalate",
    "l1_escalation_reason": "Application tier.",
}
INCIDENT_L2_ESCALATE = {
    "l2_diagnosis": "Web server restarts do not help.",
    "l2_outcome": "escalate",
    "l2_escalation_reason": "Needs the vendor's engineers.",
}
INCIDENT_L3_UNRESOLVED = {
    "l3_diagnosis": "Worker pool exhausted; cause unknown.",
    "l3_outcome": "unresolved",
    "l3_escalation_reason": "No fix without a root-cause analysis.",
}
INCIDENT_MANAGER_OPENS_PROBLEM = {
    "manager_assessment": "Recurring; needs problem management.",
    "open_problem": True,
    "problem_summary": "Portal worker pool exhaustion causes 502s.",
    "manager_decision": "close_unresolved",
}
INCIDENT_CLOSE = {
    "closure_code": "resolved",
    "closure_notes": "Fixed by the problem's change.",
    "propose_knowledge": False,
}

# --- problem ------------------------------------------------------------------------------------------------

PROBLEM_RECORD = {
    "title": "门户网站间歇性 502",
    "reporter": "孙八",
    "occurred_at": "2026-11-21T08:00",
    "affected_cis": ["APP-PORTAL"],
    "symptoms": "502 from the web tier under load.",
    "impact": "high",
    "impact_basis": "actual",
    "status": "in_progress",
    "problem_accepted": True,
}
PROBLEM_CLASSIFY = {"problem_category": "application", "problem_severity": "high"}
PROBLEM_ASSIGN = {"assigned_expert": "problem_expert", "assignment_notes": "Look at the worker pool."}
PROBLEM_INVESTIGATE = {
    "diagnosis": "Connection leak in the session module.",
    "root_cause_found": True,
    "root_cause": "Session module never returns DB connections on timeout.",
    "workaround": "Restart the portal workers every hour.",
}
PROBLEM_EVALUATE_CHANGE = {
    "required_resources": "Two developers, one day.",
    "solution": "Patch the session module and roll it out as a release.",
    "needs_change": True,
    "change_title": "修复门户会话模块连接泄漏",
    "change_description": "Deploy session module 2.4.1.",
    "change_reason": "Root cause of the portal 502s.",
}
PROBLEM_CLOSE = {
    "closure_confirmed": True,
    "problem_resolution": "Session module 2.4.1 deployed; no 502s since.",
    "closure_code": "resolved",
    "propose_knowledge": False,
}

# --- change -------------------------------------------------------------------------------------------------

CHANGE_SUBMIT_RFC = {
    "title": "升级邮件网关证书",
    "description": "Replace the expiring TLS certificate.",
    "reason": "Certificate expires next week.",
    "affected_cis": ["MW-WEB-01"],
    "requested_start": "2026-11-25T22:00",
    "requested_end": "2026-11-25T23:00",
    "benefit": "No outage.",
    "risk": "Short reconnects.",
}
_ASSESSED = {
    "rfc_check": "accepted",
    "change_assessment": "Assessed.",
    "change_plan": "Deploy in the window.",
    "backout_plan": "Restore the previous version.",
}
# change_class.dmn: not critical + high impact -> major; critical -> emergency; low/low/<3 CIs -> minor.
CHANGE_ASSESS_MAJOR = {**_ASSESSED, "impact": "high", "urgency": "high", "risk_level": "medium"}
CHANGE_ASSESS_EMERGENCY = {**_ASSESSED, "impact": "high", "urgency": "critical", "risk_level": "high"}
CHANGE_ASSESS_MINOR = {**_ASSESSED, "impact": "low", "urgency": "low", "risk_level": "low"}
CAB_MEMBERS = ["cab1", "cab2", "cab3", "cab4", "cab5"]
CHANGE_CONVENE_CAB = {
    "cab_members": CAB_MEMBERS,
    "cab_decision_rule": "majority",
    "cab_meeting_at": "2026-11-23T10:00",
    "cab_agenda": "Session module fix.",
}
CAB_APPROVE = {"cab_vote": "approve"}
CAB_REJECT = {"cab_vote": "reject", "cab_vote_comment": "Wait for the quarter-end freeze to pass."}
CHANGE_MANAGER_APPROVE = {"manager_decision": "approve", "manager_opinion": "OK."}


def change_schedule(implementer: str) -> dict:
    """安排和分派任务, offering 实施变更 to ``implementer``."""
    return {
        "implementation_plan": "Deploy, verify, hand over.",
        "implementation_tasks": "Deploy; smoke test.",
        "assigned_implementer": implementer,
        "window_start": "2026-11-25T22:00",
        "window_end": "2026-11-25T23:00",
    }


CHANGE_IMPLEMENT_WITH_RELEASE = {
    "implementation_result": "completed",
    "implemented_from": "2026-11-25T22:00",
    "implemented_to": "2026-11-25T22:40",
    "implementation_notes": "Built the package; release management deploys it.",
    "backout_performed": False,
    "ci_changed": True,
    "needs_release": True,
    "release_scope": "Session module 2.4.1 on the portal.",
}
CHANGE_IMPLEMENT_PLAIN = {
    "implementation_result": "completed",
    "implemented_from": "2026-11-25T22:00",
    "implemented_to": "2026-11-25T22:20",
    "implementation_notes": "Done.",
    "backout_performed": False,
    "ci_changed": False,
    "needs_release": False,
}
CHANGE_UPDATE_CMDB = {
    "cmdb_cis": ["APP-PORTAL"],
    "cmdb_before": "session module 2.4.0",
    "cmdb_after": "session module 2.4.1",
}
CHANGE_REVIEW_BY_CAB = {
    "review_result": "success",
    "review_body": "cab",
    "cab_review_opinion": "Successful; no 502s since.",
    "review_findings": "Worked as planned.",
    "change_record_updated": True,
}
CHANGE_REVIEW = {
    "review_result": "success",
    "review_body": "change_manager",
    "review_findings": "Fine.",
    "change_record_updated": True,
}
CHANGE_CLOSE = {
    "handover_complete": True,
    "handover_documents": "Runbook v3, release notes.",
    "closure_notes": "Closed.",
}

# --- release (requested by the change) ----------------------------------------------------------------------

RELEASE_PLAN = {
    "title": "门户会话模块 2.4.1 发布",
    "description": "Session module 2.4.1 on the portal.",
    "rp_release_date": "2026-11-25T22:00",
    "rp_release_type": "minor",
    "rp_items": "session-module 2.4.1",
    "rp_target_cis": ["APP-PORTAL"],
    "rp_closes": "The problem's known error.",
    "rp_verification": "Smoke test, 1 h of monitoring.",
    "rp_dependencies_risks": "None known.",
    "rp_change_conditions": "Any change of window.",
    "rp_exit_criteria": "No 502 within an hour.",
}
RELEASE_TEST_PASSED = {
    "rt_functional": "passed",
    "rt_non_functional": "passed",
    "rt_acceptance": "passed",
    "rt_integration": "passed",
    "rt_distribution": "not_applicable",
    "rt_report": "All green.",
    "rt_result": "passed",
}
RELEASE_APPROVE = {"ra_rfc_checked": True, "ra_decision": "approve", "ra_comments": "Go."}
RELEASE_IMPLEMENT = {
    "ri_rollout_plan": "Rolling restart, one node at a time.",
    "ri_tasks": "release_operator: deploy and verify.",
    "ri_operator": "release_operator",
    "ri_start": "2026-11-25T22:00",
    "ri_end": "2026-11-25T23:00",
    "ri_reapproval_needed": False,
}
RELEASE_EXECUTE = {
    "rx_result": "success",
    "rx_notes": "Deployed on both nodes.",
    "rx_started_at": "2026-11-25T22:05",
    "rx_finished_at": "2026-11-25T22:35",
}
RELEASE_REVIEW = {"rr_result": "successful", "rr_exit_criteria_met": True, "rr_findings": "No 502s."}
RELEASE_CLOSE = {
    "rc_handover_complete": True,
    "rc_released_cis": ["APP-PORTAL"],
    "rc_released_versions": "APP-PORTAL = session-module 2.4.1",
    "rc_has_known_errors": False,
}

# --- emergency change ---------------------------------------------------------------------------------------

EMERGENCY_REQUEST = {
    "title": "防火墙紧急封禁",
    "description": "Block the attacking address range.",
    "ec_reason": "An attack is under way.",
    "affected_cis": ["NET-FW-01"],
    "ec_origin": "monitoring",
}
ECAB_REJECT = {
    "ecab_decision": "reject",
    "ecab_comments": "Not an emergency: the WAF already blocks it.",
    "ecab_participants": "ecab1, ecab2 (phone)",
}

# --- knowledge ----------------------------------------------------------------------------------------------

INCIDENT_RESOLVE_L1 = {
    "resolution": "Cleared the print spooler queue.",
    "resolution_type": "permanent",
    "root_cause_known": True,
    "root_cause": "A corrupt job blocked the queue.",
    "needs_change": False,
}
INCIDENT_L1_RESOLVE = {
    "l1_diagnosis": "Spooler stuck.",
    "l1_outcome": "resolve",
    "l1_solution": "Clear queue.",
}
INCIDENT_CONFIRM = {"confirmation": "confirmed", "satisfaction": "satisfied"}
INCIDENT_CLOSE_WITH_KNOWLEDGE = {
    "closure_code": "resolved",
    "propose_knowledge": True,
    "knowledge_category": "hardware",
    "knowledge_body": "Stop the spooler, delete the stuck job, start the spooler.",
}


def knowledge_classify(article_id: str, author: str) -> dict:
    """知识识别和分类 naming the temporary article and its author."""
    return {
        "article_id": article_id,
        "kb_category": "hardware",
        "knowledge_type": "solution",
        "author": author,
    }


KNOWLEDGE_FILTER_PASS = {"filter_result": "pass"}
KNOWLEDGE_REVIEW_APPROVE = {"review_decision": "approve"}
KNOWLEDGE_REVIEW_REVISE = {"review_decision": "revise", "review_comment": "请补充打印机型号。"}
KNOWLEDGE_REVIEW_REJECT = {"review_decision": "reject", "review_comment": "与现有文章重复，不予采纳。"}
KNOWLEDGE_REVISE = {
    "title": "打印队列卡住的处理（HP M404）",
    "body": "HP M404: stop the spooler, delete the stuck job, start the spooler.",
    "revision_note": "Added the model.",
}
KNOWLEDGE_PUBLISH = {"share_scope": "everyone", "publish_note": "Useful for the desk."}
