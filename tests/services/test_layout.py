"""The layout of app/ tells its architecture, and these tests keep it so.

- no import cycle between the modules of app/ (imports inside functions count: a lazy import hides a cycle,
  it does not remove it);
- the service packages are layered: core < governance < registries < workflow, each importing only those
  before it, and none importing a blueprint;
- no module reaches into another module's ``_private`` names;
- code outside app/services uses only what a service package exports in its ``__all__``.
"""

from __future__ import annotations

import ast
import importlib
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app"
LAYERS = {"errors": 0, "core": 1, "governance": 2, "registries": 3, "workflow": 4}
PACKAGES = ("core", "governance", "registries", "workflow")
#: What a service module may import from app/ besides the services: models, the database, the role catalogue.
SERVICE_MAY_IMPORT = ("app.extensions", "app.models", "app.roles", "app.auth_loaders")


@dataclass(frozen=True)
class Import:
    """One ``import``/``from ... import`` of an app module, resolved to the module it loads."""

    importer: str
    target: str
    names: tuple[str, ...]
    line: int


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(dotted: str) -> bool:
    base = ROOT.joinpath(*dotted.split("."))
    return base.with_suffix(".py").exists() or (base / "__init__.py").exists()


def app_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(APP.rglob("*.py"))}


def imports_of(name: str, path: Path) -> list[Import]:
    """Every import of an app module in the file, at any depth (functions included)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [
                Import(name, a.name, (), node.lineno) for a in node.names if a.name.split(".")[0] == "app"
            ]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] != "app":
                continue
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                target = sub if _is_module(sub) else node.module
                found.append(Import(name, target, (alias.name,), node.lineno))
    return found


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in app_modules().items():
        graph[name] = {imp.target for imp in imports_of(name, path) if imp.target != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def service_package(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) >= 3 and parts[:2] == ["app", "services"]:
        return parts[2]
    return None


def test_the_graph_sees_every_module_and_lazy_imports() -> None:
    graph = import_graph()
    assert len(graph) > 60
    # A lazy import inside a function is an edge too.
    assert "app.services.governance" in graph["app.cli"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycle_in_app() -> None:
    assert cycles(import_graph()) == []


def test_service_packages_import_only_the_layers_below() -> None:
    offenders = []
    for name, path in app_modules().items():
        own = service_package(name)
        if own is None:
            continue
        for imp in imports_of(name, path):
            other = service_package(imp.target)
            if other is None:
                if not imp.target.startswith(SERVICE_MAY_IMPORT) and imp.target != "app.services":
                    offenders.append(
                        f"{name}:{imp.line} imports {imp.target} (services never import the web)"
                    )
            elif LAYERS.get(other, 99) > LAYERS.get(own, -1):
                offenders.append(f"{name}:{imp.line} imports {imp.target} ({own} may not import {other})")
    assert offenders == []


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def test_no_module_reaches_into_another_modules_private_names() -> None:
    offenders = []
    modules = app_modules()
    for name, path in modules.items():
        own_package = name.rsplit(".", 1)[0]
        tree = ast.parse(path.read_text(encoding="utf-8"))
        aliases = {}
        for imp in imports_of(name, path):
            private_module = any(_private(part) for part in imp.target.split("."))
            if private_module and not imp.target.startswith(own_package + "."):
                offenders.append(f"{name}:{imp.line} imports the private module {imp.target}")
            for imported in imp.names:
                if _private(imported) and imp.target != name:
                    offenders.append(f"{name}:{imp.line} imports {imported} from {imp.target}")
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("app"):
                for alias in node.names:
                    if _is_module(f"{node.module}.{alias.name}"):
                        aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("app") and alias.asname:
                        aliases[alias.asname] = alias.name
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
                and _private(node.attr)
            ):
                offenders.append(f"{name}:{node.lineno} uses {aliases[node.value.id]}.{node.attr}")
    assert offenders == []


@pytest.mark.parametrize("package", PACKAGES)
def test_each_package_says_what_it_owns_and_exports_it(package: str) -> None:
    module = importlib.import_module(f"app.services.{package}")
    assert module.__doc__ and len(module.__doc__.splitlines()) >= 5
    assert module.__all__, f"app.services.{package} exports nothing"
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert missing == []
    undocumented = [
        name
        for name in module.__all__
        if callable(getattr(module, name)) and not getattr(module, name).__doc__
    ]
    assert undocumented == []


def test_code_outside_the_services_uses_only_what_the_packages_export() -> None:
    exports = {p: set(importlib.import_module(f"app.services.{p}").__all__) for p in PACKAGES}
    offenders = []
    for name, path in app_modules().items():
        if name.startswith("app.services"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        packages_bound = {}
        for node in ast.walk(tree):
            if not (
                isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("app.services")
            ):
                continue
            if node.module == "app.services":
                for alias in node.names:
                    packages_bound[alias.asname or alias.name] = alias.name
            elif node.module in (f"app.services.{p}" for p in PACKAGES):
                package = node.module.rsplit(".", 1)[1]
                offenders += [
                    f"{name}:{node.lineno} imports {a.name}, which app.services.{package} does not export"
                    for a in node.names
                    if a.name not in exports[package]
                ]
            elif node.module != "app.services.errors":
                offenders.append(f"{name}:{node.lineno} imports the service module {node.module} directly")
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                package = packages_bound.get(node.value.id)
                if package in exports and node.attr not in exports[package]:
                    offenders.append(
                        f"{name}:{node.lineno} uses {package}.{node.attr}, which is not exported"
                    )
    assert offenders == []
