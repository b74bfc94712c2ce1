"""The role catalogue of spec/processes.md: role id -> (Chinese name, English name).

BPMN lanes name these roles (``服务台 (service_desk)``); ``lane_role`` resolves a lane name to a role id.
"""

from __future__ import annotations

import re

from flask_babel import get_locale
from flask_babel.speaklater import LazyString

ROLES: dict[str, tuple[str, str]] = {
    "requester": ("事件请求者", "Requester"),
    "service_desk": ("服务台", "Service desk"),
    "support_l1": ("一线支持", "First-line support"),
    "support_l2": ("二线支持", "Second-line support"),
    "support_l3": ("三线支持", "Third-line support"),
    "incident_manager": ("事件管理组长", "Incident manager"),
    "problem_manager": ("问题管理组长", "Problem manager"),
    "problem_analyst": ("问题分析员", "Problem analyst"),
    "problem_expert": ("问题分析专家", "Problem expert"),
    "change_analyst": ("变更分析员", "Change analyst"),
    "change_manager": ("变更管理组长", "Change manager"),
    "change_implementer": ("变更实施人员", "Change implementer"),
    "cab": ("变更咨询委员会", "Change advisory board"),
    "ecab": ("紧急变更咨询委员会", "Emergency change advisory board"),
    "config_manager": ("配置管理组长", "Configuration manager"),
    "config_operator": ("配置管理操作员", "Configuration operator"),
    "release_manager": ("发布管理组长", "Release manager"),
    "release_operator": ("发布操作员", "Release operator"),
    "slm_manager": ("服务级别管理组长", "Service level manager"),
    "slm_operator": ("服务级别管理操作者", "Service level operator"),
    "continuity_manager": ("服务连续性管理组长", "Continuity manager"),
    "continuity_operator": ("服务连续性管理操作员", "Continuity operator"),
    "security_manager": ("信息安全管理组长", "Security manager"),
    "security_operator": ("信息安全管理操作员", "Security operator"),
    "knowledge_manager": ("知识管理组长", "Knowledge manager"),
    "knowledge_operator": ("知识管理操作员", "Knowledge operator"),
    "process_owner": ("流程负责人", "Process owner"),
    "auditor": ("审计员", "Auditor"),
    "admin": ("系统管理员", "Administrator"),
}

#: Every signed-in user holds this role implicitly; its tasks go to the person who raised the request.
REQUESTER = "requester"

_BRACKETED = re.compile(r"[(（]\s*([a-z0-9_]+)\s*[)）]\s*$")


def lane_role(name: str | None) -> str | None:
    """The role id a lane name stands for: ``服务台 (service_desk)``, a bare id, or a role's exact name."""
    if not name:
        return None
    text = name.strip()
    match = _BRACKETED.search(text)
    if match and match.group(1) in ROLES:
        return match.group(1)
    if text in ROLES:
        return text
    for code, (zh, en) in ROLES.items():
        if text in (zh, en):
            return code
    return None


def role_name(code: str, language: str) -> str:
    """A role's name in a language (``zh...``: Chinese, else English); the code itself for an unknown role."""
    names = ROLES.get(code)
    if names is None:
        return code
    return names[0] if language.startswith("zh") else names[1]


def lazy_role_name(code: str) -> LazyString:
    """A role's name in the language of whatever renders it, for messages built before a locale is known.

    It follows the locale gettext uses at that moment (English outside an application context, as gettext).
    """

    def _name() -> str:
        locale = get_locale()
        return role_name(code, locale.language if locale is not None else "en")

    return LazyString(_name)
