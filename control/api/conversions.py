from __future__ import annotations

import grpc

from control.api import convert
from control.api.deps import Deps
from control.domain.conversions import Outcome, cancel_order, record_outcome, refund_order
from smarturls.v1 import conversions_pb2, conversions_pb2_grpc


class ConversionServicer(conversions_pb2_grpc.ConversionServiceServicer):
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def RecordSignup(
        self, request: conversions_pb2.RecordSignupRequest, context: grpc.aio.ServicerContext
    ) -> conversions_pb2.Conversion:
        outcome = Outcome(
            account_id=request.account_id,
            kind="SIGNUP",
            external_id=request.signup_id,
            mbsy_source=request.mbsy_source,
            shortcode="",
            amount_minor=0,
            currency="",
            occurred_at=convert.timestamp(
                request.occurred_at, request.HasField("occurred_at"), "occurred_at"
            ),
            customer_id=request.customer_id,
        )
        return convert.conversion(await record_outcome(self.deps.db, self.deps.keys, outcome))

    async def RecordOrder(
        self, request: conversions_pb2.RecordOrderRequest, context: grpc.aio.ServicerContext
    ) -> conversions_pb2.Conversion:
        outcome = Outcome(
            account_id=request.account_id,
            kind="ORDER",
            external_id=request.order_id,
            mbsy_source=request.mbsy_source,
            shortcode=request.shortcode,
            amount_minor=request.amount_minor,
            currency=request.currency,
            occurred_at=convert.timestamp(
                request.occurred_at, request.HasField("occurred_at"), "occurred_at"
            ),
            customer_id=request.customer_id,
        )
        return convert.conversion(await record_outcome(self.deps.db, self.deps.keys, outcome))

    async def CancelOrder(
        self, request: conversions_pb2.CancelOrderRequest, context: grpc.aio.ServicerContext
    ) -> conversions_pb2.Conversion:
        occurred_at = convert.timestamp(
            request.occurred_at, request.HasField("occurred_at"), "occurred_at"
        )
        return convert.conversion(
            await cancel_order(self.deps.db, request.account_id, request.order_id, occurred_at)
        )

    async def RefundOrder(
        self, request: conversions_pb2.RefundOrderRequest, context: grpc.aio.ServicerContext
    ) -> conversions_pb2.Conversion:
        occurred_at = convert.timestamp(
            request.occurred_at, request.HasField("occurred_at"), "occurred_at"
        )
        conversion = await refund_order(
            self.deps.db,
            request.account_id,
            request.order_id,
            request.refund_id,
            request.amount_minor,
            occurred_at,
        )
        return convert.conversion(conversion)
