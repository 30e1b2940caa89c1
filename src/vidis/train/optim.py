"""Optimisers as the trainer sees them, and one optimiser's step.

`VideoModel.configure_optimizers(train)` returns named optimisers, each a plain
`torch.optim.Optimizer` or an `Optim` (the optimiser with its learning-rate scheduler, the
parameters it owns and its own clipping norm); the trainer turns plain ones into `Optim`.
A model with several optimisers (a GAN's generator and discriminator) calls
`optimizer_step` once per optimiser from its own `train_step`:

    with self.autocast(train, video.device):
        d_loss = ...
    optimizer_step(self, optimizers["discriminator"], d_loss, train)

`optimizer_step` runs zero_grad, backward, the gradient average across processes (when
torch.distributed is initialised with world size > 1: `train_step` calls the model's own
methods, not a DistributedDataParallel wrapper's `forward`, so no wrapper averages the
gradients for it), clipping of that optimiser's parameters only, the step and the
scheduler's step. Autocast is the caller's: the loss is computed before the call.

`train.lr_schedule` picks each optimiser's scheduler (`make_scheduler`): "constant" (none) or
"cosine" (CosineAnnealingLR from the optimiser's lr to 0 over `train.steps`, one scheduler
step per optimiser step). In a staged run the trainer passes the stage's length as
`train.steps`, so the decay spans the stage the optimisers are built for.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..config import TrainConfig
from ..errors import ConfigError

LR_SCHEDULES = ("constant", "cosine")


@dataclass
class Optim:
    """One named optimiser of a model and what belongs to it.

    optimizer: the torch optimiser.
    scheduler: its learning-rate scheduler, stepped after every optimiser step (or None).
    params:    the parameters it updates (default: those of its param groups); clipping and
               the cross-process gradient average touch only these.
    grad_clip: max gradient norm of `params`; None uses train.grad_clip; 0 disables.
    """

    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None
    params: list[nn.Parameter] | None = None
    grad_clip: float | None = None

    def __post_init__(self):
        if self.params is None:
            self.params = [p for group in self.optimizer.param_groups for p in group["params"]]
        else:
            self.params = list(self.params)


def as_optim(optimizer: torch.optim.Optimizer | Optim) -> Optim:
    """A plain optimiser becomes an `Optim` without scheduler; an `Optim` is returned as is."""
    if isinstance(optimizer, Optim):
        return optimizer
    if isinstance(optimizer, torch.optim.Optimizer):
        return Optim(optimizer)
    raise TypeError(f"expected a torch.optim.Optimizer or vidis Optim, got {type(optimizer).__name__}")


def check_lr_schedule(name: str):
    if name not in LR_SCHEDULES:
        raise ConfigError(f"train.lr_schedule must be one of {', '.join(LR_SCHEDULES)}, got {name!r}")


def make_scheduler(optimizer: torch.optim.Optimizer, train: TrainConfig):
    """The scheduler `train.lr_schedule` asks for: None (constant) or cosine to 0 over train.steps."""
    check_lr_schedule(train.lr_schedule)
    if train.lr_schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=train.steps, eta_min=0.0)
    return None


def distributed_world_size() -> int:
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_world_size()
    return 1


def average_gradients(params: list[nn.Parameter]):
    """Average the gradients of `params` across processes (one all-reduce per dtype).

    A parameter without a gradient on this process contributes zeros, so every process
    reduces tensors of the same size. Averaging gradients that a DDP wrapper has already
    averaged leaves them unchanged (it only costs the communication).
    """
    world = distributed_world_size()
    if world <= 1:
        return
    params = [p for p in params if p.requires_grad]
    for dtype in sorted({p.dtype for p in params}, key=str):
        group = [p for p in params if p.dtype == dtype]
        for p in group:
            if p.grad is None:
                p.grad = torch.zeros_like(p)
        flat = torch.cat([p.grad.reshape(-1) for p in group])  # (sum of numels,)
        torch.distributed.all_reduce(flat, op=torch.distributed.ReduceOp.SUM)
        flat /= world
        offset = 0
        for p in group:
            n = p.numel()
            p.grad.copy_(flat[offset : offset + n].view_as(p.grad))
            offset += n


def optimizer_step(
    model: nn.Module, optim: torch.optim.Optimizer | Optim, loss: torch.Tensor, train: TrainConfig
) -> torch.Tensor | None:
    """One step of one optimiser on `loss`: zero_grad, backward, average, clip, step, schedule.

    `model` is the module whose loss it is (the unwrapped model, as `train_step` sees it).
    Only `optim.params` are clipped; gradients of other optimisers' parameters that this
    backward fills are left for their own step (which zeroes them first). Returns the total
    gradient norm of `optim.params` before clipping (a tensor, no host sync), or None when
    clipping is off.
    """
    optim = as_optim(optim)
    optim.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    average_gradients(optim.params)
    clip = train.grad_clip if optim.grad_clip is None else optim.grad_clip
    grad_norm = None
    if clip > 0:
        grad_norm = nn.utils.clip_grad_norm_(optim.params, clip)
    optim.optimizer.step()
    if optim.scheduler is not None:
        optim.scheduler.step()
    return grad_norm
