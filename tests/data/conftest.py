"""Fixtures of the data tests: an 80/20 imbalanced split, and a real HTTP server on
127.0.0.1 serving PCAM files."""

from __future__ import annotations

import gzip
import hashlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from ml_core.data import official_file_names


@dataclass
class PCAMServer:
    """Serves ``<name>.h5.gz`` files; can drop or corrupt chosen files."""

    files: dict[str, bytes]
    base_url: str = ""
    requests: list[tuple[str, str | None]] = field(default_factory=list)
    drop_once: set[str] = field(default_factory=set)
    corrupt: set[str] = field(default_factory=set)

    def ranges_for(self, name: str) -> list[str | None]:
        return [byte_range for path, byte_range in self.requests if path == name]


def _handler(server: PCAMServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            name = self.path.lstrip("/").split("?")[0]
            byte_range = self.headers.get("Range")
            server.requests.append((name, byte_range))
            if name not in server.files:
                self.send_error(404)
                return
            data = server.files[name]
            if name in server.corrupt:
                data = bytes(255 - b for b in data)
            start = int(byte_range.split("=")[1].rstrip("-")) if byte_range else 0
            body = data[start:]
            self.send_response(206 if byte_range else 200)
            if byte_range:
                self.send_header(
                    "Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}"
                )
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if name in server.drop_once:
                server.drop_once.discard(name)
                self.wfile.write(body[: len(body) // 2])
                self.close_connection = True
                return
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Keep test output clean."""

    return Handler


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


@pytest.fixture(scope="session")
def source(tiny_pcam_dir: Path) -> dict[str, bytes]:
    """Decompressed bytes of the six files to serve."""
    return {name: (tiny_pcam_dir / name).read_bytes() for name in official_file_names()}


@pytest.fixture(scope="session")
def gzipped(source: dict[str, bytes]) -> dict[str, bytes]:
    """The served ``.h5.gz`` files (fast compression: tests need validity, not size)."""
    return {
        f"{name}.gz": gzip.compress(data, compresslevel=1, mtime=0)
        for name, data in source.items()
    }


@pytest.fixture
def server(gzipped: dict[str, bytes]) -> Iterator[PCAMServer]:
    """A fresh server per test (its drop/corrupt sets are per test)."""
    state = PCAMServer(dict(gzipped))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.base_url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture
def checksums(server: PCAMServer, source: dict[str, bytes], tmp_path: Path) -> Path:
    """md5sum file with the served .gz and the decompressed .h5 sums."""
    lines = [f"{_md5(data)}  {name}" for name, data in server.files.items()]
    lines += [f"{_md5(data)}  {name}" for name, data in source.items()]
    path = tmp_path / "pcam.md5"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def imbalanced_dir(
    tmp_path: Path, make_pcam_split: Callable, patches: Callable
) -> Path:
    """80 negatives, 20 positives in train; a small valid split."""
    labels = np.array([0] * 80 + [1] * 20)
    make_pcam_split(tmp_path, "train", patches(100), labels)
    make_pcam_split(tmp_path, "valid", patches(8, seed=1), np.arange(8) % 2)
    return tmp_path
