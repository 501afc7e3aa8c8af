"""Our wheel and the study's ``thinkpack`` wheel install side by side: each keeps its own command.

thinkpack owns the console script ``thinkpack``; ours is ``lm-eval-thinkpack`` (and ``python -m
lm_eval_thinkpack``). Both wheels go into a scratch venv without dependencies, in either order; then thinkpack
is uninstalled and ours must still be there. The thinkpack wheel comes from PyPI (``pip download``), ours is
built from the checkout.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]


def _pip(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
                          capture_output=True, text=True, cwd=cwd, timeout=600)
    assert proc.returncode == 0, f"pip {' '.join(args)} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    return proc


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("wheels")
    _pip("download", "--no-deps", "--only-binary", ":all:", "thinkpack==1.0.0", "-d", str(out / "theirs"))
    _pip("wheel", "--no-deps", "--no-build-isolation", "-w", str(out / "ours"), str(REPO))
    theirs = sorted((out / "theirs").glob("thinkpack-*.whl"))
    ours = sorted((out / "ours").glob("lm_eval_thinkpack-*.whl"))
    assert theirs and ours, (theirs, ours)
    return {"thinkpack": theirs[0], "lm-eval-thinkpack": ours[0]}


def _scripts(venv: Path) -> set[str]:
    return {p.name for p in (venv / "bin").iterdir()}


def _entry_target(script: Path) -> str:
    """The module a console script imports its ``main`` from."""
    line = next(x for x in script.read_text().splitlines() if x.startswith("from "))
    return line.split()[1]


@pytest.mark.parametrize("order", [("lm-eval-thinkpack", "thinkpack"), ("thinkpack", "lm-eval-thinkpack")],
                         ids=["ours-first", "theirs-first"])
def test_both_commands_survive_any_install_order_and_uninstalling_thinkpack(
        tmp_path: Path, wheels: dict[str, Path], order: tuple[str, str]) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    py = str(venv / "bin" / "python")
    for name in order:
        _pip("--python", py, "install", "--no-deps", "--no-index", str(wheels[name]))

    scripts = _scripts(venv)
    assert {"thinkpack", "lm-eval-thinkpack"} <= scripts
    assert _entry_target(venv / "bin" / "thinkpack").startswith("thinkpack")  # theirs, not replaced by ours
    assert _entry_target(venv / "bin" / "lm-eval-thinkpack") == "lm_eval_thinkpack.cli"

    _pip("--python", py, "uninstall", "-y", "thinkpack")
    scripts = _scripts(venv)
    assert "thinkpack" not in scripts and "lm-eval-thinkpack" in scripts
    # our package is whole after theirs went: its modules and its entry point are still installed
    site = next((venv / "lib").glob("python*/site-packages"))
    assert (site / "lm_eval_thinkpack" / "cli.py").is_file() and (site / "lm_eval_thinkpack" / "__main__.py").is_file()
    meta = next(site.glob("lm_eval_thinkpack-*.dist-info"))
    entry_points = (meta / "entry_points.txt").read_text()
    assert "lm-eval-thinkpack = lm_eval_thinkpack.cli:main" in entry_points
    assert "\nthinkpack =" not in entry_points


def test_python_dash_m_is_the_same_command() -> None:
    proc = subprocess.run([sys.executable, "-m", "lm_eval_thinkpack", "formats"], capture_output=True, text=True,
                          cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0].split()[0] == "think"
    usage = subprocess.run([sys.executable, "-m", "lm_eval_thinkpack", "--help"], capture_output=True, text=True,
                           cwd=REPO, timeout=120)
    assert usage.returncode == 0 and usage.stdout.startswith("usage: lm-eval-thinkpack ")
