"""Load mmengine-saved checkpoints under torch >= 2.6.

torch 2.6 changed ``torch.load``'s default to ``weights_only=True``, which
unpickles only tensors, plain containers and allow-listed classes. mmengine
0.10.x calls ``torch.load(filename, map_location=...)`` without that argument,
and the checkpoints it writes hold more than weights: the message hub's
``HistoryBuffer`` objects with numpy arrays, numpy scalars and dtypes, the
schedulers' ``Counter`` milestones, and whatever hooks or datasets put in
``meta`` / ``runtime_info``. So ``resume=True``, ``load_from=...`` and
``init_cfg=dict(type='Pretrained', ...)`` all fail with
``UnpicklingError: Weights only load failed``.

The fix chosen here: re-register mmengine's loader for local paths (the
``''`` scheme of :class:`mmengine.runner.checkpoint.CheckpointLoader`, its
public extension point) with one that passes ``weights_only=False``.
Every checkpoint mmengine loads from disk goes through that loader (Runner's
``load_from`` and ``resume``, ``load_checkpoint``, ``Pretrained`` init);
``torch.load`` everywhere else in the process keeps its safe default.

Why not ``torch.serialization.add_safe_globals``: that allow-list is
process-wide, so it would widen every ``torch.load`` in the process, and it
can never be complete for mmengine checkpoints (``runtime_info`` and ``meta``
take arbitrary objects from hooks and datasets), so a new hook would break
resuming again. Loading with ``weights_only=False`` runs pickled code, which
is acceptable exactly here: the path comes from the user's own config or
command line, and an mmengine config is itself Python that is executed. Do
not point ``load_from`` at checkpoints you would not run as code. Remote
schemes are untouched (``http(s)://`` goes through ``torch.hub``, which
already loads with ``weights_only=False``).

Public API::

    install()       # idempotent; done by ``import pcfractal.mmdet3d``
    uninstall()     # put mmengine's own local loader back (tests)
    is_installed()
    load_from_local(filename, map_location=None)   # the loader itself
"""

from __future__ import annotations

import os.path as osp

import torch

__all__ = ["install", "uninstall", "is_installed", "load_from_local"]

_LOCAL_PREFIX = ""  # mmengine's scheme for plain file paths


def load_from_local(filename, map_location=None):
    """Load a checkpoint file written by mmengine (or plain ``torch.save``).

    Same contract as ``mmengine.runner.checkpoint.load_from_local`` (its name
    too: mmengine logs ``Loads checkpoint by local backend``), but with
    ``weights_only=False`` so that mmengine's own checkpoints load under
    torch >= 2.6.

    Args:
        filename (str): path of a local checkpoint; ``~`` is expanded.
        map_location (str | torch.device | callable, optional): as in
            :func:`torch.load`. Defaults to None.

    Returns:
        dict: the checkpoint.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f"{filename} can not be found.")
    return torch.load(filename, map_location=map_location, weights_only=False)


def install() -> None:
    """Make mmengine load local checkpoints with ``weights_only=False``
    (idempotent)."""
    from mmengine.runner.checkpoint import CheckpointLoader

    CheckpointLoader.register_scheme(prefixes=_LOCAL_PREFIX, loader=load_from_local, force=True)


def uninstall() -> None:
    """Register mmengine's own local loader again."""
    from mmengine.runner import checkpoint as mmengine_checkpoint

    mmengine_checkpoint.CheckpointLoader.register_scheme(prefixes=_LOCAL_PREFIX, loader=mmengine_checkpoint.load_from_local, force=True)


def is_installed() -> bool:
    """Whether local paths are loaded by :func:`load_from_local`."""
    from mmengine.runner.checkpoint import CheckpointLoader

    return CheckpointLoader._get_checkpoint_loader("checkpoint.pth") is load_from_local
