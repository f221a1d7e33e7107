from __future__ import annotations

from datetime import datetime

import grpc

from control.api import convert
from control.api.deps import Deps
from control.domain.dashboard import template_performance
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
        )
        return dashboard_pb2.ListTemplatePerformanceResponse(
            templates=[convert.performance(r) for r in rows]
        )
