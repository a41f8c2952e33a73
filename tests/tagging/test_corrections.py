from sqlmodel import Session, select

from app.models import Status, Submission, TagCorrection
from app.tagging.corrections import correct_tag, iter_corrections
from tests.factories import add_submission, new_submission


def test_correction_is_kept_and_changes_the_item(session: Session, demo: None) -> None:
    sid = add_submission(session, new=new_submission(text="有老师周末办收费补习班"))
    item = session.get(Submission, sid)
    assert item is not None
    assert correct_tag(session, submission=item, check=4, actor_id=None) is not None
    session.commit()
    assert item.check == 4 and item.tagger == "admin" and item.status == Status.classified
    assert correct_tag(session, submission=item, check=4, actor_id=None) is None
    assert list(iter_corrections(session)) == [("有老师周末办收费补习班", 4)]
    assert len(session.exec(select(TagCorrection)).all()) == 1
