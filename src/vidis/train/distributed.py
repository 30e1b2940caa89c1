"""Several processes, one run: `torchrun --nproc_per_node N -m vidis train ...`.

torchrun starts N processes with RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT in
their environment; `init_from_env` joins them into one process group (NCCL on CUDA, gloo on
CPU) and gives each its own GPU (LOCAL_RANK). Several machines: the same command on each with
`--nnodes M --node_rank K --rdzv_backend c10d --rdzv_endpoint HOST:PORT` (see docs/platform.md).

How a run is shared (the trainer does it; a model needs nothing):

- Data: every step draws the same global batch of `train.batch_size` clips (the same clips as
  one process would); process r takes the r-th of N equal slices (`shard`).
- Gradients: `vidis.train.optim.optimizer_step` all-reduces each optimiser's gradients (mean
  over processes) before clipping and stepping. A DistributedDataParallel wrapper would not:
  its hooks fire for backward passes of its own `forward`, and `train_step` calls the model's
  methods (`loss`, `encode`, ...), as multi-optimiser models must. So vidis averages in the
  step helper, for one optimiser or several, in every training stage; the parameters start
  equal (broadcast from rank 0) and stay equal, since every process applies the same update.
- Buffers (BatchNorm running statistics) are per process; rank 0's are saved. Batch statistics
  are per process too (SyncBatchNorm does not run on CPU in torch 2.13), so a model with
  BatchNorm trained on N processes is close to, not equal to, the one-process run.
- Random numbers: rank 0 keeps the run's seeded stream (one process is rank 0: a one-process
  run is unchanged); rank r > 0 reseeds with (train.seed, r). Checkpoints keep every rank's
  RNG state, so `--resume` with the same number of processes continues exactly.
- Writing: rank 0 alone writes config.json, log.csv, TensorBoard events and checkpoints, and
  decodes a video folder's cache first (`main_first`); the others wait for it, then read.
- Logged train values are averaged over processes; validation runs on rank 0 and its values
  are broadcast, so every process takes the same decisions (stop on a non-finite value, keep
  the best checkpoint, stop at train.max_minutes).
"""

from __future__ import annotations

import os

import torch
import torch.distributed as dist

from .. import errors
from ..errors import ConfigError


def is_distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    return dist.get_rank() if is_distributed() else 0


def world_size() -> int:
    return dist.get_world_size() if is_distributed() else 1


def is_main() -> bool:
    return rank() == 0


def launched_by_torchrun() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def init_from_env(device: str = "auto") -> bool:
    """Join the process group torchrun describes in the environment (no-op without it).

    `device` is train.device: CUDA (auto with a GPU, or cuda) uses NCCL and the GPU LOCAL_RANK,
    CPU uses gloo. Returns whether a group of more than one process is running.
    """
    if not launched_by_torchrun() or dist.is_initialized():
        return is_distributed()
    if not dist.is_available():
        raise ConfigError("WORLD_SIZE > 1 (torchrun) but this torch build has no torch.distributed")
    cuda = device == "cuda" or (device == "auto" and torch.cuda.is_available())
    if cuda:
        local = int(os.environ.get("LOCAL_RANK", "0"))
        if local >= torch.cuda.device_count():
            raise ConfigError(
                f"LOCAL_RANK {local} but this machine has {torch.cuda.device_count()} GPU(s): start at most "
                "that many processes per node (torchrun --nproc_per_node)"
            )
        torch.cuda.set_device(local)
    dist.init_process_group("nccl" if cuda else "gloo")
    return is_distributed()


def device_for(device: torch.device) -> torch.device:
    """The CUDA device of this process (its LOCAL_RANK) when training on CUDA in a group."""
    if device.type == "cuda" and is_distributed():
        return torch.device("cuda", torch.cuda.current_device())
    return device


def shutdown():
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def barrier():
    if is_distributed():
        dist.barrier()


def shard(indices: list[int]) -> list[int]:
    """This process's equal slice of a global batch (the batch size divides by world_size)."""
    world = world_size()
    if world == 1:
        return indices
    per = len(indices) // world
    return indices[rank() * per : (rank() + 1) * per]


def check_batch_size(batch_size: int, what: str = "train.batch_size"):
    world = world_size()
    if batch_size % world:
        raise ConfigError(
            f"{what}={batch_size} must be divisible by the number of processes ({world}): each takes "
            f"{what} / {world} clips of every step"
        )


def broadcast_object(value):
    """Rank 0's `value` on every process."""
    if not is_distributed():
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def all_gather_object(value) -> list:
    if not is_distributed():
        return [value]
    out = [None] * world_size()
    dist.all_gather_object(out, value)
    return out


def mean_over_processes(values: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Each scalar tensor averaged over processes, in one all-reduce (same keys everywhere)."""
    if not is_distributed() or not values:
        return values
    names = sorted(values)
    stacked = torch.stack([values[name].detach().float().reshape(()) for name in names])  # (K,)
    stacked = stacked.to("cuda" if dist.get_backend() == "nccl" else "cpu")  # no sync on CUDA
    dist.all_reduce(stacked, op=dist.ReduceOp.SUM)
    stacked = stacked / world_size()
    return {name: stacked[i] for i, name in enumerate(names)}


def any_process(flag: bool) -> bool:
    """True on every process when `flag` is true on one of them."""
    if not is_distributed():
        return flag
    value = torch.tensor([int(flag)], device="cuda" if dist.get_backend() == "nccl" else "cpu")
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())


def broadcast_module(module: torch.nn.Module):
    """Rank 0's parameters and buffers on every process."""
    if not is_distributed():
        return
    with torch.no_grad():
        for tensor in [*module.parameters(), *module.buffers()]:
            dist.broadcast(tensor.data, src=0)


def process_seed(seed: int) -> int:
    """The torch seed of rank r > 0: a function of (seed, r); rank 0 keeps `seed`'s stream."""
    return int(torch.randint(0, 2**62, (), generator=torch.Generator().manual_seed(seed * 1009 + rank())))


def main_first(fn):
    """Run `fn` on rank 0, then on the others (e.g. to fill a cache they then read).

    An error on rank 0 is raised on every process (the same VidisError class and message where
    it is one), so no process waits for one that has stopped.
    """
    if not is_distributed():
        return fn()
    failure, result = None, None
    if is_main():
        try:
            result = fn()
        except Exception as err:  # noqa: BLE001  (passed to the other processes, raised below)
            failure = err
    message = broadcast_object(None if failure is None else (type(failure).__name__, str(failure)))
    if failure is not None:
        raise failure
    if message is not None:
        cls = getattr(errors, message[0], None)
        if isinstance(cls, type) and issubclass(cls, errors.VidisError):
            raise cls(message[1])
        raise RuntimeError(f"rank 0 failed: {message[0]}: {message[1]}")
    return result if is_main() else fn()
