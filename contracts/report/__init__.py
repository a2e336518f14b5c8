"""Rendering a `RunReport`: console summary, failure details, coverage, JUnit XML, JSON, curl.

A failure is only useful if someone can act on it, so each one is rendered with the check, the
documented rule and where the documents state it, the request as a curl command that runs
as-is (credentials are named by environment variable, never printed), the response, and the
seed that replays it.

Modules: `summary` (the verdict, advice, counts and groups every rendering shares),
`exchange` (curl and response excerpts), `console`, `html`, `json_report`, `junit_xml`,
`progress` (the live line on stderr).
"""

from __future__ import annotations

from .console import render_console, render_coverage, render_failure, render_summary
from .exchange import render_curl
from .html import render_html, write_html
from .json_report import to_json, write_json
from .junit_xml import write_junit_xml
from .progress import Progress

__all__ = [
    "Progress",
    "render_console",
    "render_coverage",
    "render_curl",
    "render_failure",
    "render_html",
    "render_summary",
    "to_json",
    "write_html",
    "write_json",
    "write_junit_xml",
]
