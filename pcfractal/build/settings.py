"""Settings dataclasses to and from JSON (markers, manifests, replayable configs)."""

from __future__ import annotations

import dataclasses
import os
import typing
from pathlib import Path


def _base_type(tp):
    args = typing.get_args(tp)
    if args and type(None) in args:
        return [a for a in args if a is not type(None)][0]
    return tp


def settings_from_dict(cls, data: dict, base: Path | None = None):
    """``cls`` from a JSON dict (a replayed config): nested dicts become nested Settings,
    lists become tuples, relative paths are relative to ``base``; unknown names raise
    ValueError."""
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown setting(s) {', '.join(unknown)}")
    values = {}
    for k, v in data.items():
        tp = _base_type(hints[k])
        if dataclasses.is_dataclass(tp) and isinstance(v, dict):
            values[k] = settings_from_dict(tp, v, base)
        elif tp is Path and v is not None:
            values[k] = Path(base, v) if base is not None else Path(v)
        elif isinstance(v, list):
            values[k] = tuple(v)
        else:
            values[k] = v
    return cls(**values)


def settings_to_dict(obj, base: Path | None = None) -> dict:
    """JSON-able dict of a Settings dataclass (tuples as lists; Paths as absolute strings, or
    relative to ``base`` when given: a pipeline's stages, which move together)."""
    out = {}
    for f in dataclasses.fields(obj):
        v = getattr(obj, f.name)
        if dataclasses.is_dataclass(v):
            v = settings_to_dict(v, base)
        elif isinstance(v, Path):
            v = os.path.relpath(v.resolve(), Path(base).resolve()) if base is not None else str(v.resolve())
        elif isinstance(v, tuple):
            v = list(v)
        out[f.name] = v
    return out
