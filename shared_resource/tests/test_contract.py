import uuid

import pytest

from shared_resource.contract import (
    QUEUE,
    SUMMARISE_TASK,
    ContractError,
    SummariseRequest,
)


def test_task_name_is_namespaced():
    assert SUMMARISE_TASK.split(".")[0] == "duet"
    assert "." not in QUEUE  # SQS turns dots into dashes; keep one spelling everywhere


def test_request_round_trips_through_kwargs():
    job_id = uuid.uuid4()
    kwargs = SummariseRequest(job_id).to_kwargs()
    assert kwargs == {"job_id": str(job_id)}
    assert SummariseRequest.from_kwargs(kwargs).job_id == job_id


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly the keyword argument 'job_id'"),
        ({"job_id": str(uuid.uuid4()), "text": "x"}, "exactly the keyword argument"),
        ({"job_id": 42}, "must be a string, got int"),
        ({"job_id": None}, "must be a string, got NoneType"),
        ({"job_id": "not-a-uuid"}, "not a UUID"),
    ],
)
def test_wrong_payloads_are_rejected_with_a_reason(kwargs, message):
    with pytest.raises(ContractError, match=message):
        SummariseRequest.from_kwargs(kwargs)
