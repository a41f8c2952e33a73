"""Property tests: whatever a client sends to the form or the receipt lookup, the answer is
a deliberate 2xx/4xx page or JSON error, never a 500, and bad input stores nothing partial."""

from __future__ import annotations

from urllib.parse import quote

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func
from sqlmodel import Session, select

from app.models import Attachment, Submission

FUZZ = settings(
    max_examples=120,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FORM_OK = {200, 403, 404, 409, 413, 415, 422}
LOOKUP_OK = {200, 404, 422, 429}
# Field values: any text (controls, surrogate-free unicode, huge), plus the plausible ones.
values = st.one_of(
    st.text(max_size=300),
    st.sampled_from(["", "1", "0", "家长", "其他", "教职工", "x" * 6000, "\x00", "\r\n"]),
)
file_bodies = st.one_of(
    st.binary(max_size=2048),
    st.sampled_from([b"\xff\xd8\xff\xe0garbage", b"\x89PNG\r\n\x1a\nbroken", b"%PDF-1.4\n%%EOF\n",
                     b"GIF89a", b"RIFF\x00\x00\x00\x00WEBPVP8 "]),
)
files = st.lists(
    st.tuples(st.text(max_size=60), file_bodies, st.sampled_from(["image/jpeg", "application/pdf",
                                                                   "text/plain", ""])),
    max_size=4,
)


@FUZZ
@given(
    fields=st.dictionaries(
        st.sampled_from(["text", "role", "anonymous", "name", "contact", "key", "junk"]), values
    ),
    uploads=files,
)
def test_form_never_fails_and_never_stores_half(
    client: TestClient, demo: None, session: Session, fields: dict[str, str],
    uploads: list[tuple[str, bytes, str]],
) -> None:
    before = session.exec(select(func.count()).select_from(Submission)).one()
    multipart = [("files", (name or "f", body, ctype or "application/octet-stream"))
                 for name, body, ctype in uploads]
    r = client.post("/u/demo", data=fields, files=multipart or None)
    assert r.status_code in FORM_OK, (r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith("text/html")
    session.expire_all()
    after = session.exec(select(func.count()).select_from(Submission)).one()
    if r.status_code != 200:
        assert after == before  # refused means nothing stored, not even the attachments
    else:
        assert after - before in (0, 1)  # 0: a replay of an earlier key
    orphans = session.exec(
        select(func.count()).select_from(Attachment).where(
            Attachment.submission_id.not_in(select(Submission.id))  # type: ignore[attr-defined]
        )
    ).one()
    assert orphans == 0


@FUZZ
@given(value=st.one_of(st.text(max_size=80), st.from_regex(r"[0-9０-９ \-]{10,30}")))
def test_receipt_lookup_answers_only_200_404_422_429(
    client: TestClient, demo: None, value: str
) -> None:
    page = client.post("/r", data={"receipt": value})
    assert page.status_code in LOOKUP_OK, (value, page.status_code)
    if value and "/" not in value:
        api = client.get("/api/v1/receipts/" + quote(value, safe=""))
        assert api.status_code in LOOKUP_OK, (value, api.status_code, api.text[:200])
        assert api.headers["content-type"].startswith("application/json")


@FUZZ
@given(
    path=st.sampled_from(
        ["/u/demo/evaluate", "/u/nope/evaluate", "/idea/abc", "/idea/" + "x" * 40]
    ),
    fields=st.dictionaries(
        st.one_of(st.sampled_from(["code", "key", "text", "rating_1", "comment_1", "rating_2"]),
                  st.text(max_size=20)),
        values,
        max_size=8,
    ),
)
def test_campaign_forms_never_fail(
    client: TestClient, demo: None, path: str, fields: dict[str, str]
) -> None:
    r = client.post(path, data=fields)
    assert r.status_code < 500, (path, r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith("text/html")
