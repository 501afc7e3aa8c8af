"""``python -m lm_eval_thinkpack`` is the ``lm-eval-thinkpack`` command."""

import sys

from .cli import main

sys.exit(main())
