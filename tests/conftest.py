"""Fixtures shared by the test modules."""

from __future__ import annotations

import pytest

from tests import harness


@pytest.fixture(scope="module")
def driver():
    """Yield headless Chromium at desktop size, one per module (skip, or fail under REQUIRE_BROWSER=1, without it)."""
    harness.require(harness.chromium_available())
    browser = harness.start_browser(*harness.DESKTOP)
    yield browser
    browser.quit()
