"""Form values for each step of the incident journey, shared by the HTTP, concurrency and browser tests."""

from __future__ import annotations

RAISE = {
    "title": "邮件系统无法登录",
    "symptoms": "All users get 'invalid session' when signing in to webmail.",
    "contact": "13800000000",
    "channel": "web",
    "affected_cis": ["APP-PORTAL"],
}

RECORD = {
    "title": "邮件系统无法登录",
    "reporter": "张三",
    "contact": "13800000000",
    "occurred_at": "2026-11-21T09:30",
    "affected_cis": ["APP-PORTAL"],
    "symptoms": "Sign-in fails with 'invalid session'.",
    "impact": "high",
    "impact_basis": "actual",
    "status": "in_progress",
    "within_remit": True,
}

CLASSIFY_ROUTE = {"category": "application", "urgency": "high", "desk_decision": "route"}
CLASSIFY_DESK = {"category": "application", "urgency": "low", "desk_decision": "resolve"}
INVESTIGATE_L1_RESOLVE = {
    "l1_diagnosis": "Session store full.",
    "l1_outcome": "resolve",
    "l1_solution": "Purge expired sessions.",
}
INVESTIGATE_L1_ESCALATE = {
    "l1_diagnosis": "Not a config issue.",
    "l1_outcome": "escalate",
    "l1_escalation_reason": "Needs the app team.",
}
RESOLVE = {
    "resolution": "Purged the session store.",
    "resolution_type": "permanent",
    "root_cause_known": True,
    "root_cause": "Session cleanup job was disabled.",
    "needs_change": False,
}
CONFIRM_OK = {"confirmation": "confirmed", "satisfaction": "satisfied"}
CONFIRM_NOT = {"confirmation": "not_resolved", "satisfaction": "dissatisfied", "feedback": "Still failing."}
CLOSE = {"closure_code": "resolved", "propose_knowledge": False}
