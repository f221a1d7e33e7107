"""Demo data: one account with Smart URLs on, one template per goal."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from smarturls.v1 import (
    accounts_pb2,
    accounts_pb2_grpc,
    common_pb2,
    minting_pb2,
    minting_pb2_grpc,
    templates_pb2,
    templates_pb2_grpc,
)

SHARE_DOMAIN = "share.acme.example"
SHORTCODE = "JANE42"
_SHARE_TEXT = "I love Acme - here is 20% off your first order:"


def _share_button(network: str) -> templates_pb2.TemplateLink:
    return templates_pb2.TemplateLink(
        name=network.lower(),
        kind=common_pb2.LINK_KIND_SHARE,
        network=common_pb2.ShareNetwork.Value(f"SHARE_NETWORK_{network}"),
        destination_url="https://shop.acme.example/welcome?campaignid=7",
        share_text=_SHARE_TEXT,
        share_subject="20% off at Acme" if network == "EMAIL" else "",
    )


TEMPLATES = [
    templates_pb2.CreateTemplateRequest(
        name="Share your reward (email)",
        channel=common_pb2.CHANNEL_EMAIL,
        goal=common_pb2.GOAL_ADVOCATE_SHARE,
        links=[
            _share_button(n)
            for n in ("WHATSAPP", "FACEBOOK", "X", "LINKEDIN", "TELEGRAM", "EMAIL", "SMS")
        ],
    ),
    templates_pb2.CreateTemplateRequest(
        name="Join the program (SMS)",
        channel=common_pb2.CHANNEL_SMS,
        goal=common_pb2.GOAL_SIGNUPS,
        links=[
            templates_pb2.TemplateLink(
                name="join",
                kind=common_pb2.LINK_KIND_ENROLLMENT,
                destination_url="https://acme.example/ambassadors/join",
            )
        ],
    ),
    templates_pb2.CreateTemplateRequest(
        name="Refer a friend (email)",
        channel=common_pb2.CHANNEL_EMAIL,
        goal=common_pb2.GOAL_ORDERS,
        links=[
            templates_pb2.TemplateLink(
                name="referral",
                kind=common_pb2.LINK_KIND_REFERRAL,
                destination_url="https://shop.acme.example/welcome?campaignid=7",
            ),
            _share_button("WHATSAPP"),
        ],
    ),
]


async def smart_url_account(
    channel: grpc.aio.Channel, name: str, share_domain: str
) -> accounts_pb2.Account:
    """A new account ready to mint: Smart URLs on, share domain set (what support does)."""
    accounts = accounts_pb2_grpc.AccountServiceStub(channel)
    account = await accounts.CreateAccount(accounts_pb2.CreateAccountRequest(name=name))
    await accounts.SetSmartUrlsEnabled(
        accounts_pb2.SetSmartUrlsEnabledRequest(account_id=account.account_id, enabled=True)
    )
    return await accounts.SetShareDomain(
        accounts_pb2.SetShareDomainRequest(account_id=account.account_id, share_domain=share_domain)
    )


async def referral_template(
    channel: grpc.aio.Channel, account_id: int, name: str, landing_url: str
) -> templates_pb2.Template:
    """An ORDERS email template with one referral link named "ref" (the benches' load)."""
    return await templates_pb2_grpc.TemplateServiceStub(channel).CreateTemplate(
        templates_pb2.CreateTemplateRequest(
            account_id=account_id,
            name=name,
            channel=common_pb2.CHANNEL_EMAIL,
            goal=common_pb2.GOAL_ORDERS,
            links=[
                templates_pb2.TemplateLink(
                    name="ref", kind=common_pb2.LINK_KIND_REFERRAL, destination_url=landing_url
                )
            ],
        )
    )


async def ensure_demo(channel: grpc.aio.Channel, state_file: Path) -> dict[str, object]:
    """Creates the demo account and templates once; later runs reuse them."""
    if state_file.exists():
        return dict(json.loads(state_file.read_text()))
    templates = templates_pb2_grpc.TemplateServiceStub(channel)
    account = await smart_url_account(channel, "Acme (demo)", SHARE_DOMAIN)
    template_ids = []
    for request in TEMPLATES:
        request.account_id = account.account_id
        template_ids.append((await templates.CreateTemplate(request)).template_id)
    state: dict[str, object] = {"account_id": account.account_id, "template_ids": template_ids}
    state_file.write_text(json.dumps(state))
    return state


async def mint_demo_messages(
    channel: grpc.aio.Channel, state: dict[str, object]
) -> list[minting_pb2.MintSmartUrlsResponse]:
    minting = minting_pb2_grpc.MintingServiceStub(channel)
    template_ids = state["template_ids"]
    assert isinstance(template_ids, list)
    # Sent a minute ago: a click within seconds of sending is a mail scanner's
    # (control/domain/hit_rules.py), and the quick start is tried right away.
    sent_at = Timestamp()
    sent_at.FromDatetime(datetime.now(UTC) - timedelta(minutes=1))
    return [
        await minting.MintSmartUrls(
            minting_pb2.MintSmartUrlsRequest(
                account_id=int(str(state["account_id"])),
                template_id=template_id,
                message_id=f"demo-message-{template_id}",
                advocate_shortcode=SHORTCODE,
                sent_at=sent_at,
            )
        )
        for template_id in template_ids
    ]
