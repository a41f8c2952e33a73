"""JSON API v1: submissions and tagging (the receipt endpoints: app/dialogue/api.py)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, FastAPI, Request
from pydantic import BaseModel, ConfigDict, Field, StrictStr, field_validator
from starlette.concurrency import run_in_threadpool

from app.core.deps import SettingsDep, SubmitLimit, TagLimit
from app.core.errors import Invalid
from app.intake import receipts
from app.intake.service import (
    NewSubmission,
    validate_idempotency_key,
    validate_submission,
)
from app.intake.store import store
from app.models import Channel
from app.tagging import MAX_TEXT_CHARS, Tagger, validate_text

router = APIRouter(prefix="/api/v1", tags=["v1"])

RoleName = Literal["家长", "离退休干部", "上级领导", "教职工", "群众代表", "其他"]


class ErrorOut(BaseModel):
    detail: str
    code: str
    field: str | None = None


# At least one character that survives clean_text (which strips whitespace and controls).
VISIBLE = r"[^\s\x00-\x1f\x7f]"
# The schema states what validate_submission enforces, so clients (and schemathesis) know:
# a named submission needs a name or a contact that is not blank.
NAMED_NEEDS_NAME_OR_CONTACT: dict[str, Any] = {
    "if": {"properties": {"anonymous": {"const": False}}, "required": ["anonymous"]},
    "then": {
        "anyOf": [
            {"required": ["name"], "properties": {"name": {"type": "string", "pattern": VISIBLE}}},
            {
                "required": ["contact"],
                "properties": {"contact": {"type": "string", "pattern": VISIBLE}},
            },
        ]
    },
}


class SubmissionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=NAMED_NEEDS_NAME_OR_CONTACT)

    text: str = Field(
        min_length=1,
        max_length=20000,
        pattern=VISIBLE,
        description="The suggestion; the server limit is YIJIAN_MAX_TEXT_CHARS.",
    )
    role: RoleName = "其他"
    anonymous: bool = True
    name: str | None = Field(default=None, max_length=50)
    contact: str | None = Field(default=None, max_length=100)
    idempotency_key: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.:-]{8,100}$")
    to: Literal["unit", "bureau"] = Field(
        default="unit",
        description=(
            "unit: the school handles it; bureau: straight to the education bureau "
            "(局长信箱), which the school's admins and reviewers never see."
        ),
    )


# What receipts.parse_receipt accepts: 16 digits (full-width too) with spaces, dashes or dots.
RECEIPT_PATTERN = r"^[\s\-－—·.]*(?:[0-9０-９][\s\-－—·.]*){16}$"


class ReceiptOut(BaseModel):
    receipt: str
    replayed: bool


ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorOut} for code in (400, 403, 404, 409, 413, 422, 429, 503)
}


@router.post(
    "/units/{slug}/submissions",
    status_code=201,
    response_model=ReceiptOut,
    responses=ERRORS,
    dependencies=[SubmitLimit],
)
async def create_submission(
    request: Request, slug: str, body: SubmissionIn, settings: SettingsDep
) -> ReceiptOut:
    """Store a suggestion; the 201 means it is on disk. Same idempotency key, same receipt."""
    data = validate_submission(
        text=body.text,
        role=body.role,
        anonymous=body.anonymous,
        name=body.name,
        contact=body.contact,
        max_chars=settings.max_text_chars,
    )
    new = NewSubmission(
        slug=slug,
        channel=Channel.web,
        data=data,
        idempotency_key=validate_idempotency_key(body.idempotency_key),
        to_bureau=body.to == "bureau",
    )
    stored = await store(request, new)
    return ReceiptOut(receipt=receipts.format_receipt(stored.receipt), replayed=stored.replayed)


class TagIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: StrictStr | int | None = None
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS, pattern=VISIBLE)

    @field_validator("id", mode="before")
    @classmethod
    def _not_a_boolean(cls, value: object) -> object:
        # The schema says string, integer or null (5.0 is an integer in JSON Schema, and
        # taken as 5); pydantic would also take false as 0.
        if isinstance(value, bool):
            raise ValueError("id must be a string, an integer or null")
        return value


class ConcernOut(BaseModel):
    """One check the text speaks to: its share of the text and the sentences that show it."""

    check: int
    share: float
    sentences: list[str]


class TagOut(BaseModel):
    id: str | int | None
    check: int
    scores: dict[str, float]
    evidence: list[str]
    # Every check the text speaks to, the suggested one first (兼涉).
    concerns: list[ConcernOut] = []


@router.post("/tag", response_model=TagOut, responses=ERRORS, dependencies=[TagLimit])
async def tag_text(request: Request, body: TagIn) -> TagOut:
    """Suggest which of the five checks (0 = none) a text speaks to, with the deciding words."""
    try:
        text = validate_text(body.text)
    except ValueError as exc:
        raise Invalid(str(exc), field="text") from exc
    tagger: Tagger = request.app.state.tagger
    suggestion = await run_in_threadpool(tagger.suggest, text)
    concerns = [ConcernOut(**vars(c)) for c in suggestion.concerns]
    return TagOut(**suggestion.to_json(body.id), concerns=concerns)


def publish_limits(app: FastAPI, *, max_text_chars: int) -> None:
    """Put this server's configured text limit into /openapi.json (the model's is a hard cap)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = build()
            text = spec["components"]["schemas"]["SubmissionIn"]["properties"]["text"]
            text["maxLength"] = min(int(text["maxLength"]), max_text_chars)
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]
