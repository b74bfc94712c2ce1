"""Child process that runs ONE restricted script; started by engine.scripts, never imported.

Protocol: argv = [cpu_seconds, memory_bytes]; stdin = JSON {"script", "data", "functions"};
stdout = JSON {"ok": true, "data": {...}, "calls": [...]} or {"ok": false, "kind", "message", "line"}.
Limits are set before the script is compiled; the parent enforces the wall-clock limit.
"""

import json
import operator
import resource
import sys

from RestrictedPython import compile_restricted, limited_builtins, safe_builtins
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr,
)
from RestrictedPython.PrintCollector import PrintCollector

_INPLACE = {
    "+=": operator.iadd,
    "-=": operator.isub,
    "*=": operator.imul,
    "/=": operator.itruediv,
    "//=": operator.ifloordiv,
    "%=": operator.imod,
    "**=": operator.ipow,
    "|=": operator.ior,
    "&=": operator.iand,
    "^=": operator.ixor,
    "<<=": operator.ilshift,
    ">>=": operator.irshift,
}
_EXTRA_BUILTINS = {
    "dict": dict,
    "list": list,
    "set": set,
    "frozenset": frozenset,
    "tuple": tuple,
    "sorted": sorted,
    "reversed": reversed,
    "min": min,
    "max": max,
    "sum": sum,
    "any": any,
    "all": all,
    "enumerate": enumerate,
    "zip": zip,
    "map": map,
    "filter": filter,
}
_RESERVED = {
    "__builtins__",
    "_getattr_",
    "_getitem_",
    "_getiter_",
    "_write_",
    "_print_",
    "_inplacevar_",
    "_iter_unpack_sequence_",
    "_unpack_sequence_",
    "__name__",
    "__metaclass__",
    "_print",
}


def _getattr(obj, name, default=None):
    if type(obj).__name__ == "module":
        raise AttributeError("module attributes are not available")
    return safer_getattr(obj, name, default)


def _getitem(obj, key):
    if isinstance(key, str) and key.startswith("_") and not isinstance(obj, dict):
        raise KeyError(key)
    return obj[key]


def _inplacevar(op, x, y):
    return _INPLACE[op](x, y)


def _reply(payload):
    sys.stdout.write(json.dumps(payload))
    sys.stdout.flush()


def _line_of(exc):
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<script>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def main():
    cpu_seconds, memory_bytes = int(sys.argv[1]), int(sys.argv[2])
    request = json.loads(sys.stdin.read())
    calls = []

    def stub(name):
        def call(*args, **kwargs):
            calls.append({"function": name, "args": list(args), "kwargs": kwargs})

        call.__name__ = name
        return call

    builtins = dict(safe_builtins)
    builtins.update(limited_builtins)
    builtins.update(_EXTRA_BUILTINS)
    for unsafe in ("__build_class__", "setattr", "delattr"):
        builtins.pop(unsafe, None)
    namespace = {
        "__builtins__": builtins,
        "__name__": "script",
        "_getattr_": _getattr,
        "_getitem_": _getitem,
        "_getiter_": iter,
        "_write_": full_write_guard,
        "_print_": PrintCollector,
        "_inplacevar_": _inplacevar,
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_unpack_sequence_": guarded_unpack_sequence,
    }
    functions = {name: stub(name) for name in request["functions"]}
    namespace.update(functions)
    namespace.update(request["data"])

    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (16, 16))
    resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))  # no child processes (ignored for root)
    try:
        code = compile_restricted(request["script"], filename="<script>", mode="exec")
    except SyntaxError as exc:
        detail = exc.msg if isinstance(exc.msg, str) else "; ".join(map(str, exc.args[0]))
        _reply({"ok": False, "kind": "refused", "message": detail, "line": exc.lineno})
        return
    try:
        exec(code, namespace)  # noqa: S102 - restricted code with guarded builtins
    except MemoryError:
        _reply({"ok": False, "kind": "memory", "message": "the script ran out of memory", "line": None})
        return
    except RecursionError as exc:
        _reply({"ok": False, "kind": "failed", "message": "too deep recursion", "line": _line_of(exc)})
        return
    except Exception as exc:
        _reply(
            {"ok": False, "kind": "failed", "message": f"{type(exc).__name__}: {exc}", "line": _line_of(exc)}
        )
        return
    data = {}
    for key, value in namespace.items():
        if key in _RESERVED or key in functions or callable(value) or type(value).__name__ == "module":
            continue
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            _reply(
                {
                    "ok": False,
                    "kind": "failed",
                    "line": None,
                    "message": f"the script left a {type(value).__name__} in '{key}', which cannot be stored",
                }
            )
            return
        data[key] = value
    try:
        _reply({"ok": True, "data": data, "calls": calls})
    except (TypeError, ValueError):
        _reply(
            {
                "ok": False,
                "kind": "failed",
                "line": None,
                "message": "a platform function was called with a value that cannot be stored",
            }
        )


if __name__ == "__main__":
    main()
