"""Which SPEC ids have tests: ``python -m tests.spec_coverage`` (run by ``make test``).

A test covers an id when the id appears as a word in its collected node id
(its name, or a parametrize id such as ``test_error_row[E24-...]``), its
docstring, or a ``spec`` marker (``@pytest.mark.spec("E24")``). Exit status 1
when an id of the families N, P, E, C, D, Q has no test.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from model.semantics.rules import FAMILIES, REQUIRED_FAMILIES, RULES

_ID = re.compile(r"(?<![A-Za-z0-9])([NPECDQAIL]\d{1,2})(?![0-9])")


class _Collector:
    def __init__(self) -> None:
        self.covered: dict[str, set[str]] = {}

    def pytest_collection_modifyitems(self, items: list) -> None:  # pytest hook
        for item in items:
            doc = getattr(getattr(item, "function", None), "__doc__", None) or ""
            text = item.nodeid.replace("_", " ") + " " + doc
            for mark in item.iter_markers("spec"):
                text += " " + " ".join(map(str, mark.args))
            for rule_id in _ID.findall(text):
                if rule_id in RULES:
                    self.covered.setdefault(rule_id, set()).add(item.nodeid)


def covered_ids(folder: Path) -> dict[str, set[str]]:
    """id -> the collected tests that cite it."""
    collector = _Collector()
    code = pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider", str(folder)], plugins=[collector])
    if code not in (0, 5):
        raise SystemExit(f"collecting tests failed (pytest exit {code})")
    return collector.covered


def main() -> int:
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        covered = covered_ids(Path(__file__).parent)
    missing_required = []
    print("SPEC ids with tests:")
    for family in FAMILIES:
        ids = [i for i in RULES if re.fullmatch(family + r"\d+", i)]
        have = [i for i in ids if i in covered]
        lacking = [i for i in ids if i not in covered]
        line = f"  {family}: {len(have)}/{len(ids)}"
        if lacking:
            line += "  without tests: " + " ".join(lacking)
        print(line)
        if family in REQUIRED_FAMILIES:
            missing_required.extend(lacking)
    if missing_required:
        print("FAIL: these ids must have at least one test: " + " ".join(missing_required))
        return 1
    print("every N, P, E, C, D, Q id has at least one test")
    return 0


if __name__ == "__main__":
    sys.exit(main())
