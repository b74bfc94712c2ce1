"""The records processes read and write; imports ``core`` and ``governance``, never ``workflow``.

Each write commits once; ``commit=False`` runs it inside a process command's transaction (platform effects).

- cmdb:         ``search_cis``, ``ci_counts``, ``get_ci``, ``create_ci``, ``update_ci``, ``relate_cis``,
                ``unrelate_cis``, ``ensure_ci``, ``can_edit_cmdb``, ``require_cmdb_editor``, ``CIView``,
                ``CI_FIELDS``; cmdb_changes: ``apply_change``, ``record_change_note`` (CMDB writes of
                changes); cmdb_rules: the checks and history rows both share
- kedb:         ``search_known_errors``, ``get_known_error``, ``create_known_error``, ``update_known_error``,
                ``record_from_problem``, ``known_error_keys``, ``can_edit_kedb``, ``require_kedb_editor``
- knowledge:    ``search_articles``, ``get_article``, ``submit_article``, ``update_article``,
                ``publish_article``, ``reject_article``, ``retire_article``, ``add_attachments``,
                ``remove_attachment``, ``get_attachment``, ``editable_article``, ``article_keys``,
                ``can_edit_article``, ``is_knowledge_staff``, ``Upload``, ``PUBLISHER``
- attachments:  ``check_upload``, ``CheckedFile``, ``MAX_ATTACHMENT_BYTES`` — uploads checked by content
- pickers:      ``user_options``, ``known_error_options``, ``article_options``, ``picker_users``,
                ``list_cis``, ``ci_names``, ``article_titles`` — what the form pickers offer and show
"""

from app.services.registries.attachments import MAX_ATTACHMENT_BYTES, CheckedFile, check_upload
from app.services.registries.cmdb import (
    CIView,
    can_edit_cmdb,
    ci_counts,
    create_ci,
    ensure_ci,
    get_ci,
    relate_cis,
    require_cmdb_editor,
    search_cis,
    unrelate_cis,
    update_ci,
)
from app.services.registries.cmdb_changes import apply_change, record_change_note
from app.services.registries.cmdb_rules import CI_FIELDS
from app.services.registries.kedb import (
    can_edit_kedb,
    create_known_error,
    get_known_error,
    known_error_keys,
    record_from_problem,
    require_kedb_editor,
    search_known_errors,
    update_known_error,
)
from app.services.registries.knowledge import (
    PUBLISHER,
    Upload,
    add_attachments,
    article_keys,
    can_edit_article,
    editable_article,
    get_article,
    get_attachment,
    is_knowledge_staff,
    publish_article,
    reject_article,
    remove_attachment,
    retire_article,
    search_articles,
    submit_article,
    update_article,
)
from app.services.registries.pickers import (
    Option,
    article_options,
    article_titles,
    ci_names,
    known_error_options,
    list_cis,
    picker_users,
    user_options,
)

__all__ = [
    "CI_FIELDS",
    "MAX_ATTACHMENT_BYTES",
    "PUBLISHER",
    "CIView",
    "CheckedFile",
    "Option",
    "Upload",
    "add_attachments",
    "apply_change",
    "article_keys",
    "article_options",
    "article_titles",
    "can_edit_article",
    "can_edit_cmdb",
    "can_edit_kedb",
    "check_upload",
    "ci_counts",
    "ci_names",
    "create_ci",
    "create_known_error",
    "editable_article",
    "ensure_ci",
    "get_article",
    "get_attachment",
    "get_ci",
    "get_known_error",
    "is_knowledge_staff",
    "known_error_keys",
    "known_error_options",
    "list_cis",
    "picker_users",
    "publish_article",
    "record_change_note",
    "record_from_problem",
    "reject_article",
    "relate_cis",
    "remove_attachment",
    "require_cmdb_editor",
    "require_kedb_editor",
    "retire_article",
    "search_articles",
    "search_cis",
    "search_known_errors",
    "submit_article",
    "unrelate_cis",
    "update_article",
    "update_ci",
    "update_known_error",
    "user_options",
]
