"""Named build sizes. ``tiny`` is the demo and test size; ``paper`` is PC-FractalDB-1k
(1,000 categories x 1,000 instances, 10,000 scenes) at the paper's threshold 0.15."""

from __future__ import annotations

PRESETS: dict[str, dict] = {
    "tiny": {"categories": 8, "per_category": 16, "scenes": 6, "threshold": 0.15},
    "small": {"categories": 100, "per_category": 100, "scenes": 500, "threshold": 0.15},
    "paper": {"categories": 1000, "per_category": 1000, "scenes": 10000, "threshold": 0.15},
}


def preset(name: str) -> dict:
    try:
        return dict(PRESETS[name])
    except KeyError:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}") from None
