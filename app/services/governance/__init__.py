"""Who may do what, and the record of what was done; imports only ``core``.

- audit:       ``append`` (inside a command), ``verify_chain``, ``write_checkpoint``, ``events_page``,
               ``event_hash``, ``ChainReport``, ``GENESIS`` — the append-only, hash-chained audit log
- replay:      ``replay_instance``, ``ReplayReport``, ``ReplayStep`` — re-execute an instance from its log
- sla:         ``target_for``, ``list_targets``, ``save_target``, ``ensure_defaults``, ``LOOKUPS`` (the
               ``sla_duration``/``sla_warning``/``sla_due`` functions BPMN timers call), ``SLA_DEFAULTS``,
               ``SLA_EDITORS``
- users:       ``create_user``, ``update_user``, ``get_user``, ``list_users``, ``list_roles``,
               ``ensure_roles``, ``issue_api_token``, ``set_locale``, ``require_admin``, ``system_user``,
               ``UserInput``
- permissions: ``can_view_instance``, ``is_staff`` — per-object read checks
"""

from app.services.governance.audit import (
    GENESIS,
    ChainReport,
    append,
    event_hash,
    events_page,
    verify_chain,
    write_checkpoint,
)
from app.services.governance.permissions import STAFF_ROLES, can_view_instance, is_staff
from app.services.governance.replay import ReplayReport, ReplayStep, replay_instance
from app.services.governance.sla import (
    LOOKUPS,
    SLA_DEFAULTS,
    SLA_EDITORS,
    SLA_KINDS,
    ensure_defaults,
    list_targets,
    save_target,
    sla_due,
    sla_duration,
    sla_warning,
    target_for,
)
from app.services.governance.users import (
    SYSTEM_USER,
    UserInput,
    create_user,
    ensure_roles,
    get_user,
    issue_api_token,
    list_roles,
    list_users,
    require_admin,
    set_locale,
    system_user,
    update_user,
)

__all__ = [
    "GENESIS",
    "LOOKUPS",
    "SLA_DEFAULTS",
    "SLA_EDITORS",
    "SLA_KINDS",
    "STAFF_ROLES",
    "SYSTEM_USER",
    "ChainReport",
    "ReplayReport",
    "ReplayStep",
    "UserInput",
    "append",
    "can_view_instance",
    "create_user",
    "ensure_defaults",
    "ensure_roles",
    "event_hash",
    "events_page",
    "get_user",
    "is_staff",
    "issue_api_token",
    "list_roles",
    "list_targets",
    "list_users",
    "replay_instance",
    "require_admin",
    "save_target",
    "set_locale",
    "sla_due",
    "sla_duration",
    "sla_warning",
    "system_user",
    "target_for",
    "update_user",
    "verify_chain",
    "write_checkpoint",
]
