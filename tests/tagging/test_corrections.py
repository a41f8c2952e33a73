from sqlmodel import Session, select

from app.intake.service import NewSubmission, SubmissionInput, store_submission
from app.models import Channel, Status, Submission, TagCorrection
from app.tagging.corrections import correct_tag, iter_corrections
from tests.conftest import TEST_SECRET


def test_correction_is_kept_and_changes_the_item(session: Session, demo: None) -> None:
    stored = store_submission(
        session,
        secret=TEST_SECRET,
        new=NewSubmission(
            slug="demo",
            channel=Channel.web,
            data=SubmissionInput(text="有老师周末办收费补习班", role="家长", anonymous=True),
        ),
    )
    item = session.get(Submission, stored.id)
    assert item is not None
    assert correct_tag(session, submission=item, check=4, actor_id=None) is not None
    session.commit()
    assert item.check == 4 and item.tagger == "admin" and item.status == Status.classified
    assert correct_tag(session, submission=item, check=4, actor_id=None) is None
    assert list(iter_corrections(session)) == [("有老师周末办收费补习班", 4)]
    assert len(session.exec(select(TagCorrection)).all()) == 1
