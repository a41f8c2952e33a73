"""The public page of a unit's answered opinions: public replies under opinion excerpts."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.core.deps import SessionDep
from app.core.render import render
from app.review.answers import list_public_answers, parse_page

router = APIRouter(include_in_schema=False)


@router.get("/u/{slug}/answers", response_class=HTMLResponse)
def answers_page(request: Request, slug: str, session: SessionDep) -> HTMLResponse:
    page = parse_page(request.query_params.get("page"))
    answers = list_public_answers(session, slug=slug, page=page)
    return render(request, "review/answers.html", {"a": answers})
