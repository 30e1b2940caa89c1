"""The stability check behind AVLAE's default adversarial loss (docs/paper001.md).

    PYTHONPATH=src python benchmarks/check_paper001_losses.py nonsaturating 10 300
    PYTHONPATH=src python benchmarks/check_paper001_losses.py minimax 0 300

`small`'s data (sprites 32x32x8, batch 16) with narrow networks (latents 32, widths 8-32, 10 Jacobi
steps), seed 0. Every 100 iterations it prints the loss terms and, for 256 samples against 256
test clips: the RMS difference of the per-pixel means, of the per-pixel standard deviations, and
the mean absolute frame-to-frame change of samples and of real clips.
"""

import sys
import time

import torch

from vidis.config import to_dict
from vidis.data import make_dataset
from vidis.train.spec import build_model, make_spec

loss, gamma, steps = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
model = {
    "gan_loss": loss,
    "r1_gamma": gamma,
    "latent_dim": 32,
    "generator_width": 8,
    "encoder_width": 8,
    "max_channels": 32,
    "generator_max_channels": 32,
    "motion_channels": 8,
    "discriminator_hidden": 32,
    "flow_iterations": 10,
}
spec = make_spec("avlae", "sprites", "small", {"model": model, "train": {"batch_size": 16}})
data = make_dataset("sprites", "train", **to_dict(spec.data_config))
test = make_dataset("sprites", "test", **to_dict(spec.data_config))
torch.manual_seed(0)
m = build_model(spec, data.video_shape).train()
opt = m.configure_optimizers(spec.train)
real = test.batch(range(256))["video"]


def stats():
    m.eval()
    torch.manual_seed(1)
    with torch.no_grad():
        g = m.generate(256)
    m.train()
    dm = (g.mean(0) - real.mean(0)).pow(2).mean().sqrt().item()
    ds = (g.std(0) - real.std(0)).pow(2).mean().sqrt().item()
    motion = ((g[:, 1:] - g[:, :-1]).abs().mean().item(), (real[:, 1:] - real[:, :-1]).abs().mean().item())
    return round(dm, 4), round(ds, 4), tuple(round(x, 4) for x in motion)


t = time.time()
for s in range(steps):
    terms = m.train_step(data.batch(range(s * 16, s * 16 + 16)), s, opt, spec.train)
    if s % 100 == 99 or s == 0:
        shown = {k: round(float(v), 3) for k, v in terms.items()}
        print(loss, gamma, s + 1, shown, stats(), f"{time.time() - t:.0f}s", flush=True)
