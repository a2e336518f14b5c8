"""Keeps each test phase's report on the item, so fixtures can tell whether the test failed.

The browser tests use it to save a screenshot of the page when a test fails.
"""

from __future__ import annotations

from collections.abc import Generator

import pytest


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keeps each phase's report on the item, so the page fixture knows if the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report
