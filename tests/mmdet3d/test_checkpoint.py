"""mmengine checkpoints saved by a real Runner load again under torch >= 2.6.

A tiny model trains for two iterations on the CPU with mmengine's Runner and
its CheckpointHook; the checkpoint is then used with ``load_from`` and with
``resume=True`` by new Runners, and by ``Pretrained`` style loading.
"""

import itertools
import pickle

import pytest
import torch
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.runner import Runner, load_checkpoint
from torch import nn
from torch.utils.data import DataLoader, Dataset

from pcfractal.mmdet3d import checkpoint as ckpt

_names = itertools.count()


class TinyModel(BaseModel):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(3, 1)

    def forward(self, inputs, targets=None, mode="tensor"):
        out = self.linear(inputs).squeeze(-1)
        if mode == "loss":
            return dict(loss=((out - targets) ** 2).mean())
        return out


class TinyData(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        x = torch.randn(3, generator=torch.Generator().manual_seed(i))
        return dict(inputs=x, targets=x.sum())


class RecordStart(Hook):
    """Remembers the iteration and weights the training loop starts from."""

    def before_train(self, runner):
        self.iter = runner.iter
        self.weights = {k: v.clone() for k, v in runner.model.state_dict().items()}


def _runner(work_dir, max_iters, **kwargs):
    return Runner(
        model=TinyModel(),
        work_dir=str(work_dir),
        train_dataloader=DataLoader(TinyData(), batch_size=4, shuffle=False),
        optim_wrapper=dict(optimizer=dict(type="SGD", lr=0.1, momentum=0.9)),
        param_scheduler=dict(type="MultiStepLR", milestones=[1], by_epoch=False),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        default_hooks=dict(checkpoint=dict(type="CheckpointHook", interval=1, by_epoch=False), logger=dict(type="LoggerHook", interval=1)),
        experiment_name=f"pcfractal_ckpt_test_{next(_names)}",
        log_level="WARNING",
        **kwargs,
    )


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A checkpoint written by mmengine after 2 iterations, and its model."""
    work_dir = tmp_path_factory.mktemp("ckpt_run")
    runner = _runner(work_dir, max_iters=2)
    runner.train()
    path = work_dir / "iter_2.pth"
    assert path.is_file()
    state = {k: v.clone() for k, v in runner.model.state_dict().items()}
    return path, state


def _same_weights(a, b):
    assert a.keys() == b.keys()
    return all(torch.equal(a[k], b[k]) for k in a)


def test_plain_torch_load_rejects_mmengine_checkpoints(saved):
    """The problem being fixed: torch >= 2.6 loads weights only by default."""
    path, _ = saved
    if torch.__version__ < "2.6":
        pytest.skip("torch < 2.6 loads full pickles by default")
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path)


def test_load_from(saved, tmp_path):
    path, state = saved
    assert ckpt.is_installed()
    runner = _runner(tmp_path, max_iters=2, load_from=str(path))
    runner.load_or_resume()
    assert _same_weights(runner.model.state_dict(), state)


def test_resume_continues_from_the_checkpoint(saved, tmp_path):
    path, state = saved
    record = RecordStart()
    runner = _runner(tmp_path, max_iters=3, load_from=str(path), resume=True, custom_hooks=[record])
    runner.train()
    assert record.iter == 2
    assert _same_weights(record.weights, state)
    assert runner.iter == 3
    meta = torch.load(tmp_path / "iter_3.pth", weights_only=False)["meta"]
    assert meta["iter"] == 3
    # the optimizer state (momentum) and the message hub came back as well
    assert runner.optim_wrapper.optimizer.state
    assert len(runner.message_hub.get_scalar("train/loss").data[0]) == 3


def test_pretrained_style_loading(saved):
    path, state = saved
    model = TinyModel()
    load_checkpoint(model, str(path), map_location="cpu")
    assert _same_weights(model.state_dict(), state)


def test_without_the_fix_mmengine_fails(saved, tmp_path):
    path, _ = saved
    if torch.__version__ < "2.6":
        pytest.skip("torch < 2.6 loads full pickles by default")
    ckpt.uninstall()
    try:
        assert not ckpt.is_installed()
        runner = _runner(tmp_path, max_iters=2, load_from=str(path))
        with pytest.raises(pickle.UnpicklingError):
            runner.load_or_resume()
    finally:
        ckpt.install()
    assert ckpt.is_installed()
    ckpt.install()  # idempotent
    assert ckpt.is_installed()


def test_missing_file_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="can not be found"):
        ckpt.load_from_local(str(tmp_path / "nope.pth"))
