"""Fixtures for the trace layer on lm-eval's own tasks: one datasets cache holding local copies of their data."""

from __future__ import annotations

import pytest

from .runner import prepare, use_cache
from .specs import SPECS


@pytest.fixture(scope="session")
def hub_cache(tmp_path_factory):
    root = tmp_path_factory.mktemp("hf_datasets_cache")
    for spec in SPECS:
        prepare(spec, root)
    return root


@pytest.fixture
def local_hub(hub_cache, monkeypatch):
    """lm-eval's ``load_dataset`` calls read the local copies (offline: the newest cached copy wins)."""
    use_cache(monkeypatch, hub_cache)
    return hub_cache
