"""The click spool: append-only segment files of ClickBatch protos on local disk.

Records are a 4-byte big-endian length and the serialized batch. Appends are
fsync'd before they return. The reader tails segments from a cursor, so one
file can be written and replayed at the same time; a torn last record (a crash
in the middle of a write) is simply not there yet, and is never acknowledged.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

_HEADER = struct.Struct(">I")
_SUFFIX = ".spool"


@dataclass
class Cursor:
    segment: Path
    offset: int = 0


class Spool:
    def __init__(self, directory: Path, segment_bytes: int = 4 << 20) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self._segment_bytes = segment_bytes
        existing = self.segments()
        self._next_seq = int(existing[-1].stem) + 1 if existing else 1
        self._current: Path | None = None

    def segments(self) -> list[Path]:
        """Every segment, oldest first: what is still to be replayed."""
        return sorted(self.directory.glob(f"*{_SUFFIX}"))

    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.segments() if p.exists())

    def append(self, records: list[bytes]) -> None:
        """Writes and fsyncs. Blocking: call it from a worker thread."""
        if self._current is None or self._current.stat().st_size >= self._segment_bytes:
            self._current = self.directory / f"{self._next_seq:012d}{_SUFFIX}"
            self._next_seq += 1
            self._current.touch()
            _fsync_dir(self.directory)
        data = b"".join(_HEADER.pack(len(r)) + r for r in records)
        with open(self._current, "ab") as f:
            size = f.tell()
            try:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            except OSError:
                # Never leave half a record for later appends to land behind.
                f.truncate(size)
                self._current = None
                raise

    def seal(self) -> None:
        """The next append starts a new segment."""
        self._current = None

    def is_current(self, segment: Path) -> bool:
        return segment == self._current

    def read(self, cursor: Cursor) -> list[bytes]:
        """Complete records after the cursor; advances it past them."""
        try:
            with open(cursor.segment, "rb") as f:
                f.seek(cursor.offset)
                data = f.read()
        except FileNotFoundError:
            return []
        records, position = [], 0
        while position + _HEADER.size <= len(data):
            (length,) = _HEADER.unpack_from(data, position)
            end = position + _HEADER.size + length
            if end > len(data):
                break
            records.append(data[position + _HEADER.size : end])
            position = end
        cursor.offset += position
        return records

    def set_aside(self, segment: Path) -> None:
        """Renames a corrupt segment out of the replay (kept for inspection)."""
        if segment == self._current:
            self._current = None
        segment.rename(segment.with_suffix(".corrupt"))

    def remove(self, segment: Path) -> None:
        if segment == self._current:
            self._current = None
        segment.unlink(missing_ok=True)


def _fsync_dir(directory: Path) -> None:
    # A new file is durable only once its directory entry is.
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
