"""How numbers, percentages, plurals, tags and people read in messages."""
from __future__ import annotations

from bot.slack.mrkdwn import show_value
from bot.slack.notices import notice
from core import errors
from core.wording import number, percent, plural, tag_label


def test_numbers_read_as_the_agent_wrote_them():
    assert [number(v) for v in (129.0, 42.5, 129, 0.1, True, -3.0)] == ["129", "42.5", "129", "0.1", "true", "-3"]
    assert show_value(129.0, 100) == "`129`" and show_value({"a": 1.0}, 100) == '`{"a": 1.0}`'


def test_a_confidence_reads_one_way_and_never_the_same_as_a_threshold_it_differs_from():
    assert percent(0.785085) == "78.5%" and percent(0.7) == "70%" and percent(0.97) == "97%"
    assert percent(0.9699, 0.97) == "96.99%" and percent(0.97, 0.9699) == "97%"
    assert percent(0.97, 0.97) == "97%"


def test_plurals_agree_and_tags_have_one_label():
    assert [plural(n, "reason tag") for n in (0, 1, 2)] == ["0 reason tags", "1 reason tag", "2 reason tags"]
    assert plural(1, "action") == "1 action" and plural(3, "person", "people") == "3 people"
    assert tag_label("incomplete_context") == "incomplete context"


def test_notices_say_you_to_the_clicker_and_name_others_by_mention():
    refused = notice(errors.NotAuthorised("U0MALLORY is not a reviewer for refund"))
    assert refused == "🔒 You are not a reviewer for refund. Nothing was recorded."
    assert "<@U0BOB1>" in notice(errors.HitlError("U0BOB1 holds the lease"))
    assert "<!channel>" not in notice(errors.HitlError("<!channel> U0BOB1"))
