"""ml-data fetch against a real HTTP server on 127.0.0.1: good files, a connection
dropped mid-file (resumed with a Range request), and wrong bytes (refused)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ml_core.data import (
    DataError,
    FetchError,
    FetchSettings,
    fetch_pcam,
    official_file_names,
)
from ml_core.data._fetch import file_url, read_md5sum_file

if TYPE_CHECKING:  # the fixture's class, for annotations only
    from conftest import PCAMServer


def _settings(server: PCAMServer, checksums: Path, retries: int = 2) -> FetchSettings:
    return FetchSettings(
        base_url=server.base_url,
        checksums=read_md5sum_file(checksums),
        retries=retries,
        retry_wait_s=0.0,
        timeout_s=10.0,
        progress=False,
    )


def test_downloads_verifies_and_skips_next_time(
    tmp_path: Path, server: PCAMServer, checksums: Path, source: dict[str, bytes]
) -> None:
    out = tmp_path / "pcam"
    paths = fetch_pcam(out, _settings(server, checksums))
    assert [p.name for p in paths] == official_file_names()
    for path in paths:
        assert path.read_bytes() == source[path.name]
    assert sorted(p.name for p in out.iterdir()) == sorted(official_file_names())
    served = len(server.requests)
    messages: list[str] = []
    fetch_pcam(out, _settings(server, checksums), report=messages.append)
    assert len(server.requests) == served
    assert all(m.endswith("present and verified, skipped") for m in messages)


def test_dropped_connection_is_resumed_with_range(
    tmp_path: Path, server: PCAMServer, checksums: Path, source: dict[str, bytes]
) -> None:
    name = official_file_names()[0]
    server.drop_once.add(f"{name}.gz")
    fetch_pcam(tmp_path, _settings(server, checksums))
    ranges = server.ranges_for(f"{name}.gz")
    assert ranges[0] is None
    half = len(server.files[f"{name}.gz"]) // 2
    assert ranges[1] == f"bytes={half}-"
    assert (tmp_path / name).read_bytes() == source[name]


def test_interrupted_run_resumes_next_run(
    tmp_path: Path, server: PCAMServer, checksums: Path, source: dict[str, bytes]
) -> None:
    name = official_file_names()[0]
    server.drop_once.add(f"{name}.gz")
    with pytest.raises(FetchError, match="run again to resume"):
        fetch_pcam(tmp_path, _settings(server, checksums, retries=0))
    part = tmp_path / f"{name}.gz.part"
    half = len(server.files[f"{name}.gz"]) // 2
    assert part.stat().st_size == half
    assert not (tmp_path / name).exists()
    fetch_pcam(tmp_path, _settings(server, checksums, retries=0))
    assert server.ranges_for(f"{name}.gz") == [None, f"bytes={half}-"]
    assert (tmp_path / name).read_bytes() == source[name]
    assert not part.exists()


def test_wrong_bytes_are_refused(
    tmp_path: Path, server: PCAMServer, checksums: Path
) -> None:
    name = official_file_names()[1]
    server.corrupt.add(f"{name}.gz")
    with pytest.raises(FetchError, match=f"{name}.gz: md5 of the download is"):
        fetch_pcam(tmp_path, _settings(server, checksums))
    assert not (tmp_path / name).exists()
    assert not (tmp_path / f"{name}.gz.part").exists()
    assert (tmp_path / official_file_names()[0]).exists()


def test_decompressed_md5_mismatch_installs_nothing(
    tmp_path: Path, server: PCAMServer, checksums: Path
) -> None:
    name = official_file_names()[0]
    with checksums.open("a") as stream:
        stream.write(f"{'0' * 32}  {name}\n")
    with pytest.raises(FetchError, match=f"{name}: md5 after decompression"):
        fetch_pcam(tmp_path / "out", _settings(server, checksums))
    assert not (tmp_path / "out" / name).exists()
    assert [p.name for p in (tmp_path / "out").iterdir()] == [f"{name}.gz.part"]


def test_existing_file_with_wrong_md5_is_not_overwritten(
    tmp_path: Path, server: PCAMServer, checksums: Path
) -> None:
    name = official_file_names()[0]
    (tmp_path / name).write_bytes(b"not the file")
    with pytest.raises(FetchError, match="exists but its md5"):
        fetch_pcam(tmp_path, _settings(server, checksums))
    assert (tmp_path / name).read_bytes() == b"not the file"


def test_http_error_is_reported(tmp_path: Path, server: PCAMServer) -> None:
    settings = FetchSettings(base_url=f"{server.base_url}/missing", progress=False)
    with pytest.raises(FetchError, match="HTTP 404"):
        fetch_pcam(tmp_path, settings)


def test_zenodo_urls_ask_for_the_file() -> None:
    assert file_url("https://zenodo.org/records/2546921/files/", "a.h5.gz") == (
        "https://zenodo.org/records/2546921/files/a.h5.gz?download=1"
    )
    assert file_url("http://mirror.example/pcam", "a.h5.gz") == (
        "http://mirror.example/pcam/a.h5.gz"
    )


def test_bad_checksum_line_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "sums.md5"
    path.write_text(f"{'a' * 32}  ok.h5.gz\nnot a checksum\n")
    with pytest.raises(DataError, match=r"sums\.md5:2: not an md5sum line"):
        read_md5sum_file(path)
