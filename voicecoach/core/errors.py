"""The one exception family a user can cause. The CLI prints `str(error)` on one line, exit 2."""

from __future__ import annotations

from pathlib import Path


class VoiceCoachError(Exception):
    """Base of every error caused by input, files, devices or models: never a bug."""

    def __init__(self, message: str, *, path: Path | str | None = None) -> None:
        self.message = message
        self.path = Path(path) if path is not None else None
        super().__init__(message)

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path is not None else self.message


class CatalogError(VoiceCoachError):
    """The exercise data file is missing, not TOML, or does not follow the schema."""

    def __init__(
        self,
        message: str,
        *,
        path: Path | str | None = None,
        item: str | None = None,
        field: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.item = item
        self.field = field
        self.line = line
        self.column = column
        where = []
        if line is not None:
            where.append(f"line {line}" + (f", column {column}" if column is not None else ""))
        if item is not None:
            where.append(item)
        if field is not None:
            where.append(f"field '{field}'")
        super().__init__(": ".join([*where, message]), path=path)


class UnknownExerciseError(VoiceCoachError):
    """A name or alias that matches no exercise; carries the closest names."""

    def __init__(self, name: str, suggestions: tuple[str, ...]) -> None:
        self.name = name
        self.suggestions = suggestions
        hint = f"; did you mean {', '.join(repr(s) for s in suggestions)}?" if suggestions else ""
        super().__init__(f"unknown exercise '{name}'{hint}")
