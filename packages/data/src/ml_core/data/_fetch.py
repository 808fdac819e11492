"""Download real PCAM: resumable, verified, decompressed in constant memory, atomic.

For each official file: download ``<name>.h5.gz`` into ``<name>.h5.gz.part`` (resumed with
an HTTP Range request after a dropped connection or an interrupted run), check its md5,
gunzip it streaming into a temporary file while hashing, check that md5 where known,
then rename to ``<name>.h5``. Nothing unverified ever carries a final name.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from ml_core.contract import atomic_output
from ml_core.data._checksums import OFFICIAL_MD5, md5_of_file
from ml_core.data._errors import DataError
from ml_core.data._layout import official_file_names

ZENODO_BASE_URL = "https://zenodo.org/records/2546921/files"
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


def _quiet(message: str) -> None:
    """Default reporter: say nothing."""
    del message


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
    report = report or _quiet
    sums = OFFICIAL_MD5 | (settings.checksums or {})
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return [
        _fetch_one(out, name, sums, settings, report) for name in official_file_names()
    ]


def _fetch_one(
    out: Path, name: str, sums: dict[str, str], settings: FetchSettings, report: Report
) -> Path:
    final = out / name
    if final.exists():
        _accept_existing(final, sums.get(name), report)
        return final
    gz_name = f"{name}.gz"
    part = out / f"{gz_name}.part"
    _download(file_url(settings.base_url, gz_name), part, settings, report)
    _verify(part, gz_name, sums.get(gz_name), report)
    _gunzip_verified(part, final, sums.get(name))
    part.unlink()
    report(f"{name}: ready")
    return final


def _accept_existing(final: Path, expected: str | None, report: Report) -> None:
    if expected is None:
        report(f"{final.name}: present (no md5 known to verify it), skipped")
        return
    actual = md5_of_file(final)
    if actual != expected:
        raise FetchError(
            f"{final}: exists but its md5 is {actual}, expected {expected}; "
            "remove it to download again"
        )
    report(f"{final.name}: present and verified, skipped")


def _verify(part: Path, name: str, expected: str | None, report: Report) -> None:
    if expected is None:
        report(f"{name}: no md5 known, download not verified")
        return
    actual = md5_of_file(part)
    if actual != expected:
        part.unlink()
        raise FetchError(
            f"{name}: md5 of the download is {actual}, expected {expected}; "
            "removed it (wrong file or corrupted transfer)"
        )


def _gunzip_verified(part: Path, final: Path, expected: str | None) -> None:
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
        if expected is not None and digest.hexdigest() != expected:
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
        _stream_to_part(response, part, offset, expected, settings)


def _stream_to_part(
    response: http.client.HTTPResponse,
    part: Path,
    offset: int,
    expected: int | None,
    settings: FetchSettings,
) -> None:
    show = sys.stderr.isatty() if settings.progress is None else settings.progress
    received = offset
    with (
        part.open("ab" if offset else "wb") as target,
        tqdm(
            total=expected,
            initial=offset,
            unit="B",
            unit_scale=True,
            desc=part.name.removesuffix(".part"),
            disable=not show,
        ) as bar,
    ):
        while block := response.read(_BLOCK_BYTES):
            target.write(block)
            received += len(block)
            bar.update(len(block))
    if expected is not None and received < expected:
        # http.client returns a short body without raising when the peer closes early.
        raise http.client.IncompleteRead(b"", expected - received)
