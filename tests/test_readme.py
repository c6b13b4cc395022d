"""The README's Python examples run as a newcomer would paste them (from the repository root)."""

from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_readme_python_blocks_run(monkeypatch) -> None:
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert len(blocks) >= 2
    monkeypatch.chdir(ROOT)
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})  # noqa: S102 - our own documentation


def test_readme_quick_start_names_both_make_targets() -> None:
    text = (ROOT / "README.md").read_text()
    assert "make check" in text and "make test" in text
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^check:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
    assert os.access(ROOT / ".ci" / "run", os.X_OK) and "make test" in (ROOT / ".ci" / "run").read_text()
