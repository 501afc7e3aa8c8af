"""The thinkpack task bases by name, for task YAMLs that live anywhere.

lm-eval resolves a relative ``include:`` against the folder of the YAML that names it, so ``include:
_base_math.yaml`` works only beside thinkpack's own YAMLs; anywhere else lm-eval's task index skips the file
without a word and the run ends with "Tasks not found". A YAML that names its base as a class instead works
from any folder, because the class is found by import, not by path::

    class: !function lm_eval_thinkpack.harness.bases.MathBase
    task: my_task
    dataset_kwargs: {...}

Each class reads its base YAML from thinkpack's task folder (the checkout's ``tasks/``, or the copies ``pip
install .`` put in lm-eval's task folder) and lays the user's keys over it, exactly as ``include`` would (the
task's keys win). Absolute imports only: lm-eval may load this file by path as well as by name.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from lm_eval.api.task import ConfigurableTask


def tasks_dir() -> Path:
    """thinkpack's task folder: the source checkout's ``tasks/`` when running from one, else the installed copy."""
    checkout = Path(__file__).resolve().parents[2] / "tasks"
    if (checkout / "_base_thinkpack.yaml").exists():
        return checkout
    spec = importlib.util.find_spec("lm_eval.tasks.thinkpack")
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    raise FileNotFoundError("the thinkpack task YAMLs are not installed in lm-eval. Fix: pip install . (not -e) "
                            "in the project's folder")


def base_config(name: str) -> dict[str, Any]:
    """The base YAML ``name`` (e.g. ``_base_math.yaml``) with its own includes and ``!function`` hooks resolved."""
    from lm_eval.tasks._yaml_loader import load_yaml

    return load_yaml(tasks_dir() / name, resolve_func=True)


class TraceBase(ConfigurableTask):
    """The shared base (loader, trace filter, metrics, generation settings): the task gives ``doc_to_text``."""

    BASE_YAML = "_base_thinkpack.yaml"

    def __init__(self, config: dict[str, Any] | None = None, **kwargs: Any) -> None:
        own = {k: v for k, v in (config or {}).items() if k != "class"}
        merged = {**base_config(self.BASE_YAML), **own}
        super().__init__(config=merged, **kwargs)


class MathBase(TraceBase):
    """``\\boxed{}`` answers (``tasks/_base_math.yaml``)."""

    BASE_YAML = "_base_math.yaml"


class ScienceBase(TraceBase):
    """``Answer: X`` multiple choice (``tasks/_base_science.yaml``)."""

    BASE_YAML = "_base_science.yaml"


class CodeBase(TraceBase):
    """One ```python block, run in the sandbox (``tasks/_base_code.yaml``)."""

    BASE_YAML = "_base_code.yaml"


class DemoBase(TraceBase):
    """The bundled tiny model's synthetic tasks: the question is the prompt (``tasks/_base_demo.yaml``)."""

    BASE_YAML = "_base_demo.yaml"


BASES = {"TraceBase": TraceBase, "MathBase": MathBase, "ScienceBase": ScienceBase, "CodeBase": CodeBase,
         "DemoBase": DemoBase}
