"""Script tasks run under RestrictedPython in a short-lived child process with hard limits.

In-process limits cannot be set from a web server's worker threads, so each script runs in a fresh
interpreter (``python -I``) that sets RLIMIT_CPU and RLIMIT_AS on itself before compiling the
script; the parent enforces a wall-clock timeout and exchanges task data as JSON. Platform
functions (``notify`` ...) are stubs in the child that only record a request; the engine returns
the requests in the CommandResult and the application carries them out.
"""

from __future__ import annotations

import ast
import json
import os
import signal
import subprocess
import sys
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from RestrictedPython import compile_restricted

from .errors import ScriptError

_CHILD = Path(__file__).with_name("_sandbox_child.py")
_MAX_OUTPUT = 16 * 1024 * 1024


@dataclass(frozen=True)
class ScriptLimits:
    """Limits for one script run: CPU seconds, wall-clock seconds, address space in MiB."""

    cpu_seconds: int = 2
    wall_seconds: float = 10.0
    memory_mb: int = 256


@dataclass(frozen=True)
class PlatformCall:
    """A request a script made of a platform function (e.g. ``notify``); the app executes it."""

    element_id: str
    function: str
    args: list[Any]
    kwargs: dict[str, Any]


def check_script(script: str) -> str | None:
    """Return why ``script`` cannot run under the restrictions, or ``None`` if it compiles."""
    try:
        tree = ast.parse(script)
    except SyntaxError as exc:
        return f"line {exc.lineno}: not valid Python ({exc.msg})"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            return f"line {node.lineno}: imports are not allowed in scripts"
    try:
        compile_restricted(script, filename="<script>", mode="exec")
    except SyntaxError as exc:
        detail = exc.msg if isinstance(exc.msg, str) else "; ".join(map(str, exc.args[0]))
        return f"refused by the restricted compiler: {detail}"
    return None


class ScriptRunner:
    """Runs scripts in a child process.

    :param limits: the CPU, wall-clock and memory limits for each run.
    :param functions: names of the platform functions scripts may call.
    """

    def __init__(self, limits: ScriptLimits, functions: Collection[str] = ()) -> None:
        self.limits = limits
        self.functions = sorted(functions)

    def run(
        self, script: str, data: Mapping[str, Any], *, element_id: str
    ) -> tuple[dict[str, Any], list[PlatformCall]]:
        """Run ``script`` over a copy of ``data``; return the new data and the platform calls.

        :raises ScriptError: the script is refused, fails, or passes a limit.
        """
        problem = check_script(script)
        if problem:
            raise ScriptError(
                f"the script is not allowed: {problem}",
                element_id=element_id,
                hint="Scripts may only read and set task data and call platform functions.",
            )
        payload = self._encode(script, data, element_id)
        reply = self._spawn(payload, element_id)
        if not reply.get("ok"):
            self._raise(reply, element_id)
        calls = [PlatformCall(element_id, c["function"], c["args"], c["kwargs"]) for c in reply["calls"]]
        return reply["data"], calls

    def _encode(self, script: str, data: Mapping[str, Any], element_id: str) -> str:
        clash = set(self.functions) & set(data)
        if clash:
            raise ScriptError(
                f"task data keys {sorted(clash)} hide platform functions of the same name",
                element_id=element_id,
                hint="Rename those data keys.",
            )
        try:
            return json.dumps({"script": script, "data": dict(data), "functions": self.functions})
        except (TypeError, ValueError) as exc:
            raise ScriptError(
                f"the task data cannot be passed to the script ({exc})",
                element_id=element_id,
                hint="Keep task data to JSON values (text, numbers, booleans, lists, objects).",
            ) from exc

    def _spawn(self, payload: str, element_id: str) -> dict[str, Any]:
        memory = self.limits.memory_mb * 1024 * 1024
        argv = [sys.executable, "-I", str(_CHILD), str(self.limits.cpu_seconds), str(memory)]
        process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd="/",
            env={"PATH": os.defpath, "LC_ALL": "C.UTF-8"},
            start_new_session=True,
        )
        try:
            out, _err = process.communicate(payload.encode("utf-8"), timeout=self.limits.wall_seconds)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise ScriptError(
                f"the script ran longer than {self.limits.wall_seconds:g} s and was stopped",
                element_id=element_id,
                hint="Scripts must finish quickly; look for a loop that never ends.",
            ) from None
        if process.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
            raise ScriptError(
                f"the script used more than {self.limits.cpu_seconds} s of CPU time and was stopped",
                element_id=element_id,
                hint="Scripts must finish quickly; look for a loop that never ends.",
            )
        if process.returncode != 0 or not out or len(out) > _MAX_OUTPUT:
            raise ScriptError(
                "the script was stopped (it probably used more memory than allowed, "
                f"{self.limits.memory_mb} MiB)",
                element_id=element_id,
                hint="Keep large data out of task data and scripts.",
            )
        return json.loads(out)

    def _raise(self, reply: dict[str, Any], element_id: str) -> None:
        line = f" (line {reply['line']})" if reply.get("line") else ""
        kind = reply.get("kind")
        if kind == "memory":
            raise ScriptError(
                f"the script used more memory than allowed ({self.limits.memory_mb} MiB){line}",
                element_id=element_id,
                hint="Keep large data out of task data and scripts.",
            )
        if kind == "refused":
            raise ScriptError(
                f"the script is not allowed: {reply['message']}{line}",
                element_id=element_id,
                hint="Scripts may only read and set task data and call platform functions.",
            )
        raise ScriptError(
            f"the script failed{line}: {reply['message']}",
            element_id=element_id,
            hint="Fix the script; names starting with '_', imports, modules and file access "
            "are not available.",
        )
