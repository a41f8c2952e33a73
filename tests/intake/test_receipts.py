import pytest

from app.core.errors import Invalid
from app.intake import receipts


def test_new_receipts_are_16_random_digits() -> None:
    drawn = {receipts.new_receipt() for _ in range(200)}
    assert len(drawn) == 200
    assert all(len(r) == 16 and r.isdigit() for r in drawn)


def test_format_and_parse_round_trip() -> None:
    r = "0123456789012345"
    shown = receipts.format_receipt(r)
    assert shown == "0123 4567 8901 2345"
    assert receipts.parse_receipt(shown) == r
    assert receipts.parse_receipt("0123-4567-8901-2345") == r
    assert receipts.parse_receipt("０１２３４５６７８９０１２３４５") == r


@pytest.mark.parametrize("bad", ["", "123", "abcd efgh ijkl mnop", "1" * 17])
def test_parse_rejects_bad_input(bad: str) -> None:
    with pytest.raises(Invalid):
        receipts.parse_receipt(bad)


def test_derived_receipt_depends_on_key_text_and_secret() -> None:
    a = receipts.derive_receipt(secret="s", unit_id=1, idempotency_key="k" * 10, text="x")
    assert a == receipts.derive_receipt(secret="s", unit_id=1, idempotency_key="k" * 10, text="x")
    assert a != receipts.derive_receipt(secret="s", unit_id=1, idempotency_key="k" * 10, text="y")
    assert a != receipts.derive_receipt(secret="t", unit_id=1, idempotency_key="k" * 10, text="x")
    assert receipts.hash_receipt(secret="s", receipt=a) != a
