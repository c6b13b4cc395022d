"""``copyimage serve`` as the CLI will run it: add_serve_arguments + run_serve,
in a child process, stopped with Ctrl-C (SIGINT)."""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest

from model.server import EcsClient, ManualClock, WallClock, add_serve_arguments, run_serve

ROOT = Path(__file__).resolve().parents[1]


def parser():
    p = argparse.ArgumentParser(prog="copyimage")
    sub = p.add_subparsers(dest="command")
    add_serve_arguments(sub.add_parser("serve"))
    return p


def test_arguments_and_defaults():
    args = parser().parse_args(["serve"])
    assert (args.scenario, args.host, args.port, args.speed, args.manual_clock, args.trace) == (
        None, "127.0.0.1", 0, 1.0, False, None)
    assert args.check_timestamps and not args.allow_remote_admin
    assert args.func is run_serve
    args = parser().parse_args(["serve", "--scenario", "s.yaml", "--port", "8080", "--manual-clock", "--trace", "t.jsonl"])
    assert (args.scenario, args.port, args.manual_clock, args.trace) == ("s.yaml", 8080, True, "t.jsonl")
    assert parser().parse_args(["serve", "--speed", "60"]).speed == 60.0


@pytest.mark.parametrize("bad", [["--speed", "0"], ["--speed", "x"], ["--port", "70000"],
                                 ["--speed", "2", "--manual-clock"]])
def test_bad_arguments(bad, capsys):
    with pytest.raises(SystemExit):
        parser().parse_args(["serve", *bad])


def test_run_serve_picks_the_clock(monkeypatch):
    seen = {}

    def fake_serve(cloud, **kw):
        seen.update(kw, cloud=cloud)
        return 0

    monkeypatch.setattr("model.server.cli.serve", fake_serve)
    assert run_serve(parser().parse_args(["serve", "--manual-clock"])) == 0
    assert isinstance(seen["clock"], ManualClock) and seen["port"] == 0
    assert run_serve(parser().parse_args(["serve", "--speed", "30"])) == 0
    assert isinstance(seen["clock"], WallClock) and seen["clock"].speed == 30
    assert seen["cloud"].access_keys()


def test_run_serve_reports_a_bad_scenario(tmp_path, capsys):
    assert run_serve(parser().parse_args(["serve", "--scenario", str(tmp_path / "missing.yaml")])) == 2
    assert "cannot load the scenario" in capsys.readouterr().err


def test_serve_in_a_process_until_ctrl_c(tmp_path):
    trace = tmp_path / "trace.jsonl"
    script = textwrap.dedent(f"""
        import argparse, sys
        from model.server import add_serve_arguments
        p = argparse.ArgumentParser()
        add_serve_arguments(p)
        args = p.parse_args(["--manual-clock", "--trace", {str(trace)!r}])
        sys.exit(args.func(args))
    """)
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, cwd=str(tmp_path))
    try:
        lines = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "Ctrl-C" in line:
                break
        banner = "".join(lines)
        endpoint = re.search(r"endpoint: (\S+)", banner).group(1)
        key, secret = re.search(r"AccessKeyId: (\S+)\s+AccessKeySecret: (\S+)", banner).groups()
        with urllib.request.urlopen(f"http://{endpoint}/_copyimage/health", timeout=10) as resp:
            assert json.loads(resp.read())["clock"] == "manual"
        with EcsClient(endpoint, key, secret) as c:
            status, body = c.call("DescribeImages", {"RegionId": "cn-hangzhou"})
        assert status == 200 and body["TotalCount"] >= 1
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
    assert proc.returncode == 0, err
    records = [json.loads(x) for x in trace.read_text().splitlines()]
    assert [r["type"] for r in records] == ["request", "response"]
