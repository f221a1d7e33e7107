from __future__ import annotations

import grpc

from control.api import convert
from control.api.auth import current_caller
from control.api.deps import Deps
from control.domain import accounts
from smarturls.v1 import accounts_pb2, accounts_pb2_grpc


class AccountServicer(accounts_pb2_grpc.AccountServiceServicer):
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def CreateAccount(
        self, request: accounts_pb2.CreateAccountRequest, context: grpc.aio.ServicerContext
    ) -> accounts_pb2.Account:
        return convert.account(await accounts.create_account(self.deps.db, request.name))

    async def GetAccount(
        self, request: accounts_pb2.GetAccountRequest, context: grpc.aio.ServicerContext
    ) -> accounts_pb2.Account:
        return convert.account(await accounts.get_account(self.deps.db, request.account_id))

    async def SetSmartUrlsEnabled(
        self, request: accounts_pb2.SetSmartUrlsEnabledRequest, context: grpc.aio.ServicerContext
    ) -> accounts_pb2.Account:
        account = await accounts.set_smart_urls_enabled(
            self.deps.db, request.account_id, request.enabled
        )
        return convert.account(account)

    async def SetShareDomain(
        self, request: accounts_pb2.SetShareDomainRequest, context: grpc.aio.ServicerContext
    ) -> accounts_pb2.Account:
        account = await accounts.set_share_domain(
            self.deps.db, request.account_id, request.share_domain
        )
        return convert.account(account)

    async def GetCaller(
        self, request: accounts_pb2.GetCallerRequest, context: grpc.aio.ServicerContext
    ) -> accounts_pb2.GetCallerResponse:
        key = current_caller()
        answer = accounts_pb2.GetCallerResponse(key_id=key.key_id, role=key.role, key_name=key.name)
        if key.account_id is not None:
            answer.account.CopyFrom(
                convert.account(await accounts.get_account(self.deps.db, key.account_id))
            )
        return answer
