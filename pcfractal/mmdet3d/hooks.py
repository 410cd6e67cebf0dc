"""Training hooks registered in mmdet3d's HOOKS.

``BNMomentumHook``
    The batch-norm momentum decay of facebookresearch/votenet's ``train.py``
    (the recipe of the paper's scratch row): before every epoch, every
    batch-norm layer of the model gets

        momentum = max(init * decay ** (epoch // step), minimum)

    with the defaults of that code (init 0.5, decay 0.5 every 20 epochs,
    floor 0.001). The momentum is torch's (the weight of the new batch
    statistics), as in that code's ``BNMomentumScheduler``, which sets
    ``module.momentum`` the same way. mmdet3d's configs keep torch's constant
    0.1.
"""

from __future__ import annotations

from mmdet3d.registry import HOOKS
from mmengine.hooks import Hook
from torch.nn.modules.batchnorm import _BatchNorm

__all__ = ["BNMomentumHook", "bn_momentum"]


def bn_momentum(epoch: int, init: float = 0.5, decay: float = 0.5, step: int = 20, minimum: float = 0.001) -> float:
    """The momentum of epoch ``epoch`` (0-based)."""
    return max(init * decay ** (int(epoch) // int(step)), minimum)


@HOOKS.register_module()
class BNMomentumHook(Hook):
    """Set every batch-norm momentum before each training epoch.

    Args:
        init (float): momentum of the first ``step`` epochs. Defaults to 0.5.
        decay (float): factor every ``step`` epochs. Defaults to 0.5.
        step (int): epochs per decay. Defaults to 20.
        minimum (float): floor. Defaults to 0.001.
    """

    priority = "NORMAL"

    def __init__(self, init: float = 0.5, decay: float = 0.5, step: int = 20, minimum: float = 0.001) -> None:
        if not (0 < minimum <= init <= 1 and 0 < decay <= 1 and step >= 1):
            raise ValueError("BNMomentumHook needs 0 < minimum <= init <= 1, 0 < decay <= 1 and step >= 1")
        self.init, self.decay = float(init), float(decay)
        self.step, self.minimum = int(step), float(minimum)

    def momentum(self, epoch: int) -> float:
        return bn_momentum(epoch, self.init, self.decay, self.step, self.minimum)

    def before_train_epoch(self, runner) -> None:
        m = self.momentum(runner.epoch)
        model = runner.model.module if hasattr(runner.model, "module") else runner.model
        for module in model.modules():
            if isinstance(module, _BatchNorm):
                module.momentum = m
        runner.message_hub.update_scalar("train/bn_momentum", m)
