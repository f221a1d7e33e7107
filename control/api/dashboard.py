from __future__ import annotations

from datetime import datetime

import grpc

from control.api import convert
from control.api.deps import Deps
from control.domain.dashboard import template_performance, template_time_series
from control.domain.explain import explain_conversion
from smarturls.v1 import dashboard_pb2, dashboard_pb2_grpc


def _range(r: dashboard_pb2.TimeRange) -> tuple[datetime | None, datetime | None]:
    return (
        convert.timestamp(getattr(r, "from"), r.HasField("from"), "range.from"),
        convert.timestamp(r.to, r.HasField("to"), "range.to"),
    )


class DashboardServicer(dashboard_pb2_grpc.DashboardServiceServicer):
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def GetTemplatePerformance(
        self,
        request: dashboard_pb2.GetTemplatePerformanceRequest,
        context: grpc.aio.ServicerContext,
    ) -> dashboard_pb2.TemplatePerformance:
        since, until = _range(request.range)
        [row] = await template_performance(
            self.deps.db,
            request.account_id,
            since,
            until,
            template_id=request.template_id or -1,
        )
        return convert.performance(row)

    async def ListTemplatePerformance(
        self,
        request: dashboard_pb2.ListTemplatePerformanceRequest,
        context: grpc.aio.ServicerContext,
    ) -> dashboard_pb2.ListTemplatePerformanceResponse:
        since, until = _range(request.range)
        rows = await template_performance(
            self.deps.db,
            request.account_id,
            since,
            until,
            channel=convert.channel(request.channel),
            sort_by=convert.sort_by(request.sort_by),
            descending=request.descending,
        )
        return dashboard_pb2.ListTemplatePerformanceResponse(
            templates=[convert.performance(r) for r in rows]
        )

    async def GetTemplateTimeSeries(
        self,
        request: dashboard_pb2.GetTemplateTimeSeriesRequest,
        context: grpc.aio.ServicerContext,
    ) -> dashboard_pb2.TemplateTimeSeries:
        since, until = _range(request.range)
        size = convert.bucket(request.bucket)
        goal, points = await template_time_series(
            self.deps.db, request.account_id, request.template_id or -1, since, until, size
        )
        return convert.time_series(request.template_id, goal, size, points)

    async def ExplainConversion(
        self,
        request: dashboard_pb2.ExplainConversionRequest,
        context: grpc.aio.ServicerContext,
    ) -> dashboard_pb2.ConversionExplanation:
        explanation = await explain_conversion(
            self.deps.db,
            request.account_id,
            convert.conversion_kind(request.kind),
            request.external_id,
        )
        return convert.explanation(explanation)
