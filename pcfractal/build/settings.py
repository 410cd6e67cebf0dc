"""Settings dataclasses to and from JSON (markers, manifests, replayable configs)."""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path


def _base_type(tp):
    args = typing.get_args(tp)
    if args and type(None) in args:
        return [a for a in args if a is not type(None)][0]
    return tp


def settings_from_dict(cls, data: dict):
    """``cls`` from a JSON dict (a replayed config): nested dicts become nested Settings,
    lists become tuples; unknown names raise ValueError."""
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown setting(s) {', '.join(unknown)}")
    values = {}
    for k, v in data.items():
        tp = _base_type(hints[k])
        if dataclasses.is_dataclass(tp) and isinstance(v, dict):
            values[k] = settings_from_dict(tp, v)
        elif tp is Path and v is not None:
            values[k] = Path(v)
        elif isinstance(v, list):
            values[k] = tuple(v)
        else:
            values[k] = v
    return cls(**values)


def settings_to_dict(obj) -> dict:
    """JSON-able dict of a Settings dataclass (Paths as strings, tuples as lists)."""
    out = {}
    for f in dataclasses.fields(obj):
        v = getattr(obj, f.name)
        if dataclasses.is_dataclass(v):
            v = settings_to_dict(v)
        elif isinstance(v, Path):
            v = str(v)
        elif isinstance(v, tuple):
            v = list(v)
        out[f.name] = v
    return out
