"""A click as the edge records it, and its wire form: the column batch it is
sent and spooled as."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from smarturls.v1 import edge_pb2

MAX_UA = 512
MAX_REFERER = 512


class EdgeClick(NamedTuple):
    """A tuple: the cheapest record to build once per request."""

    click_id: bytes
    smart_url_id: int
    clicked_at_us: int
    method: str
    user_agent: str
    ip_prefix: str
    referer: str
    hit_class: str
    reasons: tuple[str, ...]


def click_batch(clicks: list[EdgeClick]) -> edge_pb2.ClickBatch:
    """The column form: the clicks transposed in C by zip(*), strings dictionary-encoded,
    instead of a message per click (this runs once per click on the edge)."""
    if not clicks:
        return edge_pb2.ClickBatch()
    strings: dict[str, int] = {}

    def indexes(values: Iterable[str]) -> list[int]:
        return [strings.setdefault(v, len(strings)) for v in values]

    ids, links, times, methods, agents, prefixes, referers, classes, reasons = zip(
        *clicks, strict=True
    )
    columns = edge_pb2.ClickColumns(
        click_ids=b"".join(ids),
        smart_url_ids=links,
        clicked_at_us=times,
        method=indexes(methods),
        user_agent=indexes(agents),
        ip_prefix=indexes(prefixes),
        referer=indexes(referers),
        hit_class=indexes(classes),
        reasons=indexes(map("\n".join, reasons)),
    )
    columns.strings.extend(strings)
    return edge_pb2.ClickBatch(columns=columns)


# The string columns: indexes into ClickColumns.strings.
_INDEXED = ("method", "user_agent", "ip_prefix", "referer", "hit_class", "reasons")


def joined_batch(batches: list[edge_pb2.ClickBatch]) -> edge_pb2.ClickBatch:
    """Column batches as one, their clicks in order: the columns concatenated and
    each batch's string indexes mapped into one dictionary. No click is rebuilt,
    so joining costs a small part of decoding every click and encoding them again."""
    strings: dict[str, int] = {}
    columns = edge_pb2.ClickColumns()
    ids = []
    for batch in batches:
        part = batch.columns
        ids.append(part.click_ids)
        columns.smart_url_ids.extend(part.smart_url_ids)
        columns.clicked_at_us.extend(part.clicked_at_us)
        index = [strings.setdefault(text, len(strings)) for text in part.strings]
        for name in _INDEXED:
            getattr(columns, name).extend(map(index.__getitem__, getattr(part, name)))
    columns.click_ids = b"".join(ids)
    columns.strings.extend(strings)
    return edge_pb2.ClickBatch(columns=columns)


def batch_bytes(clicks: list[EdgeClick]) -> bytes:
    return bytes(click_batch(clicks).SerializeToString())


def first_click_us(batch: edge_pb2.ClickBatch) -> int | None:
    """When the batch's first click was made, if it holds any."""
    if batch.columns.clicked_at_us:
        return int(batch.columns.clicked_at_us[0])
    if batch.clicks:  # the row form: the edge never spools it, but a batch may hold it
        return int(batch.clicks[0].clicked_at.ToMicroseconds())
    return None
