from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import grpc
from aiostream import Stream, stream
from prometheus_client import Counter

from control.api import convert
from control.api.deps import Deps
from control.domain.click_ingest import ingest_clicks
from control.domain.invalidations import Invalidation, recent_changes
from control.domain.resolution import resolve_token, resolve_tokens
from smarturls.v1 import edge_pb2, edge_pb2_grpc

CLICKS_STORED = Counter("smarturls_control_clicks_stored_total", "Clicks newly stored")
CLICKS_DUPLICATE = Counter(
    "smarturls_control_clicks_duplicate_total", "Clicks received again and stored once"
)
# Batches of one stream stored at once: while PostgreSQL stores one, this process
# decodes the next, and two batches keep both of its cores busy. Batches touching
# the same messages still take turns (click_ingest locks them); acknowledgements
# go out in the order the batches came.
INGEST_CONCURRENCY = 4


class EdgeServicer(edge_pb2_grpc.EdgeServiceServicer):
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def ResolveToken(
        self, request: edge_pb2.ResolveTokenRequest, context: grpc.aio.ServicerContext
    ) -> edge_pb2.ResolvedLink:
        link = await resolve_token(self.deps.db, self.deps.keys, request.token)
        return convert.resolved_link(link)

    async def ResolveTokens(
        self, request: edge_pb2.ResolveTokensRequest, context: grpc.aio.ServicerContext
    ) -> edge_pb2.ResolveTokensResponse:
        links = await resolve_tokens(self.deps.db, self.deps.keys, list(request.tokens))
        return edge_pb2.ResolveTokensResponse(
            resolutions=[
                edge_pb2.TokenResolution(link=convert.resolved_link(link))
                if link is not None
                else edge_pb2.TokenResolution()
                for link in links
            ]
        )

    async def IngestClicks(
        self,
        request_iterator: AsyncIterator[edge_pb2.ClickBatch],
        context: grpc.aio.ServicerContext,
    ) -> AsyncIterator[edge_pb2.ClickBatchAck]:
        # aiostream types map's function as also taking one argument per extra source.
        acks: Stream[edge_pb2.ClickBatchAck] = stream.map(
            request_iterator,
            self._ingest,  # type: ignore[arg-type]
            ordered=True,
            task_limit=INGEST_CONCURRENCY,
        )
        async with acks.stream() as streamer:
            async for ack in streamer:
                yield ack

    async def _ingest(self, batch: edge_pb2.ClickBatch) -> edge_pb2.ClickBatchAck:
        result = await ingest_clicks(
            self.deps.db, self.deps.partitions, convert.click_rows(batch), self.deps.links
        )
        CLICKS_STORED.inc(result.stored)
        CLICKS_DUPLICATE.inc(result.duplicates)
        return edge_pb2.ClickBatchAck(
            batch_seq=batch.batch_seq,
            stored=result.stored,
            duplicates=result.duplicates,
            expired=result.expired,
        )

    async def WatchInvalidations(
        self, request: edge_pb2.WatchInvalidationsRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[edge_pb2.Invalidation]:
        if not self.deps.hub.listening:
            # Without LISTEN this replica would miss changes: let the edge retry.
            await context.abort(grpc.StatusCode.UNAVAILABLE, "invalidations not available yet")
        # Subscribe before reading the snapshot: a change committed in between
        # arrives twice rather than never.
        queue = self.deps.hub.watch()
        try:
            lookback = timedelta(seconds=max(request.lookback_seconds, 0))
            for change in await recent_changes(self.deps.db, lookback):
                yield _invalidation(change)
            while (news := await queue.get()) is not None:
                yield _invalidation(news)
        finally:
            self.deps.hub.unwatch(queue)


def _invalidation(change: Invalidation) -> edge_pb2.Invalidation:
    return edge_pb2.Invalidation(
        smart_url_ids=change.smart_url_ids,
        templates=[edge_pb2.TemplateVersion(template_id=t, version=v) for t, v in change.templates],
    )
