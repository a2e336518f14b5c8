"""The HAProxy configuration the scale-out tests and the benchmark both put in front of
replicas: round-robin, health-checked on ``/__health``, written and checked by ``haproxy -c``.

Debian's ``haproxy`` package provides the binary (``./scripts/test`` installs it). The two
differ in one line on purpose: the tests let HAProxy open one server connection per request
(``keep_alive=False``, ``option http-server-close``), so round robin alternates request by
request, which a correctness test wants; the benchmark keeps connections to the replicas
alive and reuses them, as a production balancer would.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

_TEMPLATE = """\
global
    maxconn {maxconn}
defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout check 5s
{connections}
frontend mock
    bind 127.0.0.1:{port}
    default_backend replicas
backend replicas
    balance roundrobin
    option httpchk GET /__health
    http-check expect status 200
{servers}
"""
_KEEP_ALIVE = "    option http-keep-alive\n    http-reuse always"
_SERVER_CLOSE = "    option http-server-close"


def write_config(path: Path, port: int, replicas: Sequence[str], *, keep_alive: bool,
                 maxconn: int) -> Path:
    """``path``, holding a checked configuration that balances ``port`` over ``replicas``
    (``host:port`` each); RuntimeError when HAProxy is missing or refuses it."""
    if shutil.which("haproxy") is None:
        raise RuntimeError("HAProxy is not installed: apt-get install -y haproxy "
                           "(scripts/install-system-packages.sh, which ./scripts/test runs)")
    servers = "\n".join(f"    server r{i} {address} check inter 500ms fall 3 rise 1"
                        for i, address in enumerate(replicas, 1))
    path.write_text(_TEMPLATE.format(
        maxconn=maxconn, connections=_KEEP_ALIVE if keep_alive else _SERVER_CLOSE, port=port,
        servers=servers))
    check = subprocess.run(["haproxy", "-c", "-f", str(path)], capture_output=True, text=True)
    if check.returncode != 0:
        raise RuntimeError(f"bad HAProxy config: {check.stderr}")
    return path
