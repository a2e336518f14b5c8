"""Status lines: one reason phrase per status, whichever layer answers.

werkzeug knows no phrase for the documents' 498 ("498 UNKNOWN") and writes phrases in upper
case, while the fault layer wrote its own table: a client saw two phrases for one status.
Every answer of the mock now takes its status line from here.
"""

from __future__ import annotations

from http import HTTPStatus

#: Phrases that differ from the standard library's: the documents' 498, which no registry
#: names, and 413 as granian (hyper) writes it, so the default server and every WSGI path agree.
_EXTRA_PHRASES = {413: "Payload Too Large", 498: "Token Expired"}
_LINES: dict[int, str] = {}


def reason_phrase(status: int) -> str:
    """The phrase of ``status``: the IANA registry's, or the documents' own for 498."""
    if status in _EXTRA_PHRASES:
        return _EXTRA_PHRASES[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def status_line(status: int) -> str:
    """``"201 Created"``, as a WSGI ``start_response`` wants it (remembered per status)."""
    line = _LINES.get(status)
    if line is None:
        line = _LINES[status] = f"{status} {reason_phrase(status)}"
    return line
