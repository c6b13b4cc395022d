"""A minimal ECS RPC client for the server, with no SDK needed.

For the project's own load test and benchmark, and for scripts that want to
talk to ``copyimage serve`` without installing an Alibaba Cloud SDK. It signs
requests the way the official SDKs do (V3 ``ACS3-HMAC-SHA256`` by default,
``signature="rpc"`` for the V2 HMAC-SHA1 query signature) and keeps one
HTTP/1.1 connection open. One client per thread.
"""

from __future__ import annotations

import http.client
import json
from typing import Any, Mapping

from .auth import sign_rpc, sign_v3
from .wire import API_VERSION

__all__ = ["EcsClient", "flatten"]


def flatten(params: Mapping[str, Any]) -> dict[str, str]:
    """Flatten lists of dicts the SDK's way (``Tag=[{"Key": "k"}]`` -> ``Tag.1.Key=k``),
    booleans as ``True``/``False``, and drop ``None`` values."""
    out: dict[str, str] = {}

    def put(prefix: str, value: Any) -> None:
        if value is None:
            return
        if isinstance(value, Mapping):
            for k, v in value.items():
                put(f"{prefix}.{k}" if prefix else str(k), v)
        elif isinstance(value, (list, tuple)):
            for i, v in enumerate(value, 1):
                put(f"{prefix}.{i}", v)
        else:
            out[prefix] = str(value)

    put("", params)
    return out


class EcsClient:
    """``client.call("DescribeImages", {"RegionId": "cn-hangzhou"})`` -> ``(status, body)``."""

    def __init__(
        self,
        endpoint: str,
        access_key_id: str,
        access_key_secret: str,
        *,
        signature: str = "v3",
        method: str = "POST",
        timeout: float = 30.0,
    ):
        if signature not in ("v3", "rpc"):
            raise ValueError("signature is 'v3' or 'rpc'")
        self.endpoint = endpoint
        self.access_key_id = access_key_id
        self.access_key_secret = access_key_secret
        self.signature = signature
        self.method = method.upper()
        self.timeout = timeout
        self._conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            self._conn = http.client.HTTPConnection(self.endpoint, timeout=self.timeout)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> "EcsClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, action: str, params: Mapping[str, Any] | None = None, *, nonce: str | None = None) -> tuple[int, dict[str, Any]]:
        flat = flatten(params or {})
        if self.signature == "v3":
            query, headers = sign_v3(
                self.method, self.endpoint, action, API_VERSION, flat, self.access_key_id, self.access_key_secret, nonce=nonce
            )
        else:
            query = sign_rpc(self.method, action, API_VERSION, flat, self.access_key_id, self.access_key_secret, nonce=nonce)
            headers = {"host": self.endpoint}
        headers["Content-Length"] = "0"
        target = "/?" + query if query else "/"
        for attempt in (0, 1):
            conn = self._connection()
            try:
                conn.request(self.method, target, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # the server closed an idle keep-alive connection: reconnect once,
                # the request was not read (same nonce is fine: it was never seen)
                self.close()
                if attempt:
                    raise
        return resp.status, json.loads(data.decode("utf-8")) if data else {}
