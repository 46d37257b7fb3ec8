import json
from pathlib import Path

import yaml
from jsonschema import Draft7Validator, validators

from tests.slack_requests import SCHEMAS

ROOT = Path(__file__).resolve().parents[2]


def _validator():
    schema = json.loads((SCHEMAS / "slack_app_manifest" / "schemas" / "manifest.schema.1.0.0.json").read_text())
    cls = validators.validator_for(schema, default=Draft7Validator)
    return cls(schema)


def test_manifest_is_valid_against_schema_1_0_0():
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in _validator().iter_errors(manifest)]
    assert errors == []


def test_the_validator_rejects_slacks_invalid_example():
    bad = json.loads((SCHEMAS / "slack_app_manifest" / "examples" / "manifest.v1.invalid.json").read_text())
    assert list(_validator().iter_errors(bad))


def test_manifest_declares_what_the_bot_uses():
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == ["/hitl-stats"]
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == {"chat:write", "commands", "usergroups:read", "im:write",
                                                               "channels:history", "groups:history"}


def test_manifest_enables_the_home_tab_and_its_event():
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert "app_home_opened" in manifest["settings"]["event_subscriptions"]["bot_events"]
