"""The benchmark model BM(k, L) as a scenario: k source images copied into one region with limit L.

BM(k, L) is an abstract slice of the semantics, written also in other
checkers, so the distinct state counts can be compared side by side. Its
scenarios use exactly its alphabet (per image: CopyImage, CancelCopyImage,
DeleteImage of the copy, DeleteImage of the source; the service's Complete
and Fail) and the options that match it:

* ``failed_copies_deletable: false``: BM deletes a copy only when Available;
* ``delete_source_while_copying: false`` (A4, the default): BM deletes a
  source only when its task is not Waiting or Copying;
* FIFO, immediate start (the defaults): BM promotes the queue head in the
  same step that frees a slot.

Nothing incidental splits a BM state: copy ids are digests of (source,
destination, ordinal), refused requests are self-loops, RequestIds and
clocks are not in the explored state.
"""

from __future__ import annotations

from typing import Any

__all__ = ["bench_scenario", "BENCH_SIZES"]

BENCH_SIZES: tuple[tuple[int, int], ...] = ((3, 2), (4, 2), (5, 3), (6, 5))


def bench_scenario(k: int, limit: int) -> dict[str, Any]:
    """The scenario of BM(k, L) as a plain dict (``scenarios/bench/`` holds it as YAML)."""
    requests: list[dict[str, Any]] = []
    for i in range(1, k + 1):
        requests += [
            {"name": f"t{i}", "call": "CopyImage",
             "params": {"RegionId": "S", "ImageId": f"$s{i}", "DestinationRegionId": "D"}},
            {"call": "CancelCopyImage", "params": {"RegionId": "D", "ImageId": f"$t{i}"}},
            {"call": "DeleteImage", "params": {"RegionId": "D", "ImageId": f"$t{i}"}},
            {"call": "DeleteImage", "params": {"RegionId": "S", "ImageId": f"$s{i}"}},
        ]
    return {
        "name": f"bench-k{k}-L{limit}",
        "description": f"BM({k}, {limit}): {k} images copied from S into D, which runs at most {limit} copies at once.",
        "regions": ["S", "D"],
        "options": {"copy_limit": limit, "failed_copies_deletable": False, "delete_source_while_copying": False},
        "images": [{"name": f"s{i}", "region": "S", "size": 10} for i in range(1, k + 1)],
        "explore": {
            "requests": requests,
            "events": ["complete", "fail"],
            "properties": ["I2", "I3", "I6"],
            "expect": {"holds": ["I2", "I3", "I6"]},
        },
    }
