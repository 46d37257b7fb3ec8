"""/hitl-stats in Slack, through signed requests over HTTP: the Block Kit report with its chart, the
More button, who may read what, and words it does not know."""
from __future__ import annotations

from urllib.parse import unquote_plus, urlencode, urlsplit

from bot.slack import ids, stats_blocks
from tests.conftest import POLICY
from tests.slack.blockkit import assert_valid_message
from tests.slack.conftest import use_policy
from tests.slack_requests import SAMPLES, block_action, sign


def command(slack, text: str, user: str = "UALICE"):
    body = (SAMPLES / "slash_command_body_docs_example.txt").read_text().strip()
    fields = {k: unquote_plus(v) for k, v in (pair.split("=", 1) for pair in body.split("&"))}
    fields.update(command="/hitl-stats", text=text, user_id=user,
                  response_url=slack.fake.url.replace("/api/", "/response/T0FAKE/1/abc"))
    form = urlencode(fields)
    r = slack.http.post("/slack/events", content=form, headers=sign(form))
    slack.drain()
    return r


def answers(slack) -> list[dict]:
    return slack.fake.of("response_url")


def _one_rejected(slack, reviewer="UALICE") -> dict:
    a = slack.propose()
    slack.drain()
    slack.post_interaction(block_action(reviewer, ids.REJECT, slack.bound(a["id"]), reason_tag="wrong_action"))
    slack.drain()
    return a


def _texts(blocks: list[dict]) -> str:
    out = []
    for b in blocks:
        out += [b.get("text", {}).get("text", "")] + [f["text"] for f in b.get("fields", [])]
        out += [e.get("text", "") for e in b.get("elements", []) if isinstance(e.get("text"), str)]
    return "\n".join(out)


def test_the_answer_is_a_block_kit_report_with_a_chart_served_at_an_unguessable_address(slack):
    _one_rejected(slack)
    r = command(slack, "refund 30d")
    assert r.status_code == 200 and not r.content  # no "working out the numbers" left beside the answer
    (answer,) = answers(slack)
    assert answer["response_type"] == "ephemeral"
    blocks = answer["blocks"]
    assert_valid_message(blocks)
    assert blocks[0] == {"type": "header", "text": {"type": "plain_text", "text": "hitl-stats · refund · last 30 days"}}
    fields = next(b["fields"] for b in blocks if b.get("fields"))
    assert [f["text"].split("\n")[0] for f in fields] == ["*Override rate*", "*Rejection rate*", "*Time to decision*",
                                                          "*Exception diversity*"]
    assert fields[1]["text"] == "*Rejection rate*\n100%"  # no window before it: nothing to move against
    assert "*Top reason tags*  wrong action (1)" in _texts(blocks)
    assert "*Queue*" in _texts(blocks) and "*Pending now*  0" in _texts(blocks)
    more = next(b for b in blocks if b["type"] == "actions")["elements"][0]
    assert more["action_id"] == stats_blocks.MORE and more["value"] == "refund 30d"
    assert "Rejection rate: 100%" in answer["text"]  # the notification / fallback text

    (image,) = [b for b in blocks if b["type"] == "image"]
    address = urlsplit(image["image_url"])
    token = address.path.rsplit("/", 1)[-1].removesuffix(".png")
    assert address.path.startswith("/charts/") and len(token) == 32
    png = slack.http.get(address.path)
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n") and len(png.content) > 5000
    guessed = slack.http.get("/charts/" + "A" * 32 + ".png")
    assert guessed.status_code == 404 and guessed.json()["error"] == "not_found"


def test_more_replaces_the_report_with_its_details_naming_people_as_mentions(slack):
    _one_rejected(slack, "UBOB")
    command(slack, "refund 30d")
    response_url = slack.fake.url.replace("/api/", "/response/T0FAKE/2/more")
    click = block_action("UALICE", stats_blocks.MORE, "refund 30d")
    click["response_url"] = response_url
    assert slack.post_interaction(click).status_code == 200
    slack.drain()
    first, more = answers(slack)
    assert more["replace_original"] is True
    assert_valid_message(more["blocks"])
    text = _texts(more["blocks"])
    assert "*Details*" in text and "*Reviewer load*  <@UBOB> 1" in text
    assert not any(b["type"] == "actions" for b in more["blocks"])


def test_a_chart_slack_cannot_fetch_does_not_cost_the_answer(slack):
    _one_rejected(slack)
    slack.fake.fail_next("response_url", status=400)  # Slack: "downloading image failed"
    command(slack, "refund 30d")
    refused, sent = answers(slack)
    assert any(b["type"] == "image" for b in refused["blocks"])
    assert not any(b["type"] == "image" for b in sent["blocks"]) and sent["blocks"][0]["type"] == "header"


MANAGED = POLICY.replace("version: test\n", "version: test\nmanagers: [UMANAGER]\n")  # crm names no reviewers


def test_only_managers_read_beyond_the_types_they_review(slack, settings):
    use_policy(settings, MANAGED)
    _one_rejected(slack, "UBOB")
    command(slack, "refund 30d", user="UMANAGER")
    command(slack, "30d", user="UALICE")  # reviews refund only
    command(slack, "crm 30d", user="UALICE")
    command(slack, "30d", user="UOUTSIDER")
    manager, reviewer, other_type, outsider = answers(slack)
    assert "*Reviewer load*" not in _texts(manager["blocks"])  # details sit behind More
    assert manager["blocks"][0]["text"]["text"] == "hitl-stats · refund · last 30 days"
    assert reviewer["blocks"][0]["text"]["text"] == "hitl-stats · the action types you review · last 30 days"
    assert "Rejection rate: 100%" in reviewer["text"]
    assert "blocks" not in other_type and "crm is not one of them" in other_type["text"]
    assert "refund" in other_type["text"]
    assert "blocks" not in outsider and "you review none" in outsider["text"]


def test_a_reviewer_sees_no_other_reviewers_figures(slack, settings):
    use_policy(settings, MANAGED)
    _one_rejected(slack, "UBOB")
    _one_rejected(slack, "UALICE")
    for user in ("UALICE", "UMANAGER"):
        click = block_action(user, stats_blocks.MORE, "refund 30d")
        click["response_url"] = slack.fake.url.replace("/api/", f"/response/T0FAKE/{user}/more")
        slack.post_interaction(click)
        slack.drain()
    alice, manager = (_texts(a["blocks"]) for a in answers(slack))
    assert "<@UALICE> 1" in alice and "UBOB" not in alice
    assert "<@UALICE> 1" in manager and "<@UBOB> 1" in manager


def test_words_it_does_not_know_get_usage_and_the_known_names(slack):
    for text in ("nonsense", "refund whatever"):
        assert command(slack, text).status_code == 200
    first, second = answers(slack)
    assert first["response_type"] == "ephemeral" and "no action type or agent called 'nonsense'" in first["text"]
    assert "known action types: " in first["text"] and "refund" in first["text"] and "slack-agent" in first["text"]
    assert "Usage: `/hitl-stats [action_type|agent]" in first["text"] and "blocks" not in first
    assert "unexpected 'whatever'" in second["text"]
