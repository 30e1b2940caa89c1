"""Two tiny models that exercise the protocol paths the paper models will need.

- `TinyTwoOptimizer`: an autoencoder plus a "critic" with its own optimiser (two optimisers,
  its own `train_step` through `optimizer_step`), a term logged only on even steps, a
  validation hook with its own metric, and a stochastic predictor (capability "predict").
- `TinyStaged`: an autoencoder trained in two stages; stage 2 freezes the encoder (which
  holds a BatchNorm), uses 3-frame clips and batch size 2.

They are registered only inside the tests (`registered(...)`), never in vidis.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn

from vidis.models.base import VideoModel
from vidis.registry import MODELS
from vidis.train.optim import Optim, make_scheduler, optimizer_step
from vidis.types import Latents, ModelOutput, Stage

DATA = {"num_digits": 1, "num_frames": 4, "image_size": 32, "num_val": 8, "num_test": 8}
TRAIN = {"steps": 6, "batch_size": 4, "eval_every": 2, "eval_batches": 1, "log_every": 1, "device": "cpu"}


@dataclass
class TinyConfig:
    latent_dim: int = 6
    noise: float = 0.01  # input noise of the denoising loss (uses the global RNG)
    predict_noise: float = 0.1


class TinyAutoencoder(VideoModel):
    """Frames -> Conv(8x8 stride 8) + BatchNorm + Linear -> code; content = mean code, motion = rest."""

    Config = TinyConfig
    capabilities = frozenset({"reconstruct", "swap", "interpolate"})
    default_data = "moving_mnist"
    presets = {"smoke": {"data": DATA, "train": TRAIN}}

    def __init__(self, config: TinyConfig, video_shape):
        super().__init__(config, video_shape)
        _, C, H, W = video_shape
        self.encoder = nn.Sequential(
            nn.Conv2d(C, 4, 8, stride=8), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(),
            nn.Linear(4 * (H // 8) * (W // 8), config.latent_dim),
        )
        self.decoder = nn.Linear(config.latent_dim, C * H * W)

    def encode(self, video):
        self.check(video)
        B, T = video.shape[:2]
        codes = self.encoder(video.flatten(0, 1)).view(B, T, -1)  # (B, T, D)
        content = codes.mean(1)  # (B, D)
        return Latents(content, codes - content[:, None])

    def decode(self, latents, num_frames):
        _, C, H, W = self.video_shape
        codes = latents.content[:, None] + latents.motion  # (B, T, D)
        B, T = codes.shape[:2]
        return torch.sigmoid(self.decoder(codes.flatten(0, 1))).view(B, T, C, H, W)

    def loss(self, batch, step):
        video = batch["video"]
        noisy = video + self.config.noise * torch.randn_like(video)
        recon = self.decode(self.encode(noisy), video.shape[1])
        loss = (recon - video).pow(2).mean()
        return ModelOutput(loss, {"recon": loss.detach()})


class TinyTwoOptimizer(TinyAutoencoder):
    capabilities = frozenset({"reconstruct", "swap", "interpolate", "predict"})
    validation_metric = "distance_from_step_4"

    def __init__(self, config, video_shape):
        super().__init__(config, video_shape)
        self.critic = nn.Linear(config.latent_dim, 1)

    def configure_optimizers(self, train):
        autoencoder = [p for n, p in self.named_parameters() if not n.startswith("critic.")]
        main = torch.optim.Adam(autoencoder, lr=train.lr)
        critic = torch.optim.SGD(self.critic.parameters(), lr=0.1)
        return {"main": Optim(main, make_scheduler(main, train)), "critic": critic}

    def train_step(self, batch, step, optimizers, train):
        with self.autocast(train, batch["video"].device):
            out = self.loss(batch, step)
        optimizer_step(self, optimizers["main"], out.loss, train)
        codes = self.encode(batch["video"]).content.detach()
        critic_loss = self.critic(codes).pow(2).mean()
        optimizer_step(self, optimizers["critic"], critic_loss, train)
        terms = {"loss": out.loss.detach(), "critic": critic_loss.detach()}
        if step % 2 == 0:  # logged on even steps only: averaged over those
            terms["even_step"] = torch.tensor(float(step))
        return terms

    @torch.no_grad()
    def validation_step(self, batch, step):
        video = batch["video"]
        samples = self.predict(video[:, :2], video.shape[1] - 2, 2, torch.Generator().manual_seed(0))
        best = (samples - video[None, :, 2:]).pow(2).mean(dim=(2, 3, 4, 5)).min(0).values  # (B,)
        return {"best_of_2_mse": best.mean(), "distance_from_step_4": torch.tensor(abs(step - 4.0))}

    def sample_predictions(self, context, horizon, num_samples, generator):
        last = context[:, -1:]  # (B, 1, C, H, W)
        shape = (num_samples, context.shape[0], horizon, *context.shape[2:])
        noise = torch.randn(shape, generator=generator, device=context.device)
        return (last[None] + self.config.predict_noise * noise).clamp(0, 1)


class TinyStaged(TinyAutoencoder):
    """Stage "pretrain": 3 steps of everything; stage "decoder": the decoder only, 3-frame
    clips, batch size 2. Records the encoder BatchNorm's mode and the batch's (B, T) at each
    training step, and raises at step `crash_at` (a simulated interruption)."""

    crash_at: int | None = None

    def __init__(self, config, video_shape):
        super().__init__(config, video_shape)
        self.seen: list[tuple[int, bool, tuple[int, int]]] = []  # (step, BN training, (B, T))

    def stages(self, train):
        return [
            Stage("pretrain", steps=3),
            Stage("decoder", batch_size=2, data={"num_frames": 3}, trainable=("decoder",)),
        ]

    def loss(self, batch, step):
        if torch.is_grad_enabled():  # a training step, not validation
            if step == self.crash_at:
                raise RuntimeError(f"simulated crash at step {step}")
            self.seen.append((step, self.encoder[1].training, tuple(batch["video"].shape[:2])))
        return super().loss(batch, step)


@contextmanager
def registered(**models):
    """Register `name=cls` models for the duration of the block, then remove them."""
    for name, cls in models.items():
        assert name not in MODELS
        cls.name = name
        MODELS[name] = cls
    try:
        yield
    finally:
        for name in models:
            MODELS.pop(name, None)


def average_gradients_worker(rank: int, world: int, init_file: str, out_file: str):
    """One process of a 2-process gloo group: each process's loss is (rank + 1) * sum(w);
    after `optimizer_step` every process must hold the average gradient (and the same weights)."""
    import torch.distributed as dist  # noqa: PLC0415

    from vidis.config import TrainConfig  # noqa: PLC0415

    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    try:
        weight = nn.Parameter(torch.zeros(3))
        unused = nn.Parameter(torch.zeros(2))  # no gradient on any process: reduced as zeros
        optim = Optim(torch.optim.SGD([weight, unused], lr=1.0))
        optimizer_step(None, optim, (rank + 1) * weight.sum(), TrainConfig())
        torch.save({"grad": weight.grad.clone(), "weight": weight.detach().clone(),
                    "unused": unused.grad.clone()}, f"{out_file}.{rank}")
    finally:
        dist.destroy_process_group()
