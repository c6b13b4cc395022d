"""Many clients at once against the real model (not timed): every accepted copy
exists exactly once afterwards, whatever the interleaving.

Same driver as benchmarks/serve_load.py, smaller. Manual clock: service time
moves only through the admin endpoint (one worker advances it now and then).
"""

from __future__ import annotations

import json
from collections import defaultdict

from model import Cloud
from model.server import Server
from model.server.loadgen import check_outcome, load_scenario, run_load


def test_concurrent_copies_with_client_token_retries(tmp_path):
    cloud = Cloud.from_scenario(load_scenario(images=12))
    (key, (secret, _caller)), *_ = cloud.access_keys().items()
    trace = tmp_path / "trace.jsonl"
    with Server(cloud, clock="manual", trace_file=trace) as srv:
        result = run_load(srv.endpoint, key, secret, threads=8, requests=480, seed=3, timeout=240)
        problems = check_outcome(srv.endpoint, key, secret, result)
        assert problems == []
        assert result.requests == 480
        assert set(result.statuses) <= {200, 400, 403}, result.codes
        # some copies were accepted, some retried, some refused
        accepted = {ids[0] for ids in result.accepted.values()}
        assert len(accepted) >= 5
        assert any(len(ids) > 1 for ids in result.accepted.values())
        assert not cloud.violations()

    # the server's own record agrees: one ImageId per ClientToken, the same ImageIds
    by_token: dict[str, set[str]] = defaultdict(set)
    pending = {}
    for line in trace.read_text().splitlines():
        rec = json.loads(line)
        if rec["type"] == "request":
            pending[rec["seq"]] = rec
        elif rec["type"] == "response":
            req = pending.pop(rec["seq"])
            if req["action"] == "CopyImage" and rec["status"] == 200:
                by_token[req["params"]["ClientToken"]].add(rec["body"]["ImageId"])
    assert all(len(ids) == 1 for ids in by_token.values())
    assert {next(iter(ids)) for ids in by_token.values()} == accepted
    assert not pending
