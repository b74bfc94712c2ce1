"""The exceptions engine/ raises: one hierarchy, each a complete sentence for a user."""

from __future__ import annotations

from dataclasses import dataclass


class EngineError(Exception):
    """Base of every error engine/ raises on purpose.

    :param message: what went wrong, as a sentence a process owner can read.
    :param file: the BPMN/DMN file concerned, if any.
    :param element_id: the BPMN/DMN element concerned, if known.
    :param hint: what to do about it, if we can say.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        element_id: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.element_id = element_id
        self.hint = hint
        super().__init__(self._sentence())

    def _sentence(self) -> str:
        where = []
        if self.file:
            where.append(f"file {self.file}")
        if self.element_id:
            where.append(f"element {self.element_id}")
        text = f"{', '.join(where)}: {self.message}" if where else self.message
        if self.hint:
            text = f"{text.rstrip('.')}. {self.hint}"
        return text


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a process file, as collected by the loader and lint."""

    file: str | None
    element_id: str | None
    message: str
    hint: str | None = None

    def __str__(self) -> str:
        return str(EngineError(self.message, file=self.file, element_id=self.element_id, hint=self.hint))


class ProcessLoadError(EngineError):
    """A BPMN or DMN file was rejected (DOCTYPE, XML syntax, XSD, parse or lint).

    ``problems`` lists every problem found; the exception's own ``file``/``element_id``/``hint``
    are those of the first one.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        element_id: str | None = None,
        hint: str | None = None,
        problems: list[Problem] | None = None,
    ) -> None:
        self.problems: list[Problem] = problems or [Problem(file, element_id, message, hint)]
        super().__init__(message, file=file, element_id=element_id, hint=hint)

    @classmethod
    def from_problems(cls, problems: list[Problem]) -> ProcessLoadError:
        """Build one error listing all ``problems`` (at least one)."""
        first = problems[0]
        if len(problems) == 1:
            return cls(first.message, file=first.file, element_id=first.element_id, hint=first.hint)
        return cls(
            f"{len(problems)} problems:\n" + "\n".join(f"- {p}" for p in problems),
            file=first.file,
            element_id=first.element_id,
            problems=problems,
        )

    def _sentence(self) -> str:
        if len(self.problems) > 1:
            return self.message
        return super()._sentence()


class ScriptError(EngineError):
    """An expression or script was blocked or failed; names the element."""


class TaskNotFound(EngineError):
    """No READY user task with the given id."""


class MessageNotAccepted(EngineError):
    """No waiting catch event accepts the delivered message."""


class SnapshotError(EngineError):
    """A snapshot cannot be restored (another process version, or not a snapshot at all)."""
