"""The external tier. The parser shapes need nothing; the real-template tests read the templates that
``fetch_templates.py`` puts in the folder ``THINKPACK_TEMPLATES`` names (``.ci/run`` fetches them).

Without the variable the real-template file is not collected (a skip would report a check that never ran); with
it, a missing or short folder fails collection loudly with the fix.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

TEMPLATES_VAR = "THINKPACK_TEMPLATES"
_folder = os.environ.get(TEMPLATES_VAR, "")

if _folder:
    _found = len(list(Path(_folder).glob("*.jinja"))) if Path(_folder).is_dir() else 0
    if _found < 70:
        raise pytest.UsageError(
            f"{TEMPLATES_VAR}={_folder} asks for the real-template tier, but that folder holds {_found} chat "
            f"templates (70 expected). Run: python tests/external/fetch_templates.py {_folder}")

collect_ignore = [] if _folder else ["test_real_templates.py"]
