"""Command-line flags built from Settings dataclasses: each default, choice list and help
text lives once, in its dataclass field (``metadata={"help": ..., "choices": ...}``).

``add_settings(parser, cls)`` adds one flag per field (``n_points`` -> ``--n-points``,
or ``metadata["flag"]``; nested Settings dataclasses add theirs too); ``settings_from(cls,
args)`` builds the dataclass from the parsed flags, keeping the dataclass default for every
flag not given. Fields with ``metadata={"cli": False}`` have no flag.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import typing
from pathlib import Path

NOT_GIVEN = None  # argparse default: "use the dataclass's (or the preset's) default"


def _hints(cls) -> dict:
    return typing.get_type_hints(cls)


def _base_type(tp):
    """(type, optional) of an annotation such as ``int | None``."""
    args = typing.get_args(tp)
    if args and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return rest[0], True
    return tp, False


def _number(kind):
    def parse(text: str):
        try:
            v = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a{'' if kind is int else ' real'} number, got {text!r}") from None
        if kind is float and not math.isfinite(v):
            raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
        if kind is int and v < 0:  # every whole-number flag is a count, a size or a seed
            raise argparse.ArgumentTypeError(f"must be >= 0, got {v}")
        return v

    parse.__name__ = kind.__name__
    return parse


def flag_name(f: dataclasses.Field) -> str:
    return f.metadata.get("flag", f.name.replace("_", "-"))


def _is_settings(tp) -> bool:
    return dataclasses.is_dataclass(tp) and isinstance(tp, type)


def fields_of(cls, skip=()) -> list[tuple[dataclasses.Field, object]]:
    """(field, type) of the fields that get a flag, nested Settings expanded."""
    out = []
    hints = _hints(cls)
    for f in dataclasses.fields(cls):
        if f.name in skip or f.metadata.get("cli") is False or not f.init:
            continue
        tp = hints[f.name]
        if _is_settings(tp):
            out += fields_of(tp, skip)
        else:
            out.append((f, tp))
    return out


def _default_of(f: dataclasses.Field):
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
        return f.default_factory()  # type: ignore[misc]
    return dataclasses.MISSING


def add_field(group, f: dataclasses.Field, tp, default_text: str | None = None, seen: set | None = None) -> None:
    """One flag for field ``f`` of type ``tp``."""
    name = "--" + flag_name(f)
    if seen is not None:
        if name in seen:
            return
        seen.add(name)
    base, optional = _base_type(tp)
    default = _default_of(f)
    help_text = f.metadata.get("help", f.name.replace("_", " "))
    if default_text is None and default is not dataclasses.MISSING and default is not None and base is not bool:
        default_text = f"{default:,}" if isinstance(default, int) and not isinstance(default, bool) else str(default)
    kw: dict = {"dest": f.name, "default": NOT_GIVEN}
    if base is bool:
        if default is True:
            name = "--no-" + flag_name(f)
            group.add_argument(name, action="store_false", help=help_text, **kw)
        else:
            group.add_argument(name, action="store_true", help=help_text, **kw)
        return
    if typing.get_origin(base) is tuple:
        inner = typing.get_args(base)[0]
        kw.update(nargs=len(typing.get_args(base)), type=_number(inner) if inner in (int, float) else inner, metavar=("LO", "HI"))
    elif base in (int, float):
        kw["type"] = _number(base)
    elif base is Path:
        kw.update(type=Path, metavar="PATH")
    else:
        kw["type"] = str
    if f.metadata.get("choices"):
        kw["choices"] = list(f.metadata["choices"])
    if "metavar" in f.metadata:
        kw["metavar"] = f.metadata["metavar"]
    elif "choices" not in kw and "metavar" not in kw:
        kw["metavar"] = flag_name(f).upper().replace("-", "_")  # --points POINTS, not N_POINTS
    if f.metadata.get("required"):
        kw["required"] = True
    if default_text and not kw.get("required"):
        help_text = f"{help_text} (default: {default_text})"
    group.add_argument(name, help=help_text, **kw)


def add_settings(parser, cls, title: str | None = None, skip=(), defaults: dict | None = None, seen: set | None = None):
    """Add a flag for every field of ``cls`` (nested Settings included). ``defaults``:
    ``{field: text}`` for defaults that come from elsewhere (a preset)."""
    group = parser.add_argument_group(title) if title else parser
    for f, tp in fields_of(cls, skip):
        add_field(group, f, tp, (defaults or {}).get(f.name), seen)
    return group


def given(args, name: str) -> bool:
    return getattr(args, name, NOT_GIVEN) is not NOT_GIVEN


def settings_from(cls, args, overrides: dict | None = None, skip=()):
    """``cls`` from parsed flags: a given flag wins, then ``overrides``, then the default."""
    overrides = overrides or {}
    hints = _hints(cls)
    values = {}
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        tp = hints[f.name]
        if _is_settings(tp):
            values[f.name] = settings_from(tp, args, overrides.get(f.name), skip)
        elif f.name not in skip and f.metadata.get("cli") is not False and given(args, f.name):
            v = getattr(args, f.name)
            values[f.name] = tuple(v) if isinstance(v, list) else v
        elif f.name in overrides and overrides[f.name] is not None:
            values[f.name] = overrides[f.name]
    return cls(**values)
