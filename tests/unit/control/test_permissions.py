"""The permission table fails closed and keeps account-bound keys in their account."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from control.api.permissions import RULES, authorize, check_account, is_public
from control.domain.api_keys import GLOBAL_ROLES, ROLES, ApiKey, Role
from control.domain.errors import PermissionDenied

GET_ACCOUNT = "/smarturls.v1.AccountService/GetAccount"


def key(role: Role, account_id: int | None = 7) -> ApiKey:
    return ApiKey(
        "0123456789ab",
        role,
        None if role in GLOBAL_ROLES else account_id,
        "",
        datetime.now(UTC),
        None,
    )


def test_account_bound_roles_only_reach_account_scoped_methods() -> None:
    for method, rule in RULES.items():
        if rule.roles - GLOBAL_ROLES:
            assert rule.account_scoped or rule.about_caller, method


@pytest.mark.parametrize("role", ROLES)
def test_a_method_missing_from_the_table_is_denied_to_every_role(role: Role) -> None:
    with pytest.raises(PermissionDenied, match=f"role {role} may not call"):
        authorize(key(role), "/smarturls.v1.AccountService/DeleteEverything")


def test_a_role_outside_the_rule_is_denied_naming_role_and_method() -> None:
    with pytest.raises(PermissionDenied) as caught:
        authorize(key("merchant"), GET_ACCOUNT)
    assert str(caught.value) == f"role merchant may not call {GET_ACCOUNT}"


def test_account_bound_keys_stay_in_their_account_and_global_keys_do_not_need_to() -> None:
    rule = authorize(key("dashboard"), GET_ACCOUNT)
    check_account(key("dashboard"), rule, 7)
    with pytest.raises(PermissionDenied, match=r"^account_id: .* account 7 .* account 8$"):
        check_account(key("dashboard"), rule, 8)
    check_account(key("admin"), authorize(key("admin"), GET_ACCOUNT), 8)


def test_only_health_is_public() -> None:
    assert is_public("/grpc.health.v1.Health/Check")
    assert is_public("/grpc.health.v1.Health/Watch")
    assert not any(is_public(method) for method in RULES)
