"""Tests that need a tool outside Python (Chromium, SLURM): skip where it is missing, say why.

DESIGN §8: without the tool the tests skip with the reason; under the tool's ``REQUIRE_*=1``
flag, which ``.ci/run`` sets after installing it, a missing tool fails them instead, so CI
never skips them.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def unavailable(flag: str, tests: str, reason: str, how: str) -> NoReturn:
    """Skip (or, with ``flag=1`` in the environment, fail) for want of a tool.

    Args:
        flag: The environment variable that makes the tool required (``REQUIRE_BROWSER``).
        tests: Which tests, for the message (``"browser"``).
        reason: What is missing.
        how: How to get it.
    """
    if os.environ.get(flag) == "1":
        pytest.fail(f"{flag}=1 but {reason}", pytrace=False)
    pytest.skip(f"{tests} tests skipped: {reason} ({how}; .ci/run installs it and sets "
                f"{flag}=1 so that they never skip there)")
