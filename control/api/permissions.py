"""Who may call what: one table from full gRPC method name to the roles allowed.

Fail closed: a method missing from the table is denied to everyone. Global
roles (admin, edge) act on any account; a sender, dashboard or merchant key
only on its own, so every method such a role may call must be account-scoped
(its request carries `account_id`, checked against the key's account).
"""

from __future__ import annotations

from dataclasses import dataclass

from control.domain.api_keys import GLOBAL_ROLES, ROLES, ApiKey, Role
from control.domain.errors import PermissionDenied

# Kubernetes and compose probe health without a key; server reflection
# describes the public contract (proto/) to tools such as grpcurl.
PUBLIC_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.v1alpha.ServerReflection/")


@dataclass(frozen=True, slots=True)
class Rule:
    roles: frozenset[Role]
    # The request's account_id must be the key's account (for non-global roles).
    account_scoped: bool
    # The request names no account: the answer is about the calling key alone.
    about_caller: bool = False


ADMIN: frozenset[Role] = frozenset({"admin"})
SUPPORT_AND_READERS: frozenset[Role] = frozenset({"admin", "sender", "dashboard"})
EVERY_ROLE: frozenset[Role] = frozenset(ROLES)
SENDER: frozenset[Role] = frozenset({"sender"})
DASHBOARD: frozenset[Role] = frozenset({"dashboard"})
MERCHANT: frozenset[Role] = frozenset({"merchant"})
EDGE: frozenset[Role] = frozenset({"edge"})

_V1 = "/smarturls.v1."
RULES: dict[str, Rule] = {
    # Support: accounts, their Smart URLs switch and share domain, templates.
    _V1 + "AccountService/CreateAccount": Rule(ADMIN, account_scoped=False),
    _V1 + "AccountService/GetAccount": Rule(SUPPORT_AND_READERS, account_scoped=True),
    _V1 + "AccountService/SetSmartUrlsEnabled": Rule(ADMIN, account_scoped=True),
    _V1 + "AccountService/SetShareDomain": Rule(ADMIN, account_scoped=True),
    # Any key may learn who it is (the console signs a marketer in with it).
    _V1 + "AccountService/GetCaller": Rule(EVERY_ROLE, account_scoped=False, about_caller=True),
    _V1 + "TemplateService/CreateTemplate": Rule(ADMIN, account_scoped=True),
    _V1 + "TemplateService/GetTemplate": Rule(SUPPORT_AND_READERS, account_scoped=True),
    _V1 + "TemplateService/SetTemplateGoal": Rule(ADMIN, account_scoped=True),
    _V1 + "TemplateService/UpdateTemplateLink": Rule(ADMIN, account_scoped=True),
    _V1 + "TemplateService/SetAttributionWindow": Rule(ADMIN, account_scoped=True),
    # The sender's platform mints for the messages it sends.
    _V1 + "MintingService/MintSmartUrls": Rule(SENDER, account_scoped=True),
    _V1 + "MintingService/MintSmartUrlsStream": Rule(SENDER, account_scoped=True),
    _V1 + "MintingService/MintSmartUrlsBatches": Rule(SENDER, account_scoped=True),
    _V1 + "MintingService/RevokeMessage": Rule(SENDER, account_scoped=True),
    # The dashboard backend reads; support investigates attribution too.
    _V1 + "DashboardService/GetTemplatePerformance": Rule(DASHBOARD, account_scoped=True),
    _V1 + "DashboardService/ListTemplatePerformance": Rule(DASHBOARD, account_scoped=True),
    _V1 + "DashboardService/GetTemplateTimeSeries": Rule(DASHBOARD, account_scoped=True),
    _V1 + "DashboardService/ExplainConversion": Rule(ADMIN | DASHBOARD, account_scoped=True),
    # The merchant's shop reports its outcomes.
    _V1 + "ConversionService/RecordSignup": Rule(MERCHANT, account_scoped=True),
    _V1 + "ConversionService/RecordOrder": Rule(MERCHANT, account_scoped=True),
    _V1 + "ConversionService/CancelOrder": Rule(MERCHANT, account_scoped=True),
    _V1 + "ConversionService/RefundOrder": Rule(MERCHANT, account_scoped=True),
    # The redirect edges.
    _V1 + "EdgeService/ResolveToken": Rule(EDGE, account_scoped=False),
    _V1 + "EdgeService/ResolveTokens": Rule(EDGE, account_scoped=False),
    _V1 + "EdgeService/IngestClicks": Rule(EDGE, account_scoped=False),
    _V1 + "EdgeService/WatchInvalidations": Rule(EDGE, account_scoped=False),
}


def is_public(method: str) -> bool:
    return method.startswith(PUBLIC_PREFIXES)


def authorize(caller: ApiKey, method: str) -> Rule:
    """The method's rule if the caller's role may call it; else PermissionDenied."""
    rule = RULES.get(method)
    if rule is None or caller.role not in rule.roles:
        raise PermissionDenied.role(caller.role, method)
    if caller.role not in GLOBAL_ROLES and not (rule.account_scoped or rule.about_caller):
        # A table mistake must not let an account-bound key act on every account.
        raise PermissionDenied.role(caller.role, method)
    return rule


def check_account(caller: ApiKey, rule: Rule, account_id: int) -> None:
    """Raises PermissionDenied when an account-bound key names another account."""
    if rule.account_scoped and caller.role not in GLOBAL_ROLES:
        if account_id != caller.account_id:
            raise PermissionDenied.account(caller.role, caller.account_id, account_id)
