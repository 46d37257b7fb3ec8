import pytest

from core.policy.conditions import Condition, ConditionSyntaxError

FACTS = {
    "payload": {"amount": 600, "price": "499.50", "customer": {"tier": "vip", "tags": ["a", "b"]}, "to": "x@Rival.example",
                "items": [{"sku": "A1"}], "flag": True, "code": "007", "none": None},
    "confidence": 0.72, "risk": "high", "action_type": "refund", "context": {"channel": "email"},
}


@pytest.mark.parametrize("text,expected", [
    ("amount > 500", True),
    ("amount >= 600", True),
    ("amount < 600", False),
    ("payload.amount <= 600", True),
    ("price > 499", True),  # numeric strings from agents still compare as numbers
    ("price > 500", False),
    ("customer.tier == vip", True),
    ("customer.tier != vip", False),
    ("customer.tier in [gold, vip]", True),
    ("customer.tier not in [gold, vip]", False),
    ("customer.tags contains b", True),
    ("to contains rival.example", True),  # substring, case-insensitive
    ("items.0.sku == A1", True),
    ("items.3.sku == A1", False),
    ("confidence < 0.8", True),
    ("risk == high", True),
    ("context.channel == email", True),
    ("flag == true", True),
    ("flag == 1", False),  # booleans are not numbers
    ("flag > 0", False),
    ("code == 7", False),
    ("code == '007'", True),
    ("customer exists", True),
    ("nothing exists", False),
    ("none missing", True),
    ("nothing missing", True),
    ("nothing != 5", False),  # an absent field never satisfies a comparison
    ("customer.tier > 5", False),  # wrong type compares false, never raises
])
def test_condition_semantics(text, expected):
    assert Condition.parse(text).matches(FACTS) is expected


@pytest.mark.parametrize("text,fragment", [
    ("amount >> 5", "cannot read condition"),
    ("amount >", "needs a value"),
    ("amount in 5", "needs a list"),
    ("amount exists 3", "takes no value"),
    ("amount > [1]", "needs a number or a string"),
    ("__import__('os').system('x') == 1", "cannot read condition"),
    ("amount > true", "needs a number or a string"),
])
def test_bad_conditions_say_what_is_wrong(text, fragment):
    with pytest.raises(ConditionSyntaxError) as exc:
        Condition.parse(text)
    assert fragment in str(exc.value)
