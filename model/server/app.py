"""The HTTP server: the model behind ECS's RPC wire protocol.

One :class:`Server` wraps one ``Cloud``. Requests are handled by a stdlib
``ThreadingHTTPServer`` (a thread per connection, keep-alive); each request is
applied to the cloud under one lock, so it is atomic and the trace is in the
order requests were applied.

Paths:

* ``/``: the ECS API (signed requests, see :mod:`model.server.auth`).
* ``/_copyimage/...``: the admin endpoints (no signature; loopback clients
  only unless ``allow_remote_admin``).
"""

from __future__ import annotations

import ipaddress
import json
import math
import socket
import sys
import threading
import time
import traceback
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any, Callable, Mapping
from urllib.parse import urlsplit

from .auth import NonceRegistry, SignedRequest, authenticate
from .clock import Clock, make_clock
from .errors import GatewayError
from .wire import API_VERSION, decode_pairs, dumps, error_body, jsonable, model_answer, resolve_action, service_params

__all__ = ["ADMIN_PREFIX", "Server", "serve"]

ADMIN_PREFIX = "/_copyimage/"
MAX_BODY = 1 << 20  # the SDKs send an empty body; forms stay far below this


class _ThreadingServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    allow_reuse_address = True


class _IPv6ThreadingServer(_ThreadingServer):
    address_family = socket.AF_INET6


class Server:
    """The ECS endpoint for one cloud, served from a background thread.

    >>> with Server(cloud, port=0) as srv:        # doctest: +SKIP
    ...     srv.endpoint                           # "127.0.0.1:PORT"

    ``clock``: a :class:`~model.server.clock.Clock`, ``"manual"`` (the default
    here: time moves only through ``/_copyimage/advance``) or a speed (service
    seconds per wall second). ``trace_file``: a path (appended to) or a text
    file, receiving one JSON object per line for every request, answer, admin
    operation and service event, in the order they were applied.
    ``check_timestamps=False`` accepts stale ``Timestamp``/``x-acs-date``
    values (their format is still checked). ``access_keys`` adds key pairs
    (AccessKeyId -> (secret, caller)) to the cloud's own.
    """

    def __init__(
        self,
        cloud: Any,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        clock: Clock | str | float | None = "manual",
        trace_file: str | Path | IO[str] | None = None,
        check_timestamps: bool = True,
        allow_remote_admin: bool = False,
        access_keys: Mapping[str, tuple[str, str | None]] | None = None,
        wall_clock: Callable[[], float] = time.time,
    ):
        self.cloud = cloud
        self.host = host
        self.port = port
        self.clock = make_clock(clock)
        self.allow_remote_admin = allow_remote_admin
        self._wall_clock = wall_clock if check_timestamps else None
        self._lock = threading.RLock()
        self._nonces = NonceRegistry(retention=None if not check_timestamps else 2 * 15 * 60, clock=wall_clock)
        self._extra_keys = dict(access_keys or {})
        self._keys = self._load_keys()
        self._seq = 0
        self._trace_seen = 0
        self._trace_out: IO[str] | None = None
        self._owns_trace = False
        if trace_file is not None:
            if isinstance(trace_file, (str, Path)):
                self._trace_out = open(trace_file, "a", encoding="utf-8")
                self._owns_trace = True
            else:
                self._trace_out = trace_file
        self._httpd: _ThreadingServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._conn_lock = threading.Lock()

    # ------------------------------------------------------------ lifecycle --

    def start(self) -> "Server":
        if self._httpd is not None:
            return self
        cls = _IPv6ThreadingServer if ":" in self.host else _ThreadingServer
        handler = type("BoundHandler", (_Handler,), {"app": self})
        self._httpd = cls((self.host, self.port), handler)
        self.port = self._httpd.server_address[1]
        with self._lock:
            self.clock.restart()
            self._trace_seen = len(self._cloud_trace())  # what happened before serving is not ours
        self._thread = threading.Thread(target=self._httpd.serve_forever, name=f"copyimage-server-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        with self._conn_lock:
            conns, self._connections = list(self._connections), set()
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        if self._trace_out is not None:
            with self._lock:
                if self._owns_trace:
                    self._trace_out.close()
                else:
                    self._trace_out.flush()
                self._trace_out = None

    close = stop

    def __enter__(self) -> "Server":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def serve_forever(self) -> None:
        """Block until interrupted (Ctrl-C), then stop."""
        self.start()
        try:
            while self._thread is not None and self._thread.is_alive():
                self._thread.join(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    @property
    def endpoint(self) -> str:
        """What to give the SDK as its endpoint: ``host:port``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.endpoint}"

    @property
    def access_keys(self) -> dict[str, tuple[str, str | None]]:
        return dict(self._keys)

    # ------------------------------------------------------------ admin ops --
    # Usable from Python as well as through /_copyimage/.

    def advance(self, seconds: float) -> float:
        seconds = float(seconds)
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError("seconds must be a finite number >= 0")
        with self._lock:
            self._catch_up()
            self._flush()
            self._record({"type": "admin", "op": "advance", "seconds": seconds, "now": self.cloud.now})
            if seconds:
                self.cloud.advance(seconds)
            self._flush()
            return self.cloud.now

    def run_until_idle(self) -> float:
        with self._lock:
            self._catch_up()
            self._flush()
            self._record({"type": "admin", "op": "run-until-idle", "now": self.cloud.now})
            self.cloud.run_until_idle()
            self._flush()
            return self.cloud.now

    def reset(self) -> float:
        with self._lock:
            self._catch_up()
            self._flush()
            self.cloud.reset()
            self.clock.restart()
            self._nonces.clear()
            self._keys = self._load_keys()
            self._trace_seen = 0
            self._record({"type": "admin", "op": "reset", "now": self.cloud.now})
            self._flush()
            return self.cloud.now

    def trace(self, since: int = 0) -> list[Any]:
        with self._lock:
            self._catch_up()
            return jsonable(list(self._cloud_trace())[since:])

    def world(self) -> dict[str, Any]:
        with self._lock:
            self._catch_up()
            return {"now": self.cloud.now, "world": world_summary(self.cloud.world)}

    def health(self) -> dict[str, Any]:
        with self._lock:
            return {
                "status": "ok",
                "endpoint": self.endpoint,
                "version": API_VERSION,
                "clock": self.clock.describe(),
                "now": self.cloud.now,
                "requests": self._seq,
            }

    # ------------------------------------------------------------ API -------

    def handle_api(self, req: SignedRequest, host_id: str) -> tuple[int, dict[str, Any]]:
        """Authenticate and apply one API request; the HTTP status and JSON body."""
        params = req.rpc_params()
        is_v3 = bool(req.header("authorization"))
        action = params.get("Action") or req.header("x-acs-action")
        try:
            action, _version = resolve_action(
                params, req.header("x-acs-action"), req.header("x-acs-version"), prefer_headers=is_v3
            )
            identity = authenticate(req, self._key_lookup, self._nonces, wall_clock=self._wall_clock)
        except GatewayError as err:
            body = error_body(err.code, err.message, None, host_id)
            with self._lock:
                self._flush(self._call_records(action, service_params(params), None, None, err.status, body))
            return err.status, body
        api_params = service_params(params)
        with self._lock:
            self._catch_up()
            try:
                answer = self.cloud.call(action, dict(api_params), caller=identity.caller)
                status, body = model_answer(answer, host_id)
            except Exception:  # noqa: BLE001 - the contract says call() never raises
                traceback.print_exc(file=sys.stderr)
                status = 500
                body = error_body(
                    "InternalError",
                    "The request processing has failed due to some unknown error, exception or failure.",
                    None,
                    host_id,
                )
            self._flush(self._call_records(action, api_params, identity.caller, identity.scheme, status, body))
        return status, body

    def _load_keys(self) -> dict[str, tuple[str, str | None]]:
        keys = {str(k): (str(v[0]), v[1]) for k, v in dict(self.cloud.access_keys()).items()}
        keys.update(self._extra_keys)
        return keys

    def _key_lookup(self, access_key_id: str) -> tuple[str, str | None] | None:
        return self._keys.get(access_key_id)

    # ------------------------------------------------------------ internals --

    def _catch_up(self) -> None:
        """Advance the cloud by the service time the clock says has passed (lock held)."""
        dt = self.clock.elapsed()
        if dt > 0:
            self.cloud.advance(dt)

    def _cloud_trace(self) -> list[Any]:
        trace = getattr(self.cloud, "trace", None)
        return trace if trace is not None else []

    def _record(self, obj: dict[str, Any]) -> None:
        if self._trace_out is None:
            return
        self._trace_out.write(json.dumps(obj, ensure_ascii=False, default=jsonable) + "\n")
        self._trace_out.flush()

    def _call_records(
        self,
        action: str | None,
        params: dict[str, str],
        caller: str | None,
        scheme: str | None,
        status: int,
        body: dict[str, Any],
    ) -> list[dict[str, Any]]:
        self._seq += 1
        now = self.cloud.now
        return [
            {"seq": self._seq, "type": "request", "now": now, "action": action, "params": params,
             "caller": caller, "auth": scheme},
            {"seq": self._seq, "type": "response", "now": now, "status": status, "body": body},
        ]

    def _flush(self, call_records: list[dict[str, Any]] | None = None) -> None:
        """Write what the cloud recorded since last time, in its order (lock held).

        The cloud's record of a call is replaced by the server's request and
        response records (which add the HTTP status, the caller and the
        signature scheme); its service events are copied as they are. Records
        of a request the cloud did not see (refused by the gateway) are written
        after the events that came before.
        """
        trace = self._cloud_trace()
        if len(trace) < self._trace_seen:  # the cloud was reset behind our back
            self._trace_seen = 0
        new = trace[self._trace_seen:]
        self._trace_seen = len(trace)
        pending = call_records
        for entry in new:
            if _is_call_entry(entry):
                if pending:
                    for rec in pending:
                        self._record(rec)
                    pending = None
                continue
            self._record({"type": "event", "now": _entry_time(entry, self.cloud.now), "event": jsonable(entry)})
        for rec in pending or ():
            self._record(rec)


def _is_call_entry(entry: Any) -> bool:
    """Whether a ``cloud.trace`` entry records a call (which the server records itself)."""
    if not isinstance(entry, dict):
        return False
    return entry.get("kind", entry.get("type")) in ("call", "request", "response")


def world_summary(world: Any) -> Any:
    """A JSON summary of ``cloud.world``: regions, images, copy tasks, region queues."""
    try:
        images = [
            {"ImageId": im.image_id, "RegionId": im.region, "Status": im.status,
             "ImageName": getattr(im.spec, "name", None), "Size": getattr(im.spec, "size", None),
             "CopiedFrom": getattr(im.spec, "copied_from", None)}
            for im in world.images
        ]
        return {
            "regions": sorted(world.setting.regions),
            "images": images,
            "tasks": [jsonable(t) for t in world.tasks],
            "queues": {q.region: {"running": list(q.running), "waiting": list(q.waiting)} for q in world.queues},
            "client_tokens": len(world.tokens),
        }
    except (AttributeError, TypeError):
        return jsonable(world)


def _entry_time(entry: Any, default: float) -> Any:
    if isinstance(entry, dict):
        for key in ("now", "time", "t", "at"):
            if key in entry:
                return entry[key]
    return default


def _is_loopback(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


_HTTP_ERROR_CODES = {
    400: "BadRequest",
    404: "InvalidApi.NotFound",
    405: "UnsupportedHTTPMethod",
    408: "RequestTimeout",
    411: "MissingContentLength",
    413: "RequestEntityTooLarge",
    414: "RequestURITooLong",
    431: "RequestHeaderFieldsTooLarge",
    501: "UnsupportedHTTPMethod",
    505: "HTTPVersionNotSupported",
}


class _BadBody(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class _Handler(BaseHTTPRequestHandler):
    app: Server  # set on the bound subclass
    protocol_version = "HTTP/1.1"
    server_version = "copyimage-ecs"

    def version_string(self) -> str:
        return self.server_version
    # A buffered writer (flushed by handle_one_request after each request) and
    # TCP_NODELAY: one segment per answer, no Nagle / delayed-ACK stall.
    wbufsize = -1

    # -- connection bookkeeping, so that stop() can close keep-alive connections
    def setup(self) -> None:
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        with self.app._conn_lock:
            self.app._connections.add(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            with self.app._conn_lock:
                self.app._connections.discard(self.connection)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    # -- methods
    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._unsupported()

    do_DELETE = do_PATCH = do_OPTIONS = do_PUT

    def do_HEAD(self) -> None:
        self._unsupported(with_body=False)

    # -- plumbing
    def _host_id(self) -> str:
        return self.headers.get("Host") or self.app.endpoint

    def _send_json(self, status: int, body: Any, *, request_id: str | None = None, with_body: bool = True,
                   extra: dict[str, str] | None = None) -> None:
        data = dumps(body)
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        if request_id:
            self.send_header("x-acs-request-id", request_id)
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if with_body:
            self.wfile.write(data)

    def _send_error_json(self, status: int, code: str, message: str, *, with_body: bool = True,
                         extra: dict[str, str] | None = None) -> None:
        body = error_body(code, message, None, self._host_id() if hasattr(self, "headers") and self.headers else self.app.endpoint)
        self._send_json(status, body, request_id=body["RequestId"], with_body=with_body, extra=extra)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Errors raised by the stdlib while parsing the request: JSON, like every other answer."""
        self.close_connection = True
        try:
            phrase = HTTPStatus(code).phrase
        except ValueError:
            phrase = "Error"
        self._send_error_json(code, _HTTP_ERROR_CODES.get(code, f"Http{code}"), message or phrase,
                              with_body=getattr(self, "command", "") != "HEAD" and code >= 200 and code not in (204, 304))

    def _unsupported(self, with_body: bool = True) -> None:
        self._drain_body()
        err = GatewayError("UnsupportedHTTPMethod")
        self._send_error_json(err.status, err.code, err.message, with_body=with_body)

    def _drain_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked()
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        try:
            n = int(length)
        except ValueError:
            raise _BadBody(400, "Content-Length is not a number.") from None
        if n < 0:
            raise _BadBody(400, "Content-Length is negative.")
        if n > MAX_BODY:
            raise _BadBody(413, "The request body is too large.")
        return self.rfile.read(n)

    def _read_chunked(self) -> bytes:
        out = bytearray()
        while True:
            line = self.rfile.readline(65537)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise _BadBody(400, "Malformed chunked body.") from None
            if size == 0:
                while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass
                return bytes(out)
            out += self.rfile.read(size)
            self.rfile.readline(65537)
            if len(out) > MAX_BODY:
                raise _BadBody(413, "The request body is too large.")

    def _dispatch(self) -> None:
        try:
            body = self._drain_body()
        except _BadBody as bad:
            self.close_connection = True
            self._send_error_json(bad.status, _HTTP_ERROR_CODES.get(bad.status, "BadRequest"), bad.message)
            return
        parts = urlsplit(self.path)
        path = parts.path or "/"
        if path.startswith(ADMIN_PREFIX) or path == ADMIN_PREFIX.rstrip("/"):
            self._admin(path[len(ADMIN_PREFIX):], parts.query)
            return
        if path != "/":
            self._send_error_json(404, "InvalidApi.NotFound", "Specified api is not found, please check your url and method.")
            return
        headers: dict[str, list[str]] = {}
        for name, value in self.headers.items():
            headers.setdefault(name.lower(), []).append(value)
        form: list[tuple[str, str]] = []
        ctype = self.headers.get("Content-Type", "")
        if body and ctype.lower().startswith("application/x-www-form-urlencoded"):
            form = decode_pairs(body.decode("utf-8", errors="replace"))
        req = SignedRequest(self.command, path, decode_pairs(parts.query), headers, body, form)
        status, answer = self.app.handle_api(req, self._host_id())
        self._send_json(status, answer, request_id=str(answer.get("RequestId", "")) or None)

    # -- admin endpoints
    _ADMIN_ROUTES = {
        "advance": "POST",
        "run-until-idle": "POST",
        "reset": "POST",
        "trace": "GET",
        "world": "GET",
        "health": "GET",
    }

    def _admin(self, name: str, query: str) -> None:
        app = self.app
        if not app.allow_remote_admin and not _is_loopback(self.client_address[0]):
            self._send_error_json(403, "Forbidden.AdminEndpoint", "The admin endpoints answer loopback clients only.")
            return
        method = self._ADMIN_ROUTES.get(name.rstrip("/"))
        name = name.rstrip("/")
        if method is None:
            self._send_error_json(404, "InvalidApi.NotFound", f"No admin endpoint {ADMIN_PREFIX}{name}.")
            return
        if self.command != method:
            self._send_error_json(405, "UnsupportedHTTPMethod", f"{ADMIN_PREFIX}{name} takes {method}.",
                                  extra={"Allow": method})
            return
        args = dict(decode_pairs(query))
        try:
            if name == "advance":
                raw = args.get("seconds")
                if raw is None:
                    self._send_error_json(400, "MissingSeconds", "seconds is mandatory for this action.")
                    return
                try:
                    seconds = float(raw)
                except ValueError:
                    seconds = float("nan")
                if not math.isfinite(seconds) or seconds < 0:
                    self._send_error_json(400, "InvalidSeconds", "seconds must be a finite number >= 0.")
                    return
                now = app.advance(seconds)
                self._send_json(200, {"now": now, "advanced": seconds})
            elif name == "run-until-idle":
                self._send_json(200, {"now": app.run_until_idle()})
            elif name == "reset":
                self._send_json(200, {"now": app.reset()})
            elif name == "trace":
                try:
                    since = max(0, int(args.get("since", "0")))
                except ValueError:
                    self._send_error_json(400, "InvalidSince", "since must be a non-negative integer.")
                    return
                self._send_json(200, app.trace(since))
            elif name == "world":
                self._send_json(200, app.world())
            else:
                self._send_json(200, app.health())
        except Exception as exc:  # noqa: BLE001 - report, keep serving
            traceback.print_exc(file=sys.stderr)
            self._send_error_json(500, "InternalError", f"{type(exc).__name__}: {exc}")


def serve(
    cloud: Any,
    host: str = "127.0.0.1",
    port: int = 0,
    clock: Clock | str | float | None = None,
    trace_file: str | Path | IO[str] | None = None,
    *,
    check_timestamps: bool = True,
    allow_remote_admin: bool = False,
    out: IO[str] | None = None,
    ready: Callable[[Server], None] | None = None,
) -> int:
    """Serve ``cloud`` until interrupted; prints the endpoint and the key pairs first.

    ``clock=None`` is real time (1 service second per second). Returns 0.
    """
    out = out if out is not None else sys.stdout
    server = Server(
        cloud,
        host,
        port,
        clock=make_clock(clock),
        trace_file=trace_file,
        check_timestamps=check_timestamps,
        allow_remote_admin=allow_remote_admin,
    )
    server.start()
    print(banner(server), file=out, flush=True)
    if ready is not None:
        ready(server)
    server.serve_forever()
    return 0


def banner(server: Server) -> str:
    lines = [
        f"copyimage: ECS API {API_VERSION} listening on {server.url}",
        f"  endpoint: {server.endpoint}   protocol: http   clock: {server.clock.describe()}",
    ]
    for key_id, (secret, caller) in sorted(server.access_keys.items()):
        who = caller if caller is not None else "account root"
        lines.append(f"  AccessKeyId: {key_id}   AccessKeySecret: {secret}   ({who})")
    lines.append(f"  admin: {server.url}{ADMIN_PREFIX}{{health,world,trace,advance,run-until-idle,reset}}")
    lines.append("  Ctrl-C stops the server.")
    return "\n".join(lines)
