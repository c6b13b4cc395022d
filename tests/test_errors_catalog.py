"""The error catalog against the CopyImage page's own table (tests/data/copyimage_error_table.tsv).

The TSV is the page's 50-row table kept verbatim; ``COPY_IMAGE_ERRORS`` must
be that table, row for row (E1..E50), and every code a rule of the model can
answer with must be a row of ``CATALOG``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from model.semantics import copy_image as copy_image_module
from model.semantics.errors import CATALOG, COPY_IMAGE_ERRORS, OTHER_ERRORS, error
from model.semantics.rules import RULES
from model.semantics.world import Options

DATA = Path(__file__).parent / "data" / "copyimage_error_table.tsv"
MODEL = Path(__file__).resolve().parent.parent / "model"


def _table() -> list[tuple[int, str, str]]:
    out = []
    for line in DATA.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        status, code, message = line.split("\t")
        out.append((int(status), code, message))
    return out


TABLE = _table()


def test_the_page_table_has_50_rows():
    assert len(TABLE) == 50
    assert len(COPY_IMAGE_ERRORS) == 50


@pytest.mark.parametrize("index", range(50), ids=[f"E{i + 1}-{TABLE[i][1]}" for i in range(50)])
def test_catalog_row_matches_the_page(index):
    """Each row Ei of the catalog is row i of the page: same status, code, message, and rule id Ei."""
    status, code, message = TABLE[index]
    row = COPY_IMAGE_ERRORS[index]
    assert row.rule == f"E{index + 1}"
    assert (row.status, row.code, row.message) == (status, code, message)
    # error() resolves a CopyImage code to this very row.
    assert error(code) is row
    assert RULES[f"E{index + 1}"] == f"CopyImage answers {code} ({status}): {message}"


def test_catalog_keeps_the_service_typos():
    codes = {r.code for r in COPY_IMAGE_ERRORS}
    assert "Forbbiden" in codes  # E19, the service's spelling
    assert "OperationDeined.EncryptedSnapshot" in codes  # E29


def test_catalog_codes_are_unique_in_the_copyimage_table():
    codes = [r.code for r in COPY_IMAGE_ERRORS]
    assert len(codes) == len(set(codes))


def test_other_rows_cite_known_rules_and_error_statuses():
    for row in (*COPY_IMAGE_ERRORS, *OTHER_ERRORS):
        assert row.rule in RULES, row
        assert 400 <= row.status <= 599, row
        assert row.message, row


def test_formatted_messages():
    """E21 and E22 carry a %s the rule fills in (the regions, the quota)."""
    assert error("QuotaExceed.Image").answer(100).message == "The number of images exceeds the limit (100)."
    assert (error("InvalidOperation.CopyingDataToThisRegionUnsupported").answer("cn-beijing").message
            == "Only Some Regions cn-beijing can copy data to this region.")
    assert error("MissingParameter").answer("ImageId").message == (
        'The input parameter "ImageId" that is mandatory for processing this request is not supplied.')


def test_per_action_wording():
    """C3/D3: the same code worded as CancelCopyImage's and DeleteImage's pages word it."""
    assert error("IncorrectImageStatus", "CancelCopyImage").message == "The image is copied finished."
    assert error("IncorrectImageStatus").message == "The image not available."
    deleting = error("OperationDenied.ImageCopying", "DeleteImage")
    assert "CancelCopyImage" in deleting.message and deleting.status == 403
    assert error("OperationDenied.ImageCopying").message == "The image is currently being copied. Please try again later."


def test_unknown_code_is_a_key_error():
    with pytest.raises(KeyError):
        error("No.Such.Code")


_RAISED = re.compile(r"""(?:\berror|_refuse|_fail)\(\s*["']([A-Za-z][A-Za-z0-9.]*)["']""")


def _raised_codes() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in sorted(MODEL.rglob("*.py")):
        if "check" in path.relative_to(MODEL).parts[:1] or "server" in path.relative_to(MODEL).parts[:1]:
            continue
        for code in _RAISED.findall(path.read_text(encoding="utf-8")):
            found.setdefault(code, []).append(str(path.relative_to(MODEL)))
    return found


def test_the_code_scan_finds_the_rules():
    """Guard the scan itself: it must see codes raised in each semantic module."""
    found = _raised_codes()
    for code in ("InvalidImageName.Malformed", "CancelNotSupported", "ImageUseShared", "MissingParameter",
                 "InternalError", "InvalidTagCount", "QuotaExceed.Image"):
        assert code in found, code


def test_every_code_the_model_raises_is_in_the_catalog():
    missing = {code: where for code, where in _raised_codes().items() if code not in CATALOG}
    assert not missing, f"codes raised but not in the catalog: {missing}"


def test_copy_image_code_table_is_all_catalog_rows():
    # copy_image.py resolves its codes once at import: each must be the CopyImage row.
    for code, row in copy_image_module._E.items():
        assert row is error(code), code
    # A3's option values are codes too.
    assert Options().copying_source_error in CATALOG
    assert "IncorrectImageStatus" in CATALOG
