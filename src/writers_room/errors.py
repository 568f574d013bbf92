"""The room's exception hierarchy; the CLI maps each kind to an exit status.

* :class:`InputError` — bad input or usage (exit 2): names file, line, field and value.
* :class:`GuardrailRefusal` — a guardrail said no (exit 3): approval missing, not an approver,
  not a writer (:class:`NotAWriter`).
* anything else — exit 1.
"""

from __future__ import annotations

__all__ = ["GuardrailRefusal", "InputError", "NotAWriter", "RoomError"]


class RoomError(Exception):
    """Base class of every error the room raises on purpose."""

    exit_code = 1


class InputError(RoomError):
    """Input that cannot be accepted; nothing from it was stored."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        field: str | None = None,
        value: object = None,
    ) -> None:
        super().__init__(message)
        self.file = file
        self.line = line
        self.field = field
        self.value = value


class GuardrailRefusal(RoomError):
    """A guardrail refused the action; nothing changed."""

    exit_code = 3


class NotAWriter(GuardrailRefusal):
    """The person may not add notes (not a writer, showrunner or approver); nothing stored."""
