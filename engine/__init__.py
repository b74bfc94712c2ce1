"""engine/: a plain library around SpiffWorkflow 3.2.0 for the ITSM platform.

It loads and lints process packages (BPMN + the DMN files they use), runs instances command by
command with safe expressions and sandboxed scripts, and returns plain data. It never imports
Flask, the application or marshmallow. The public API is listed in docs/contracts.md.
"""

from . import patches
from .engine import Engine
from .errors import (
    EngineError,
    MessageNotAccepted,
    Problem,
    ProcessLoadError,
    ScriptError,
    SnapshotError,
    TaskNotFound,
)
from .loader import content_hash, load_directory, load_package
from .results import (
    CommandResult,
    Fact,
    HumanTask,
    MessageSubscription,
    OutgoingMessage,
    ProcessPackage,
    UserTaskSpec,
    WaitingTimer,
)
from .script_engine import utc_now
from .scripts import PlatformCall, ScriptLimits

__all__ = [
    "CommandResult",
    "Engine",
    "EngineError",
    "Fact",
    "HumanTask",
    "MessageNotAccepted",
    "MessageSubscription",
    "OutgoingMessage",
    "PlatformCall",
    "Problem",
    "ProcessLoadError",
    "ProcessPackage",
    "ScriptError",
    "ScriptLimits",
    "SnapshotError",
    "TaskNotFound",
    "UserTaskSpec",
    "WaitingTimer",
    "content_hash",
    "load_directory",
    "load_package",
    "utc_now",
]

patches.apply()
