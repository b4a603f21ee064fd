"""Reading an export file in chunks and blocks gives every line once, as a line-by-line
read would: whatever the chunk and block sizes, line ends and a last line without one."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pytest

from cds_b12.recall import export
from cds_b12.recall.export import chunks, read_chunk

LINES = [b'{"resourceType":"Patient","id":"a"}', b"", b"  ", b"x\r", b"a\rb", b"y" * 50, b"z"]


def expected(content: bytes) -> list[bytes]:
    """The lines as iterating the file yields them, without the ``\\n``."""
    return [raw.removesuffix(b"\n") for raw in io.BytesIO(content)]


@pytest.mark.parametrize("block", [1, 3, 7, 64, 4 * 1024 * 1024])
@pytest.mark.parametrize("chunk_size", [1, 5, 40, 10_000])
@pytest.mark.parametrize("last_newline", [True, False])
def test_every_line_once_in_order(tmp_path, monkeypatch, block, chunk_size, last_newline):
    monkeypatch.setattr(export, "READ_BYTES", block)
    content = b"\n".join(LINES * 3) + (b"\n" if last_newline else b"")
    path = tmp_path / "Observation.ndjson"
    path.write_bytes(content)
    read = [line for chunk in chunks([path], chunk_size) for b in read_chunk(chunk) for line in b]
    assert read == expected(content)


def test_a_gzip_file_is_one_chunk_read_in_blocks(tmp_path, monkeypatch):
    monkeypatch.setattr(export, "READ_BYTES", 5)
    content = b"\n".join(LINES) + b"\n"
    path = Path(tmp_path / "Observation.ndjson.gz")
    path.write_bytes(gzip.compress(content))
    (chunk,) = chunks([path], 1)
    assert [line for b in read_chunk(chunk) for line in b] == expected(content)
