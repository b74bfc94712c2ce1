"""Fixed catalogues of the registries: code -> (Chinese label, English label).

Codes are what the database, the API and process data hold; labels are for people. Like the role catalogue
(app/roles.py), each label comes in both languages so the API can hand both to a client.
"""

from __future__ import annotations

Labels = dict[str, tuple[str, str]]

#: Classes of configuration items (assets of seed 6.2 (1): network, servers, PCs, printers, software...).
CI_CLASSES: Labels = {
    "server": ("服务器", "Server"),
    "virtual_machine": ("虚拟机", "Virtual machine"),
    "database": ("数据库", "Database"),
    "network": ("网络设备", "Network device"),
    "security_device": ("安全设备", "Security device"),
    "storage": ("存储/备份设备", "Storage / backup"),
    "middleware": ("中间件", "Middleware"),
    "software": ("系统软件", "System software"),
    "application": ("应用系统", "Application"),
    "endpoint": ("终端/外设", "End-user device"),
    "facility": ("机房设施", "Facility"),
    "other": ("其他", "Other"),
}

#: Life-cycle states of a CI.
CI_STATUSES: Labels = {
    "planned": ("计划中", "Planned"),
    "in_use": ("在用", "In use"),
    "maintenance": ("维护中", "Under maintenance"),
    "retired": ("已退役", "Retired"),
}

#: Relation kinds: code -> (zh, en) read from the source; RELATION_INVERSE reads them from the target.
RELATION_KINDS: Labels = {
    "depends_on": ("依赖于", "depends on"),
    "runs_on": ("运行于", "runs on"),
    "connects_to": ("连接到", "connects to"),
    "part_of": ("属于", "is part of"),
}
RELATION_INVERSE: Labels = {
    "depends_on": ("被依赖于", "is needed by"),
    "runs_on": ("承载", "hosts"),
    "connects_to": ("被连接自", "is connected from"),
    "part_of": ("包含", "contains"),
}

#: States of a known error.
KNOWN_ERROR_STATUSES: Labels = {
    "open": ("未解决", "Open"),
    "resolved": ("已解决", "Resolved"),
    "retired": ("已作废", "Retired"),
}

#: The knowledge catalogue (知识目录): categories of articles.
CATEGORIES: Labels = {
    "hardware": ("硬件", "Hardware"),
    "software": ("软件", "Software"),
    "network": ("网络", "Network"),
    "application": ("应用系统", "Application"),
    "data": ("数据", "Data"),
    "security": ("信息安全", "Security"),
    "process": ("流程与规范", "Process"),
    "other": ("其他", "Other"),
}

#: States of an article: the temporary and the formal knowledge base of seed 表 11, and retired.
ARTICLE_STATES: Labels = {
    "temporary": ("临时", "Temporary"),
    "formal": ("正式", "Formal"),
    "retired": ("已退役", "Retired"),
}

CATALOGUES: dict[str, Labels] = {
    "ci_class": CI_CLASSES,
    "ci_status": CI_STATUSES,
    "relation": RELATION_KINDS,
    "relation_inverse": RELATION_INVERSE,
    "known_error_status": KNOWN_ERROR_STATUSES,
    "category": CATEGORIES,
    "article_state": ARTICLE_STATES,
}


def label(catalogue: str, code: str | None, locale: str) -> str:
    """The label of ``code`` in a catalogue for the locale (``zh...``: Chinese); the code when unknown."""
    if not code:
        return ""
    names = CATALOGUES[catalogue].get(code)
    if names is None:
        return code
    return names[0] if locale.startswith("zh") else names[1]


def choices(catalogue: str, locale: str) -> list[tuple[str, str]]:
    """``(code, label)`` pairs of a catalogue in its order, for selects."""
    return [(code, label(catalogue, code, locale)) for code in CATALOGUES[catalogue]]


def both(catalogue: str, code: str | None) -> dict[str, str]:
    """``{"zh": ..., "en": ...}`` labels of a code, as the API gives them."""
    names = CATALOGUES[catalogue].get(code or "")
    return {"zh": names[0], "en": names[1]} if names else {"zh": code or "", "en": code or ""}
