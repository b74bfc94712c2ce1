"""engine/ is a plain library: no module in it imports Flask, the app or marshmallow."""

from __future__ import annotations

import ast
from pathlib import Path

import engine

FORBIDDEN = ("flask", "flask_sqlalchemy", "flask_login", "flask_wtf", "marshmallow", "app", "werkzeug")


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "__import__":
            names.add("__import__")
    return names


def test_engine_never_imports_the_web_layers() -> None:
    package_dir = Path(engine.__file__).parent
    modules = sorted(package_dir.rglob("*.py"))
    assert len(modules) > 5
    offenders = {
        f"{path.relative_to(package_dir)}: {name}"
        for path in modules
        for name in imported_modules(path)
        if name == "__import__" or name.split(".")[0] in FORBIDDEN
    }
    assert not offenders, offenders
