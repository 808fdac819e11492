"""Known md5 sums of the official PCAM files, and md5sum-format override files."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from ml_core.data._errors import DataError

# Zenodo record 2546921. The upstream README swaps valid and test: these are checked.
OFFICIAL_MD5: dict[str, str] = {
    "camelyonpatch_level_2_split_train_x.h5.gz": "1571f514728f59376b705fc836ff4b63",
    "camelyonpatch_level_2_split_train_y.h5.gz": "35c2d7259d906cfc8143347bb8e05be7",
    "camelyonpatch_level_2_split_valid_x.h5.gz": "d5b63470df7cfa627aeec8b9dc0c066e",
    "camelyonpatch_level_2_split_valid_y.h5.gz": "2b85f58b927af9964a4c15b8f7e8f179",
    "camelyonpatch_level_2_split_test_x.h5.gz": "d8c2d60d490dbd479f8199bdfa0cf6ec",
    "camelyonpatch_level_2_split_test_y.h5.gz": "60a7035772fbdb7f34eb86d4420cf66a",
    "camelyonpatch_level_2_split_train_x.h5": "01844da899645b4d6f84946d417ba453",
    "camelyonpatch_level_2_split_train_y.h5": "0781386bf6c2fb62d58ff18891466aca",
    "camelyonpatch_level_2_split_valid_x.h5": "81cf9680f1724c40673f10dc88e909b1",
    "camelyonpatch_level_2_split_valid_y.h5": "94d8aacc249253159ce2a2e78a86e658",
    "camelyonpatch_level_2_split_test_x.h5": "2614b2e6717d6356be141d9d6dbfcb7e",
    "camelyonpatch_level_2_split_test_y.h5": "11ed647efe9fe457a4eb45df1dba19ba",
}

_MD5SUM_LINE = re.compile(r"^([0-9a-fA-F]{32}) [ *](.+)$")
_READ_BYTES = 1 << 20


def read_md5sum_file(path: Path) -> dict[str, str]:
    """Parse ``<md5>  <name>`` lines (``md5sum`` output); names are base names."""
    try:
        text = path.read_text()
    except OSError as error:
        raise DataError(f"{path}: cannot read checksums ({error.strerror})") from error
    sums: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        match = _MD5SUM_LINE.match(line.rstrip())
        if match is None:
            raise DataError(f"{path}:{number}: not an md5sum line: {line.strip()!r}")
        sums[Path(match.group(2)).name] = match.group(1).lower()
    return sums


def md5_of_file(path: Path) -> str:
    """md5 hex digest of a whole file, read in 1 MiB blocks."""
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as stream:
        while block := stream.read(_READ_BYTES):
            digest.update(block)
    return digest.hexdigest()
