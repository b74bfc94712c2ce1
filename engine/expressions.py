"""A safe evaluator for gateway conditions, timer expressions, DMN cells and message expressions.

Built on simpleeval's ``EvalWithCompoundTypes``: the task data are the names; comparisons, boolean
operators, ``in``, literals, subscripts and a small set of pure functions work; attribute access is
limited to a per-type allow list with every ``_``-name and ``format`` refused; the size of every
intermediate value is bounded, so no expression can allocate without limit.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Mapping
from typing import Any

import simpleeval
from simpleeval import (
    BASIC_ALLOWED_ATTRS,
    DEFAULT_OPERATORS,
    EvalWithCompoundTypes,
    FeatureNotAvailable,
    FunctionNotDefined,
    InvalidExpression,
    IterableTooLong,
    NameNotDefined,
    NumberTooHigh,
)

from .errors import ScriptError

#: The largest total "weight" of a value an expression may produce (items + characters).
MAX_VALUE_WEIGHT = 1_000_000
#: The largest integer result of ``**``, in bits.
MAX_POWER_BITS = 4096

SAFE_FUNCTIONS: dict[str, Any] = {
    "len": len,
    "min": min,
    "max": max,
    "abs": abs,
    "round": round,
    "str": str,
    "int": int,
    "float": float,
    "bool": bool,
    "sorted": sorted,
    "any": any,
    "all": all,
}

_UNSAFE_ATTRS = {"format", "format_map", "maketrans", "translate", "encode", "from_bytes", "to_bytes"}
# Expressions must not change the task data they read.
_MUTATORS = {
    "append",
    "extend",
    "insert",
    "remove",
    "pop",
    "popitem",
    "clear",
    "sort",
    "reverse",
    "update",
    "setdefault",
    "add",
    "discard",
    "difference_update",
    "intersection_update",
    "symmetric_difference_update",
}
ALLOWED_ATTRS: dict[Any, set[str]] = {
    cls: set(names) - _UNSAFE_ATTRS - _MUTATORS for cls, names in BASIC_ALLOWED_ATTRS.items()
}

_FORMAT_SPEC = re.compile(r"^(.?[<>^=])?[+\- ]?#?0?\d{0,3}[,_]?(\.\d{1,2})?[bcdeEfFgGnosxX%]?$")

# ISO 8601 literals as bpmn.io and Camunda Modeler write them (unquoted).
_DURATION = (
    r"P(?=\d|T\d)(\d+(?:[.,]\d+)?Y)?(\d+(?:[.,]\d+)?M)?(\d+(?:[.,]\d+)?W)?(\d+(?:[.,]\d+)?D)?"
    r"(T(?=\d)(\d+(?:[.,]\d+)?H)?(\d+(?:[.,]\d+)?M)?(\d+(?:[.,]\d+)?S)?)?"
)
_DATETIME = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?"
DURATION_RE = re.compile(rf"^{_DURATION}$", re.IGNORECASE)
DATETIME_RE = re.compile(rf"^{_DATETIME}$")
CYCLE_RE = re.compile(rf"^R\d*/(?:(?:{_DATETIME})/(?:{_DURATION})|(?:{_DURATION})(?:/(?:{_DATETIME}))?)$")
AWARE_RE = re.compile(r"(Z|[+-]\d{2}:?\d{2})$")


def iso_timer_literal(expression: str) -> str | None:
    """Return the ISO 8601 literal if ``expression`` is one written unquoted, else ``None``.

    ``PT1H``, ``R3/PT1H``, ``2027-01-01T00:00:00+08:00`` and ``R/2027-01-01T00:00:00+08:00/P1Y``
    are what modelers write; they are not Python, so they are recognised before evaluation.
    """
    text = expression.strip()
    for pattern in (DURATION_RE, DATETIME_RE, CYCLE_RE):
        if pattern.match(text):
            return text
    return None


def _weight(value: Any, limit: int) -> int:
    """Count items and characters in ``value``, stopping as soon as ``limit`` is passed."""
    total = 0
    stack = [value]
    while stack:
        item = stack.pop()
        total += 1
        if isinstance(item, str | bytes):
            total += len(item)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            stack.extend(item)
        if total > limit:
            raise IterableTooLong("the value this expression builds is too large")
    return total


def _safe_power(base: Any, exponent: Any) -> Any:
    big_int = isinstance(base, int) and isinstance(exponent, int) and exponent > 0 and abs(base) > 1
    if big_int and exponent * math.log2(abs(base)) > MAX_POWER_BITS:
        raise NumberTooHigh(f"{base} ** {exponent} is too large")
    return simpleeval.safe_power(base, exponent)


def _safe_mult(left: Any, right: Any) -> Any:
    for seq, times in ((left, right), (right, left)):
        repeated = hasattr(seq, "__len__") and isinstance(times, int) and times > 0
        if repeated and _weight(seq, MAX_VALUE_WEIGHT) * times > MAX_VALUE_WEIGHT:
            raise IterableTooLong("the value this expression builds is too large")
    return left * right


_OPERATORS = dict(DEFAULT_OPERATORS)
_OPERATORS[ast.Pow] = _safe_power
_OPERATORS[ast.Mult] = _safe_mult


class _Evaluator(EvalWithCompoundTypes):
    """simpleeval with bounded values, no format specs beyond simple ones, and our functions."""

    def __init__(self, names: Mapping[str, Any], functions: Mapping[str, Any] | None = None) -> None:
        super().__init__(
            operators=dict(_OPERATORS),
            functions={**SAFE_FUNCTIONS, **(functions or {})},
            names={"True": True, "False": False, "None": None, **names},
            allowed_attrs=ALLOWED_ATTRS,
        )

    def _check_disallowed_items(self, item: Any) -> None:
        _weight(item, MAX_VALUE_WEIGHT)
        super()._check_disallowed_items(item)

    def _eval_formattedvalue(self, node: ast.FormattedValue) -> Any:
        if node.format_spec is not None:
            spec = self._eval(node.format_spec)
            if not isinstance(spec, str) or not _FORMAT_SPEC.match(spec):
                raise FeatureNotAvailable(f"the format specification {spec!r} is not allowed")
        return super()._eval_formattedvalue(node)


def _describe(expression: str) -> str:
    text = " ".join(expression.split())
    return text if len(text) <= 120 else text[:117] + "..."


def evaluate(
    expression: str,
    names: Mapping[str, Any],
    *,
    element_id: str | None = None,
    file: str | None = None,
    functions: Mapping[str, Any] | None = None,
) -> Any:
    """Evaluate ``expression`` with ``names`` (the task data) and return the value.

    :param functions: platform lookups callable from expressions besides the built-in safe functions
        (e.g. ``sla_duration(priority, category, "tier")``); they must be pure and return plain values.

    :raises ScriptError: the expression is invalid, uses something not allowed, names an unknown
        variable, or fails; the error names the element and the expression.
    """
    shown = _describe(expression)
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as exc:
        raise ScriptError(
            f"the expression `{shown}` is not valid ({exc.msg})",
            file=file,
            element_id=element_id,
            hint='Write a comparison such as `impact == "high"`; quote text values.',
        ) from exc
    try:
        return _Evaluator(names, functions).eval(expression, previously_parsed=tree.body)
    except NameNotDefined as exc:
        raise ScriptError(
            f"the expression `{shown}` uses the name '{exc.name}', which is not in the task data",
            file=file,
            element_id=element_id,
            hint="Check the spelling, or make an earlier step (form, script or decision) set it.",
        ) from exc
    except FunctionNotDefined as exc:
        raise ScriptError(
            f"the expression `{shown}` calls '{exc.func_name}', which is not an allowed function",
            file=file,
            element_id=element_id,
            hint=f"Allowed functions: {', '.join(sorted({*SAFE_FUNCTIONS, *(functions or {})}))}.",
        ) from exc
    except (FeatureNotAvailable, IterableTooLong, NumberTooHigh, InvalidExpression) as exc:
        raise ScriptError(
            f"the expression `{shown}` is not allowed: {exc}",
            file=file,
            element_id=element_id,
            hint="Expressions may only compare and combine task data; no attributes starting "
            "with '_', no imports, no large values.",
        ) from exc
    except ScriptError:
        raise
    except Exception as exc:  # the expression itself failed (KeyError, TypeError, ...)
        raise ScriptError(
            f"the expression `{shown}` failed: {type(exc).__name__}: {exc}",
            file=file,
            element_id=element_id,
            hint="Check that the task data has the keys and types the expression expects.",
        ) from exc


def check_syntax(expression: str) -> str | None:
    """Return a short reason if ``expression`` cannot be evaluated at all, else ``None``.

    Used by lint; only syntax and obviously refused constructs are checked, not names.
    """
    try:
        ast.parse(expression.strip(), mode="eval")
    except SyntaxError as exc:
        return f"not a valid expression ({exc.msg})"
    return None
