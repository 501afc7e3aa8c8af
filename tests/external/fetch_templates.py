"""Fetch the real chat templates the template tier reads: llama.cpp's ``models/templates``, as the llama-cpp-python
sdist ships them (PyPI, through pip; nothing is copied into this repository).

    python tests/external/fetch_templates.py DEST      # then: THINKPACK_TEMPLATES=DEST pytest tests/external

Exits non-zero with one line saying why when the sdist cannot be had or holds fewer templates than expected, so
the tier fails loudly instead of passing on nothing.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "llama-cpp-python==0.3.36"
MEMBER_DIR = "/vendor/llama.cpp/models/templates/"
EXPECTED = 70  # .jinja files in that sdist


def fetch(dest: Path) -> int:
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "-q", "-d", tmp, PACKAGE]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        sdists = sorted(Path(tmp).glob("*.tar.gz"))
        if done.returncode != 0 or not sdists:
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            raise SystemExit(f"fetch_templates: pip could not download {PACKAGE}: {tail[0]}")
        count = 0
        with tarfile.open(sdists[0]) as tar:
            for member in tar.getmembers():
                if member.isfile() and MEMBER_DIR in member.name and member.name.endswith(".jinja"):
                    data = tar.extractfile(member)
                    if data is not None:
                        (dest / Path(member.name).name).write_bytes(data.read())
                        count += 1
    if count < EXPECTED:
        raise SystemExit(f"fetch_templates: {PACKAGE} held {count} chat templates, expected {EXPECTED}")
    return count


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python tests/external/fetch_templates.py DEST")
    print(f"fetch_templates: {fetch(Path(sys.argv[1]))} chat templates in {sys.argv[1]}")
