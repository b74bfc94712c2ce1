"""The Flask application factory."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, has_request_context, request, session
from flask_login import current_user
from werkzeug.routing import IntegerConverter

from app.extensions import babel, csrf, db, login_manager, migrate
from config import Config, config_from_env


def create_app(config_class: type[Config] | Config | None = None, **overrides) -> Flask:
    """Build the platform: configuration, extensions, blueprints, error handlers, CLI, scheduler.

    :param config_class: a ``Config`` class or instance; default from ``APP_ENV``.
    :param overrides: configuration values that win over the class (tests use this).
    """
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_object(config_class or config_from_env())
    app.config.update(overrides)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(app.instance_path, "itsm.sqlite")
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)  # checked in _protect_forms, API tokens exempt

    _register_extensions(app)
    _register_runtime(app)
    _register_blueprints(app)
    _register_errors(app)
    _register_cli(app)
    _register_scheduler(app)
    return app


def _select_locale() -> str | None:
    """Session choice, then the user's saved choice, then Accept-Language.

    Outside a request (CLI, scheduler, tests in an app context) None: the default locale. Lazy messages of
    the services may be rendered there (a log line, a CLI error).
    """
    if not has_request_context():
        return None
    languages = ["zh_CN", "en"]
    chosen = session.get("locale")
    if chosen in languages:
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    best = request.accept_languages.best_match(["zh_CN", "zh", "en"], default="zh_CN")
    return "en" if best == "en" else "zh_CN"


def _select_timezone() -> str | None:
    """The user's zone when set; else the configured default."""
    if current_user and current_user.is_authenticated and current_user.timezone:
        return current_user.timezone
    return None


class _BoundedInt(IntegerConverter):
    """``<int:...>`` up to the largest id the databases store (2**63 - 1); anything bigger is a 404."""

    def __init__(self, map, *args, **kwargs) -> None:  # noqa: A002 - werkzeug's signature
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(map, *args, **kwargs)


def _register_extensions(app: Flask) -> None:
    app.url_map.converters["int"] = _BoundedInt
    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    csrf.init_app(app)
    babel.init_app(app, locale_selector=_select_locale, timezone_selector=_select_timezone)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"

    from app import auth_loaders  # noqa: F401 - registers the user and token loaders

    @app.before_request
    def _protect_forms() -> None:
        """CSRF on every state-changing request that carries a session, except API calls with a bearer token.

        A request for no route answers 404/405 (not a CSRF error); an API call nobody is signed in for
        answers 401: a forged request needs the victim's session, which such a call does not have.
        """
        if request.method in {"GET", "HEAD", "OPTIONS"} or request.routing_exception is not None:
            return
        bearer = request.headers.get("Authorization", "").startswith("Bearer ")
        if request.blueprint == "api" and (bearer or not current_user.is_authenticated):
            return
        csrf.protect()


def _register_runtime(app: Flask) -> None:
    from app.services.core import Runtime, unit_settings
    from app.services.governance import LOOKUPS

    app.config.setdefault("INSTANCE_PATH", app.instance_path)
    # BPMN expressions may call the SLA table's lookups (sla_duration...): the runtime is given them here.
    app.extensions["itsm_runtime"] = Runtime.from_config(app.config, lookups=LOOKUPS)
    # SQLite: a write outside a command fails in the tests (it would risk "database is locked" under load).
    unit_settings.strict = bool(app.config.get("SQLITE_STRICT_WRITES"))


def _register_blueprints(app: Flask) -> None:
    from app.admin import bp as admin_bp
    from app.api import bp as api_bp
    from app.audit import bp as audit_bp
    from app.auth import bp as auth_bp
    from app.cmdb import bp as cmdb_bp
    from app.kb import bp as kb_bp
    from app.kedb import bp as kedb_bp
    from app.notices import bp as notices_bp
    from app.processes import bp as processes_bp
    from app.sla import bp as sla_bp
    from app.tasks import bp as tasks_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(tasks_bp)
    app.register_blueprint(notices_bp)
    app.register_blueprint(sla_bp, url_prefix="/sla")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(processes_bp, url_prefix="/processes")
    app.register_blueprint(audit_bp, url_prefix="/audit")
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    app.register_blueprint(cmdb_bp, url_prefix="/cmdb")
    app.register_blueprint(kedb_bp, url_prefix="/kedb")
    app.register_blueprint(kb_bp, url_prefix="/kb")


def _register_errors(app: Flask) -> None:
    from app.errors import register_error_handlers

    register_error_handlers(app)


def _register_cli(app: Flask) -> None:
    from app.cli import register_cli

    register_cli(app)


def _register_scheduler(app: Flask) -> None:
    if not app.config.get("SCHEDULER_ENABLED") or app.config.get("TESTING"):
        return
    # Under the reloader only the child serves requests; the parent must not run jobs.
    if app.debug and os.environ.get("WERKZEUG_RUN_MAIN") != "true":
        return
    from app.scheduler import start_scheduler

    start_scheduler(app)
