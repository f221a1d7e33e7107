from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator

import grpc

from control.api import convert
from control.api.deps import Deps
from control.api.errors import status_for
from control.domain.errors import DomainError, InvalidArgument
from control.domain.minting import MintResult, mint_messages, revoke_message
from control.domain.model import MintRequest
from smarturls.v1 import minting_pb2, minting_pb2_grpc

# How many queued requests one streaming transaction takes at most.
STREAM_BATCH = 1000
# Requests one MintBatch may carry, and batches of one stream minted at once.
MAX_BATCH = 5000
BATCHES_IN_FLIGHT = 3
_END = None


class MintingServicer(minting_pb2_grpc.MintingServiceServicer):
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def MintSmartUrls(
        self, request: minting_pb2.MintSmartUrlsRequest, context: grpc.aio.ServicerContext
    ) -> minting_pb2.MintSmartUrlsResponse:
        [result] = await mint_messages(
            self.deps.db, self.deps.keys, [convert.mint_request(request)]
        )
        if isinstance(result, DomainError):
            raise result
        return convert.minted_message(result)

    async def RevokeMessage(
        self, request: minting_pb2.RevokeMessageRequest, context: grpc.aio.ServicerContext
    ) -> minting_pb2.RevokeMessageResponse:
        revoked = await revoke_message(self.deps.db, request.account_id, request.message_id)
        return minting_pb2.RevokeMessageResponse(revoked=revoked)

    async def MintSmartUrlsStream(
        self,
        request_iterator: AsyncIterator[minting_pb2.MintSmartUrlsRequest],
        context: grpc.aio.ServicerContext,
    ) -> AsyncIterator[minting_pb2.MintSmartUrlsResponse]:
        # Reading runs ahead of writing so that each transaction takes everything
        # that has arrived meanwhile: large batches under load, no wait when idle.
        queue: asyncio.Queue[minting_pb2.MintSmartUrlsRequest | None] = asyncio.Queue(
            maxsize=4 * STREAM_BATCH
        )

        async def read() -> None:
            try:
                async for request in request_iterator:
                    await queue.put(request)
            except Exception:
                # A request refused as it arrived (another account's, or one that does
                # not parse) or a failed read: what came before it is answered, then
                # `await reader` ends the call with the error (never a writer waiting).
                await queue.put(_END)
                raise
            await queue.put(_END)

        reader = asyncio.create_task(read())
        try:
            while True:
                batch = [await queue.get()]
                while batch[-1] is not _END and len(batch) < STREAM_BATCH and not queue.empty():
                    batch.append(queue.get_nowait())
                requests = [r for r in batch if r is not None]
                for request, result in zip(requests, await self._mint(requests), strict=True):
                    yield _response(request, result)
                if batch[-1] is _END:
                    break
            await reader
        finally:
            reader.cancel()

    async def MintSmartUrlsBatches(
        self,
        request_iterator: AsyncIterator[minting_pb2.MintBatch],
        context: grpc.aio.ServicerContext,
    ) -> AsyncIterator[minting_pb2.MintBatchResult]:
        # Two batches in flight, on two connections: one is in PostgreSQL while
        # the other is in Python. Results still leave in request order.
        in_flight: deque[asyncio.Task[minting_pb2.MintBatchResult]] = deque()
        try:
            async for batch in request_iterator:
                if len(batch.requests) > MAX_BATCH:
                    raise InvalidArgument.field(
                        "requests", f"{len(batch.requests)} in one batch; at most {MAX_BATCH}"
                    )
                in_flight.append(asyncio.create_task(self._mint_batch(list(batch.requests))))
                if len(in_flight) >= BATCHES_IN_FLIGHT:
                    yield await in_flight.popleft()
            while in_flight:
                yield await in_flight.popleft()
        finally:
            for task in in_flight:
                task.cancel()

    async def _mint_batch(
        self, requests: list[minting_pb2.MintSmartUrlsRequest]
    ) -> minting_pb2.MintBatchResult:
        results = await self._mint(requests)
        return minting_pb2.MintBatchResult(
            responses=[_response(r, result) for r, result in zip(requests, results, strict=True)]
        )

    async def _mint(self, requests: list[minting_pb2.MintSmartUrlsRequest]) -> list[MintResult]:
        """Mints the convertible requests; the others answer with their own error."""
        results: list[MintResult | None] = [None] * len(requests)
        good: list[tuple[int, MintRequest]] = []
        for i, request in enumerate(requests):
            try:
                good.append((i, convert.mint_request(request)))
            except DomainError as error:
                results[i] = error
        minted = await mint_messages(self.deps.db, self.deps.keys, [r for _, r in good])
        for (i, _), result in zip(good, minted, strict=True):
            results[i] = result
        return [r for r in results if r is not None]


def _response(
    request: minting_pb2.MintSmartUrlsRequest, result: MintResult
) -> minting_pb2.MintSmartUrlsResponse:
    if isinstance(result, DomainError):
        return minting_pb2.MintSmartUrlsResponse(
            message_id=request.message_id,
            error=minting_pb2.MintError(code=status_for(result).value[0], message=str(result)),
        )
    return convert.minted_message(result)
