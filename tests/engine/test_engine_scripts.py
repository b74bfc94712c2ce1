"""Script tasks: RestrictedPython in a child process with limits; escapes are blocked by name."""

from __future__ import annotations

import pytest

from engine import Engine, ProcessLoadError, ScriptError, ScriptLimits, load_package
from engine.scripts import ScriptRunner
from tests.engine.engine_support import FIXTURES, FORMS, lane_role, load

SCRIPTED = (FIXTURES / "scripted.bpmn").read_text(encoding="utf-8")
ITEMS = [{"who": "li", "hours": 2}, {"who": "wang", "hours": 3}, {"who": "li", "hours": 1}]


@pytest.fixture(scope="module")
def runner() -> ScriptRunner:
    return ScriptRunner(ScriptLimits(cpu_seconds=1, wall_seconds=5, memory_mb=256), {"notify"})


def test_script_task_sets_data_and_requests_platform_calls(engine: Engine) -> None:
    package = load("scripted")
    result = engine.start(package, {"items": ITEMS, "scratch": "tmp"})
    [task] = result.open_tasks
    assert task.element_id == "review"  # the plain task 'note' passes through
    assert task.data["total"] == 6 and task.data["labels"] == ["li", "wang"]
    assert "scratch" not in task.data  # deletions are kept
    [call] = result.calls
    assert (call.element_id, call.function, call.args, call.kwargs) == (
        "compute",
        "notify",
        [],
        {"to": "service_desk", "text": "total 6"},
    )
    assert "note" in result.completed_elements


def test_failing_script_names_the_element(engine: Engine) -> None:
    package = load("scripted")
    with pytest.raises(ScriptError) as excinfo:
        engine.start(package, {"items": [{"who": "li"}], "scratch": 1})
    assert excinfo.value.element_id == "compute"
    assert "KeyError" in str(excinfo.value) and "line 1" in str(excinfo.value)


ESCAPES = [
    ("import os", "imports are not allowed"),
    ("from os import system", "imports are not allowed"),
    ("x = __import__('os')", '"__import__" is an invalid variable name'),
    ("x = open('/etc/passwd').read()", "name 'open' is not defined"),
    ("x = ().__class__.__base__.__subclasses__()", "invalid attribute name"),
    ("x = '{0.__class__}'.format(1)", "format*() methods of `str` is not safe"),
    ("x = str.format('{0.__class__}', 1)", "format*() methods of `str` is not safe"),
    ("x = '{0.__class__}'.format_map({})", "format*() methods of `str` is not safe"),
    ("x = f'{items.__class__}'", "invalid attribute name"),
    ("x = getattr(items, '__class__')", "name 'getattr' is not defined"),
    ("x = vars()", "name 'vars' is not defined"),
    ("x = globals()", "name 'globals' is not defined"),
    ("x = eval('1')", "Eval calls are not allowed"),
    ("exec('x = 1')", "Exec calls are not allowed"),
    ("x = compile('1', 'f', 'eval')", "name 'compile' is not defined"),
    ("x = type(items)", "name 'type' is not defined"),
    ("x = notify.__globals__", "invalid attribute name"),
    ("def f():\n    yield 1\nx = f().gi_frame", "is a restricted name"),
    ("x = [c for c in ().__class__.__mro__]", "invalid attribute name"),
    ("class A:\n    pass", "__build_class__"),
]


@pytest.mark.parametrize(("script", "fragment"), ESCAPES)
def test_script_escapes_are_blocked(runner: ScriptRunner, script: str, fragment: str) -> None:
    with pytest.raises(ScriptError) as excinfo:
        runner.run(script, {"items": [1]}, element_id="evil")
    assert excinfo.value.element_id == "evil"
    assert fragment in str(excinfo.value)


def test_module_objects_are_not_reachable(runner: ScriptRunner) -> None:
    # Every name a script can see is a plain value, a guarded builtin or a platform stub.
    data, _ = runner.run(
        "names = sorted(k for k in ['notify', 'items'])\nkind = str(notify)",
        {"items": []},
        element_id="probe",
    )
    assert "module" not in data["kind"]
    with pytest.raises(ScriptError, match="name 'string' is not defined"):
        runner.run("x = string.Formatter()", {}, element_id="probe")


def test_infinite_loop_hits_the_cpu_limit(runner: ScriptRunner) -> None:
    with pytest.raises(ScriptError, match="more than 1 s of CPU time") as excinfo:
        runner.run("while True:\n    pass", {}, element_id="spin")
    assert excinfo.value.element_id == "spin"


def test_huge_allocation_hits_the_memory_limit(runner: ScriptRunner) -> None:
    with pytest.raises(ScriptError, match="more memory than allowed"):
        runner.run("x = 'a' * (2 ** 31)", {}, element_id="hog")


def test_wall_clock_limit() -> None:
    slow = ScriptRunner(ScriptLimits(cpu_seconds=5, wall_seconds=0.3), ())
    with pytest.raises(ScriptError, match="ran longer than 0.3 s"):
        slow.run("while True:\n    pass", {}, element_id="slow")


def test_script_cannot_store_non_json_values(runner: ScriptRunner) -> None:
    with pytest.raises(ScriptError, match="left a set in 'x'"):
        runner.run("x = {1, 2}", {}, element_id="s")


def test_only_registered_platform_functions_exist(runner: ScriptRunner) -> None:
    with pytest.raises(ScriptError, match="name 'send_mail' is not defined"):
        runner.run("send_mail('x')", {}, element_id="s")


def test_script_refused_at_load_names_file_and_element() -> None:
    text = SCRIPTED.replace('total = sum(item["hours"] for item in items)', "import os")
    with pytest.raises(ProcessLoadError) as excinfo:
        load_package(text, {}, forms=FORMS, lane_role=lane_role, filename="scripted.bpmn")
    [problem] = excinfo.value.problems
    assert (problem.file, problem.element_id) == ("scripted.bpmn", "compute")
    assert "imports are not allowed" in problem.message
