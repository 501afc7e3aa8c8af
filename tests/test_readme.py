"""The README's Python example runs as written (it asserts its own claims)."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_example_runs() -> None:
    text = README.read_text()
    section = text[text.index("## In Python"):]
    block = re.search(r"```python\n(.*?)```", section, re.S)
    assert block is not None, "the README lost its Python example"
    exec(compile(block.group(1), "README.md", "exec"), {})


def test_readme_has_exactly_the_two_setup_commands_ci_runs() -> None:
    text = README.read_text()
    setup = text[text.index("## Set up"):text.index("## In Python")]
    commands = re.findall(r"```bash\n(.*?)\n```", setup, re.S)
    assert len(commands) == 2
    main_job, tests = commands
    assert "pip install torch==2.13.0" in main_job and "lm-eval-thinkpack demo" in main_job
    ci = (README.parent / ".ci" / "run").read_text()
    assert tests in ci, ".ci/run must run the README's test command verbatim"


def test_readme_names_the_command_lm_eval_thinkpack() -> None:
    """The command is lm-eval-thinkpack; a bare 'thinkpack' is the study's package (issue 20). Before: "use
    thinkpack's report", "lm-eval's CLI with thinkpack's backends"."""
    import re

    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    sub = r"(?:report|compare|eval|demo|formats|backends?)"
    stray = re.findall(rf".{{0,40}}(?<![-\w/.`])thinkpack(?:'s)? `?{sub}\b.{{0,20}}", text)
    assert stray == []
    assert re.findall(r"(?m)^\s*(?:\$ )?thinkpack\s+(?!tasks?\b)", text) == []  # no line runs the bare name
