"""Scenario files: malformed ones are refused with the file, the line and a fix; good ones load and pass.

Every malformed file is written to ``tmp_path``; loading it raises a
ScenarioError naming the file and the line the mistake is on, with a fix;
``copyimage simulate`` and ``copyimage check`` exit 2 with that message on
stderr, print nothing on stdout, and write no file.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from model import Cloud, ScenarioError, load_scenario
from model.cli import main
from model.simulate import simulate

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
COPYIMAGE = Path(sys.executable).parent / "copyimage"

# name -> (file text, line of the mistake, words the message must contain, words the fix must contain)
MALFORMED = {
    "bad-yaml-tab": (
        "name: bad\n"
        "regions:\n"
        "\t- cn-hangzhou\n",
        3, ["not valid YAML"], ["YAML syntax"]),
    "bad-yaml-unclosed": (
        "name: bad\n"
        "regions: [cn-hangzhou\n"
        "images:\n"
        "  - {name: web}\n",
        3, ["not valid YAML", "line 2"], ["YAML syntax"]),
    "unknown-top-key": (
        "name: typo\n"
        "regions: [cn-hangzhou]\n"
        "imagse:\n"
        "  - {name: web}\n",
        3, ["unknown key `imagse`"], ["did you mean `images`?"]),
    "unknown-option": (
        "name: typo\n"
        "options:\n"
        "  copy_limit: 5\n"
        "  limit_regoin: source\n",
        4, ["unknown key `limit_regoin`"], ["did you mean `limit_region`?"]),
    "wrong-type-seed": (
        "name: types\n"
        "seed: seven\n"
        "regions: [cn-hangzhou]\n",
        2, ["`seed`", "must be int", "'seven'"], ["an int value"]),
    "wrong-type-size": (
        "name: types\n"
        "regions: [cn-hangzhou]\n"
        "images:\n"
        "  - name: web\n"
        "    size: big\n",
        5, ["`size`", "must be int"], ["`size`"]),
    "wrong-type-region-flag": (
        "name: types\n"
        "regions:\n"
        "  - cn-hangzhou\n"
        "  - {id: cn-shanghai, copy_out: maybe}\n",
        4, ["`copy_out`", "must be bool"], ["`copy_out`"]),
    "wrong-type-images": (
        "name: types\n"
        "regions: [cn-hangzhou]\n"
        "images: web\n",
        3, ["images must be a list"], ["YAML list"]),
    "bad-option-value": (
        "name: opts\n"
        "regions: [cn-hangzhou]\n"
        "options: {queue_order: lifo}\n",
        3, ["queue_order", "'lifo'"], ["fifo", "any"]),
    "unknown-image-region": (
        "name: where\n"
        "regions: [cn-hangzhou, cn-shanghai]\n"
        "images:\n"
        "  - {name: web}\n"
        "  - name: db\n"
        "    region: cn-beijing\n",
        6, ["unknown region cn-beijing", "`db`"], ["cn-hangzhou, cn-shanghai"]),
    "unknown-kms-region": (
        "name: where\n"
        "regions: [cn-hangzhou]\n"
        "kms_keys:\n"
        "  - {id: key-1, region: cn-nowhere}\n",
        4, ["unknown region cn-nowhere"], ["cn-hangzhou"]),
    "unknown-step-action": (
        "name: act\n"
        "regions: [cn-hangzhou, cn-shanghai]\n"
        "images:\n"
        "  - {name: web}\n"
        "steps:\n"
        "  - {advance: 10}\n"
        "  - call: CopyImag\n"
        "    params: {RegionId: cn-hangzhou}\n",
        7, ["unknown action `CopyImag`"], ["did you mean `CopyImage`?"]),
    "unknown-step-kind": (
        "name: act\n"
        "regions: [cn-hangzhou]\n"
        "steps:\n"
        "  - {advance: 10}\n"
        "  - {wait: 10}\n",
        5, ["a step must have exactly one of"], ["advance"]),
    "bad-reference": (
        "name: ref\n"
        "regions: [cn-hangzhou, cn-shanghai]\n"
        "images:\n"
        "  - {name: web}\n"
        "steps:\n"
        "  - call: CopyImage\n"
        "    params:\n"
        "      RegionId: cn-hangzhou\n"
        "      ImageId: $nope\n"
        "      DestinationRegionId: cn-shanghai\n",
        9, ["unknown reference $nope"], ["web"]),
    "reference-to-a-later-step": (
        "name: ref\n"
        "regions: [cn-hangzhou, cn-shanghai]\n"
        "images:\n"
        "  - {name: web}\n"
        "steps:\n"
        "  - {call: CancelCopyImage, params: {RegionId: cn-shanghai, ImageId: $later}}\n"
        "  - {call: CopyImage, name: later, params: {RegionId: cn-hangzhou, ImageId: $web}}\n",
        6, ["unknown reference $later"], ["earlier named step"]),
    "bad-expect-status-ref": (
        "name: ref\n"
        "regions: [cn-hangzhou]\n"
        "images:\n"
        "  - {name: web}\n"
        "steps:\n"
        "  - {advance: 1}\n"
        "  - expect_status:\n"
        "      web: Available\n"
        "      wbe: Available\n",
        9, ["unknown reference $wbe"], ["web"]),
    "negative-advance": (
        "name: time\n"
        "regions: [cn-hangzhou]\n"
        "steps:\n"
        "  - {advance: -5}\n",
        4, ["negative"], [">= 0"]),
    "not-a-mapping": (
        "- name: list\n"
        "- regions: [cn-hangzhou]\n",
        1, ["must be a mapping"], ["`regions:`"]),
}


def _write(tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(MALFORMED[name][0], encoding="utf-8")
    return path


def _files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*")}


@pytest.mark.parametrize("name", MALFORMED)
def test_malformed_scenario_names_file_line_and_fix(tmp_path, name):
    path = _write(tmp_path, name)
    _, line, what_words, fix_words = MALFORMED[name]
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    err = info.value
    assert err.source == str(path)
    assert err.line == line, str(err)
    text = str(err)
    assert text.startswith(f"{path}:{line}: ")
    for word in what_words:
        assert word in err.what, (word, text)
    assert "fix: " in text and err.fix
    for word in fix_words:
        assert word in err.fix, (word, text)


@pytest.mark.parametrize("command", ["simulate", "check"])
@pytest.mark.parametrize("name", ["bad-yaml-tab", "unknown-top-key", "wrong-type-seed", "unknown-image-region",
                                  "unknown-step-action", "bad-reference"])
def test_cli_exits_2_with_the_message_and_writes_nothing(tmp_path, monkeypatch, capsys, command, name):
    path = _write(tmp_path, name)
    monkeypatch.chdir(tmp_path)
    before = _files(tmp_path)
    assert main([command, str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    line = MALFORMED[name][1]
    assert err.startswith(f"copyimage: {path}:{line}: ")
    assert "fix: " in err
    assert _files(tmp_path) == before


def test_cli_stops_before_running_anything_when_one_file_is_bad(tmp_path, monkeypatch, capsys):
    """A good and a bad file: nothing is simulated or reported; only the error."""
    good = tmp_path / "a-good.yaml"
    good.write_text("name: good\nregions: [cn-hangzhou]\nsteps:\n  - {advance: 1}\n", encoding="utf-8")
    _write(tmp_path, "bad-reference")
    monkeypatch.chdir(tmp_path)
    before = _files(tmp_path)
    for command in ("simulate", "check"):
        assert main([command, str(tmp_path)]) == 2
        out, err = capsys.readouterr()
        assert out == "" and "unknown reference $nope" in err
    assert _files(tmp_path) == before


def test_cli_missing_file(tmp_path, capsys):
    assert main(["simulate", str(tmp_path / "nope.yaml")]) == 2
    assert "no such file or folder" in capsys.readouterr().err


def test_cli_subprocess(tmp_path):
    """The installed ``copyimage`` command: exit 2, the message on stderr, nothing on stdout, no file."""
    path = _write(tmp_path, "unknown-top-key")
    before = _files(tmp_path)
    done = subprocess.run([str(COPYIMAGE), "check", str(path)], capture_output=True, text=True, cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    assert done.returncode == 2
    assert done.stdout == ""
    assert f"{path}:3: unknown key `imagse` in the scenario" in done.stderr
    assert "did you mean `images`?" in done.stderr
    assert _files(tmp_path) == before


def test_dict_scenario_errors_have_no_line():
    with pytest.raises(ScenarioError) as info:
        load_scenario({"regions": ["cn-hangzhou"], "imagse": []})
    assert info.value.source == "<scenario>" and info.value.line is None
    assert "did you mean `images`?" in str(info.value)


def test_reference_forms_that_resolve():
    """``$ref``, ``$step``, ``$step.Field.0`` and ``$$`` all load; ``$ref.Field`` of an image is refused."""
    good = {
        "regions": ["cn-hangzhou", "cn-shanghai"],
        "images": [{"name": "web"}],
        "steps": [
            {"call": "CopyImage", "name": "c1",
             "params": {"RegionId": "cn-hangzhou", "ImageId": "$web", "DestinationRegionId": "cn-shanghai",
                        "DestinationDescription": "$$5 a month"}},
            {"run_until_idle": True},
            {"call": "RunInstances", "name": "vm", "params": {"RegionId": "cn-shanghai", "ImageId": "$c1"}},
            {"call": "ReplaceSystemDisk",
             "params": {"InstanceId": "$vm.InstanceIdSets.InstanceIdSet.0", "ImageId": "$c1.ImageId"},
             "expect": {"ok": True}},
            {"expect_status": {"c1": "Available", "web": "Available"}},
        ],
    }
    result = simulate(load_scenario(good))
    assert result.ok, result.failures
    image = result.cloud.world.image(result.cloud.trace[0]["response"]["ImageId"])
    assert image.spec.description == "$5 a month"
    bad = dict(good, steps=[{"call": "DescribeImages", "params": {"RegionId": "cn-hangzhou", "ImageId": "$web.Id"}}])
    with pytest.raises(ScenarioError, match=r"unknown reference \$web\.Id"):
        load_scenario(bad)


def _scenario_files() -> list[Path]:
    return sorted(p for p in SCENARIOS.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def test_there_are_scenarios():
    assert len(_scenario_files()) >= 6


@pytest.mark.parametrize("path", _scenario_files(), ids=lambda p: str(p.relative_to(SCENARIOS)))
def test_every_shipped_scenario_loads_and_its_steps_pass(path):
    scenario = load_scenario(path)
    assert scenario.source == str(path)
    Cloud(scenario)  # a Cloud can be made from it
    if scenario.steps:
        result = simulate(scenario)
        assert result.ok, result.failures


def test_copyimage_check_scenarios_exits_0(capsys):
    """``copyimage check`` passes on every shipped scenario (the benchmarks under bench/ are left to
    ``make bench``: exploring the largest takes minutes)."""
    files = [str(p) for p in _scenario_files() if "bench" not in p.relative_to(SCENARIOS).parts[:-1]]
    assert len(files) >= 6
    assert main(["check", *files]) == 0, capsys.readouterr().out
