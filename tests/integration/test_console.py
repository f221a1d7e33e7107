"""The Performance Center over real HTTP on loopback, reading from a real
control plane: sign-in and sessions, refusals, errors and what the pages say.
The browser tests (tests/browser) check the numbers as a person sees them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from console.sessions import COOKIE, Session
from control.domain.api_keys import key_id_of, revoke_api_key
from smarturls.v1 import common_pb2, templates_pb2
from tests.marketing_data import MarketingAccount, marketing_account
from tests.support import LoopbackServer, Stack

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def marketing(stack: Stack) -> MarketingAccount:
    return await marketing_account(stack)


@pytest.fixture
async def console(stack: Stack) -> LoopbackServer:
    return await stack.start_console()


@pytest.fixture
async def browser(console: LoopbackServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=console.url, follow_redirects=False) as client:
        yield client


async def sign_in(client: httpx.AsyncClient, key: str) -> httpx.Response:
    return await client.post("/signin", data={"key": key})


async def test_signing_in_keeps_the_key_on_the_server(
    marketing: MarketingAccount, browser: httpx.AsyncClient
) -> None:
    response = await sign_in(browser, marketing.dashboard_key)
    assert response.status_code == 303 and response.headers["location"] == "/emails"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    session_id = browser.cookies[COOKIE]
    assert key_id_of(marketing.dashboard_key) not in session_id
    assert marketing.dashboard_key.rsplit("_", 1)[1] not in cookie

    page = await browser.get("/emails")
    assert page.status_code == 200
    assert "Emails Dashboard" in page.text and "Acme" in page.text
    for name in ("Welcome series", "Refer a friend", "Share your reward", "Monthly news"):
        assert name in page.text
    assert "SMS invite" not in page.text
    sms = await browser.get("/sms")
    assert "SMS invite" in sms.text and "Welcome series" not in sms.text


async def test_a_wrong_a_foreign_role_and_a_revoked_key_get_a_clear_sign_in_error(
    stack: Stack, marketing: MarketingAccount, browser: httpx.AsyncClient
) -> None:
    empty = await sign_in(browser, "  ")
    assert empty.status_code == 400 and "key: paste your dashboard key" in empty.text
    wrong = await sign_in(browser, "su_0123456789ab_" + "x" * 43)
    assert wrong.status_code == 401 and "That key was not accepted" in wrong.text
    sender = await sign_in(browser, await stack.keys.key("sender", marketing.account_id))
    assert sender.status_code == 403 and "That is a sender key" in sender.text
    for refused in (empty, wrong, sender):
        assert COOKIE not in refused.headers.get("set-cookie", "")

    assert (await sign_in(browser, marketing.dashboard_key)).status_code == 303
    assert (await browser.get("/emails")).status_code == 200
    await revoke_api_key(stack.db, key_id_of(marketing.dashboard_key))
    expired = await browser.get("/emails")
    assert expired.status_code == 303
    assert expired.headers["location"] == "/signin?why=expired"
    notice = await browser.get("/signin?why=expired")
    assert "Your key no longer works" in notice.text
    again = await sign_in(browser, marketing.dashboard_key)
    assert again.status_code == 401 and "revoked" in again.text


async def test_every_page_needs_a_session_and_none_is_cached(
    marketing: MarketingAccount, browser: httpx.AsyncClient
) -> None:
    template = marketing.templates["Refer a friend"]
    pages = ("/", "/emails", "/sms", f"/templates/{template}", "/conversions")
    for path in pages:
        response = await browser.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"] == "/signin", path
        assert response.headers["cache-control"] == "no-store", path
    await sign_in(browser, marketing.dashboard_key)
    for path in (*pages, "/signin", "/templates/999999", "/emails?range=nope"):
        response = await browser.get(path, follow_redirects=True)
        assert response.headers["cache-control"] == "no-store", path
        assert response.headers["x-frame-options"] == "DENY", path
        assert "script-src" not in response.headers["content-security-policy"], path


async def test_a_template_of_another_account_is_not_found(
    stack: Stack, marketing: MarketingAccount, browser: httpx.AsyncClient
) -> None:
    other = await stack.account(domain="other.example")
    link = templates_pb2.TemplateLink(
        name="read", kind=common_pb2.LINK_KIND_TRACKED, destination_url="https://other.example/"
    )
    theirs = await stack.template(other.account_id, 0, [link], name="Their secret template")
    await sign_in(browser, marketing.dashboard_key)
    for template_id in (theirs.template_id, 987654):
        page = await browser.get(f"/templates/{template_id}")
        assert page.status_code == 404
        assert "Their secret template" not in page.text
        assert "There is nothing with that id in your account" in page.text
    mine = await browser.get(f"/templates/{marketing.templates['Refer a friend']}")
    assert mine.status_code == 200 and "Refer a friend" in mine.text


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("range=custom&from=yesterday&to=2026-01-02", "from: 'yesterday' is not a date"),
        ("range=custom&from=2026-02-01&to=2026-01-02", "to: must not be before from"),
        ("range=custom&from=2020-01-01&to=2026-01-02", "to: at most 400 days after from"),
        ("range=custom&from=2026-01-01", "to: needs a date"),
        ("range=12d", "range: '12d' is not one of 7d, 30d, 90d, custom"),
    ],
)
async def test_a_range_that_cannot_be_counted_is_a_400_naming_the_field(
    marketing: MarketingAccount, browser: httpx.AsyncClient, query: str, named: str
) -> None:
    await sign_in(browser, marketing.dashboard_key)
    for path in ("/emails", f"/templates/{marketing.templates['Welcome series']}"):
        page = await browser.get(f"{path}?{query}")
        assert page.status_code == 400, path
        assert named in page.text.replace("&#39;", "'"), page.text


async def test_the_control_plane_away_is_a_503_page_never_a_stack_trace(
    marketing: MarketingAccount, stack: Stack, unused_tcp_port: int
) -> None:
    away = await stack.start_console(
        control_address=f"127.0.0.1:{unused_tcp_port}", control_timeout=1.0
    )
    session = Session(marketing.dashboard_key, marketing.account_id, "Acme", "test")
    session_id = away.app.state.sessions.open(session)
    async with httpx.AsyncClient(base_url=away.url, cookies={COOKIE: session_id}) as client:
        template = marketing.templates["Refer a friend"]
        for path in ("/emails", f"/templates/{template}", "/conversions?kind=order&id=A-1001"):
            page = await client.get(path)
            assert page.status_code == 503, path
            assert "The control plane is not answering" in page.text
            assert "Traceback" not in page.text and "grpc" not in page.text.lower()
        signin = await client.post("/signin", data={"key": marketing.dashboard_key})
        assert signin.status_code == 503


async def test_a_form_posted_from_another_site_is_refused(
    marketing: MarketingAccount, browser: httpx.AsyncClient
) -> None:
    forged = await browser.post(
        "/signin",
        data={"key": marketing.dashboard_key},
        headers={"Origin": "https://evil.example"},
    )
    assert forged.status_code == 403 and COOKIE not in browser.cookies
    same = await browser.post(
        "/signin",
        data={"key": marketing.dashboard_key},
        headers={"Origin": browser.base_url.scheme + "://" + browser.base_url.netloc.decode()},
    )
    assert same.status_code == 303


async def test_signing_out_ends_the_session_on_the_server(
    marketing: MarketingAccount, browser: httpx.AsyncClient
) -> None:
    await sign_in(browser, marketing.dashboard_key)
    session_id = browser.cookies[COOKIE]
    out = await browser.post("/signout")
    assert out.status_code == 303 and out.headers["location"] == "/signin?why=signed_out"
    assert COOKIE not in browser.cookies
    # The old cookie, kept by someone, opens nothing.
    browser.cookies.set(COOKIE, session_id)
    replay = await browser.get("/emails")
    assert replay.status_code == 303 and replay.headers["location"] == "/signin"


async def test_looking_up_a_conversion_explains_it_or_says_it_is_unknown(
    marketing: MarketingAccount, browser: httpx.AsyncClient
) -> None:
    await sign_in(browser, marketing.dashboard_key)
    found = await browser.get("/conversions", params={"kind": "order", "id": "A-1001"})
    assert found.status_code == 200
    assert 'data-verdict="counted"' in found.text
    assert "A friend clicked the shared link" in found.text
    assert "€12,345.67" in found.text
    unknown = await browser.get("/conversions", params={"kind": "order", "id": "Z-9"})
    assert unknown.status_code == 404
    assert "No order &#39;Z-9&#39; has been recorded in this account." in unknown.text
    bad = await browser.get("/conversions", params={"kind": "refund", "id": "A-1001"})
    assert bad.status_code == 400 and "kind: &#39;refund&#39; is not one of" in bad.text


async def test_page_times_are_exposed_to_prometheus(
    marketing: MarketingAccount, browser: httpx.AsyncClient
) -> None:
    await sign_in(browser, marketing.dashboard_key)
    await browser.get("/sms")
    scraped = (await browser.get("/metrics")).text
    assert 'smarturls_console_page_seconds_count{page="sms",status="200"}' in scraped
    assert (await browser.get("/healthz")).text == "ok"


async def test_an_account_without_templates_and_a_range_without_data_say_so(
    stack: Stack, marketing: MarketingAccount, browser: httpx.AsyncClient
) -> None:
    empty = await stack.account(domain="empty.example")
    await sign_in(browser, await stack.keys.key("dashboard", empty.account_id))
    page = await browser.get("/sms")
    assert page.status_code == 200 and "No SMS templates yet" in page.text
    assert "data-table" not in page.text

    await sign_in(browser, marketing.dashboard_key)
    quiet = await browser.get("/emails?range=custom&from=2025-01-01&to=2025-01-31")
    assert quiet.status_code == 200
    assert "Nothing was sent, clicked or converted in this range" in quiet.text
    assert "Counted 2025-01-01 00:00 UTC" in quiet.text
    busy = await browser.get("/emails")
    assert "Nothing was sent" not in busy.text
