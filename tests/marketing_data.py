"""An account a marketer would open: email and SMS templates with each goal and
none, messages sent, people clicking, a scanner and a previewer, a share that
became an order, signups. Built through the real edge and gRPC, as in life."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from smarturls.v1 import common_pb2, conversions_pb2, templates_pb2
from tests.support import Stack

SHOP = "https://shop.acme.example/welcome?campaignid=7"
ANDROID = (
    "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/130.0 Mobile Safari/537.36"
)
SLACK = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"


@dataclass(frozen=True)
class MarketingAccount:
    account_id: int
    templates: dict[str, int]
    dashboard_key: str
    order_id: str
    signup_id: str


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def _link(name: str, kind: int, url: str, network: int = 0) -> templates_pb2.TemplateLink:
    return templates_pb2.TemplateLink(
        name=name, kind=kind, destination_url=url, network=network, share_text="20% off at Acme:"
        if kind == common_pb2.LINK_KIND_SHARE else "",
    )  # fmt: skip


async def marketing_account(stack: Stack) -> MarketingAccount:
    account = (await stack.account()).account_id
    join = _link("join", common_pb2.LINK_KIND_ENROLLMENT, "https://acme.example/join")
    whatsapp = _link(
        "whatsapp", common_pb2.LINK_KIND_SHARE, SHOP, common_pb2.SHARE_NETWORK_WHATSAPP
    )
    news = _link("read", common_pb2.LINK_KIND_TRACKED, "https://acme.example/news")
    specs = {
        "Welcome series": (common_pb2.GOAL_SIGNUPS, [join], common_pb2.CHANNEL_EMAIL),
        "Refer a friend": (common_pb2.GOAL_ORDERS, [whatsapp], common_pb2.CHANNEL_EMAIL),
        "Share your reward": (common_pb2.GOAL_ADVOCATE_SHARE, [whatsapp], common_pb2.CHANNEL_EMAIL),
        "Monthly news": (common_pb2.GOAL_UNSPECIFIED, [news], common_pb2.CHANNEL_EMAIL),
        "SMS invite": (common_pb2.GOAL_SIGNUPS, [join], common_pb2.CHANNEL_SMS),
    }
    templates = {}
    for name, (goal, links, channel) in specs.items():
        made = await stack.template(account, goal, links, channel=channel, name=name)
        templates[name] = made.template_id

    # Messages: name -> how many sent; every first message's recipient clicks.
    sent = {"Welcome series": 4, "Refer a friend": 3, "Share your reward": 5,
            "Monthly news": 2, "SMS invite": 6}  # fmt: skip
    minted: dict[str, list[dict[str, str]]] = {}
    for name, count in sent.items():
        minted[name] = [
            await stack.mint(account, templates[name], f"{name[:4].lower()}-{i}")
            for i in range(count)
        ]

    # People: one click on each of the first two messages of every template.
    for messages in minted.values():
        for links in messages[:2]:
            assert (await stack.click(next(iter(links.values())))).status_code == 302
    # Not people: a link preview, and a program.
    await stack.click(minted["Monthly news"][0]["read"], user_agent=SLACK)
    await stack.click(minted["Welcome series"][3]["join"], user_agent="python-requests/2.32")

    # A signup through the welcome email, and one through the SMS.
    signup_ids = []
    for name in ("Welcome series", "SMS invite"):
        clicked = await stack.click(minted[name][0]["join"], user_agent=ANDROID)
        signup_ids.append(f"signup-{name[:3].lower()}")
        await stack.conversions.RecordSignup(
            conversions_pb2.RecordSignupRequest(
                account_id=account,
                signup_id=signup_ids[-1],
                mbsy_source=_query(clicked.headers["location"])["mbsy_source"],
                customer_id=f"person-{name}",
            )
        )

    # A share from "Refer a friend" (the advocate's tap above made the link),
    # the friend's click, and the friend's order in euros.
    tapped = await stack.click(minted["Refer a friend"][2]["whatsapp"])
    referral_url = _query(tapped.headers["location"])["text"].split(" ")[-1]
    friend = await stack.click(referral_url, user_agent=ANDROID)
    landing = _query(friend.headers["location"])
    order = await stack.conversions.RecordOrder(
        conversions_pb2.RecordOrderRequest(
            account_id=account,
            order_id="A-1001",
            mbsy_source=landing["mbsy_source"],
            shortcode=landing["mbsy"],
            amount_minor=1234567,
            currency="EUR",
            customer_id="friend-1",
        )
    )
    assert order.attributed, order
    await stack.wait_for_clicks(16)
    return MarketingAccount(
        account_id=account,
        templates=templates,
        dashboard_key=await stack.keys.key("dashboard", account),
        order_id="A-1001",
        signup_id=signup_ids[0],
    )
