"""Demo registries for `flask seed-demo`: an environmental protection agency's CMDB, KEDB and articles.

Rows are written directly (the seed is not a user's command, so nothing goes to the audit log); every part is
added only when missing, so the seed can run again.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from app.extensions import db
from app.models import Article, CIHistory, CIRelation, ConfigurationItem, KnownError, utc_now
from app.services.core import next_record_key

OWNER = "信息中心运维组"

#: code, name, class, serial number, version, status, purchase date, description
CIS = [
    (
        "SRV-APP-01",
        "环境监测应用服务器 01",
        "server",
        "2102311YBN10L7000123",
        "银河麒麟 V10 SP2",
        "in_use",
        "2021-06-18",
        "机房 A 区 3 号机柜，承载环境监测与污染源监控应用。",
    ),
    (
        "SRV-APP-02",
        "环境监测应用服务器 02",
        "server",
        "2102311YBN10L7000124",
        "银河麒麟 V10 SP2",
        "in_use",
        "2021-06-18",
        "与 SRV-APP-01 组成负载均衡。",
    ),
    (
        "SRV-DB-01",
        "环境数据库服务器 01",
        "server",
        "2102311YBN10L7000310",
        "银河麒麟 V10 SP2",
        "in_use",
        "2021-07-02",
        "数据库专用服务器，双路 64 核，512 GB 内存。",
    ),
    (
        "SRV-BAK-01",
        "备份服务器 01",
        "server",
        None,
        None,
        "planned",
        None,
        "2027 年预算内采购，用于数据库异地备份。",
    ),
    (
        "DB-ORA-EMS",
        "EMS Oracle 数据库",
        "database",
        None,
        "Oracle 19c (19.21)",
        "in_use",
        None,
        "环境监测信息系统主库。",
    ),
    (
        "DB-PG-GIS",
        "环境地理信息数据库",
        "database",
        None,
        "PostgreSQL 14 / PostGIS 3.2",
        "in_use",
        None,
        "监测点位与污染源空间数据。",
    ),
    (
        "STO-SAN-01",
        "SAN 存储阵列 01",
        "storage",
        "CN21S0A0023",
        "Dorado 5000 V6",
        "in_use",
        "2021-05-30",
        "数据库与虚拟化平台的共享存储。",
    ),
    (
        "NET-CORE-01",
        "核心交换机 01",
        "network",
        "2102350DLD10K8000035",
        "Huawei S12708 V200R021",
        "in_use",
        "2020-11-12",
        "机房核心，双机堆叠。",
    ),
    (
        "NET-FW-01",
        "互联网边界防火墙",
        "security_device",
        "FW21A0098812",
        "USG6650E V600R007",
        "in_use",
        "2020-11-12",
        "互联网出口，等保三级边界防护。",
    ),
    (
        "MW-WEB-01",
        "应用中间件集群",
        "middleware",
        None,
        "TongWeb 7.0.4",
        "in_use",
        None,
        "门户网站与审批系统的 Web 中间件。",
    ),
    (
        "APP-EMS",
        "环境监测信息系统",
        "application",
        None,
        "3.2.1",
        "in_use",
        None,
        "空气、水质自动监测数据采集、审核与发布。",
    ),
    (
        "APP-PORTAL",
        "政务门户网站",
        "application",
        None,
        "2.8",
        "in_use",
        None,
        "对外信息公开与政务服务入口。",
    ),
    (
        "APP-POLLUTION",
        "污染源在线监控系统",
        "application",
        None,
        "5.1",
        "in_use",
        None,
        "重点排污单位在线监测数据与视频监控。",
    ),
    (
        "APP-EIA",
        "建设项目环评审批系统",
        "application",
        None,
        "1.9",
        "maintenance",
        None,
        "升级改造中，计划下月恢复在线受理。",
    ),
]

RELATIONS = [
    ("APP-EMS", "runs_on", "SRV-APP-01"),
    ("APP-EMS", "runs_on", "SRV-APP-02"),
    ("APP-EMS", "depends_on", "DB-ORA-EMS"),
    ("APP-POLLUTION", "runs_on", "SRV-APP-01"),
    ("APP-POLLUTION", "depends_on", "DB-PG-GIS"),
    ("APP-PORTAL", "runs_on", "MW-WEB-01"),
    ("APP-EIA", "runs_on", "MW-WEB-01"),
    ("APP-EIA", "depends_on", "DB-ORA-EMS"),
    ("MW-WEB-01", "runs_on", "SRV-APP-02"),
    ("DB-ORA-EMS", "runs_on", "SRV-DB-01"),
    ("DB-PG-GIS", "runs_on", "SRV-DB-01"),
    ("SRV-DB-01", "depends_on", "STO-SAN-01"),
    ("SRV-APP-01", "connects_to", "NET-CORE-01"),
    ("SRV-APP-02", "connects_to", "NET-CORE-01"),
    ("SRV-DB-01", "connects_to", "NET-CORE-01"),
    ("NET-CORE-01", "connects_to", "NET-FW-01"),
]

KNOWN_ERRORS = [
    {
        "title": "整点后监测数据上报接口超时",
        "symptoms": "每个整点后约 5 分钟内，采集端上报返回 HTTP 504，日志错误码 EMS-TIMEOUT-504。",
        "root_cause": "Oracle 自动统计信息收集作业与整点小时均值汇总作业同时运行，行锁等待使上报接口超时。",
        "workaround": "把统计信息收集窗口改到每日 02:30；"
        "超时的数据由采集端 10 分钟后自动补传，无需人工处理。",
        "cis": ["APP-EMS", "DB-ORA-EMS"],
        "status": "open",
    },
    {
        "title": "门户网站下载中文名附件时文件名乱码",
        "symptoms": "使用 IE 11 下载含中文文件名的附件，保存的文件名为乱码。",
        "root_cause": "中间件返回的 Content-Disposition 只有 filename，没有 RFC 5987 的 filename* 参数。",
        "workaround": "改用 Edge 或 Chrome 浏览器下载；或下载后手工重命名。",
        "cis": ["APP-PORTAL", "MW-WEB-01"],
        "status": "resolved",
    },
]

#: title, category, author, state, body
ARTICLES = [
    (
        "监测数据上报超时的排查步骤",
        "application",
        "l2",
        "formal",
        "适用于环境监测信息系统（APP-EMS）上报超时告警。\n\n"
        "# 排查步骤\n1. 在监控平台确认超时是否集中在整点后 5 分钟内。\n"
        "2. 登录 DB-ORA-EMS，查询 `v$session` 中的锁等待。\n"
        "3. 如为统计信息作业引起，按已知错误的临时措施处理。\n\n"
        "**注意**：补传数据由采集端自动完成，不要手工重复导入。",
    ),
    (
        "核心交换机端口故障的更换流程",
        "network",
        "l3",
        "formal",
        "端口指示灯熄灭或频繁 up/down 时：\n\n- 先在网管平台确认端口错误计数\n"
        "- 提交变更请求（RFC），在维护窗口更换光模块\n"
        "- 更换后观察 30 分钟，并在 CMDB 中更新 NET-CORE-01 的记录",
    ),
    (
        "Oracle 表空间不足告警的处理",
        "data",
        "l2",
        "formal",
        "告警阈值为使用率 85%。\n\n# 处理\n- 查询使用率：`select * from dba_tablespace_usage_metrics;`\n"
        "- 增加数据文件前确认 STO-SAN-01 剩余容量\n- 处理完在事件记录中写明新增容量",
    ),
    (
        "VPN 客户端无法连接的常见原因",
        "security",
        "desk",
        "formal",
        "按顺序检查：\n\n1. 账号是否过期或被锁定\n2. 客户端版本是否为最新\n"
        "3. 本地网络是否屏蔽 UDP 4500 端口\n\n"
        "仍无法连接时转二线支持，并附上客户端日志。",
    ),
    (
        "污染源在线监控系统视频流卡顿的处理",
        "application",
        "l2",
        "temporary",
        "现象：监控大屏上部分企业视频卡顿。\n\n初步判断为出口带宽占满，待网络组确认后补充处理步骤。",
    ),
]


def seed_registries() -> None:
    """Add the demo CIs, relations, known errors and articles that are missing (the caller commits)."""
    now = utc_now()
    items = _cis(now)
    db.session.flush()
    _relations(items, now)
    if not db.session.scalar(select(func.count(KnownError.id))):
        for data in KNOWN_ERRORS:
            db.session.add(
                KnownError(
                    key=next_record_key("known_error", now),
                    title=data["title"],
                    symptoms=data["symptoms"],
                    root_cause=data["root_cause"],
                    workaround=data["workaround"],
                    status=data["status"],
                    author="problem_expert",
                    updated_by="problem_expert",
                    created_at=now,
                    updated_at=now,
                    cis=[items[code] for code in data["cis"]],
                )
            )
    if not db.session.scalar(select(func.count(Article.id))):
        for views, (title, category, author, state, body) in enumerate(ARTICLES):
            formal = state == "formal"
            db.session.add(
                Article(
                    key=next_record_key("article", now),
                    title=title,
                    category=category,
                    body=body,
                    state=state,
                    author=author,
                    reviewer="knowledge_manager" if formal else None,
                    views=(len(ARTICLES) - views) * 7 if formal else 0,
                    created_at=now,
                    updated_at=now,
                    published_at=now if formal else None,
                )
            )


def _cis(now) -> dict[str, ConfigurationItem]:
    """Every demo CI by code, created (with a first history entry) when missing."""
    items = {}
    for code, name, ci_class, serial, version, status, bought, description in CIS:
        item = db.session.scalar(select(ConfigurationItem).where(ConfigurationItem.code == code))
        if item is None:
            item = ConfigurationItem(
                code=code,
                name=name,
                ci_class=ci_class,
                serial_number=serial,
                version=version,
                status=status,
                owner=OWNER,
                purchase_date=date.fromisoformat(bought) if bought else None,
                description=description,
                created_at=now,
                updated_at=now,
            )
            db.session.add(item)
            db.session.flush()
            fields = {"name": name, "ci_class": ci_class, "status": status, "version": version}
            db.session.add(
                CIHistory(
                    ci_id=item.id,
                    at=now,
                    actor="config_manager",
                    action="created",
                    authority="manual",
                    reason="初始登记（演示数据）",
                    changes={key: {"before": None, "after": value} for key, value in fields.items()},
                )
            )
        items[code] = item
    return items


def _relations(items: dict[str, ConfigurationItem], now) -> None:
    existing = {(r.source_id, r.kind, r.target_id) for r in db.session.scalars(select(CIRelation))}
    for source, kind, target in RELATIONS:
        if (items[source].id, kind, items[target].id) not in existing:
            db.session.add(
                CIRelation(
                    source=items[source],
                    target=items[target],
                    kind=kind,
                    created_at=now,
                    created_by="config_manager",
                )
            )
