"""The model behind the real ECS RPC wire protocol.

Users point their unchanged official-SDK code at ``copyimage serve`` (endpoint
``127.0.0.1:PORT``, protocol ``http``) and it answers as ECS would, from the
model. See ``docs/server.md``.

Public API:

* :func:`serve` - run a server in the foreground until Ctrl-C.
* :class:`Server` - the same, in a background thread; a context manager.
* :func:`add_serve_arguments`, :func:`run_serve` - the ``copyimage serve`` command.
* :class:`ManualClock`, :class:`WallClock` - how service time moves.
* :class:`EcsClient` - a small signing client (no SDK needed).
"""

from .app import ADMIN_PREFIX, Server, serve
from .cli import add_serve_arguments, run_serve
from .client import EcsClient
from .clock import Clock, ManualClock, WallClock
from .errors import GatewayError

__all__ = [
    "ADMIN_PREFIX",
    "Clock",
    "EcsClient",
    "GatewayError",
    "ManualClock",
    "Server",
    "WallClock",
    "add_serve_arguments",
    "run_serve",
    "serve",
]
