"""Byte-order marks at the start of corpus files.

Editors on Windows save UTF-8 with a BOM (``EF BB BF``). Left in place it becomes part of the
first JSON line or of the first TSV column name (``\\ufeffdialog_id``), and the file fails as if
it were broken. Readers strip it from the first line and record the quirk
:data:`BOM_QUIRK` on the file's first dialogue, so ``reports/preprocess.json`` counts it.
"""

from __future__ import annotations

import codecs

BOM_QUIRK = "byte_order_mark"


def without_bom(first_line: bytes) -> tuple[bytes, bool]:
    """``first_line`` without a leading UTF-8 BOM, and whether it had one."""
    if first_line.startswith(codecs.BOM_UTF8):
        return first_line[len(codecs.BOM_UTF8) :], True
    return first_line, False
