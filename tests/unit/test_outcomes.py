"""The shapes a submission travels in (kiosk/outcomes.py): every field, as JSON."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

from kiosk.outcomes import DeferredMaterial, Delivery, Submission
from tests.support.central import a_submission


def test_a_submission_as_a_dict_has_every_field_as_json_and_comes_back_equal():
    # Given a submission with every field set to something other than its default
    sub = a_submission(
        "T1", consumers={"hukou_birth": ("applicant_name",)}, delivery=Delivery.MAIL,
        delivery_address="洋溪镇 1 号", local_number="P-0001",
        created_at=dt.datetime(2026, 11, 24, 9, 30, tzinfo=dt.UTC),
        deferred=(DeferredMaterial("photo", "一寸照片", dt.date(2026, 12, 1)),),
    )  # fmt: skip
    data = sub.to_dict()
    # Then the dict names every field of the dataclass, holds only JSON types...
    assert set(data) == {f.name for f in dataclasses.fields(Submission)}
    assert json.loads(json.dumps(data)) == data
    assert data["consumers"] == {"hukou_birth": ["applicant_name"]}
    assert data["deferred"] == [{"code": "photo", "name": "一寸照片", "due": "2026-12-01"}]
    assert data["delivery"] == "mail" and data["created_at"] == "2026-11-24T09:30:00+00:00"
    # ...shares no mutable part with the submission, and reads back as the same submission
    data["fields"]["applicant_name"] = "changed"
    data["materials"].clear()
    assert sub.fields["applicant_name"] == "王芳" and sub.materials
    assert Submission.from_dict(sub.to_dict()) == sub


def test_a_submission_and_a_receipt_printed_by_accident_show_no_one_s_data():
    from kiosk.receipt import Receipt, Text
    from tests.support.central import a_submission

    sub = a_submission("T1")
    shown = repr(sub) + str(sub)
    assert sub.key in shown and "T1" in shown and "applicant_id" in shown  # what it is
    for value in sub.fields.values():  # but none of what the citizen gave
        assert len(value) < 2 or value not in shown
    slip = Receipt("job-1", (Text("张伟 362424198801016918"),))
    assert repr(slip) == "Receipt(job_id='job-1', kind='receipt', blocks=1)" and "张伟" not in str(slip)
