"""The console's routes: each reads the signed-in session, asks the control
plane, and renders one template. What the pages show is built in views.py."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from console import charts, views
from console.control_client import ControlAway, ControlError, ControlReader, NotFound, SignedOut
from console.ranges import RangeError, bucket_for, parse_range
from console.sessions import COOKIE, Session, SessionStore
from smarturls.v1 import common_pb2, dashboard_pb2

log = logging.getLogger(__name__)

DASHBOARD_ROLE = "dashboard"


class SignInNeeded(Exception):
    """No live session: the page sends the browser to sign in."""


class CrossSiteForm(Exception):
    """A form posted from another site's page."""


def _reader(request: Request) -> ControlReader:
    reader: ControlReader = request.app.state.reader
    return reader


def _sessions(request: Request) -> SessionStore:
    sessions: SessionStore = request.app.state.sessions
    return sessions


def _session(request: Request) -> Session:
    session = _sessions(request).find(request.cookies.get(COOKIE))
    if session is None:
        raise SignInNeeded
    return session


def _render(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> Response:
    session = _sessions(request).find(request.cookies.get(COOKIE))
    response: Response = request.app.state.templates.TemplateResponse(
        request, name, {"session": session, **context}, status_code=status_code
    )
    return response


def with_query(request: Request, path: str | None = None, **changes: str | None) -> str:
    """`path` (the current one by default) with the current query changed:
    a value replaces the parameter, None removes it."""
    params = dict(request.query_params)
    for name, value in changes.items():
        if value is None:
            params.pop(name, None)
        else:
            params[name] = value
    target = path if path is not None else request.url.path
    return f"{target}?{urlencode(params)}" if params else target


def _same_site_form(request: Request) -> None:
    # SameSite=Lax keeps the cookie off other sites' POSTs; the Origin check
    # also stops another site signing a browser into an account of its choosing.
    origin = request.headers.get("origin")
    if origin is not None and urlsplit(origin).netloc != request.headers.get("host"):
        raise CrossSiteForm


async def home(request: Request) -> Response:
    _session(request)
    return RedirectResponse("/emails", status_code=303)


SIGN_IN_NOTES = {
    "expired": "Your key no longer works (it was revoked, or the session ended). Sign in again.",
    "signed_out": "You are signed out.",
}


async def sign_in_form(request: Request) -> Response:
    note = SIGN_IN_NOTES.get(request.query_params.get("why", ""))
    return _render(request, "signin.html", {"note": note, "error": None})


async def sign_in(request: Request) -> Response:
    _same_site_form(request)
    form = await request.form()
    key = str(form.get("key", "")).strip()
    if not key:
        error = "key: paste your dashboard key (it starts with su_)"
        return _render(request, "signin.html", {"note": None, "error": error}, 400)
    try:
        caller = await _reader(request).caller(key)
    except SignedOut as refused:
        error = f"That key was not accepted: {refused}."
        return _render(request, "signin.html", {"note": None, "error": error}, 401)
    if caller.role != DASHBOARD_ROLE:
        error = (
            f"That is a {caller.role} key. The Performance Center needs a dashboard key"
            " (python -m control keys create --role dashboard --account N)."
        )
        return _render(request, "signin.html", {"note": None, "error": error}, 403)
    session = Session(key, caller.account.account_id, caller.account.name, caller.key_name)
    _sessions(request).close(request.cookies.get(COOKIE))
    response = RedirectResponse("/emails", status_code=303)
    response.set_cookie(
        COOKIE,
        _sessions(request).open(session),
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.secure_cookies,
    )
    return response


async def sign_out(request: Request) -> Response:
    _same_site_form(request)
    _sessions(request).close(request.cookies.get(COOKIE))
    response = RedirectResponse("/signin?why=signed_out", status_code=303)
    response.delete_cookie(COOKIE)
    return response


async def dashboard(request: Request) -> Response:
    session = _session(request)
    channel = request.url.path.strip("/")
    span = parse_range(request.query_params, datetime.now(UTC))
    sorting = views.parse_sorting(request.query_params.get("sort"), request.query_params.get("dir"))
    rows = await _reader(request).performances(
        session.api_key, session.account_id, views.CHANNELS[channel], span.to_proto()
    )
    context = {
        "channel": channel,
        "title": views.CHANNEL_TITLES[channel],
        "span": span,
        "counted": rows[0].counted_range if rows else None,
        "rows": views.sorted_rows(rows, sorting),
        "any_activity": any(r.messages_sent or r.clicks or r.conversions for r in rows),
        "sorting": sorting,
        "columns": views.COLUMNS,
        "goal_words": views.goal_words,
        "ratio": views.ratio,
    }
    return _render(request, "dashboard.html", context)


async def template_page(request: Request) -> Response:
    session = _session(request)
    template_id = request.path_params["template_id"]
    span = parse_range(request.query_params, datetime.now(UTC))
    bucket = bucket_for(span, request.query_params.get("bucket"))
    reader = _reader(request)
    template, performance, series = await asyncio.gather(
        reader.template(session.api_key, session.account_id, template_id),
        reader.performance(session.api_key, session.account_id, template_id, span.to_proto()),
        reader.time_series(
            session.api_key,
            session.account_id,
            template_id,
            span.to_proto(),
            dashboard_pb2.BUCKET_HOUR if bucket == "hour" else dashboard_pb2.BUCKET_DAY,
        ),
    )
    hourly = bucket == "hour"
    goal = views.goal_words(performance.goal)
    series_charts = [
        charts.bar_chart("Messages sent", "sent", series.points, lambda p: p.messages_sent, hourly),
        charts.bar_chart("Human clicks", "clicks", series.points, lambda p: p.clicks, hourly),
    ]
    if performance.goal:
        series_charts.append(
            charts.bar_chart(
                goal.metric.capitalize(), "goal", series.points, lambda p: p.conversions, hourly
            )
        )
    context = {
        "channel": "sms" if template.channel == common_pb2.CHANNEL_SMS else "emails",
        "template": template,
        "performance": performance,
        "series": series,
        "charts": series_charts,
        "chart_width": charts.WIDTH,
        "chart_height": charts.HEIGHT,
        "chart_left": charts.LEFT,
        "bucket": bucket,
        "span": span,
        "counted": performance.counted_range,
        "goal": goal,
        "goal_words": views.goal_words,
        "outcomes": views.outcomes(performance),
        "hit_classes": views.HIT_CLASSES,
        "ratio": views.ratio,
        "link_kind": lambda kind: common_pb2.LinkKind.Name(kind).removeprefix("LINK_KIND_"),
    }
    return _render(request, "template.html", context)


async def conversion_lookup(request: Request) -> Response:
    session = _session(request)
    kind = request.query_params.get("kind", "order")
    external_id = request.query_params.get("id", "").strip()
    context: dict[str, Any] = {"kind": kind, "external_id": external_id, "kinds": views.KINDS}
    if kind not in views.KINDS:
        context["error"] = f"kind: {kind!r} is not one of {', '.join(views.KINDS)}"
        return _render(request, "conversion.html", context, 400)
    if not external_id:
        return _render(request, "conversion.html", context)
    try:
        explanation = await _reader(request).explain(
            session.api_key, session.account_id, views.KINDS[kind], external_id
        )
    except NotFound:
        context["error"] = f"No {kind} {external_id!r} has been recorded in this account."
        return _render(request, "conversion.html", context, 404)
    context.update(
        explanation=explanation,
        steps=views.chain(explanation),
        goal_at=views.goal_words(explanation.goal_at_occurrence),
    )
    return _render(request, "conversion.html", context)


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


async def metrics(request: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def _problem(request: Request, status: int, title: str, message: str) -> Response:
    context = {"status": status, "title": title, "message": message}
    return _render(request, "error.html", context, status)


async def _sign_in_needed(request: Request, exc: Exception) -> Response:
    return RedirectResponse("/signin", status_code=303)


async def _signed_out(request: Request, exc: Exception) -> Response:
    _sessions(request).close(request.cookies.get(COOKIE))
    response = RedirectResponse("/signin?why=expired", status_code=303)
    response.delete_cookie(COOKIE)
    return response


async def _control_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ControlError)
    if isinstance(exc, ControlAway):
        message = (
            "The control plane is not answering. Nothing is lost: links keep redirecting and"
            " clicks are kept until it is back. Try again in a minute."
        )
    elif isinstance(exc, NotFound):
        message = "There is nothing with that id in your account."
    else:
        log.warning("control plane refused a console read: %s: %s", type(exc).__name__, exc)
        message = str(exc) or "The control plane could not answer this request."
    return _problem(request, exc.http_status, exc.title, message)


async def _bad_range(request: Request, exc: Exception) -> Response:
    return _problem(request, 400, "That date range cannot be counted", str(exc))


async def _cross_site(request: Request, exc: Exception) -> Response:
    return _problem(request, 403, "Refused", "That form was sent from another site.")


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    title = "Not found" if exc.status_code == 404 else "Refused"
    return _problem(request, exc.status_code, title, exc.detail)


async def _unexpected(request: Request, exc: Exception) -> Response:
    return _problem(request, 500, "Something went wrong", "The page failed; it has been logged.")


EXCEPTION_HANDLERS: dict[Any, Any] = {
    SignInNeeded: _sign_in_needed,
    SignedOut: _signed_out,
    ControlError: _control_error,
    RangeError: _bad_range,
    CrossSiteForm: _cross_site,
    HTTPException: _http_error,
    Exception: _unexpected,
}
