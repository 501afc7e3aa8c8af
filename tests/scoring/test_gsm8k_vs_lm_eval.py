"""GSM8K-style answers: ``check_number`` next to lm-eval's own gsm8k ``flexible-extract`` on the same responses.

lm-eval's side is built from the installed lm-eval's ``tasks/gsm8k/gsm8k.yaml``: its ``flexible-extract``
filter chain (``regex`` with the YAML's pattern and ``group_select``, then ``take_first``) and its
``exact_match`` metric with the YAML's options, against the raw GSM8K answer field as reference. Every
response below is scored by both; the table pins both verdicts and, where they differ, why.

Measured: of the 34 responses, 21 get the same verdict from both; 11 are right only for us, 2 right only
for lm-eval.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from lm_eval_thinkpack.scoring import check_number, parse_gold_gsm8k


def _lm_eval_gsm8k():
    import lm_eval
    from lm_eval.api.metrics import exact_match_hf_evaluate
    from lm_eval.filters.extraction import RegexFilter
    from lm_eval.filters.selection import TakeFirstFilter

    config = yaml.safe_load((Path(lm_eval.__file__).parent / "tasks" / "gsm8k" / "gsm8k.yaml").read_text())
    (flex,) = [f for f in config["filter_list"] if f["name"] == "flexible-extract"]
    regex_step, take_step = flex["filter"]
    assert regex_step["function"] == "regex" and take_step["function"] == "take_first"
    regex = RegexFilter(regex_pattern=regex_step["regex_pattern"], group_select=regex_step["group_select"])
    (metric,) = config["metric_list"]
    options = {k: metric[k] for k in ("regexes_to_ignore", "ignore_case", "ignore_punctuation")}

    def score(response: str, answer_field: str) -> tuple[str, bool]:
        (extracted,) = TakeFirstFilter().apply(regex.apply([[response]], [{}]), [{}])
        em = exact_match_hf_evaluate([extracted], [answer_field], **options)["exact_match"]
        return extracted, bool(em)

    return score


LM_EVAL = _lm_eval_gsm8k()

# (response, gold number, ours correct, lm-eval correct, why they differ or "")
CASES = [
    # same verdict
    ("Natalia sold 48/2 = 24 clips in May.\nShe sold 48+24 = 72 clips altogether.\n#### 72", "72", True, True, ""),
    ("She earns 9 * 2 = 18 dollars. The answer is 18.", "18", True, True, ""),
    ("The answer is: 42.", "42", True, True, ""),
    ("In total 72 clips.", "72", True, True, ""),
    ("So he pays $1,234 in total.", "1234", True, True, ""),
    ("The temperature drops to -5 degrees.\n#### -5", "-5", True, True, ""),
    ("It is 25% of the class, so 25", "25", True, True, ""),
    ("He sells 3.5 kg, so the answer is 3.5", "3.5", True, True, ""),
    ("There are 1,000,000 grains.", "1000000", True, True, ""),
    ("5 - 3 = 2", "2", True, True, ""),
    ("**Final Answer**\n\\[\n\\boxed{72}\n\\]", "72", True, True, ""),
    ("The answer is 18. Wait: 9 * 14 = 126, so \\boxed{126}", "126", True, True, ""),
    ("The answer is 18. Wait: 9 * 14 = 126, so \\boxed{126}", "18", False, False, ""),
    ("The answer is 17.", "18", False, False, ""),
    ("I cannot solve this.", "18", False, False, ""),
    ("First 10 + 5 = 15, then 15 * 2 = 30.\n#### 30", "30", True, True, ""),
    ("Each box holds 6 eggs, 3 boxes hold 18 eggs.", "18", True, True, ""),
    ("#### 7", "8", False, False, ""),
    ("Total: $\\boxed{\\$64}$", "64", True, True, ""),
    ("So the final answer is 1,250.", "1250", True, True, ""),
    ("The answer is either 5 or 6", "6", True, True, ""),  # both fall back to the last number
    # right for us only
    ("The answer is 18. That is 3 more than 15.", "18", True, False,
     "marker: lm-eval takes the last number in the text"),
    ("The answer is 18 dollars per hour for 3 hours", "18", True, False, "marker"),
    ("\\boxed{72} dollars. Note that 5 were left over.", "72", True, False, "box: the final box is the answer"),
    ("So the total is \\boxed{\\frac{14}{2}}", "7", True, False, "LaTeX: a box is one number (lm-eval: 2)"),
    ("That is \\boxed{1\\,000} grams.", "1000", True, False, "LaTeX thin space (lm-eval: 000)"),
    ("The population is \\boxed{10^6}", "1000000", True, False, "LaTeX power (lm-eval: 6)"),
    ("She pays 18.00 dollars.", "18", True, False, "numeric equality (lm-eval compares strings)"),
    ("The total is 2.50 dollars.", "2.5", True, False, "numeric equality"),
    ("So half of it: .5", "0.5", True, False, "numeric equality (lm-eval's regex also drops the lone '.5')"),
    ("The result is \u22125.", "-5", True, False, "Unicode minus (lm-eval: 5)"),
    ("Answer: **42** (we checked 40 and 44 too)", "42", True, False, "marker"),
    # right for lm-eval only
    ("Answer: 3 boxes of 6 eggs, so 18 eggs", "18", False, True,
     "marker: we take the first number after 'Answer:', which here counts boxes"),
    ("So \\boxed{5 \\text{ or } 6}", "6", False, True, "a box holding two numbers gives no number (a hedge)"),
]


@pytest.mark.parametrize(("response", "gold", "ours", "theirs", "why"), CASES, ids=range(len(CASES)))
def test_check_number_next_to_lm_eval_flexible_extract(response, gold, ours, theirs, why):
    answer_field = f"Some reasoning <<1+1=2>>.\n#### {gold}"
    assert check_number(response, parse_gold_gsm8k(answer_field)).correct is ours
    assert LM_EVAL(response, answer_field)[1] is theirs
    assert bool(why) is (ours != theirs)  # every difference is explained


def test_the_tally():
    same = sum(o == t for _, _, o, t, _ in CASES)
    ours_only = sum(o and not t for _, _, o, t, _ in CASES)
    theirs_only = sum(t and not o for _, _, o, t, _ in CASES)
    assert (len(CASES), same, ours_only, theirs_only) == (34, 21, 11, 2)
