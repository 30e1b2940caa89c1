import pytest
import torch


@pytest.fixture(autouse=True)
def _threads():
    torch.set_num_threads(2)
    yield


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    # Judges and other cached artefacts go to a temporary folder, never the user's cache.
    monkeypatch.setenv("VIDIS_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
