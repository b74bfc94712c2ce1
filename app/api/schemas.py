"""marshmallow schemas of the API: how instances, tasks and forms are written out and read in."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class StartInput(Schema):
    """Body of POST /processes/<id>/instances."""

    data = fields.Dict(keys=fields.String(), required=True, metadata={"description": "Start form values."})


class CompleteInput(Schema):
    """Body of POST /tasks/<id>/complete."""

    data = fields.Dict(keys=fields.String(), required=True, metadata={"description": "Form values."})


class ReassignInput(Schema):
    """Body of POST /tasks/<id>/reassign."""

    username = fields.String(required=True, validate=validate.Length(min=1, max=64))


class InboxQuery(Schema):
    """Query string of GET /tasks."""

    role = fields.String(load_default=None)
    scope = fields.String(load_default="all", validate=validate.OneOf(["all", "mine", "unassigned"]))
    q = fields.String(load_default=None, validate=validate.Length(max=200))
    sort = fields.String(load_default="due", validate=validate.OneOf(["due", "priority", "created"]))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))


class TaskOut(Schema):
    """A human task."""

    id = fields.Integer()
    instance_id = fields.Integer()
    business_key = fields.String(attribute="instance.business_key")
    title = fields.String(attribute="instance.title")
    element_id = fields.String()
    name = fields.String()
    role = fields.String()
    form = fields.String()
    status = fields.String()
    assignee = fields.Function(lambda task: task.assignee.username if task.assignee else None)
    priority = fields.String(allow_none=True)
    due_at = fields.AwareDateTime(allow_none=True)
    created_at = fields.AwareDateTime()
    completed_at = fields.AwareDateTime(allow_none=True)


class InstanceOut(Schema):
    """A process instance with its open tasks."""

    id = fields.Integer()
    business_key = fields.String()
    process_id = fields.String()
    version = fields.String(attribute="version.content_hash")
    title = fields.String()
    status = fields.String()
    end_event = fields.String(allow_none=True)
    started_by = fields.String(attribute="started_by.username")
    started_at = fields.AwareDateTime()
    ended_at = fields.AwareDateTime(allow_none=True)
    data = fields.Dict()
    completed_elements = fields.List(fields.String())
    active_elements = fields.List(fields.String())
    open_tasks = fields.Method("_open_tasks")

    def _open_tasks(self, instance) -> list[dict]:
        return TaskOut(many=True).dump([t for t in instance.tasks if t.status == "open"])


class HistoryOut(Schema):
    """One command in an instance's history."""

    sequence = fields.Integer()
    at = fields.AwareDateTime()
    actor = fields.String(allow_none=True)
    kind = fields.String()
    element_id = fields.String(allow_none=True)
    name = fields.String(allow_none=True)
    data = fields.Dict()
    tasks_after = fields.List(fields.Dict())


class FieldOut(Schema):
    """A form field as an API client needs it."""

    name = fields.String()
    widget = fields.String()
    required = fields.Boolean()
    auto = fields.String(allow_none=True)
    labels = fields.Dict()
    schema = fields.Dict()


class FormOut(Schema):
    """A form definition."""

    name = fields.String()
    titles = fields.Dict(data_key="title")
    schema = fields.Dict()
    fields_ = fields.List(fields.Nested(FieldOut), attribute="fields", data_key="fields")


class ProcessOut(Schema):
    """A process the caller may start."""

    process_id = fields.String()
    name = fields.String()
    form = fields.Nested(FormOut, allow_none=True)


class CIOut(Schema):
    """A configuration item."""

    code = fields.String()
    name = fields.String()
    ci_class = fields.String()
    status = fields.String()


class PageOut(Schema):
    """Paging facts of a list."""

    page = fields.Integer()
    pages = fields.Integer()
    total = fields.Integer()
