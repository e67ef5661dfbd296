"""One error body for every API failure: ``{"error": {"code", "message", "field"}}``."""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from cxloop.store.scope import Scope, scoped_get

T = TypeVar("T")

_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
}


class ApiError(Exception):
    def __init__(
        self, status: int, message: str, *, field: str | None = None, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field
        self.code = code or _CODES.get(status, "error")


class NotFound(ApiError):
    def __init__(self, what: str = "resource") -> None:
        super().__init__(404, f"{what} not found")


def visible_or_404(
    session: Session,
    scope: Scope,
    model: type[T],
    row_id: int,
    what: str,
    *,
    unit_column: Any = None,
) -> T:
    """The row when it exists and lies in ``scope``; otherwise the 404 that every scoped
    lookup answers (a row outside the caller's units is not found, never forbidden)."""
    row = scoped_get(session, scope, model, row_id, unit_column=unit_column)
    if row is None:
        raise NotFound(what)
    return row


class LoginRequired(Exception):
    """A page needs a logged-in user; the handler redirects to the login page."""


def error_body(
    status: int, message: str, field: str | None = None, code: str | None = None
) -> dict:
    return {
        "error": {"code": code or _CODES.get(status, "error"), "message": message, "field": field}
    }


def error_response(
    status: int, message: str, field: str | None = None, code: str | None = None
) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(error_body(status, message, field, code), status, headers=headers)


def _field_of(loc: tuple[Any, ...]) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or None


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Response:
        return error_response(exc.status, exc.message, exc.field, exc.code)

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": "/login"})
        from urllib.parse import quote

        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        field = _field_of(tuple(first.get("loc", ())))
        msg = str(first.get("msg", "invalid request"))
        if first.get("type") == "json_invalid":
            return error_response(400, "malformed JSON body: " + msg, None, "malformed_json")
        if first.get("type") == "extra_forbidden":
            msg = f"unknown field {field!r}"
        return error_response(422, f"{field}: {msg}" if field else msg, field)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        return error_response(exc.status_code, str(exc.detail))
