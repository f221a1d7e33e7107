"""The console's reads from the control plane, each with the signed-in
person's own dashboard key; gRPC statuses become what a page can say."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc

from smarturls.v1 import (
    accounts_pb2,
    accounts_pb2_grpc,
    common_pb2,
    conversions_pb2,
    dashboard_pb2,
    dashboard_pb2_grpc,
    templates_pb2,
    templates_pb2_grpc,
)

Reply = TypeVar("Reply")


class ControlError(Exception):
    """A read the page cannot show; `http_status` is the page's status."""

    http_status = 502
    title = "The control plane could not answer"


class ControlAway(ControlError):
    http_status = 503
    title = "The numbers are not reachable right now"


class NotFound(ControlError):
    http_status = 404
    title = "Not found"


class InvalidInput(ControlError):
    http_status = 400
    title = "That cannot be shown"


class SignedOut(ControlError):
    """The key no longer works (revoked, or unknown): sign in again."""

    http_status = 401
    title = "Please sign in again"


_STATUSES: dict[grpc.StatusCode, type[ControlError]] = {
    grpc.StatusCode.UNAVAILABLE: ControlAway,
    grpc.StatusCode.DEADLINE_EXCEEDED: ControlAway,
    grpc.StatusCode.NOT_FOUND: NotFound,
    # Another account's template is as absent as one that never was.
    grpc.StatusCode.PERMISSION_DENIED: NotFound,
    grpc.StatusCode.INVALID_ARGUMENT: InvalidInput,
    grpc.StatusCode.FAILED_PRECONDITION: InvalidInput,
    grpc.StatusCode.UNAUTHENTICATED: SignedOut,
}


class ControlReader:
    def __init__(self, channel: grpc.aio.Channel, timeout: float) -> None:
        self._accounts = accounts_pb2_grpc.AccountServiceStub(channel)
        self._templates = templates_pb2_grpc.TemplateServiceStub(channel)
        self._dashboard = dashboard_pb2_grpc.DashboardServiceStub(channel)
        self._timeout = timeout

    async def _call(self, method: Callable[..., Awaitable[Reply]], request: Any, key: str) -> Reply:
        try:
            return await method(
                request, metadata=(("authorization", f"Bearer {key}"),), timeout=self._timeout
            )
        except grpc.aio.AioRpcError as error:
            raise _STATUSES.get(error.code(), ControlError)(error.details() or "") from None

    async def caller(self, key: str) -> accounts_pb2.GetCallerResponse:
        return await self._call(self._accounts.GetCaller, accounts_pb2.GetCallerRequest(), key)

    async def performances(
        self, key: str, account_id: int, channel: common_pb2.Channel, span: dashboard_pb2.TimeRange
    ) -> list[dashboard_pb2.TemplatePerformance]:
        request = dashboard_pb2.ListTemplatePerformanceRequest(
            account_id=account_id, channel=channel, range=span
        )
        reply = await self._call(self._dashboard.ListTemplatePerformance, request, key)
        return list(reply.templates)

    async def template(self, key: str, account_id: int, template_id: int) -> templates_pb2.Template:
        request = templates_pb2.GetTemplateRequest(account_id=account_id, template_id=template_id)
        return await self._call(self._templates.GetTemplate, request, key)

    async def performance(
        self, key: str, account_id: int, template_id: int, span: dashboard_pb2.TimeRange
    ) -> dashboard_pb2.TemplatePerformance:
        request = dashboard_pb2.GetTemplatePerformanceRequest(
            account_id=account_id, template_id=template_id, range=span
        )
        return await self._call(self._dashboard.GetTemplatePerformance, request, key)

    async def time_series(
        self,
        key: str,
        account_id: int,
        template_id: int,
        span: dashboard_pb2.TimeRange,
        bucket: dashboard_pb2.Bucket,
    ) -> dashboard_pb2.TemplateTimeSeries:
        request = dashboard_pb2.GetTemplateTimeSeriesRequest(
            account_id=account_id, template_id=template_id, range=span, bucket=bucket
        )
        return await self._call(self._dashboard.GetTemplateTimeSeries, request, key)

    async def explain(
        self, key: str, account_id: int, kind: conversions_pb2.ConversionKind, external_id: str
    ) -> dashboard_pb2.ConversionExplanation:
        request = dashboard_pb2.ExplainConversionRequest(
            account_id=account_id, kind=kind, external_id=external_id
        )
        return await self._call(self._dashboard.ExplainConversion, request, key)
