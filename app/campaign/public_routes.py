"""Public campaign pages: the rectification board, the evaluation form, the staff idea form."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app.campaign.evaluation import check_code, normalise_code, submit_evaluation, validate_votes
from app.campaign.measures import board, list_measures
from app.campaign.roster import get_person_by_token, submit_idea
from app.campaign.service import get_intake_state
from app.core.deps import SessionDep, SettingsDep, SubmitLimit, limit_lookups
from app.core.errors import Conflict, Invalid, NotFound, Unavailable, UserError
from app.core.forms import form_text, text_fields
from app.core.render import render
from app.intake import receipts
from app.intake.service import validate_idempotency_key
from app.models import RATING_LABELS
from app.storage.deps import WriterDep
from app.storage.writer import Writer

router = APIRouter(include_in_schema=False)
T = TypeVar("T")


async def run_writer(writer: Writer, job: Callable[[Session], T]) -> T:
    """Run a write job in the group-commit writer; a database fault becomes a 503 message."""
    try:
        return await writer.run(job)
    except SQLAlchemyError as exc:
        raise Unavailable("系统繁忙，尚未保存，请稍后再提交一次。") from exc


@router.get("/u/{slug}/board", response_class=HTMLResponse)
def board_page(request: Request, slug: str, session: SessionDep) -> HTMLResponse:
    state = get_intake_state(session, slug=slug)
    items = board(session, unit_id=state.unit_id)
    return render(request, "campaign/board.html", {"state": state, "items": items})


def _evaluate_context(
    session: Session, slug: str, code: str, error: str | None, form: dict[str, str]
) -> dict[str, Any]:
    state = get_intake_state(session, slug=slug)
    return {
        "state": state,
        "code": code,
        "measures": list_measures(session, unit_ids=[state.unit_id]),
        "ratings": list(RATING_LABELS.items()),
        "error": error,
        "form": form,
    }


async def limit_code_checks(request: Request) -> None:
    """A code typed into the address is a guess like a receipt: it counts as a lookup."""
    if request.query_params.get("code"):
        await limit_lookups(request)


@router.get(
    "/u/{slug}/evaluate", response_class=HTMLResponse, dependencies=[Depends(limit_code_checks)]
)
def evaluate_form(
    request: Request, slug: str, session: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    raw = request.query_params.get("code", "")
    context = _evaluate_context(session, slug, "", None, {})
    if raw and context["state"].evaluation_open:
        try:
            code = normalise_code(raw)
            check_code(
                session, secret=settings.secret_key, unit_id=context["state"].unit_id, code=code
            )
            context["code"] = code
        except (Invalid, NotFound, Conflict) as exc:
            context["error"] = exc.message
            context["error_field"] = exc.field
            return render(request, "campaign/evaluate.html", context, status=exc.status)
    return render(request, "campaign/evaluate.html", context)


@router.post("/u/{slug}/evaluate", response_class=HTMLResponse, dependencies=[SubmitLimit])
async def evaluate_submit(
    request: Request, slug: str, settings: SettingsDep, writer: WriterDep
) -> HTMLResponse:
    form = await request.form(max_files=0, max_fields=400, max_part_size=64 * 1024)
    fields = text_fields(form)
    code = fields.get("code", "")

    def job(session: Session) -> int:
        state = get_intake_state(session, slug=slug)
        ids = [m.id for m in list_measures(session, unit_ids=[state.unit_id]) if m.id]
        votes = validate_votes(measure_ids=ids, form=fields)
        return submit_evaluation(
            session,
            secret=settings.secret_key,
            unit_id=state.unit_id,
            code=code,
            votes=votes,
            evaluation_open=state.evaluation_open,
        )

    try:
        count = await run_writer(writer, job)
    except UserError as exc:
        message = exc.message

        def again(session: Session) -> dict[str, Any]:
            return _evaluate_context(session, slug, code, message, fields)

        context = await run_in_threadpool(_with_session, request, again)
        context["error_field"] = exc.field
        if isinstance(exc, (NotFound, Conflict)) and exc.field == "code":
            context["code"] = ""  # a used or unknown code: ask for another one
        return render(request, "campaign/evaluate.html", context, status=exc.status)
    return render(request, "campaign/evaluated.html", {"count": count, "slug": slug})


def _with_session(request: Request, fn: Callable[[Session], T]) -> T:
    with Session(request.app.state.engine) as session:
        return fn(session)


@router.get("/idea/{token}", response_class=HTMLResponse)
def idea_form(
    request: Request, token: str, session: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    person, unit = get_person_by_token(session, secret=settings.secret_key, token=token)
    state = get_intake_state(session, slug=unit.slug)
    return render(
        request,
        "campaign/idea.html",
        {
            "person": person,
            "state": state,
            "token": token,
            "key": secrets.token_urlsafe(18),
            "max_chars": settings.max_text_chars,
            "text": "",
            "error": None,
        },
    )


@router.post("/idea/{token}", response_class=HTMLResponse, dependencies=[SubmitLimit])
async def idea_submit(
    request: Request, token: str, settings: SettingsDep, writer: WriterDep
) -> HTMLResponse:
    form = await request.form(max_files=0, max_fields=5, max_part_size=256 * 1024)
    text = form_text(form, "text")
    key_field = form_text(form, "key")
    try:
        key = validate_idempotency_key(key_field)
        stored = await run_writer(
            writer,
            lambda s: submit_idea(
                s,
                secret=settings.secret_key,
                token=token,
                text=text,
                max_chars=settings.max_text_chars,
                idempotency_key=key,
                tagger=request.app.state.tagger,
            ),
        )
    except (Invalid, Conflict) as exc:
        message = exc.message

        def again(session: Session) -> dict[str, Any]:
            person, unit = get_person_by_token(session, secret=settings.secret_key, token=token)
            return {
                "person": person,
                "state": get_intake_state(session, slug=unit.slug),
                "token": token,
                "key": key_field or secrets.token_urlsafe(18),
                "max_chars": settings.max_text_chars,
                "text": text,
                "error": message,
            }

        context = await run_in_threadpool(_with_session, request, again)
        return render(request, "campaign/idea.html", context, status=exc.status)
    return render(
        request,
        "intake/receipt.html",
        {
            "receipt": receipts.format_receipt(stored.receipt),
            "anonymous": False,
            "replayed": stored.replayed,
            "slug": "",
        },
    )
