"""Minting preconditions, the switch, and what stays working when it is off."""

from __future__ import annotations

import grpc
import pytest

from control.domain.errors import NotFound
from control.domain.minting import mint_messages
from control.domain.model import MintRequest
from smarturls.v1 import accounts_pb2, common_pb2, minting_pb2, templates_pb2
from tests.support import KEYS, Stack

ENROLL = [
    templates_pb2.TemplateLink(
        name="join",
        kind=common_pb2.LINK_KIND_ENROLLMENT,
        destination_url="https://acme.example/join",
    )
]


async def mint_error(stack: Stack, account_id: int, template_id: int) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stack.mint(account_id, template_id, "m-1")
    return caught.value


async def test_minting_needs_the_switch_on(stack: Stack) -> None:
    account = await stack.account(enabled=False)
    template = await stack.template(account.account_id, common_pb2.GOAL_SIGNUPS, ENROLL)
    error = await mint_error(stack, account.account_id, template.template_id)
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "Smart URLs are not enabled" in error.details()


async def test_minting_needs_a_share_domain(stack: Stack) -> None:
    account = await stack.account(domain=None)
    template = await stack.template(account.account_id, common_pb2.GOAL_SIGNUPS, ENROLL)
    error = await mint_error(stack, account.account_id, template.template_id)
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "no share-link domain" in error.details()


async def test_switching_off_stops_minting_but_sent_links_keep_working(stack: Stack) -> None:
    account = await stack.account()
    template = await stack.template(account.account_id, common_pb2.GOAL_SIGNUPS, ENROLL)
    links = await stack.mint(account.account_id, template.template_id, "before-off")
    await stack.accounts.SetSmartUrlsEnabled(
        accounts_pb2.SetSmartUrlsEnabledRequest(account_id=account.account_id, enabled=False)
    )
    error = await mint_error(stack, account.account_id, template.template_id)
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION

    # A fresh edge has nothing cached: the link resolves through the control plane.
    fresh_edge = await stack.start_edge()
    response = await stack.click(links["join"], edge_url=fresh_edge.url)
    assert response.status_code == 302
    assert response.headers["location"].startswith("https://acme.example/join?mbsy_source=")


async def test_moving_the_share_domain_keeps_old_links_on_the_old_domain(stack: Stack) -> None:
    account = await stack.account(domain="old.acme.example")
    template = await stack.template(account.account_id, common_pb2.GOAL_SIGNUPS, ENROLL)
    old = await stack.mint(account.account_id, template.template_id, "old")
    await stack.accounts.SetShareDomain(
        accounts_pb2.SetShareDomainRequest(
            account_id=account.account_id, share_domain="new.acme.example"
        )
    )
    new = await stack.mint(account.account_id, template.template_id, "new")
    assert old["join"].startswith("https://old.acme.example/")
    assert new["join"].startswith("https://new.acme.example/")
    assert (await stack.click(old["join"])).status_code == 302
    assert (await stack.click(new["join"])).status_code == 302


async def test_share_domain_belongs_to_one_account(stack: Stack) -> None:
    await stack.account(domain="share.acme.example")
    other = await stack.account(domain=None)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stack.accounts.SetShareDomain(
            accounts_pb2.SetShareDomainRequest(
                account_id=other.account_id, share_domain="Share.Acme.Example"
            )
        )
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert "share_domain" in caught.value.details()


@pytest.mark.parametrize(
    "domain", ["https://share.acme.example", "share.acme.example/x", "localhost", "a..b", ""]
)
async def test_share_domain_must_be_a_host_name(stack: Stack, domain: str) -> None:
    account = await stack.account(domain=None)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stack.accounts.SetShareDomain(
            accounts_pb2.SetShareDomainRequest(account_id=account.account_id, share_domain=domain)
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details().startswith("share_domain:")


async def test_unknown_account_and_foreign_template_are_not_found(stack: Stack) -> None:
    mine = await stack.account(domain="a.acme.example")
    theirs = await stack.account(domain="b.acme.example")
    template = await stack.template(theirs.account_id, common_pb2.GOAL_SIGNUPS, ENROLL)
    error = await mint_error(stack, mine.account_id, template.template_id)
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert error.details().startswith("template_id:")
    # A sender's key is bound to its account, so through gRPC another account
    # number is PERMISSION_DENIED (tests/integration/test_auth.py); minting itself
    # still answers NOT_FOUND for an account that does not exist.
    request = MintRequest(999_999, template.template_id, "m-1", "JANE42", None)
    [result] = await mint_messages(stack.db, KEYS, [request])
    assert isinstance(result, NotFound) and str(result).startswith("account_id:")


async def test_template_links_need_a_shortcode_to_mint(stack: Stack) -> None:
    account = await stack.account()
    template = await stack.template(
        account.account_id,
        common_pb2.GOAL_ORDERS,
        [
            templates_pb2.TemplateLink(
                name="ref",
                kind=common_pb2.LINK_KIND_REFERRAL,
                destination_url="https://shop.example/",
            )
        ],
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stack.minting.MintSmartUrls(
            minting_pb2.MintSmartUrlsRequest(
                account_id=account.account_id, template_id=template.template_id, message_id="m"
            )
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details().startswith("advocate_shortcode:")


@pytest.mark.parametrize(
    ("link", "field"),
    [
        (
            templates_pb2.TemplateLink(
                name="x", kind=common_pb2.LINK_KIND_TRACKED, destination_url="javascript:alert(1)"
            ),
            "links[0].destination_url",
        ),
        (
            templates_pb2.TemplateLink(
                name="x", kind=common_pb2.LINK_KIND_SHARE, destination_url="https://shop.example/"
            ),
            "links[0].network",
        ),
        (
            templates_pb2.TemplateLink(
                name="Bad Name",
                kind=common_pb2.LINK_KIND_TRACKED,
                destination_url="https://shop.example/",
            ),
            "links[0].name",
        ),
        (
            templates_pb2.TemplateLink(name="x", destination_url="https://shop.example/"),
            "links[0].kind",
        ),
    ],
)
async def test_bad_template_links_name_the_field(
    stack: Stack, link: templates_pb2.TemplateLink, field: str
) -> None:
    account = await stack.account()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stack.template(account.account_id, common_pb2.GOAL_SIGNUPS, [link])
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details().startswith(field + ":")


async def test_goal_changes_are_kept_as_history(stack: Stack) -> None:
    account = await stack.account()
    template = await stack.template(account.account_id, common_pb2.GOAL_SIGNUPS, ENROLL)
    changed = await stack.templates.SetTemplateGoal(
        templates_pb2.SetTemplateGoalRequest(
            account_id=account.account_id,
            template_id=template.template_id,
            goal=common_pb2.GOAL_ORDERS,
        )
    )
    assert changed.goal == common_pb2.GOAL_ORDERS
    assert [g.goal for g in changed.goal_history] == [
        common_pb2.GOAL_SIGNUPS,
        common_pb2.GOAL_ORDERS,
    ]
    assert (
        changed.goal_history[0].effective_from.ToDatetime()
        < changed.goal_history[1].effective_from.ToDatetime()
    )
