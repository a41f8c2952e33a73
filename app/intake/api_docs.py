"""Interactive API documentation (Swagger UI) served from this host only."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

# Swagger UI 5 (OpenAPI 3.1, which FastAPI emits) as shipped inside the fastapi-offline wheel;
# only its files are used.
ASSETS = Path(str(files("fastapi_offline") / "static"))

# The UI's files are mounted at /docs-assets and its
# start-up code from static/swagger-init.js: no CDN, no inline script.
PAGE = """<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>意见箱 API 文档</title>
<link rel="stylesheet" href="/docs-assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs-assets/swagger-ui-bundle.js"></script>
<script src="/static/swagger-init.js"></script>
</body>
</html>
"""


@router.get("/docs", response_class=HTMLResponse)
async def api_docs() -> HTMLResponse:
    return HTMLResponse(PAGE)
