"""Counts the examples hypothesis runs through each property test, for the summary
printed at the end of the pytest run."""

from __future__ import annotations

import functools
from collections import Counter

CASES: Counter[str] = Counter()


def counted(test):
    """Put under ``@given``: counts each example the test is run with."""

    @functools.wraps(test)
    def run(*args, **kwargs):
        CASES[test.__name__] += 1
        return test(*args, **kwargs)

    return run
