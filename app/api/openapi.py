"""The OpenAPI document, generated from the marshmallow schemas and the routes' docstrings."""

from __future__ import annotations

from functools import cache

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from app.api import registry_schemas, schemas

PATHS = {
    "/processes": {"get": ("List processes the caller may start", None, "ProcessOut")},
    "/processes/{process_id}/instances": {"post": ("Start a process", "StartInput", "InstanceOut")},
    "/instances": {"get": ("The caller's requests (all=1: every instance, for staff)", None, "InstanceOut")},
    "/instances/{instance_id}": {"get": ("One instance with its open tasks", None, "InstanceOut")},
    "/instances/{instance_id}/history": {"get": ("An instance's history", None, "HistoryOut")},
    "/instances/{instance_id}/replay": {
        "get": ("Re-execute from the audit log and compare (auditors)", None, None)
    },
    "/tasks": {"get": ("The caller's inbox", None, "TaskOut")},
    "/tasks/{task_id}": {"get": ("One task and its form", None, "TaskOut")},
    "/tasks/{task_id}/claim": {"post": ("Claim a task", None, "TaskOut")},
    "/tasks/{task_id}/release": {"post": ("Release a task", None, "TaskOut")},
    "/tasks/{task_id}/reassign": {"post": ("Reassign a task (managers)", "ReassignInput", "TaskOut")},
    "/tasks/{task_id}/complete": {"post": ("Complete a task", "CompleteInput", "InstanceOut")},
    "/cis": {
        "get": ("Configuration items (q, class, status, page)", None, "CIFullOut"),
        "post": ("Register a CI (configuration roles)", "CICreateInput", "CIFullOut"),
    },
    "/cis/{code}": {
        "get": ("A CI with relations both ways, history and known errors", None, "CIDetailOut"),
        "patch": ("Change a CI (reason or change_key required)", "CIWriteInput", "CIFullOut"),
    },
    "/cis/{code}/relations": {"post": ("Relate a CI to another", "RelationInput", "RelationOut")},
    "/cis/{code}/relations/{relation_id}": {"delete": ("Remove a relation", "ReasonInput", "CIDetailOut")},
    "/known-errors": {
        "get": ("Known errors (q, status, ci, page)", None, "KnownErrorOut"),
        "post": ("Record a known error (problem roles)", "KnownErrorInput", "KnownErrorOut"),
    },
    "/known-errors/{key}": {
        "get": ("One known error", None, "KnownErrorOut"),
        "patch": ("Change a known error (problem roles)", "KnownErrorInput", "KnownErrorOut"),
    },
    "/articles": {
        "get": ("Search articles (q: title, body, files; category, state)", None, "ArticleSummaryOut"),
        "post": ("Submit an article (starts temporary)", "ArticleCreateInput", "ArticleOut"),
    },
    "/articles/{key}": {
        "get": ("One article (counts a view of a formal article)", None, "ArticleOut"),
        "patch": ("Change an article (author while temporary)", "ArticleInput", "ArticleOut"),
    },
    "/articles/{key}/publish": {"post": ("Publish (knowledge managers)", "ReviewInput", "ArticleOut")},
    "/articles/{key}/reject": {"post": ("Send back with a comment", "ReviewInput", "ArticleOut")},
    "/articles/{key}/retire": {"post": ("Retire (knowledge managers)", None, "ArticleOut")},
    "/articles/{key}/attachments": {
        "post": ("Attach .txt/.docx/.xlsx (multipart field `attachments`)", None, "AttachmentOut")
    },
    "/articles/{key}/attachments/{attachment_id}": {
        "get": ("Download a document", None, None),
        "delete": ("Remove a document (whoever may edit the article)", None, "ArticleOut"),
    },
    "/users": {"get": ("People for the user picker (role, q)", None, "UserOptionOut")},
    "/notifications": {"get": ("The caller's notices and unread count", None, None)},
    "/notifications/read": {"post": ("Mark notices read", None, None)},
}

ERRORS = {
    "401": {"description": "Not signed in (session cookie or `Authorization: Bearer <token>`)."},
    "403": {"description": "Signed in, but not allowed for this object."},
    "404": {"description": "No such object."},
    "409": {"description": "The object changed: task already completed or claimed by someone else."},
    "422": {"description": "Invalid input; `error.fields` maps each field to its messages."},
}


def _ok(schema: str | None) -> dict:
    if schema is None:
        return {"description": "OK"}
    return {"description": "OK", "content": {"application/json": {"schema": schema}}}


@cache
def openapi_document() -> dict:
    """Build the document once per process."""
    spec = APISpec(
        title="ITSM platform API",
        version="1.0.0",
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        servers=[{"url": "/api/v1"}],
    )
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    names = {schema for ops in PATHS.values() for (_, i, o) in ops.values() for schema in (i, o) if schema}
    for name in sorted(names):
        if name not in spec.components.schemas:  # a schema nested in another one is registered with it
            schema = getattr(schemas, name, None) or getattr(registry_schemas, name)
            spec.components.schema(name, schema=schema)
    for path, ops in PATHS.items():
        operations = {}
        for method, (summary, body, out) in ops.items():
            operation = {
                "summary": summary,
                "security": [{"bearer": []}],
                "responses": {
                    "200": {"description": "OK", "content": {"application/json": {"schema": out}}},
                    **ERRORS,
                },
            }
            if body:
                operation["requestBody"] = {
                    "required": True,
                    "content": {"application/json": {"schema": body}},
                }
            params = [p.strip("{}") for p in path.split("/") if p.startswith("{")]
            if params:
                operation["parameters"] = [
                    {"in": "path", "name": p, "required": True, "schema": {"type": "string"}} for p in params
                ]
            operations[method] = operation
        spec.path(path=path, operations=operations)
    return spec.to_dict()
