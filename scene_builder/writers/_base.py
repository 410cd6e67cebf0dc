"""The interface every scene format implements, and the registry of formats.

A writer translates ``scene_builder.Scene`` objects into files through the build's
``UnitWriter`` (atomic writes, recorded hashes); the ``scenes`` stage owns the loop,
resume and the manifest. A new format is one module with one ``@register``ed class.
"""

from __future__ import annotations

_WRITERS: dict[str, type] = {}


class SceneWriter:
    """Base of the scene formats. ``name`` is the ``--format`` value."""

    name = ""

    def owns(self, rel: str, count: int) -> bool:
        """Whether ``rel`` is a file name this format writes for ``count`` scenes."""
        raise NotImplementedError

    def write_scene(self, w, scene) -> dict:
        """Write one scene through ``w`` (a ``UnitWriter``); return a small JSON-able record
        (``finish`` gets every scene's record back, in scene order, resumed ones included)."""
        raise NotImplementedError

    def finish(self, w, records, count, seed, settings, instance_settings, n_categories, provenance) -> dict:
        """Files written once after every scene (index files); return a summary dict."""
        return {"count": int(count)}


def register(cls):
    _WRITERS[cls.name] = cls
    return cls


def formats() -> list[str]:
    from . import mesh, mmdet3d  # noqa: F401  (importing registers them)

    return sorted(_WRITERS)


def get_writer(name: str, **options) -> SceneWriter:
    formats()
    try:
        cls = _WRITERS[name]
    except KeyError:
        raise ValueError(f"unknown scene format {name!r}; choose one of {', '.join(sorted(_WRITERS))}") from None
    return cls(**{k: v for k, v in options.items() if k in cls.options})
