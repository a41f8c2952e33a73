"""How errors become responses: JSON under /api/, a Chinese error page everywhere else."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount

from app.core.errors import UserError
from app.core.render import localise, render_error

_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def install_error_handlers(app: FastAPI) -> None:
    """UserError, invalid requests and HTTP errors answered in the caller's language."""

    @app.exception_handler(UserError)
    async def _user_error(request: Request, exc: UserError) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse(
                {"detail": localise(request, exc.message), "code": exc.code, "field": exc.field},
                status_code=exc.status,
            )
        return render_error(request, exc.message, exc.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type")}
            for e in exc.errors()
        ]
        if request.url.path.startswith("/api/"):
            return JSONResponse(
                {
                    "detail": localise(request, "请求内容不符合要求：") + _first_error(errors),
                    "code": "invalid",
                    "errors": errors,
                },
                status_code=422,
            )
        return render_error(request, "提交的内容不完整或格式不对，请返回检查后再试。", 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/api/"):
            messages = {
                400: "请求内容无法解析，请发送 UTF-8 编码的 JSON。",
                404: "没有这个接口",
                405: "不支持这种请求方式",
            }
            return JSONResponse(
                {
                    "detail": localise(request, messages.get(exc.status_code, str(exc.detail))),
                    "code": "http_error",
                },
                status_code=exc.status_code,
                headers=_headers(request, exc),
            )
        messages = {404: "没有找到这个页面。", 405: "不支持这种请求方式。"}
        page = render_error(
            request, messages.get(exc.status_code, "请求无法处理。"), exc.status_code
        )
        page.headers.update(_headers(request, exc) or {})
        return page


def _headers(request: Request, exc: StarletteHTTPException) -> dict[str, str] | None:
    """The error's headers; a 405 names every method the path allows (RFC 9110)."""
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = _allowed_methods(request)
    return headers or None


def _allowed_methods(request: Request) -> str:
    # Starlette names only the first route whose path matched (GET /u/{slug} and its POST
    # are two routes) and the static mounts name none, so every route is asked about every
    # method; a path only a mount serves is static: GET and HEAD.
    routes = [r for r in request.app.router.routes if not isinstance(r, Mount)]
    allowed = [
        method
        for method in _METHODS
        if any(r.matches({**request.scope, "method": method})[0] is Match.FULL for r in routes)
    ]
    return ", ".join(allowed or ("GET", "HEAD"))


def _first_error(errors: list[dict[str, object]]) -> str:
    if not errors:
        return ""
    first = errors[0]
    loc = first.get("loc") or []
    where = ".".join(str(p) for p in loc if p != "body") if isinstance(loc, list) else ""
    return f"{where} {first.get('msg', '')}".strip()
