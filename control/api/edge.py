from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
from prometheus_client import Counter

from control.api import convert
from control.api.deps import Deps
from control.domain.click_ingest import ingest_clicks
from control.domain.resolution import resolve_token
from smarturls.v1 import edge_pb2, edge_pb2_grpc

CLICKS_STORED = Counter("smarturls_control_clicks_stored_total", "Clicks newly stored")
CLICKS_DUPLICATE = Counter(
    "smarturls_control_clicks_duplicate_total", "Clicks received again and stored once"
)


class EdgeServicer(edge_pb2_grpc.EdgeServiceServicer):
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def ResolveToken(
        self, request: edge_pb2.ResolveTokenRequest, context: grpc.aio.ServicerContext
    ) -> edge_pb2.ResolvedLink:
        link = await resolve_token(self.deps.db, self.deps.keys, request.token)
        return convert.resolved_link(link)

    async def IngestClicks(
        self,
        request_iterator: AsyncIterator[edge_pb2.ClickBatch],
        context: grpc.aio.ServicerContext,
    ) -> AsyncIterator[edge_pb2.ClickBatchAck]:
        async for batch in request_iterator:
            result = await ingest_clicks(self.deps.db, [convert.click(c) for c in batch.clicks])
            CLICKS_STORED.inc(result.stored)
            CLICKS_DUPLICATE.inc(result.duplicates)
            yield edge_pb2.ClickBatchAck(
                batch_seq=batch.batch_seq, stored=result.stored, duplicates=result.duplicates
            )
