from __future__ import annotations

import grpc

from control.api import convert
from control.api.deps import Deps
from control.domain import templates
from smarturls.v1 import templates_pb2, templates_pb2_grpc


class TemplateServicer(templates_pb2_grpc.TemplateServiceServicer):
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def CreateTemplate(
        self, request: templates_pb2.CreateTemplateRequest, context: grpc.aio.ServicerContext
    ) -> templates_pb2.Template:
        template = await templates.create_template(
            self.deps.db,
            request.account_id,
            request.name,
            convert.channel(request.channel),
            convert.goal(request.goal),
            convert.template_links(request.links),
            request.attribution_window_seconds,
        )
        return convert.template(template)

    async def GetTemplate(
        self, request: templates_pb2.GetTemplateRequest, context: grpc.aio.ServicerContext
    ) -> templates_pb2.Template:
        template = await templates.load_template(
            self.deps.db, request.account_id, request.template_id
        )
        return convert.template(template)

    async def UpdateTemplateLink(
        self, request: templates_pb2.UpdateTemplateLinkRequest, context: grpc.aio.ServicerContext
    ) -> templates_pb2.Template:
        [link] = convert.template_links([request.link], field="link")
        template = await templates.update_template_link(
            self.deps.db, request.account_id, request.template_id, link
        )
        return convert.template(template)

    async def SetTemplateGoal(
        self, request: templates_pb2.SetTemplateGoalRequest, context: grpc.aio.ServicerContext
    ) -> templates_pb2.Template:
        template = await templates.set_template_goal(
            self.deps.db, request.account_id, request.template_id, convert.goal(request.goal)
        )
        return convert.template(template)

    async def SetAttributionWindow(
        self,
        request: templates_pb2.SetAttributionWindowRequest,
        context: grpc.aio.ServicerContext,
    ) -> templates_pb2.Template:
        template = await templates.set_attribution_window(
            self.deps.db,
            request.account_id,
            request.template_id,
            request.attribution_window_seconds,
        )
        return convert.template(template)
