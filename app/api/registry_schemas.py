"""marshmallow schemas of the registries' API: the CMDB, the known error database and the knowledge base."""

from __future__ import annotations

from flask import url_for
from marshmallow import Schema, fields, validate

from app.services.core import RELATION_KINDS, both


def _labels(catalogue: str, attribute: str) -> fields.Function:
    return fields.Function(lambda obj: both(catalogue, getattr(obj, attribute)), metadata={"type": "object"})


class CIFullOut(Schema):
    """A configuration item with every attribute."""

    code = fields.String()
    name = fields.String()
    ci_class = fields.String()
    class_label = _labels("ci_class", "ci_class")
    serial_number = fields.String(allow_none=True)
    version = fields.String(allow_none=True)
    status = fields.String()
    status_label = _labels("ci_status", "status")
    owner = fields.String(allow_none=True)
    purchase_date = fields.Date(allow_none=True)
    description = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime(allow_none=True)


class RelationOut(Schema):
    """A relation ``source --kind--> target`` between two CIs."""

    id = fields.Integer()
    kind = fields.String()
    source = fields.String(attribute="source.code")
    target = fields.String(attribute="target.code")
    created_at = fields.AwareDateTime()
    created_by = fields.String(allow_none=True)


class CIHistoryOut(Schema):
    """One change of a CI: each field's before and after, and what authorised it."""

    at = fields.AwareDateTime()
    actor = fields.String(allow_none=True)
    action = fields.String()
    changes = fields.Dict()
    authority = fields.String(metadata={"description": "A change/release business key, or 'manual'."})
    reason = fields.String(allow_none=True)


class CIDetailOut(Schema):
    """A CI with its relations both ways, its history (newest first) and the known errors naming it."""

    ci = fields.Nested(CIFullOut)
    outgoing = fields.List(fields.Nested(RelationOut))
    incoming = fields.List(fields.Nested(RelationOut))
    history = fields.List(fields.Nested(CIHistoryOut))
    known_errors = fields.Function(lambda view: [record.key for record in view.known_errors])


class CIWriteInput(Schema):
    """Body of PATCH /cis/<code>: the fields to change, and the reason (or the authorising change)."""

    name = fields.String(validate=validate.Length(max=200))
    ci_class = fields.String()
    serial_number = fields.String(allow_none=True)
    version = fields.String(allow_none=True)
    status = fields.String()
    owner = fields.String(allow_none=True)
    purchase_date = fields.String(allow_none=True, metadata={"description": "YYYY-MM-DD"})
    description = fields.String(allow_none=True)
    reason = fields.String(load_default=None, metadata={"description": "Required without change_key."})
    change_key = fields.String(load_default=None)


class CICreateInput(CIWriteInput):
    """Body of POST /cis."""

    code = fields.String(required=True)
    name = fields.String(required=True, validate=validate.Length(max=200))
    ci_class = fields.String(required=True)


class RelationInput(Schema):
    """Body of POST /cis/<code>/relations."""

    target = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(list(RELATION_KINDS)))
    reason = fields.String(load_default=None)
    change_key = fields.String(load_default=None)


class ReasonInput(Schema):
    """Body of DELETE /cis/<code>/relations/<id>."""

    reason = fields.String(load_default=None)
    change_key = fields.String(load_default=None)


class CIQuery(Schema):
    """Query string of GET /cis."""

    q = fields.String(load_default=None, validate=validate.Length(max=200))
    ci_class = fields.String(load_default=None, data_key="class")
    status = fields.String(load_default=None)
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))


class KnownErrorOut(Schema):
    """A known error."""

    key = fields.String()
    title = fields.String()
    symptoms = fields.String()
    root_cause = fields.String()
    workaround = fields.String()
    status = fields.String()
    problem_key = fields.String(allow_none=True)
    ci_codes = fields.List(fields.String())
    author = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    updated_by = fields.String(allow_none=True)


class KnownErrorInput(Schema):
    """Body of POST /known-errors and PATCH /known-errors/<key>."""

    title = fields.String()
    symptoms = fields.String()
    root_cause = fields.String()
    workaround = fields.String()
    status = fields.String()
    problem_key = fields.String(allow_none=True)
    ci_codes = fields.List(fields.String())


class KnownErrorQuery(Schema):
    """Query string of GET /known-errors."""

    q = fields.String(load_default=None, validate=validate.Length(max=200))
    status = fields.String(load_default=None)
    ci = fields.String(load_default=None)
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))


class AttachmentOut(Schema):
    """A document attached to an article; ``url`` downloads it."""

    id = fields.Integer()
    file_name = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    uploaded_by = fields.String(allow_none=True)
    uploaded_at = fields.AwareDateTime()
    url = fields.Function(
        lambda item: url_for("api.download_attachment", key=item.article.key, attachment_id=item.id)
    )


class ArticleSummaryOut(Schema):
    """An article in a list (without its body)."""

    key = fields.String()
    title = fields.String()
    category = fields.String()
    category_label = _labels("category", "category")
    state = fields.String()
    author = fields.String()
    views = fields.Integer()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    published_at = fields.AwareDateTime(allow_none=True)


class ArticleOut(ArticleSummaryOut):
    """An article with its body (plain text / simple markdown) and attachments."""

    body = fields.String()
    reviewer = fields.String(allow_none=True)
    reviewer_comment = fields.String(allow_none=True)
    source_key = fields.String(allow_none=True)
    attachments = fields.List(fields.Nested(AttachmentOut))


class ArticleInput(Schema):
    """Body of POST /articles and PATCH /articles/<key>."""

    title = fields.String(validate=validate.Length(max=300))
    category = fields.String()
    body = fields.String()


class ArticleCreateInput(ArticleInput):
    """Body of POST /articles."""

    title = fields.String(required=True, validate=validate.Length(max=300))
    category = fields.String(required=True)
    source_key = fields.String(load_default=None)


class ReviewInput(Schema):
    """Body of POST /articles/<key>/publish (comment optional) and /reject (comment required)."""

    comment = fields.String(load_default=None, validate=validate.Length(max=2000))


class ArticleQuery(Schema):
    """Query string of GET /articles."""

    q = fields.String(load_default=None, validate=validate.Length(max=200))
    category = fields.String(load_default=None)
    state = fields.String(load_default=None)
    mine = fields.Boolean(load_default=False)
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))


class UserOptionOut(Schema):
    """A user as a picker offers them."""

    username = fields.String()
    display_name = fields.String()


class UserQuery(Schema):
    """Query string of GET /users."""

    q = fields.String(load_default=None, validate=validate.Length(max=200))
    role = fields.String(load_default=None)
