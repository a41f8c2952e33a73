"""POST /api/v1/tag lists every check a text speaks to (concerns); the submission API's
response is unchanged."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.review.test_concerns import LETTER


def test_the_tag_api_returns_the_concerns(client: TestClient) -> None:
    r = client.post("/api/v1/tag", json={"id": 7, "text": LETTER})
    assert r.status_code == 200
    body = r.json()
    concerns = body["concerns"]
    assert concerns[0]["check"] == body["check"] and len(concerns) >= 2
    assert {4, 5} <= {c["check"] for c in concerns}
    for c in concerns:
        assert 0 < c["share"] <= 1 and all(q in LETTER for q in c["sentences"])


def test_the_submission_api_response_stays_as_it_was(client: TestClient, demo: None) -> None:
    r = client.post("/api/v1/units/demo/submissions", json={"text": LETTER, "anonymous": True})
    assert r.status_code == 201, r.text
    assert set(r.json()) == {"receipt", "replayed"}
