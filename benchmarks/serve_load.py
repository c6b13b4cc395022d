"""Loopback load on ``copyimage serve``: requests/second and latency percentiles.

    python benchmarks/serve_load.py [--threads 8] [--requests 2000] [--seed 0]

Starts a server on 127.0.0.1 (any free port, manual clock) over a scenario with
a dozen source images, then runs a bounded mixed load from several client
threads, each with its own keep-alive connection: CopyImage with fresh
ClientTokens, as many CopyImage retries with used ClientTokens, DescribeImages,
and now and then an admin ``advance``. Half the threads sign with V3
(ACS3-HMAC-SHA256), half with the RPC HMAC-SHA1 signature. It prints the
throughput and the p50/p99 latency, then checks that every accepted copy
exists exactly once (exit status 1 if not). Traffic goes to loopback only, and
the load stops by itself (request count and a time limit).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from model import Cloud  # noqa: E402
from model.server import Server  # noqa: E402
from model.server.loadgen import check_outcome, load_scenario, percentile, run_load  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=8, help="client threads (default 8)")
    p.add_argument("--requests", type=int, default=2000, help="requests in all (default 2000)")
    p.add_argument("--images", type=int, default=12, help="source images in the scenario (default 12)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--timeout", type=float, default=300.0, help="time limit in seconds (default 300)")
    args = p.parse_args(argv)
    if args.threads < 1 or args.requests < 1:
        p.error("--threads and --requests must be positive")

    cloud = Cloud.from_scenario(load_scenario(images=args.images))
    (key, (secret, _caller)), *_ = cloud.access_keys().items()
    with Server(cloud, host="127.0.0.1", port=0, clock="manual") as srv:
        result = run_load(srv.endpoint, key, secret, threads=args.threads, requests=args.requests,
                          seed=args.seed, timeout=args.timeout)
        lat_ms = [x * 1000 for x in result.latencies]
        print(f"serve_load: {result.requests} requests from {args.threads} threads in {result.seconds:.2f} s")
        print(f"  throughput: {result.rps:.0f} requests/s")
        print(f"  latency: p50 {percentile(lat_ms, 50):.2f} ms   p99 {percentile(lat_ms, 99):.2f} ms   "
              f"max {max(lat_ms, default=0):.2f} ms")
        print(f"  statuses: {dict(sorted(result.statuses.items()))}   refusals: {dict(result.codes.most_common())}")
        accepted = {ids[0] for ids in result.accepted.values() if ids}
        retried = sum(len(ids) - 1 for ids in result.accepted.values())
        print(f"  accepted copies: {len(accepted)}   answered retries: {retried}")
        problems = check_outcome(srv.endpoint, key, secret, result)
    if problems:
        print("FAILED: " + "\n  ".join(problems), file=sys.stderr)
        return 1
    print("  check: every accepted copy exists exactly once")
    return 0


if __name__ == "__main__":
    sys.exit(main())
