"""Broken variants of the mock: tiny WSGI middlewares around the real app.

Each one breaks exactly one documented rule, the way a real service might regress, so a test
can show that the kit notices, says why, and blames only the rules that bug breaks.
`classic` holds the first set (issue 10 and before), `beyond_schema` the classes of bug of
issue 13; `base` the plumbing they share.
"""

from __future__ import annotations

from .beyond_schema import *  # noqa: F403
from .beyond_schema import __all__ as _beyond
from .classic import *  # noqa: F403
from .classic import __all__ as _classic

__all__ = [*_classic, *_beyond]
