"""Application factory."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from app.accounts import routes as accounts_routes
from app.accounts.deps import LoginRequired, redirect_to_login
from app.accounts.throttle import LoginThrottle
from app.alerts import routes as alerts_routes
from app.audit import routes as audit_routes
from app.bureau import routes as bureau_routes
from app.campaign import (
    entry_routes,
    evaluation_routes,
    measure_routes,
    print_routes,
    public_routes,
    roster_routes,
)
from app.campaign.service import IntakeCache
from app.core import crypto
from app.core.config import Settings, get_settings
from app.core.db import make_engine
from app.core.handlers import install_error_handlers
from app.core.middleware import AccessLogMiddleware, SecurityMiddleware
from app.core.ratelimit import RateLimiter
from app.deadlines import routes as deadlines_routes
from app.dialogue import api as dialogue_api
from app.dialogue import routes as dialogue_routes
from app.digest import routes as digest_routes
from app.dispatch import routes as dispatch_routes
from app.groups import routes as groups_routes
from app.inbox import routes as inbox_routes
from app.intake import api, api_docs, slip_routes
from app.intake import routes as intake_routes
from app.outbox.service import sender_from_settings
from app.privacy import routes as privacy_routes
from app.reports import routes as reports_routes
from app.retention import routes as retention_routes
from app.review import item_routes, queue_routes
from app.review import public_routes as review_public_routes
from app.signoff import routes as signoff_routes
from app.stats import public_routes as stats_public_routes
from app.stats import routes as stats_routes
from app.stats.store import ItemStore
from app.storage import start_writer
from app.tagging import start_tagger
from app.workdays import routes as workdays_routes

# What each package offers (the public form's POST is added first by intake_routes).
ROUTERS = (
    public_routes.router,
    accounts_routes.router,
    queue_routes.router,
    item_routes.router,
    review_public_routes.router,
    audit_routes.router,
    inbox_routes.router,
    digest_routes.router,
    entry_routes.router,
    print_routes.router,
    print_routes.short_router,
    slip_routes.router,
    evaluation_routes.router,
    roster_routes.router,
    measure_routes.router,
    stats_routes.router,
    stats_public_routes.router,
    reports_routes.router,
    deadlines_routes.router,
    signoff_routes.router,
    bureau_routes.router,
    dispatch_routes.router,
    workdays_routes.router,
    groups_routes.router,
    api.router,
    dialogue_routes.router,
    dialogue_api.router,
    alerts_routes.router,
    privacy_routes.router,
    retention_routes.router,
)

HERE = Path(__file__).parent
log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the ASGI app; the database must already be migrated (`yijian db upgrade`)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        crypto.install(settings.keyring())
        engine = make_engine(settings.database_url)
        # SQLite: a second engine whose transactions take the write lock up front.
        write_engine = (
            make_engine(settings.database_url, immediate=True) if settings.is_sqlite else engine
        )
        app.state.engine = engine
        app.state.tagger = tagger = await run_in_threadpool(
            start_tagger, settings.tagger, engine=engine
        )
        await run_in_threadpool(app.state.stats_store.preload, engine)
        # What start-up loaded (model, tables, routes) lives as long as the process; left to
        # the collector, every full collection walked it and paused requests ~90 ms.
        gc.collect()
        gc.freeze()
        app.state.writer = writer = await start_writer(settings, write_engine, tagger)
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
    app.state.stats_store = ItemStore()
    app.state.submit_limiter = RateLimiter(settings.rate(settings.rate_limit), namespace="submit")
    app.state.tag_limiter = RateLimiter(settings.rate(settings.rate_limit), namespace="tag")
    app.state.lookup_limiter = RateLimiter(
        settings.rate(settings.receipt_lookup_limit), namespace="lookup"
    )
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.mount("/docs-assets", StaticFiles(directory=api_docs.ASSETS), name="docs-assets")
    app.include_router(api_docs.router)
    app.state.intake_cache = IntakeCache(ttl=5.0)
    app.state.login_limiter = RateLimiter((30, 900), namespace="login")
    app.state.login_throttle = LoginThrottle.from_settings(settings)
    # Replies to named senders go out by SMTP when a server is configured.
    app.state.mail_sender = sender_from_settings(settings) if settings.mail_from else None
    intake_routes.add_routes(app)
    for router in ROUTERS:
        app.include_router(router)
    api.publish_limits(app, max_text_chars=settings.max_text_chars)
    app.add_middleware(AccessLogMiddleware)
    app.add_middleware(
        SecurityMiddleware, max_body=settings.max_files * settings.max_upload_bytes + 1024 * 1024
    )

    install_error_handlers(app)
    app.add_exception_handler(LoginRequired, redirect_to_login)

    return app
