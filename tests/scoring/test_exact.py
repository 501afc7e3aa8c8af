from hypothesis import given
from hypothesis import strategies as st

from lm_eval_thinkpack.scoring import check_exact, extract_exact


def test_exact_match_on_the_first_line_whitespace_only() -> None:
    assert check_exact("  626 \n", "626").correct
    assert check_exact("626\nbecause 597 + 29", "626").correct
    assert check_exact("\n\nodd", "odd").correct
    assert not check_exact("Odd", "odd").correct
    assert not check_exact("0626", "626").correct
    assert check_exact("a  b", "a b").extracted == "a b"
    r = check_exact("   \n ", "1")
    assert not r.correct and r.extracted is None and r.error is None


@given(st.text(), st.text())
def test_total_on_any_text(text: str, gold: str) -> None:
    r = check_exact(text, gold)
    assert isinstance(r.correct, bool)
    assert r.extracted is None or r.extracted == extract_exact(text)
