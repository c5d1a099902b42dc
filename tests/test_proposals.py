"""The proposal is exact, bounded and fair for any inputs (property-based, hypothesis)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import make_app
from tracker.allocations.proposals import Candidate, propose
from tracker.errors import ValidationFailed


@pytest.fixture(scope="module", autouse=True)
def context():
    """Messages are translated, so an app context is needed; no database is."""
    with make_app("sqlite://").app_context():
        yield


schools = st.lists(
    st.builds(
        Candidate,
        school_id=st.integers(1, 10_000),
        need=st.integers(0, 300),
        enrolment=st.integers(0, 3000),
    ),
    min_size=1,
    max_size=40,
    unique_by=lambda c: c.school_id,
)


@settings(max_examples=1500, deadline=None)
@given(
    schools,
    st.integers(0, 5000),
    st.sampled_from(["need", "enrolment", "equal"]),
    st.integers(0, 20),
    st.one_of(st.none(), st.integers(0, 200)),
)
def test_total_exact_bounds_hold_and_more_weight_never_gets_fewer(
    candidates, total, basis, minimum, maximum
):
    if maximum is not None and maximum < minimum:
        maximum = minimum

    def need(c):  # shared by pupils, a school without a need (0) is capped by its pupils
        return c.enrolment if basis == "enrolment" and c.need == 0 else c.need

    caps = {
        c.school_id: min(need(c), maximum) if maximum is not None else need(c) for c in candidates
    }
    floors = {sid: min(minimum, cap) for sid, cap in caps.items()}
    expected_total = min(total, sum(caps.values()))
    if sum(floors.values()) > expected_total:
        with pytest.raises(ValidationFailed, match="cannot give each"):
            propose(candidates, total, basis=basis, minimum=minimum, maximum=maximum)
        return
    shares = {
        s.school_id: s.quantity
        for s in propose(candidates, total, basis=basis, minimum=minimum, maximum=maximum)
    }
    assert sum(shares.values()) == expected_total
    for c in candidates:
        assert floors[c.school_id] <= shares[c.school_id] <= caps[c.school_id] <= need(c)
    weight = {"need": lambda c: c.need, "enrolment": lambda c: c.enrolment, "equal": lambda c: 0}[
        basis
    ]
    for a in candidates:
        for b in candidates:
            same_cap_or_more = caps[a.school_id] >= caps[b.school_id]
            if weight(a) > weight(b) and same_cap_or_more:
                assert shares[a.school_id] >= shares[b.school_id], (a, b)
            if weight(a) == weight(b) and caps[a.school_id] == caps[b.school_id]:
                # Equal schools: rounding may give one a single tablet more, never two.
                assert abs(shares[a.school_id] - shares[b.school_id]) <= 1, (a, b)


def test_founding_case_shares_200_by_need_with_reasons():
    candidates = [
        Candidate(1, need=30),
        Candidate(2, need=20),
        Candidate(3, need=10),
        Candidate(4, need=0),
    ]
    shares = propose(candidates, 30, basis="need")
    assert [s.quantity for s in shares] == [15, 10, 5, 0]
    assert shares[0].reason == "share of need 30: 15.00, rounded"
    assert shares[3].reason == "needs no tablet"
    rounded = propose([Candidate(1, 10), Candidate(2, 10), Candidate(3, 10)], 10)
    assert [s.quantity for s in rounded] == [4, 3, 3]  # ties: the earlier school


def test_more_tablets_than_need_gives_everyone_all_of_it():
    shares = propose([Candidate(1, 5), Candidate(2, 7)], 200)
    assert [(s.quantity, s.reason) for s in shares] == [
        (5, "all of its need (5)"),
        (7, "all of its need (7)"),
    ]


def test_minimum_and_maximum():
    shares = propose(
        [Candidate(1, 100), Candidate(2, 3), Candidate(3, 50)], 40, minimum=2, maximum=20
    )
    assert [s.quantity for s in shares] == [20, 3, 17]
    with pytest.raises(ValidationFailed, match="cannot give each of the 3 schools its minimum"):
        propose([Candidate(1, 100), Candidate(2, 100), Candidate(3, 100)], 5, minimum=2)
