"""`paper-code` against the paper's public code itself, when a local copy is given.

Set VIDIS_PAPER000_CODE to a checkout of m3hmetkoc/disentangled-VAE (commit 8d7b2fe); it is
imported from there at test time and never shipped with vidis. Without it these tests skip.
The public weights are loaded into vidis's `paper-code` networks, which must then give the
same reconstructions and the same loss terms as the public `compute_loss` functions.
"""

import os
import sys

import pytest
import torch

from vidis.train.spec import build_model, make_spec

CODE = os.environ.get("VIDIS_PAPER000_CODE")
pytestmark = pytest.mark.skipif(not CODE, reason="set VIDIS_PAPER000_CODE to a checkout of the public code")


@pytest.fixture(scope="module")
def public():
    sys.path.insert(0, CODE)
    try:
        import models  # the public repository's package

        yield models
    finally:
        sys.path.remove(CODE)


def load_public_weights(public_model, model):
    """Pair the two state dicts entry by entry, in registration order (the public decoder
    registers its learned first input after its linears, vidis after its LSTM: both go first)."""
    def ordered(state, first):
        return [k for k in state if first in k] + [k for k in state if first not in k]

    theirs, ours = public_model.state_dict(), model.state_dict()
    their_keys, our_keys = ordered(theirs, "initial_input"), ordered(ours, "first_input")
    assert len(their_keys) == len(our_keys)
    for a, b in zip(their_keys, our_keys):
        assert theirs[a].shape == ours[b].shape, (a, b)
    model.load_state_dict({b: theirs[a] for a, b in zip(their_keys, our_keys)})


@pytest.fixture
def video():
    g = torch.Generator().manual_seed(0)
    strokes = (torch.rand(4, 20, 1, 64, 64, generator=g) > 0.8).float()  # sparse, like digits
    return strokes * torch.rand(4, 20, 1, 64, 64, generator=g)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["dvae", "lstm_vae", "frame_vae"])
def test_paper_code_is_the_public_network_and_loss(public, name, video):
    if name == "dvae":
        theirs = public.DisentangledVAE()
    elif name == "lstm_vae":
        theirs = public.LSTMVAE(lstm_layers=2)  # configs/lstm_simple.json
    else:
        theirs = public.BaselineVAE(latent_dim=256)
    ours = build_model(make_spec(name, preset="paper-code"), (20, 1, 64, 64))
    assert ours.num_parameters() == sum(p.numel() for p in theirs.parameters())
    load_public_weights(theirs, ours)
    theirs.eval(), ours.eval()
    with torch.no_grad():
        output = theirs(video)
        recon = output["recon"] if name == "dvae" else output[0]
        assert torch.allclose(ours.reconstruct(video), recon, atol=1e-5)
        out = ours.loss({"video": video}, step=10**6)  # past every anneal: KL weight 0.4
        if name == "dvae":
            terms = public.disentangled_loss(output, video, beta=0.4, beta_content=0.4, beta_motion=0.4,
                                             recon_loss_type="bce", temporal_weight=0.05,
                                             independence_weight=0.02)
            pairs = [("temporal", "temporal_loss"), ("independence", "independence_loss"),
                     ("kl_content", "kl_content"), ("kl_motion", "kl_motion")]
        else:
            _, _, mean, logvar = output
            loss_fn = public.lstm_loss if name == "lstm_vae" else public.baseline_loss
            terms = loss_fn(recon, video, mean, logvar, beta=0.4, recon_loss_type="bce", free_bits=0.25,
                            use_free_bits=True)
            pairs = [("kl", "kl_loss"), ("kl_raw", "kl_loss_raw")]
    for ours_name, their_name in [("recon", "recon_loss"), *pairs]:
        assert float(out.terms[ours_name]) == pytest.approx(float(terms[their_name]), rel=1e-4), ours_name
    assert float(out.loss) == pytest.approx(float(terms["total_loss"]), rel=1e-4)
