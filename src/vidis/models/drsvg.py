"""DR-SVG: stochastic video prediction with content and pose latents (paper 003).

Paper 003 (`shared/papers/003_5b0058f2d5e0dba8.txt`), section 3, eqs. 3-9, on SVG-LP's backbone
(`vidis.models.svg`: the DCGAN encoder and decoder with skips, the two-layer frame predictor).

Per transition t = 1..T-1, with h_t = Enc(x_t) (eqs. 7-8):

    q_c(z^c_t | x_{0..t}) = LSTM_phi_c(h_1..h_t)      content posterior, |z^c| = 64
    q_p(z^p_t | x_{0..t}) = LSTM_phi_p(h_1..h_t)      pose posterior,    |z^p| = 8
    p(z^p_t | x_{0..t-1}) = LSTM_psi(h_0..h_{t-1})    learned pose prior
    g_t = LSTM_theta([h_{t-1}, z^c_t, z^p_t]);  x^_t = Dec(g_t, skips)          (eq. 7)

Loss (eq. 4, scaled as SVG's code scales eq. 2): the MSE summed over transitions, plus beta x
[KL(q_c(t) || q_c(t-1)) + KL(q_p(t) || p(t))] summed over dimensions, transitions and clips and
divided by the batch, plus `adversarial_weight` x eq. 6. The pose discriminator D_p (eq. 5) has
its own Adam, stepped in `train_step` after the model's, on its own loss only (`optimizer_step`
zeroes the gradients the model's loss left in it). Test time (eq. 9): z^p_t from the learned
prior, z^c from the content posterior of the previous step, the content LSTM fed the encoding
of each generated frame. Swap (section 4.3): clip A regenerated from its first frame with A's
content latents and B's pose latents (posterior means in eval mode).

What the paper leaves open, and what vidis decided:

- content prior at the first transition (t = 1, no q_c(t-1)): N(0, I), SVG-FP's prior.
- z^c_t in training (eq. 7) against z^c_{t-1} at test (eq. 9): both as written; the content KL
  keeps the two close. In the context phase of a prediction z^c_t comes from q_c(t) as in
  training (the posterior on the true frames, as SVG's generation does).
- the prior side of the content KL, q_c(t-1), is detached: it is a target, as the content code
  of the other frame is in drnet-py's similarity loss (`train_drnet.py`: `h_c2 ... .detach()`).
- D_p: 5 hidden layers (the paper) of width 100 (drnet-py's `sd_nf`) with ReLU and a sigmoid
  output (drnet-py's `scene_discriminator`; vidis keeps the logit and uses BCE-with-logits, the
  same function, numerically stable). Inputs: the pose posterior means [mu^p_1, mu^p_t] (drnet's
  pose codes are deterministic), t drawn uniformly from 2..T-1 once per step; same-clip pairs
  are labelled 1, and pairs with the next clip's mu^p_t (the batch rolled by one, so never the
  same clip) 0, BCE averaged over both (eq. 5).
- the pose posterior's adversarial term (eq. 6): BCE of D_p on same-clip pairs against 0.5
  (drnet-py's "maximise entropy"), with mu^p_t detached as drnet-py detaches h_p2, weight 1e-4
  (drnet-py's `sd_weight`). D_p's own Adam: lr as the model, betas (0.5, 0.999) as drnet-py.
- presets: SVG-LP's (see `vidis.models.svg`), with |z^c| = 64 and |z^p| = 8 (section 4.1).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError
from ..nn import reparameterize
from ..registry import register_model
from ..train.optim import Optim, make_scheduler, optimizer_step
from ..types import Latents, ModelOutput
from .svg import (
    SVG_SMALL,
    SVG_SMOKE,
    BackboneConfig,
    GaussianLSTM,
    SVGBackbone,
    gaussian_kl,
    init_weights,
    paper_presets,
    sample_gaussian,
)


@dataclass
class DRSVGConfig(BackboneConfig):
    content_dim: int = 64  # |z^c|
    pose_dim: int = 8  # |z^p|
    discriminator_hidden: int = 100  # drnet-py's sd_nf
    discriminator_layers: int = 5  # hidden layers (paper 003 section 4.1)
    adversarial_weight: float = 1e-4  # drnet-py's sd_weight
    discriminator_beta1: float = 0.5  # drnet-py's Adam beta1

    def validate(self):
        super().validate()
        for name in ("content_dim", "pose_dim", "discriminator_hidden", "discriminator_layers"):
            if getattr(self, name) < 1:
                raise ConfigError(f"model.{name} must be >= 1, got {getattr(self, name)}")
        if self.adversarial_weight < 0:
            raise ConfigError(f"model.adversarial_weight must be >= 0, got {self.adversarial_weight}")
        if not 0 <= self.discriminator_beta1 < 1:
            raise ConfigError(f"model.discriminator_beta1 must be in [0, 1), got {self.discriminator_beta1}")


class PoseDiscriminator(nn.Module):
    """D_p: [z^p_1, z^p_t] (N, 2 P) -> the logit of "same clip" (N,). Fully connected, ReLU."""

    def __init__(self, pose_dim: int, hidden: int, layers: int):
        super().__init__()
        sizes = [2 * pose_dim] + [hidden] * layers
        blocks = [m for a, b in zip(sizes, sizes[1:]) for m in (nn.Linear(a, b), nn.ReLU(inplace=True))]
        self.net = nn.Sequential(*blocks, nn.Linear(hidden, 1))

    def forward(self, first: torch.Tensor, other: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([first, other], -1)).squeeze(-1)


def _smoke(preset: dict) -> dict:
    model = {k: v for k, v in preset["model"].items() if k != "z_dim"}
    return {**preset, "model": {**model, "content_dim": 3, "pose_dim": 2, "discriminator_hidden": 8}}


@register_model("drsvg")
class DRSVG(SVGBackbone):
    Config = DRSVGConfig
    latent_groups = {"content": ("content",), "motion": ("motion",)}
    # paper-kth: |z^c| = 64, |z^p| = 16 (section 4.1)
    presets = paper_presets({}, _smoke(SVG_SMOKE), SVG_SMALL, kth={"pose_dim": 16})

    def __init__(self, config: DRSVGConfig, video_shape):
        super().__init__(config, video_shape, config.content_dim + config.pose_dim)
        c = config
        self.content_lstm = GaussianLSTM(c.g_dim, c.content_dim, c.rnn_size, c.posterior_layers)
        self.pose_lstm = GaussianLSTM(c.g_dim, c.pose_dim, c.rnn_size, c.posterior_layers)
        self.prior_lstm = GaussianLSTM(c.g_dim, c.pose_dim, c.rnn_size, c.prior_layers)
        self.discriminator = PoseDiscriminator(c.pose_dim, c.discriminator_hidden, c.discriminator_layers)
        init_weights(self)  # drnet-py initialises its discriminator with the same function

    def configure_optimizers(self, train):
        super().configure_optimizers(train)  # the preset's data check
        main = [p for n, p in self.named_parameters()
                if p.requires_grad and not n.startswith("discriminator.")]
        critic = [p for p in self.discriminator.parameters() if p.requires_grad]
        betas = (train.adam_beta1, train.adam_beta2)
        adam = torch.optim.Adam(main, lr=train.lr, betas=betas, weight_decay=train.weight_decay)
        d_betas = (self.config.discriminator_beta1, train.adam_beta2)
        d_adam = torch.optim.Adam(critic, lr=train.lr, betas=d_betas)
        return {"main": Optim(adam, make_scheduler(adam, train)),
                "discriminator": Optim(d_adam, make_scheduler(d_adam, train))}

    # -- distributions --------------------------------------------------------------------------
    def posterior(self, video: torch.Tensor):
        """video (B, T, ...) -> ((mu, logvar) of q_c, of q_p, of the pose prior), each (B, T-1, D)."""
        h, _ = self.encode_frames(video)
        content_mean, content_logvar, _ = self.content_lstm(h[:, 1:])
        pose_mean, pose_logvar, _ = self.pose_lstm(h[:, 1:])
        prior_mean, prior_logvar, _ = self.prior_lstm(h[:, :-1])
        return (content_mean, content_logvar), (pose_mean, pose_logvar), (prior_mean, prior_logvar)

    def encode(self, video: torch.Tensor) -> Latents:
        """Posterior means: content (B, T-1, |z^c|), motion = pose (B, T-1, |z^p|)."""
        self.check(video)
        (content, _), (pose, _), _ = self.posterior(video)
        return Latents(content, pose)

    def swap_latents(self, video_a, video_b):
        """Clip A's content latents beside clip B's pose latents (section 4.3)."""
        (content_mean, content_logvar), _, _ = self.posterior(video_a)
        _, (pose_mean, pose_logvar), _ = self.posterior(video_b)
        content = reparameterize(content_mean, content_logvar, sample=self.training)
        pose = reparameterize(pose_mean, pose_logvar, sample=self.training)
        return torch.cat([content, pose], -1)

    # -- training -------------------------------------------------------------------------------
    def pose_pairs(self, pose_mean: torch.Tensor):
        """(mu^p_1, mu^p_t) of each clip and mu^p_t of the next clip (B, P) each; t drawn once."""
        n = pose_mean.shape[1]
        t = int(torch.randint(1, n, ())) if n > 1 else 0
        other = pose_mean[:, t]
        return pose_mean[:, 0], other, other.roll(1, 0)

    def discriminator_loss(self, first, same, different) -> tuple[torch.Tensor, torch.Tensor]:
        """Eq. 5 on detached pose codes: (BCE over same-clip (1) and other-clip (0) pairs, accuracy)."""
        same_logit = self.discriminator(first.detach(), same.detach())
        different_logit = self.discriminator(first.detach(), different.detach())
        same_logit, different_logit = same_logit.float(), different_logit.float()
        bce = F.binary_cross_entropy_with_logits
        loss = 0.5 * (bce(same_logit, torch.ones_like(same_logit))
                      + bce(different_logit, torch.zeros_like(different_logit)))
        accuracy = 0.5 * ((same_logit > 0).float().mean() + (different_logit <= 0).float().mean())
        return loss, accuracy.detach()

    def model_loss(self, video: torch.Tensor):
        """(the model's loss, its terms, the pose pairs for D_p)."""
        self.check(video)
        c = self.config
        B, T = video.shape[:2]
        h, skips = self.encode_frames(video)  # (B, T, g)
        content_mean, content_logvar, _ = self.content_lstm(h[:, 1:])  # q_c(z^c_t | x_{0..t})
        pose_mean, pose_logvar, _ = self.pose_lstm(h[:, 1:])  # q_p(z^p_t | x_{0..t})
        prior_mean, prior_logvar, _ = self.prior_lstm(h[:, :-1])  # p(z^p_t | x_{0..t-1})
        content = reparameterize(content_mean, content_logvar, sample=self.training)
        pose = reparameterize(pose_mean, pose_logvar, sample=self.training)
        g, _ = self.predictor(torch.cat([h[:, :-1], content, pose], -1))  # eq. 7
        predicted = self.decode_targets(g, skips)
        mse = (predicted.float() - video[:, 1:].float()).pow(2).mean(dim=(0, 2, 3, 4)).sum()
        zeros = content_mean.new_zeros(B, 1, c.content_dim)  # t = 1: N(0, I)
        previous_mean = torch.cat([zeros, content_mean[:, :-1].detach()], 1)  # q_c(t-1), a target
        previous_logvar = torch.cat([zeros, content_logvar[:, :-1].detach()], 1)
        kl_content = gaussian_kl(content_mean, content_logvar, previous_mean, previous_logvar).sum() / B
        kl_pose = gaussian_kl(pose_mean, pose_logvar, prior_mean, prior_logvar).sum() / B
        first, same, different = self.pose_pairs(pose_mean)
        same_logit = self.discriminator(first, same.detach()).float()
        adversarial = F.binary_cross_entropy_with_logits(same_logit, torch.full_like(same_logit, 0.5))
        loss = mse + c.beta * (kl_content + kl_pose) + c.adversarial_weight * adversarial  # eqs. 4, 6
        terms = {"mse": mse.detach() / (T - 1), "kl_content": kl_content.detach() / (T - 1),
                 "kl_pose": kl_pose.detach() / (T - 1), "adversarial": adversarial.detach()}
        return loss, terms, (first, same, different)

    def loss(self, batch: dict, step: int) -> ModelOutput:
        """The model's loss with D_p's loss and accuracy among the terms (validation)."""
        loss, terms, pairs = self.model_loss(batch["video"])
        d_loss, d_accuracy = self.discriminator_loss(*pairs)
        terms.update(discriminator=d_loss.detach(), discriminator_accuracy=d_accuracy)
        return ModelOutput(loss, terms)

    def train_step(self, batch: dict, step: int, optimizers: dict, train) -> dict:
        """The model's step on its loss, then D_p's step on eq. 5 (each optimiser its own loss)."""
        with self.autocast(train, batch["video"].device):
            loss, terms, pairs = self.model_loss(batch["video"])
        grad_norm = optimizer_step(self, optimizers["main"], loss, train)
        with self.autocast(train, batch["video"].device):
            d_loss, d_accuracy = self.discriminator_loss(*pairs)
        optimizer_step(self, optimizers["discriminator"], d_loss, train)
        out = {"loss": loss.detach(), **terms, "discriminator": d_loss.detach(),
               "discriminator_accuracy": d_accuracy}
        if grad_norm is not None:
            out["grad_norm"] = grad_norm
        return out

    # -- prediction -----------------------------------------------------------------------------
    def generate_future(self, context: torch.Tensor, horizon: int, generator) -> torch.Tensor:
        """context (N, Tc, C, H, W) -> one sampled future (N, horizon, C, H, W), eq. 9."""
        Tc = context.shape[1]
        h, skips = self.encode_frames(context)
        content_mean, content_logvar, content_state = self.content_lstm(h[:, 1:])  # true frames
        pose_mean, pose_logvar, _ = self.pose_lstm(h[:, 1:])
        content = sample_gaussian(content_mean, content_logvar, generator)
        pose = sample_gaussian(pose_mean, pose_logvar, generator)
        _, _, prior_state = self.prior_lstm(h[:, :-1])  # only advanced
        _, predictor_state = self.predictor(torch.cat([h[:, :-1], content, pose], -1))  # output dropped
        skip = skips[Tc - 2]
        h_in, frames = h[:, -1:], []
        content_mean, content_logvar = content_mean[:, -1:], content_logvar[:, -1:]  # q_c(t-1)
        for t in range(horizon):
            prior_mean, prior_logvar, prior_state = self.prior_lstm(h_in, prior_state)
            pose = sample_gaussian(prior_mean, prior_logvar, generator)  # (N, 1, P)
            content = sample_gaussian(content_mean, content_logvar, generator)  # z^c_{t-1}
            g, predictor_state = self.predictor(torch.cat([h_in, content, pose], -1), predictor_state)
            frame = self.decoder(g[:, 0], skip)
            frames.append(frame)
            if t < horizon - 1:
                h_in = self.encoder(frame)[0][:, None]
                content_mean, content_logvar, content_state = self.content_lstm(h_in, content_state)
        return torch.stack(frames, 1)
