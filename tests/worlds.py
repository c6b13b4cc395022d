"""Small builders shared by the semantic tests: scenarios as dicts, Clouds, requests by image ref.

A test states the world it needs as a change to ``BASE`` (two regions, one
40 GiB Available image ``web`` in cn-hangzhou), builds a Cloud from it, and
calls the API with the API's own parameter names; ``"$web"`` in parameters
stands for the id of the image whose ref is ``web``.
"""

from __future__ import annotations

import copy as _copy
import re
from typing import Any, Mapping

from model import Cloud

SRC, DST = "cn-hangzhou", "cn-shanghai"
ID_RE = re.compile(r"^m-[0-9a-z]{20}$")
UUID_RE = re.compile(r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$")

BASE: dict[str, Any] = {
    "name": "test",
    "regions": [SRC, DST],
    "images": [{"name": "web", "region": SRC, "size": 40}],
}


def scenario(base: Mapping[str, Any] | None = None, **changes: Any) -> dict[str, Any]:
    """A deep copy of ``base`` (default ``BASE``) with top-level keys replaced; ``options``/``account`` merge."""
    out = _copy.deepcopy(dict(BASE if base is None else base))
    for key, value in changes.items():
        if key in ("options", "account") and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = _copy.deepcopy(value)
    return out


def images(*specs: Mapping[str, Any] | str) -> list[dict[str, Any]]:
    """Image entries; a bare string is an Available 40 GiB image of that name in cn-hangzhou."""
    return [{"name": s, "region": SRC, "size": 40} if isinstance(s, str) else dict(s) for s in specs]


def make_cloud(base: Mapping[str, Any] | None = None, **changes: Any) -> Cloud:
    return Cloud.from_scenario(scenario(base, **changes))


def ref(cloud: Cloud, name: str) -> str:
    return cloud.refs()[name]


def resolve(cloud: Cloud, value: Any) -> Any:
    """``"$name"`` strings (at any depth) replaced by the id of the image with that ref."""
    if isinstance(value, str) and value.startswith("$"):
        return cloud.refs()[value[1:]]
    if isinstance(value, Mapping):
        return {k: resolve(cloud, v) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(cloud, v) for v in value]
    return value


def call(cloud: Cloud, action: str, params: Mapping[str, Any] | None = None, *, caller: str | None = None) -> dict:
    return cloud.call(action, resolve(cloud, dict(params or {})), caller=caller)


def copy_params(source: str = "$web", dest: str | None = DST, region: str = SRC, **extra: Any) -> dict[str, Any]:
    params: dict[str, Any] = {"RegionId": region, "ImageId": source}
    if dest is not None:
        params["DestinationRegionId"] = dest
    params.update(extra)
    return params


def copy(cloud: Cloud, source: str = "$web", dest: str | None = DST, region: str = SRC, *,
         caller: str | None = None, **extra: Any) -> dict:
    """Call CopyImage; ``source`` is an image id or ``$ref``."""
    return call(cloud, "CopyImage", copy_params(source, dest, region, **extra), caller=caller)


def copied(cloud: Cloud, source: str = "$web", dest: str | None = DST, region: str = SRC, **extra: Any) -> str:
    """Call CopyImage and return the new ImageId, failing the test if it was refused."""
    body = copy(cloud, source, dest, region, **extra)
    assert "Code" not in body, body
    return body["ImageId"]


def describe(cloud: Cloud, region: str = DST, *, caller: str | None = None, **params: Any) -> dict:
    return call(cloud, "DescribeImages", {"RegionId": region, **params}, caller=caller)


def rows(cloud: Cloud, region: str = DST, **params: Any) -> list[dict]:
    """DescribeImages' image rows (every status unless ``Status`` is given)."""
    params.setdefault("Status", "Creating,Waiting,Available,UnAvailable,CreateFailed,Deprecated")
    params.setdefault("PageSize", 100)
    body = describe(cloud, region, **params)
    assert "Code" not in body, body
    return body["Images"]["Image"]


def row(cloud: Cloud, image_id: str, region: str = DST) -> dict:
    found = [r for r in rows(cloud, region) if r["ImageId"] == image_id]
    assert len(found) == 1, (image_id, found)
    return found[0]


def assert_error(body: Mapping[str, Any], code: str, status: int | None = None, message: str | None = None) -> None:
    assert body.get("Code") == code, body
    assert isinstance(body.get("RequestId"), str) and body["RequestId"], body
    assert set(body) == {"Code", "Message", "HttpStatus", "RequestId"}, body
    if status is not None:
        assert body["HttpStatus"] == status, body
    if message is not None:
        assert body["Message"] == message, body


def assert_ok(body: Mapping[str, Any]) -> None:
    assert "Code" not in body and "HttpStatus" not in body, body
    assert isinstance(body.get("RequestId"), str), body


def states(cloud: Cloud, *image_ids: str) -> list[str | None]:
    return [cloud.status(i) for i in image_ids]
