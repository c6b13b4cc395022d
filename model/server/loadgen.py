"""A bounded loopback load against a running server, and the check of its outcome.

Used by ``benchmarks/serve_load.py`` (timed) and ``tests/test_server_load.py``
(checked). Every worker thread has its own :class:`~model.server.client.EcsClient`
(keep-alive connection) and a seeded random generator; it sends a fixed number
of requests, so the load stops by itself:

* CopyImage with a fresh ClientToken,
* CopyImage retried with a ClientToken already used (same parameters) -
  as many as the fresh ones,
* DescribeImages of a random region,
* now and then ``POST /_copyimage/advance`` so that copies finish and slots free up.

:func:`check_outcome` then verifies that every accepted copy exists exactly
once: one ImageId per ClientToken, and each accepted ImageId listed exactly
once by DescribeImages once the service is idle.
"""

from __future__ import annotations

import json
import random
import threading
import time
import urllib.request
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from .client import EcsClient

__all__ = ["LoadResult", "check_outcome", "load_scenario", "percentile", "run_load"]

SOURCE_REGION = "cn-hangzhou"
DESTINATIONS = ("cn-shanghai", "cn-beijing")
ALL_STATUSES = "Creating,Waiting,Available,UnAvailable,CreateFailed"


def load_scenario(images: int = 12) -> dict[str, Any]:
    return {
        "name": "serve-load",
        "regions": [SOURCE_REGION, *DESTINATIONS],
        "images": [{"name": f"src{i}", "region": SOURCE_REGION, "size": 20} for i in range(images)],
        "options": {"copy_limit": 5},
    }


@dataclass
class LoadResult:
    requests: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    codes: Counter = field(default_factory=Counter)
    # ClientToken -> ImageIds of its accepted (200) answers
    accepted: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(p / 100.0 * (len(ordered) - 1)))))
    return ordered[k]


def _admin(url: str, name: str, query: str = "") -> Any:
    req = urllib.request.Request(f"{url}/_copyimage/{name}{'?' + query if query else ''}", data=b"", method="POST")
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def source_images(endpoint: str, key: str, secret: str) -> list[str]:
    with EcsClient(endpoint, key, secret) as c:
        status, body = c.call("DescribeImages", {"RegionId": SOURCE_REGION, "PageSize": 100})
    if status != 200:
        raise RuntimeError(f"DescribeImages answered {status}: {body}")
    return sorted(im["ImageId"] for im in body["Images"]["Image"])


def run_load(
    endpoint: str,
    key: str,
    secret: str,
    *,
    threads: int = 8,
    requests: int = 2000,
    seed: int = 0,
    advance_every: int = 10,
    advance_seconds: float = 120.0,
    timeout: float = 300.0,
) -> LoadResult:
    """Send ``requests`` requests from ``threads`` threads; bounded in count and in time."""
    sources = source_images(endpoint, key, secret)
    url = f"http://{endpoint}"
    result = LoadResult()
    lock = threading.Lock()
    issued: list[tuple[str, dict[str, str]]] = []  # (token, params) of fresh copies, shared
    per_thread = [requests // threads + (1 if i < requests % threads else 0) for i in range(threads)]
    deadline = time.monotonic() + timeout

    def worker(n: int) -> None:
        rng = random.Random(seed * 1000 + n)
        mine = 0
        with EcsClient(endpoint, key, secret, signature="v3" if n % 2 == 0 else "rpc") as c:
            for i in range(per_thread[n]):
                if time.monotonic() > deadline:
                    with lock:
                        result.errors.append(f"thread {n}: time limit reached after {i} requests")
                    return
                roll = rng.random()
                t0 = time.perf_counter()
                token = None
                if advance_every and i % advance_every == advance_every - 1 and n == 0:
                    _admin(url, "advance", f"seconds={advance_seconds}")
                    status, body, action = 200, {}, "advance"
                elif roll < 0.2:
                    region = rng.choice((SOURCE_REGION, *DESTINATIONS))
                    status, body = c.call("DescribeImages", {"RegionId": region, "Status": ALL_STATUSES, "PageSize": 10})
                    action = "DescribeImages"
                else:
                    with lock:
                        retry = roll >= 0.6 and issued
                        if retry:
                            token, params = rng.choice(issued)
                        else:
                            token = f"tok-{n}-{mine}"
                            mine += 1
                            params = {"RegionId": SOURCE_REGION, "ImageId": rng.choice(sources),
                                      "DestinationRegionId": rng.choice(DESTINATIONS), "ClientToken": token}
                            issued.append((token, params))
                    status, body = c.call("CopyImage", params)
                    action = "CopyImage"
                elapsed = time.perf_counter() - t0
                with lock:
                    result.requests += 1
                    result.latencies.append(elapsed)
                    result.statuses[status] += 1
                    if status != 200:
                        result.codes[body.get("Code", "?")] += 1
                    elif action == "CopyImage" and token is not None:
                        result.accepted[token].append(body["ImageId"])

    def guarded(n: int) -> None:
        try:
            worker(n)
        except Exception as exc:  # noqa: BLE001 - reported in the result
            with lock:
                result.errors.append(f"thread {n}: {type(exc).__name__}: {exc}")

    started = time.perf_counter()
    pool = [threading.Thread(target=guarded, args=(n,), name=f"load-{n}") for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(max(1.0, deadline - time.monotonic() + 5))
    result.seconds = time.perf_counter() - started
    return result


def listed_images(endpoint: str, key: str, secret: str, region: str) -> list[str]:
    """Every image DescribeImages lists in ``region`` (all statuses, all pages)."""
    out: list[str] = []
    with EcsClient(endpoint, key, secret) as c:
        page = 1
        while True:
            status, body = c.call("DescribeImages", {"RegionId": region, "Status": ALL_STATUSES,
                                                     "PageSize": 100, "PageNumber": page})
            if status != 200:
                raise RuntimeError(f"DescribeImages answered {status}: {body}")
            items = body["Images"]["Image"]
            out.extend(im["ImageId"] for im in items)
            if not items or len(out) >= int(body.get("TotalCount", 0)):
                return out
            page += 1


def check_outcome(endpoint: str, key: str, secret: str, result: LoadResult) -> list[str]:
    """Problems with the outcome of a load (empty when every accepted copy exists exactly once)."""
    problems = list(result.errors)
    for token, ids in result.accepted.items():
        if len(set(ids)) != 1:
            problems.append(f"ClientToken {token} answered several ImageIds: {sorted(set(ids))}")
    accepted = {ids[0] for ids in result.accepted.values() if ids}
    if len(accepted) != len([1 for ids in result.accepted.values() if ids]):
        problems.append("two ClientTokens answered the same ImageId")
    _admin(f"http://{endpoint}", "run-until-idle")
    listed = Counter()
    for region in DESTINATIONS:
        listed.update(listed_images(endpoint, key, secret, region))
    for image_id in accepted:
        if listed[image_id] != 1:
            problems.append(f"accepted copy {image_id} is listed {listed[image_id]} times")
    extra = set(listed) - accepted
    if extra:
        problems.append(f"images no CopyImage answer gave: {sorted(extra)}")
    return problems
