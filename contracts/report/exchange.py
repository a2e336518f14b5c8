"""How an exchange is shown: its request as a curl command that runs, its response as an excerpt.

Credentials are named by environment variable (`$CONTRACTS_TOKEN`), never printed, so a report
can be shared and its commands still run once the variables are set.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping

from ..results import Exchange

__all__ = ["excerpt", "render_curl"]

#: Headers `requests` adds on its own; a reader does not need them to replay a call.
_NOISE_HEADERS = {"user-agent", "accept-encoding", "connection", "content-length", "host",
                  "x-schemathesis-testcaseid"}
_INLINE_BODY_LIMIT = 8 * 1024
_EXCERPT_LIMIT = 1200


def render_curl(exchange: Exchange, secrets: Mapping[str, str] | None = None) -> str:
    """A curl command that sends `exchange`'s request again.

    `secrets` maps credential values to environment variable names: they are rendered as
    `$CONTRACTS_TOKEN` so a report can be shared, and still runs once the variable is set.
    """
    secrets = dict(secrets or {})
    parts = ["curl", "-X", exchange.method, shlex.quote(exchange.url)]
    for name, value in exchange.request_headers.items():
        if name.lower() in _NOISE_HEADERS:
            continue
        if name.lower() == "accept" and value == "*/*":
            continue
        parts += ["-H", _quote_with_secrets(f"{name}: {value}", secrets)]
    body = exchange.request_body
    if body and len(body) > _INLINE_BODY_LIMIT:
        parts += ["--data-binary", "@request-body.bin",
                  f"  # {len(body)} bytes not inlined: save the body as request-body.bin"]
    elif body:
        text = _printable_text(body)
        if text is not None:
            parts += ["--data-raw", _quote_with_secrets(text, secrets)]
        else:
            parts += ["--data-binary", _printf_body(body)]
    return " ".join(parts)


def _printable_text(body: bytes) -> str | None:
    """The body as text when a shell can carry it in plain quotes, else None."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if all(c.isprintable() or c in "\n\t" for c in text):
        return text
    return None


def _quote_with_secrets(text: str, secrets: Mapping[str, str]) -> str:
    present = {value: name for value, name in secrets.items() if value and value in text}
    if not present:
        return shlex.quote(text)
    # Double quotes so the shell expands `${VAR}`; escape everything else they would expand.
    escaped = text
    for char in ("\\", '"', "$", "`"):
        escaped = escaped.replace(char, "\\" + char)
    for value, name in present.items():
        safe_value = value
        for char in ("\\", '"', "$", "`"):
            safe_value = safe_value.replace(char, "\\" + char)
        escaped = escaped.replace(safe_value, "${" + name + "}")
    return f'"{escaped}"'


def _printf_body(data: bytes) -> str:
    """`@<(printf '...')`: a binary body (a multipart upload) as one runnable bash argument.

    printf writes every byte back, NUL included, which a quoted shell string cannot hold.
    """
    out = []
    for byte in data:
        char = chr(byte)
        if char == "%":
            out.append("%%")
        elif char == "\\":
            out.append("\\\\")
        elif 32 <= byte < 127 and char != "'":
            out.append(char)
        else:
            out.append(f"\\x{byte:02x}")
    return "@<(printf -- '" + "".join(out) + "')"


def excerpt(body: bytes, limit: int = _EXCERPT_LIMIT) -> str:
    if not body:
        return "<empty body>"
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return f"<{len(body)} bytes of binary data>"
    if len(text) > limit:
        return text[:limit] + f"... <{len(text) - limit} more characters>"
    return text

