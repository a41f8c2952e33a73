"""Coverage-guided fuzzing of the email parser with atheris, run by hand:

    .venv/bin/pip install atheris
    .venv/bin/python fuzz/email_parser.py fuzz/corpus/email -max_total_time=300

The property is the parser's contract: whatever the bytes, parse_message returns a ParsedMail
or raises MalformedMail (which the poller quarantines); any other exception is a crash.
New inputs that reach new code are added to the corpus folder; commit the interesting ones.
The corpus is seeded from built messages by fuzz/make_corpus.py (no real mail in the repo).
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

with atheris.instrument_imports():
    from app.mail.parse import MalformedMail, parse_message


def test_one_input(data: bytes) -> None:
    try:
        mail = parse_message(data)
    except MalformedMail as exc:
        assert exc.reason
        return
    assert mail.size == len(data)
    assert mail.dedup_key


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
