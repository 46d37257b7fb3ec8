import pytest

from core.diffing import json_patch, text_diff
from core.errors import IllegalTransition
from core.states import DECIDED, GO_AHEAD, TRANSITIONS, transition
from core.vocabulary import Status as S


@pytest.mark.parametrize("a,b", [(S.PROPOSED, S.PENDING), (S.PROPOSED, S.AUTO_APPROVED), (S.PENDING, S.MODIFIED),
                                 (S.PENDING, S.EXPIRED), (S.APPROVED, S.EXECUTED), (S.AUTO_APPROVED, S.FAILED)])
def test_legal(a, b):
    assert transition(a, b) is b


@pytest.mark.parametrize("a,b", [(S.PENDING, S.EXECUTED), (S.REJECTED, S.APPROVED), (S.APPROVED, S.REJECTED),
                                 (S.EXECUTED, S.FAILED), (S.PROPOSED, S.APPROVED), (S.CANCELLED, S.PENDING)])
def test_illegal_raises(a, b):
    with pytest.raises(IllegalTransition, match=f"cannot move an action from {a} to {b}"):
        transition(a, b)


def test_every_status_is_in_the_table_and_terminal_ones_are_final():
    assert set(TRANSITIONS) == set(S)
    assert GO_AHEAD <= DECIDED
    for terminal in (S.REJECTED, S.BLOCKED, S.EXPIRED, S.CANCELLED, S.EXECUTED, S.FAILED):
        assert TRANSITIONS[terminal] == frozenset()


def test_json_patch_applies_back():
    import jsonpatch

    a = {"amount": 5, "to": {"email": "a@x"}, "lines": [1, 2]}
    b = {"amount": 4, "to": {"email": "b@x"}, "lines": [1, 2, 3], "note": "n"}
    assert jsonpatch.apply_patch(a, json_patch(a, b)) == b


def test_text_diff_reads_like_a_review():
    a = {"amount": 500, "body": "Hello,\nwe refund you.\nBye", "to": {"email": "a@x"}, "gone": 1}
    b = {"amount": 450, "body": "Hello,\nwe refund part.\nBye", "to": {"email": "a@x"}, "cc": "c@x"}
    assert text_diff(a, b) == (
        "amount: 500 → 450\n"
        "body:\n Hello,\n-we refund you.\n+we refund part.\n Bye\n"
        "cc: added \"c@x\"\n"
        "gone: removed (was 1)"
    )


def test_text_diff_type_change_is_a_change():
    assert text_diff({"a": 1}, {"a": "1"}) == 'a: 1 → "1"'
    assert text_diff({"a": 1}, {"a": 1}) == ""
