"""Process instances; imports ``core``, ``governance`` and ``registries``.

Every command runs through the pipeline (pipeline.py: lock → engine → steps → audit → one commit → deliver
the messages → announce the next timer); the steps (steps.py, task_rows.py, timer_rows.py, messages.py,
effects.py) write the engine's result and never call back into it.

- instances:  ``start_process``, ``complete_task``, ``cancel_instance``, ``startable_processes``,
              ``start_form``, ``StartOption``; starting: ``current_version``
- history:    ``get_instance``, ``instance_history``, ``my_requests``, ``list_instances``, ``diagram_xml``,
              ``HistoryEntry``; related: ``related_records``
- tasks:      ``inbox``, ``get_task``, ``claim_task``, ``release_task``, ``reassign_task``, ``can_reassign``,
              ``task_candidates``, ``check_can_see``, ``check_can_work``
- forms:      ``get_form``, ``form_for_task``, ``parse_form_input``, ``validate_form`` — task input, per field
- timers:     ``fire_due_timers``, ``next_due_at``; schedules: ``fire_due_schedules``, ``next_schedule_at``,
              ``start_scheduled_now``, ``upcoming_work``, ``parse_cycle``
- outbox:     ``deliver_pending``, ``deliver_message``, ``retry_message``, ``undeliverable_messages``
- deployment: ``deploy_directory``, ``list_versions``, ``get_version``, ``Deployed``
- effects:    ``EFFECTS`` — the platform effects BPMN steps may declare (``platformEffect``)
"""

from app.services.workflow.deployment import Deployed, deploy_directory, get_version, list_versions
from app.services.workflow.effects import EFFECTS
from app.services.workflow.forms import form_for_task, get_form, parse_form_input, validate_form
from app.services.workflow.history import (
    HistoryEntry,
    diagram_xml,
    get_instance,
    instance_history,
    list_instances,
    my_requests,
)
from app.services.workflow.instances import (
    StartOption,
    cancel_instance,
    complete_task,
    start_form,
    start_process,
    startable_processes,
)
from app.services.workflow.outbox import (
    deliver_message,
    deliver_pending,
    retry_message,
    undeliverable_messages,
)
from app.services.workflow.related import LinkedInstance, Related, related_records
from app.services.workflow.schedules import (
    Upcoming,
    fire_due_schedules,
    next_schedule_at,
    parse_cycle,
    start_scheduled_now,
    upcoming_work,
)
from app.services.workflow.starting import current_version
from app.services.workflow.tasks import (
    can_reassign,
    check_can_see,
    check_can_work,
    claim_task,
    get_task,
    inbox,
    reassign_task,
    release_task,
    task_candidates,
)
from app.services.workflow.timer_rows import next_due_at
from app.services.workflow.timers import fire_due_timers

__all__ = [
    "EFFECTS",
    "Deployed",
    "HistoryEntry",
    "LinkedInstance",
    "Related",
    "StartOption",
    "Upcoming",
    "can_reassign",
    "cancel_instance",
    "check_can_see",
    "check_can_work",
    "claim_task",
    "complete_task",
    "current_version",
    "deliver_message",
    "deliver_pending",
    "deploy_directory",
    "diagram_xml",
    "fire_due_schedules",
    "fire_due_timers",
    "form_for_task",
    "get_form",
    "get_instance",
    "get_task",
    "get_version",
    "inbox",
    "instance_history",
    "list_instances",
    "list_versions",
    "my_requests",
    "next_due_at",
    "next_schedule_at",
    "parse_cycle",
    "parse_form_input",
    "reassign_task",
    "related_records",
    "release_task",
    "retry_message",
    "start_form",
    "start_process",
    "start_scheduled_now",
    "startable_processes",
    "task_candidates",
    "undeliverable_messages",
    "upcoming_work",
    "validate_form",
]
