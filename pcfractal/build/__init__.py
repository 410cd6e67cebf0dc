"""Building datasets: one ``run_stage`` for every stage (plan, checks, lock, resume,
repair, executor, progress, seal), the stages themselves, and the ``build`` pipeline.

>>> from pcfractal.build import RunOptions, run_stage
>>> from pcfractal.build.stages import CategoriesSettings, CategoriesStage
>>> # run_stage(CategoriesStage(CategoriesSettings(count=8)), "cats", RunOptions(workers=2))
"""

from .plan import BuildError, Plan
from .progress import Log
from .stage import RunOptions, Stage, UnitWriter, run_stage

__all__ = ["BuildError", "Log", "Plan", "RunOptions", "Stage", "UnitWriter", "run_stage"]
