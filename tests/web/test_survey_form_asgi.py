"""The survey form's fast path picks the handler the router would and keeps the headers."""

import asyncio

import pytest
from fastapi.routing import APIRoute
from starlette.routing import Match

from cxloop.web.pages import _survey_form_input, survey_form, survey_form_public
from cxloop.web.pages.survey_form_asgi import route
from tests.web.test_survey_form import _key, _link

FORM = {"content-type": "application/x-www-form-urlencoded"}
FAST = {
    survey_form.personal_submit,
    survey_form.personal_answer,
    survey_form_public.public_submit,
    survey_form_public.public_answer,
}


def _router_pick(path: str):
    """What the form's routers (the only ones with ``/s/`` routes, personal links first, as
    the app registers them) dispatch a POST to."""
    scope = {"type": "http", "method": "POST", "path": path, "root_path": ""}
    for r in [*survey_form.router.routes, *survey_form_public.router.routes]:
        assert isinstance(r, APIRoute)
        match, child = r.matches(scope)
        if match == Match.FULL:
            return r.endpoint, child["path_params"]
    return None


@pytest.mark.parametrize(
    "path",
    [
        "/s/12.abc",
        "/s/12.abc/answer",
        "/s/p/answer",
        "/s/p/tok",
        "/s/w/tok",
        "/s/x/tok",
        "/s/p/tok/answer",
        "/s/w/tok/answer",
        "/s/12.abc/unsubscribe",
        "/s/12.abc/thanks",
        "/s/p/tok/thanks",
        "/s/",
        "/s/12.abc/",
        "/s/p/tok/answer/more",
        "/collect",
        "/surveys",
    ],
)
def test_fast_path_picks_what_the_router_picks(path):
    router = _router_pick(path)
    fast = route(path)
    if fast is None:
        assert router is None or router[0] not in FAST
    else:
        assert router is not None and router == fast


def test_fast_path_answers_carry_the_security_headers(client, session, org, settings):
    _, url = _link(session, org, settings)
    key = _key(client.get(url).text)
    done = client.post(
        url,
        data={"form_key": key, "q_nps": "9", "q_csat": "4", "q_ces": "6"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"].endswith("/thanks?lang=ja")
    invalid = client.post("/s/99999.nope", data={"form_key": key})
    for r in (done, invalid):
        assert r.headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert invalid.status_code == 404
    assert invalid.json()["error"]["message"] == "this survey link is not valid"


@pytest.mark.parametrize(
    "body",
    [
        b"form_key=a.b&q_nps=9&q_channels=store&q_channels=web",
        b"q_comment=%E3%83%AC%E3%82%B8+%3Cb%3E&q_empty=&bare&plus=1%2B2+3",
        b"q_nps=9;q_csat=4",
        b"%ZZ=%E3%83&=x&&",
    ],
)
def test_form_parsing_matches_starlette(body):
    from starlette.requests import Request

    def request():
        sent = []

        async def receive():
            sent.append(1)
            return {"type": "http.request", "body": body if len(sent) == 1 else b""}

        headers = [(b"content-type", b"application/x-www-form-urlencoded")]
        return Request({"type": "http", "method": "POST", "headers": headers}, receive)

    async def both():
        return (await _survey_form_input._posted_form(request())).multi_items(), (
            await request().form()
        ).multi_items()

    ours, theirs = asyncio.run(both())
    assert ours == theirs


def test_too_many_fields_is_a_400_as_through_the_router(client, session, org, settings):
    _, url = _link(session, org, settings)
    r = client.post(url, content="&".join(f"f{i}=1" for i in range(1001)), headers=FORM)
    assert r.status_code == 400 and "Too many fields" in r.json()["error"]["message"]
