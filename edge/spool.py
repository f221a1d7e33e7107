"""The click spool: append-only segment files of ClickBatch protos on local disk.

Records are a 4-byte big-endian length and the serialized batch. Appends are
fsync'd before they return. The reader tails segments from a cursor, so one
file can be written and replayed at the same time; a torn last record (a crash
in the middle of a write) is simply not there yet, and is never acknowledged.
"""

from __future__ import annotations

import contextlib
import os
import struct
import threading
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
        # The segment being written, open for appending, and its size.
        self._current: Path | None = None
        self._fd: int | None = None
        self._size = 0
        self._lock = threading.Lock()

    def segments(self) -> list[Path]:
        """Every segment, oldest first: what is still to be replayed."""
        return sorted(self.directory.glob(f"*{_SUFFIX}"))

    def size_bytes(self) -> int:
        total = 0
        for segment in self.segments():
            # Replayed segments are removed meanwhile (this is read when scraped).
            with contextlib.suppress(FileNotFoundError):
                total += segment.stat().st_size
        return total

    def append(self, records: list[bytes]) -> None:
        """Writes and fsyncs. Blocking: a durable group calls it on the event
        loop, a spill from a worker thread (the lock keeps them apart)."""
        data = b"".join(_HEADER.pack(len(r)) + r for r in records)
        with self._lock:
            self._append(data)

    def _append(self, data: bytes) -> None:
        if self._fd is None or self._size >= self._segment_bytes:
            self._open_next()
        assert self._fd is not None
        try:
            written = 0
            while written < len(data):
                # O_DSYNC: the write returns once its data and the file's new
                # size are on disk, as a write and an fdatasync would, in one
                # system call instead of two.
                written += os.write(self._fd, data[written:])
        except OSError:
            # Never leave half a record for later appends to land behind.
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, self._size)
            self._close()
            raise
        self._size += len(data)

    def _open_next(self) -> None:
        self._close()
        path = self.directory / f"{self._next_seq:012d}{_SUFFIX}"
        self._next_seq += 1
        # Kept open: opening a segment for every group cost as much CPU as
        # the write itself.
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_DSYNC, 0o644)
        self._current, self._size = path, os.fstat(self._fd).st_size
        _fsync_dir(self.directory)

    def close(self) -> None:
        """Closes the segment being written; the next append starts a new one."""
        # A worker thread may still be appending (its task cancelled at shutdown).
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
        self._fd, self._current = None, None

    def seal(self) -> None:
        """The next append starts a new segment."""
        self.close()

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
            self.close()
        segment.rename(segment.with_suffix(".corrupt"))

    def remove(self, segment: Path) -> None:
        if segment == self._current:
            self.close()
        segment.unlink(missing_ok=True)


def _fsync_dir(directory: Path) -> None:
    # A new file is durable only once its directory entry is.
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
