"""Application factory."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.accounts import routes as admin_auth
from app.accounts.deps import LoginRequired
from app.audit import routes as admin_audit
from app.campaign import measure_routes as admin_measures
from app.campaign import public_routes as campaign_public
from app.campaign import roster_routes as admin_roster
from app.campaign import routes as admin_campaign
from app.campaign.service import IntakeCache
from app.core.config import Settings, get_settings
from app.core.db import Writer, make_engine, make_writer
from app.core.errors import UserError
from app.core.middleware import AccessLogMiddleware, SecurityMiddleware
from app.core.ratelimit import RateLimiter
from app.core.render import render_error
from app.digest import routes as admin_digest
from app.inbox import routes as admin_inbox
from app.intake import api as v1
from app.intake import api_docs
from app.intake import routes as public
from app.mail.outbound import sender_from_settings
from app.review import item_routes as admin_items
from app.review import queue_routes as admin_queue
from app.storage.process import ProcessWriter, start_tagger, submission_batcher, uses_process

HERE = Path(__file__).parent
log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the ASGI app; the database must already be migrated (`yijian db upgrade`)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url)
        # SQLite: a second engine whose transactions take the write lock up front.
        write_engine = (
            make_engine(settings.database_url, immediate=True) if settings.is_sqlite else engine
        )
        app.state.engine = engine
        app.state.tagger = tagger = await run_in_threadpool(start_tagger, settings)
        # What start-up loaded (model, tables, routes) lives as long as the process; left to
        # the collector, every full collection walked it and paused requests ~90 ms.
        gc.collect()
        gc.freeze()
        writer: Writer
        if uses_process(settings):
            writer = ProcessWriter(write_engine, settings)
            await writer.start()
        else:
            batchers = {"submission": submission_batcher(settings, tagger)}
            writer = make_writer(write_engine, max_batch=settings.writer_batch, batchers=batchers)
        app.state.writer = writer
        try:
            yield
        finally:
            await writer.aclose()
            write_engine.dispose()
            engine.dispose()

    app = FastAPI(
        title="Yijian 意见箱 API",
        version="1",
        lifespan=lifespan,
        # FastAPI's own /docs loads Swagger UI from a CDN and runs an inline script, both of
        # which our CSP forbids; app/api/docs.py serves Swagger UI 5 from a PyPI package.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.submit_limiter = RateLimiter(settings.rate(settings.rate_limit), namespace="submit")
    app.state.lookup_limiter = RateLimiter(
        settings.rate(settings.receipt_lookup_limit), namespace="lookup"
    )
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.mount("/docs-assets", StaticFiles(directory=api_docs.ASSETS), name="docs-assets")
    app.include_router(api_docs.router)
    app.state.intake_cache = IntakeCache(ttl=5.0)
    app.state.login_limiter = RateLimiter((30, 900), namespace="login")
    # Replies to named senders go out by SMTP when a server is configured.
    app.state.mail_sender = sender_from_settings(settings) if settings.mail_from else None
    public.add_routes(app)
    app.include_router(campaign_public.router)
    app.include_router(admin_auth.router)
    app.include_router(admin_queue.router)
    app.include_router(admin_items.router)
    app.include_router(admin_audit.router)
    app.include_router(admin_inbox.router)
    app.include_router(admin_digest.router)
    app.include_router(admin_campaign.router)
    app.include_router(admin_roster.router)
    app.include_router(admin_measures.router)
    app.include_router(v1.router)
    v1.publish_limits(app, max_text_chars=settings.max_text_chars)
    app.add_middleware(AccessLogMiddleware)
    app.add_middleware(
        SecurityMiddleware, max_body=settings.max_files * settings.max_upload_bytes + 1024 * 1024
    )

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/admin/login?next={quote(target)}", status_code=303)

    @app.exception_handler(UserError)
    async def _user_error(request: Request, exc: UserError) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse(
                {"detail": exc.message, "code": exc.code, "field": exc.field},
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
                    "detail": "请求内容不符合要求：" + _first_error(errors),
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
                {"detail": messages.get(exc.status_code, str(exc.detail)), "code": "http_error"},
                status_code=exc.status_code,
                headers=getattr(exc, "headers", None),
            )
        messages = {404: "没有找到这个页面。", 405: "不支持这种请求方式。"}
        return render_error(
            request, messages.get(exc.status_code, "请求无法处理。"), exc.status_code
        )

    return app


def _first_error(errors: list[dict[str, object]]) -> str:
    if not errors:
        return ""
    first = errors[0]
    loc = first.get("loc") or []
    where = ".".join(str(p) for p in loc if p != "body") if isinstance(loc, list) else ""
    return f"{where} {first.get('msg', '')}".strip()
