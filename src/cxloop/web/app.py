"""The one ASGI application: API, pages, survey forms and the collector."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cxloop import __version__
from cxloop.config import Settings, load_settings
from cxloop.jobs import build_huey
from cxloop.plugins import submodules
from cxloop.store.engine import get_engine
from cxloop.web import errors
from cxloop.web.limits import BodySizeLimit
from cxloop.web.pages.collector_asgi import CollectorFastPath
from cxloop.web.pages.survey_form_asgi import SurveyFormFastPath
from cxloop.web.render import nav_items

STATIC = Path(__file__).parent / "static"
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; "
    "form-action 'self'"
)


class SecurityHeaders:
    """Headers every response carries; a route may set its own CSP (e.g. embeddable forms)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                defaults = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                    (b"content-security-policy", _CSP.encode()),
                ]
                headers += [(k, v) for k, v in defaults if k not in names]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    app = FastAPI(
        title="cxloop",
        version=__version__,
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.huey = build_huey(settings)
    app.state.nav = nav_items()
    errors.install(app)

    api = APIRouter(prefix="/api/v1")
    for module in submodules("cxloop.web.api"):
        if hasattr(module, "router"):
            api.include_router(module.router)
    app.include_router(api)
    for module in submodules("cxloop.web.pages"):
        if hasattr(module, "router"):
            app.include_router(module.router)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> Response:
        try:
            with get_engine(settings.resolved_database_url).connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
            return JSONResponse({"status": "error", "database": str(exc)[:200]}, 503)
        return JSONResponse({"status": "ok", "version": __version__})

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # POST/OPTIONS /collect (hundreds a second) skip FastAPI's routing; inside the
    # security headers and body limit like every other request. See collector_asgi.
    app.add_middleware(CollectorFastPath)
    # So do the survey form's answer and submit POSTs (see survey_form_asgi).
    app.add_middleware(SurveyFormFastPath)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    return app
