"""classify: generations/s on one core vs thinkpack.parse on the same synthetic generations.

The corpus mixes the four classes, prefilled and not, with lengths spread log-uniformly up to 32k tokens
(~4 characters a token). Both sides classify every generation with a known prefill flag. Both are timed in
alternating rounds (ours, thinkpack, ours, ...) and the best round of each is kept: timing thinkpack once, after
ours, overstated the ratio by ~1.5x on this shared machine (its single run was often a disturbed one).
"""

from __future__ import annotations

import argparse
import math
import random

from common import interleaved, report, save  # noqa: I001 (bench/ is the script folder)
from thinkpack.model import ModelInfo
from thinkpack.parse import parse

from lm_eval_thinkpack import classify

WORDS = "so we add the carry then 7 + 5 = 12 wait let me check again : the answer is".split()


def corpus(n: int, seed: int = 0, distinct: int = 4000) -> list[tuple[str, bool]]:
    """``n`` generations cycling through ``distinct`` different ones (keeps memory bounded)."""
    rng = random.Random(seed)
    filler = " ".join(rng.choice(WORDS) for _ in range(40_000)) * 4  # ~170k chars, > 32k tokens
    pool = []
    for i in range(distinct):
        tokens = int(math.exp(rng.uniform(math.log(16), math.log(32_768))))
        start = rng.randrange(0, len(filler) - tokens * 4)
        body = filler[start:start + tokens * 4]
        kind, prefilled = i % 4, i % 8 >= 4
        lead = "" if prefilled else "<think>\n"
        text = [f"{lead}{body}\n</think>\n\nThe answer is 12.", f"{lead}\n\n</think>\n\n{body}",
                body if not prefilled else f"{body}\n</think>\n\n12", f"{lead}{body}"][kind]
        pool.append((text, prefilled))
    return [pool[i % distinct] for i in range(n)]


def main(quick: bool = False) -> dict:
    n = 10_000 if quick else 100_000
    data = corpus(n)
    megabytes = sum(len(t.encode()) for t, _ in data) / 1e6
    infos = {p: ModelInfo(prefixed=p) for p in (False, True)}

    ours, theirs = interleaved(lambda: [classify(t, "think", prefilled=p) for t, p in data],
                               lambda: [parse(t, model_info=infos[p]) for t, p in data], 5)
    rec = report("classify", n / ours, n / theirs, "gen/s", MB_per_s=megabytes / ours, n=n,
                 corpus_MB=megabytes)
    save({"classify": rec})
    return rec


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    main(ap.parse_args().quick)
