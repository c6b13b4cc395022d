"""Turning figures into bytes that do not change from run to run, and writing files all-or-nothing.

Committed diagrams are compared byte for byte with what the code draws
(``tests/test_viz_docs.py``), so an SVG must depend only on what is drawn:
matplotlib's random element ids are seeded (``svg.hashsalt``), text stays
text (``svg.fonttype: none``, no glyph outlines that vary with FreeType), and
the date, the creator line and the RDF metadata block are left out.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["figure_svg", "figure_png", "write_atomic", "SVG_RC"]

# Settings every SVG is drawn with; the salt is arbitrary but fixed.
SVG_RC = {"svg.hashsalt": "copyimage", "svg.fonttype": "none", "font.family": "DejaVu Sans"}

# New files get the usual permissions (mkstemp would make them private); read once, as os.umask sets it too.
_UMASK = os.umask(0o022)
os.umask(_UMASK)

_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.DOTALL)
_TRAILING = re.compile(r"[ \t]+\n")


def figure_svg(fig: "Figure") -> str:
    """The figure as SVG text, identical for identical drawings."""
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context(SVG_RC):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    text = _METADATA.sub("", buf.getvalue(), count=1)
    return _TRAILING.sub("\n", text)


def figure_png(fig: "Figure", dpi: int = 110) -> bytes:
    """The figure as PNG bytes (without the Software tag, which names the matplotlib version)."""
    import matplotlib

    buf = io.BytesIO()
    with matplotlib.rc_context({"font.family": SVG_RC["font.family"]}):
        fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


def write_atomic(path: str | os.PathLike[str], data: str | bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename.

    A reader (or a failed run) never sees a half-written file: either the old
    content stays or the new content is complete.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
        mode = target.stat().st_mode & 0o777 if target.exists() else 0o666 & ~_UMASK
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return target
