"""The browser harness under its former name: everything is in tests/harness/ (see its docstring)."""

from tests.harness import *  # noqa: F403 - kept so `from tests import browser` goes on working
from tests.harness import __all__  # noqa: F401
