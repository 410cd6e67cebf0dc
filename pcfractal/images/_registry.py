"""The image-generator registry: ``@register`` on a generator class makes it a ``--kind``."""

from __future__ import annotations

_GENERATORS: dict[str, type] = {}


def register(cls):
    """Class decorator: register an ``ImageGenerator`` subclass under ``cls.name``."""
    if cls.name in _GENERATORS:
        raise ValueError(f"image generator {cls.name!r} is registered twice")
    _GENERATORS[cls.name] = cls
    return cls


def list_generators() -> list[str]:
    """Registered kinds, sorted."""
    return sorted(_GENERATORS)


def get_generator(kind: str):
    """A fresh generator instance for ``kind``; ValueError naming the known kinds otherwise."""
    try:
        return _GENERATORS[kind]()
    except KeyError:
        raise ValueError(f"unknown image kind {kind!r}; choose one of {', '.join(list_generators())}") from None
