"""Load validated YAML data files with errors that name file, line and field.

Policies, import mappings and packs are data files. A typo in one must fail at
load time with a message a user can act on::

    formats/my_city.yaml, line 14, field 'fields.priority.codes': Input should be ...

The YAML is composed into nodes first so every mapping key and list item keeps its
line; pydantic's error locations are then translated to those lines.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

__all__ = [
    "DataFileError",
    "LocatedErrors",
    "format_validation_error",
    "load_model",
    "load_yaml_with_lines",
]

M = TypeVar("M", bound=BaseModel)

Loc = tuple[str | int, ...]


class DataFileError(ValueError):
    """A data file that cannot be used; the message names file, line and field."""

    def __init__(self, path: str | Path, problems: list[str]) -> None:
        self.path = str(path)
        self.problems = problems
        super().__init__("\n".join(f"{self.path}, {p}" for p in problems))


class LocatedErrors(ValueError):
    """Raised by a model validator to report problems at precise key paths.

    ``problems`` holds ``(path, message)`` pairs, path relative to the model being
    validated, e.g. ``(("fields", "priority"), "needs 'formats'")``.
    """

    def __init__(self, problems: list[tuple[Loc, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(m for _, m in problems))


def _walk(node: yaml.Node, loc: Loc, lines: dict[Loc, int], loader: yaml.SafeLoader) -> Any:
    lines[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if key in out:
                raise DataFileError(
                    "<yaml>", [f"line {key_node.start_mark.line + 1}: duplicate key {key!r}"]
                )
            lines[(*loc, key)] = key_node.start_mark.line + 1
            out[key] = _walk(value_node, (*loc, key), lines, loader)
            lines[(*loc, key)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_walk(item, (*loc, i), lines, loader) for i, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)


def load_yaml_with_lines(path: str | Path) -> tuple[Any, dict[Loc, int]]:
    """Parse a YAML file; return the data and a map from key path to line number."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataFileError(p, [f"cannot read file: {exc}"]) from exc
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "line ?"
        raise DataFileError(p, [f"{where}: not valid YAML: {exc}"]) from exc
    if node is None:
        raise DataFileError(p, ["line 1: the file is empty"])
    lines: dict[Loc, int] = {}
    try:
        data = _walk(node, (), lines, yaml.SafeLoader(""))
    except DataFileError as exc:
        raise DataFileError(p, exc.problems) from exc
    return data, lines


def _line_for(loc: Loc, lines: dict[Loc, int]) -> int | None:
    for n in range(len(loc), -1, -1):
        if loc[:n] in lines:
            return lines[loc[:n]]
    return None


def format_validation_error(
    path: str | Path, exc: ValidationError, lines: dict[Loc, int]
) -> DataFileError:
    """Turn a pydantic error into a :class:`DataFileError` with line numbers."""
    located: list[tuple[Loc, str]] = []
    for err in exc.errors():
        loc = tuple(x for x in err["loc"] if isinstance(x, str | int))
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, LocatedErrors):
            located += [((*loc, *sub), msg) for sub, msg in cause.problems]
        else:
            located.append((loc, err["msg"]))
    problems = []
    for loc, msg in located:
        line = _line_for(loc, lines)
        field = ".".join(str(x) for x in loc) or "(top level)"
        problems.append(f"line {line if line is not None else '?'}, field '{field}': {msg}")
    return DataFileError(path, problems)


def load_model(path: str | Path, model: type[M]) -> M:
    """Load ``path`` (YAML) and validate it as ``model``; errors name line and field."""
    data, lines = load_yaml_with_lines(path)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise format_validation_error(path, exc, lines) from exc
