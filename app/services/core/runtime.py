"""The per-application runtime: the engine, the form catalogue and the cache of parsed process packages."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import current_app

from app.models import ProcessVersion, utc_now
from app.roles import lane_role
from app.services.core.formdefs import FormCatalog
from engine import Engine, ProcessPackage, ScriptLimits, load_directory, load_package

#: The functions BPMN scripts may call; the engine returns the calls and the platform carries them out.
PLATFORM_FUNCTIONS = ("notify",)


class Runtime:
    """What every command needs besides the database; one per Flask app."""

    def __init__(
        self,
        processes_dir: str,
        forms_dir: str,
        script_limits: ScriptLimits,
        checkpoint: tuple[Path, bytes] | None = None,
        lookups: Mapping[str, Callable[..., Any]] | None = None,
    ) -> None:
        self.processes_dir = Path(processes_dir)
        #: Where the signed audit checkpoint lives and the key that signs it (outside the database).
        self.audit_checkpoint = checkpoint
        self.forms = FormCatalog(Path(forms_dir))
        #: The platform's clock; tests replace it to travel in time.
        self.clock: Callable[[], datetime] = utc_now
        #: Set by the scheduler of this process: ``wake(when)`` runs the due work at ``when``.
        self.wake: Callable[[datetime | None], None] | None = None
        self.engine = Engine(
            clock=lambda: self.clock(),
            script_limits=script_limits,
            platform_functions=PLATFORM_FUNCTIONS,
            lookups=lookups,
        )
        self._packages: dict[tuple[str, str], ProcessPackage] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_config(
        cls, config: Mapping[str, Any], lookups: Mapping[str, Callable[..., Any]] | None = None
    ) -> Runtime:
        """Build the runtime from the Flask configuration.

        :param lookups: the functions BPMN expressions may call (the SLA table's ``sla_duration``...).
        """
        limits = ScriptLimits(
            cpu_seconds=int(config["SCRIPT_CPU_SECONDS"]),
            wall_seconds=config["SCRIPT_WALL_SECONDS"],
            memory_mb=config["SCRIPT_MEMORY_MB"],
        )
        secret = (
            config.get("AUDIT_HMAC_KEY")
            or hashlib.sha256(b"audit:" + config["SECRET_KEY"].encode()).hexdigest()
        )
        path = Path(
            config.get("AUDIT_CHECKPOINT_PATH") or Path(config["INSTANCE_PATH"]) / "audit-checkpoint.json"
        )
        return cls(
            config["PROCESSES_DIR"], config["FORMS_DIR"], limits, (path, secret.encode()), lookups=lookups
        )

    def announce(self, when: datetime | None) -> None:
        """Tell this process's scheduler (if it runs one) when the next timer is due."""
        if self.wake is not None and when is not None:
            self.wake(when)

    def now(self) -> datetime:
        """The current time by the platform's clock (aware, UTC)."""
        return self.clock()

    def load_processes(self) -> dict[str, ProcessPackage]:
        """Parse and lint every process in the processes folder (raises ProcessLoadError)."""
        packages = load_directory(self.processes_dir, forms=self.forms.names(), lane_role=lane_role)
        with self._lock:
            for package in packages.values():
                self._packages[(package.process_id, package.content_hash)] = package
        return packages

    def package_for(self, version: ProcessVersion) -> ProcessPackage:
        """The parsed package of a stored version, parsed once per (process id, content hash)."""
        key = (version.process_id, version.content_hash)
        with self._lock:
            cached = self._packages.get(key)
        if cached is not None:
            return cached
        bpmn_name = f"{version.process_id}.bpmn"
        dmns = {name: text for name, text in version.files.items() if name != bpmn_name}
        # A stored version passed the form check at deploy; forms renamed since must not lock it out.
        package = load_package(
            version.files[bpmn_name], dmns, forms=_AnyName(), lane_role=lane_role, filename=bpmn_name
        )
        with self._lock:
            self._packages[key] = package
        return package


class _AnyName(Collection[str]):
    """A collection that contains every name (the form check is skipped for stored versions)."""

    def __contains__(self, item: object) -> bool:
        return True

    def __iter__(self):
        return iter(())

    def __len__(self) -> int:
        return 0


def get_runtime() -> Runtime:
    """The runtime of the current application."""
    return current_app.extensions["itsm_runtime"]
