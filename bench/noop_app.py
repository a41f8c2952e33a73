"""The baseline for bench/intake.py: the same stack (FastAPI, uvicorn, form parsing, our
middleware) answering a form POST without touching a database."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

from app.core.middleware import AccessLogMiddleware, SecurityMiddleware


def create_app() -> FastAPI:
    app = FastAPI()

    @app.post("/noop", response_class=HTMLResponse)
    async def noop(request: Request) -> HTMLResponse:
        form = await request.form()
        return HTMLResponse(f"<p>{len(str(form.get('text', '')))}</p>")

    app.add_middleware(AccessLogMiddleware)
    app.add_middleware(SecurityMiddleware, max_body=32 * 1024 * 1024)
    return app
