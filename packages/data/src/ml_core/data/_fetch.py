"""Download real PCAM: resumable (``.part`` files, HTTP Range), md5-verified before and
after decompressing in constant memory; nothing unverified ever carries a final name."""

from __future__ import annotations

import gzip
import hashlib
import http.client
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from ml_core.contract import atomic_output
from ml_core.data._errors import DataError
from ml_core.data._layout import official_file_names

ZENODO_BASE_URL = "https://zenodo.org/records/2546921/files"
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
_BLOCK_BYTES = 1 << 20
Report = Callable[[str], None]


class FetchError(DataError):
    """A download failed, or its bytes did not match the expected checksum."""


@dataclass(frozen=True)
class FetchSettings:
    """How to download: source, checksums, retries and progress display."""

    base_url: str = ZENODO_BASE_URL
    checksums: dict[str, str] | None = None
    retries: int = 5
    retry_wait_s: float = 2.0
    timeout_s: float = 60.0
    progress: bool | None = None  # None: show bars when stderr is a terminal

    def __post_init__(self) -> None:
        parts = urllib.parse.urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise FetchError(
                f"--base-url {self.base_url!r}: expected an http:// or https:// URL"
            )


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
    """md5 hex digest of a whole file."""
    with path.open("rb") as stream:
        md5 = hashlib.file_digest(stream, lambda: hashlib.md5(usedforsecurity=False))
    return md5.hexdigest()


def file_url(base_url: str, name: str) -> str:
    """``base_url/name``; Zenodo needs ``?download=1`` to serve the file itself."""
    url = f"{base_url.rstrip('/')}/{urllib.parse.quote(name)}"
    if urllib.parse.urlsplit(base_url).hostname == "zenodo.org":
        url += "?download=1"
    return url


def fetch_pcam(
    out_dir: Path | str,
    settings: FetchSettings | None = None,
    report: Report | None = None,
) -> list[Path]:
    """Make ``out_dir`` hold the six verified official .h5 files; returns their paths.

    ``report`` receives one line per event (skipped, resumed, ready).
    """
    settings = settings or FetchSettings()
    report = report or (lambda _line: None)
    sums = OFFICIAL_MD5 | (settings.checksums or {})
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return [
        _fetch_one(out, name, sums, settings, report) for name in official_file_names()
    ]


def _fetch_one(
    out: Path, name: str, sums: dict[str, str], settings: FetchSettings, report: Report
) -> Path:
    final, expected = out / name, sums[name]
    if final.exists():
        actual = md5_of_file(final)
        if actual != expected:
            raise FetchError(
                f"{final}: exists but its md5 is {actual}, expected {expected}; "
                "remove it to download again"
            )
        report(f"{name}: present and verified, skipped")
        return final
    gz_name = f"{name}.gz"
    part, gz_expected = out / f"{gz_name}.part", sums[gz_name]
    _download(file_url(settings.base_url, gz_name), part, settings, report)
    if (actual := md5_of_file(part)) != gz_expected:
        part.unlink()
        raise FetchError(
            f"{gz_name}: md5 of the download is {actual}, expected {gz_expected}; "
            "removed it (wrong file or corrupted transfer)"
        )
    _gunzip_verified(part, final, expected)
    part.unlink()
    report(f"{name}: ready")
    return final


def _gunzip_verified(part: Path, final: Path, expected: str) -> None:
    """Stream-decompress ``part`` into ``final`` via a temp file, checked before rename."""
    digest = hashlib.md5(usedforsecurity=False)
    with atomic_output(final) as temp_path:
        try:
            with gzip.open(part, "rb") as source, temp_path.open("wb") as target:
                while block := source.read(_BLOCK_BYTES):
                    digest.update(block)
                    target.write(block)
        except (OSError, EOFError) as error:
            raise FetchError(f"{part}: not a valid gzip file: {error}") from error
        if digest.hexdigest() != expected:
            raise FetchError(
                f"{final.name}: md5 after decompression is {digest.hexdigest()}, "
                f"expected {expected}; not installed"
            )


def _download(url: str, part: Path, settings: FetchSettings, report: Report) -> None:
    """Download ``url`` into ``part``, resuming after drops up to ``retries`` times."""
    for attempt in range(settings.retries + 1):
        try:
            _download_attempt(url, part, settings)
        except urllib.error.HTTPError as error:
            raise FetchError(f"{url}: HTTP {error.code} {error.reason}") from error
        except (OSError, http.client.HTTPException) as error:
            if attempt == settings.retries:
                resume = f"; run again to resume from {part}" if part.exists() else ""
                raise FetchError(
                    f"{url}: download failed after {attempt + 1} attempt(s): {error}"
                    f"{resume}"
                ) from error
            report(f"{part.name}: connection lost ({error}), resuming")
            time.sleep(settings.retry_wait_s * (attempt + 1))
        else:
            return


def _download_attempt(url: str, part: Path, settings: FetchSettings) -> None:
    offset = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url)  # noqa: S310 (https/http URLs we build)
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    try:
        response = urllib.request.urlopen(request, timeout=settings.timeout_s)  # noqa: S310
    except urllib.error.HTTPError as error:
        if error.code == 416 and offset:
            return  # the part already holds the whole file
        raise
    with response:
        if offset and response.status != 206:
            offset = 0  # the server ignored the range: start over
        length = response.headers.get("Content-Length")
        expected = offset + int(length) if length is not None else None
        received = offset
        with (
            part.open("ab" if offset else "wb") as target,
            tqdm(
                total=expected,
                initial=offset,
                unit="B",
                unit_scale=True,
                desc=part.name.removesuffix(".part"),
                # None: tqdm shows the bar when stderr is a terminal.
                disable=None if settings.progress is None else not settings.progress,
            ) as bar,
        ):
            while block := response.read(_BLOCK_BYTES):
                target.write(block)
                received += len(block)
                bar.update(len(block))
    if expected is not None and received < expected:
        # http.client returns a short body without raising when the peer closes early.
        raise http.client.IncompleteRead(b"", expected - received)
