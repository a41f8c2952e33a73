"""The receipt slip: a printable page with the slip's image, and the image as a download.

Both are POSTs carrying the code in the body: it stays out of URLs, so out of the access log,
the browser's history and any proxy's log (see app.core.middleware).
"""

from __future__ import annotations

import base64

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from app.core.deps import LookupLimit, SessionDep, SettingsDep
from app.core.errors import Invalid, NotFound
from app.core.forms import form_text
from app.core.render import render
from app.intake.slip import Slip, receipt_slip

router = APIRouter(include_in_schema=False)

# The code is the only way back in: the slip must not stay in a shared phone's cache.
_NO_STORE = {"Cache-Control": "no-store"}


async def _slip(request: Request, session: SessionDep, settings: SettingsDep) -> Slip:
    form = await request.form(max_files=0, max_fields=5)
    # Drawing the image takes a moment: keep the event loop free.
    return await run_in_threadpool(
        receipt_slip,
        session,
        secret=settings.secret_key,
        receipt=form_text(form, "receipt"),
        base_url=settings.base_url,
    )


@router.post("/r/slip", response_class=HTMLResponse, dependencies=[LookupLimit])
async def slip_page(request: Request, session: SessionDep, settings: SettingsDep) -> HTMLResponse:
    try:
        slip = await _slip(request, session, settings)
    except (Invalid, NotFound) as exc:
        context = {"error": exc.message, "value": ""}
        return render(request, "intake/lookup.html", context, status=exc.status)
    image = "data:image/png;base64," + base64.b64encode(slip.png).decode("ascii")
    return render(request, "intake/slip.html", {"slip": slip, "image": image})


@router.post("/r/slip.png", dependencies=[LookupLimit])
async def slip_png(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    slip = await _slip(request, session, settings)
    headers = {**_NO_STORE, "Content-Disposition": 'attachment; filename="receipt-slip.png"'}
    return Response(slip.png, media_type="image/png", headers=headers)
