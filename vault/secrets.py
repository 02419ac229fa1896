"""The in-memory type of a secret: masked when printed, revealed in one place only."""

from typing import Any

MASK = "********"


class Secret:
    """A secret value (text or JSON) whose str/repr never shows it.

    `display` is what every printout shows (e.g. "Bearer ********"); `sensitive` lists the substrings
    that must be scrubbed wherever they might echo back (the token, a password, a base64 form).
    """

    __slots__ = ("_value", "display", "sensitive")

    def __init__(self, value: Any, display: str = MASK, sensitive: tuple[str, ...] | None = None) -> None:
        self._value = value
        self.display = display
        if sensitive is None:
            sensitive = (value,) if isinstance(value, str) and value else ()
        self.sensitive = tuple(s for s in sensitive if s)

    def reveal(self) -> Any:
        return self._value

    def __str__(self) -> str:
        return self.display

    def __repr__(self) -> str:
        return f"Secret({self.display!r})"

    def __reduce__(self):
        raise TypeError("a Secret cannot be pickled or sent to a task queue")

    def __bool__(self) -> bool:
        return bool(self._value)
