"""What an agent sends: the proposal schema shared by the intake, the client docs and the store."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, field_validator

from core.text_checks import json_problem, text_problem
from core.vocabulary import Risk

ACTION_TYPE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold NUL; saying so in the schema tells clients up front
MAX_URL = 2000  # the column's size (core/store/tables.py)
NOT_BLANK = r"^[^\x00]*[^\s\x00][^\x00]*$"  # and a title must show something once whitespace is stripped


class Proposal(BaseModel):
    """An action an agent wants to take, submitted for gating."""

    # No str_strip_whitespace: it would strip payload and context keys too, merging " x " into "x".
    model_config = ConfigDict(extra="forbid")

    action_type: str = Field(pattern=ACTION_TYPE_PATTERN, description="Names the policy entry, e.g. `refund`.")
    title: str = Field(min_length=1, max_length=200, pattern=NOT_BLANK, description="One line a reviewer reads first.")
    summary: str = Field(default="", max_length=10_000, pattern=NO_NUL, description="The agent's reasoning.")
    payload: dict[str, Any] = Field(description="The editable JSON object the action will run with.")
    confidence: float = Field(ge=0.0, le=1.0, strict=True,  # strict: `true` is not a confidence of 1.0
                              description="The agent's confidence that the action is right, 0..1 (a number).")
    risk: Risk | None = Field(default=None, description="The agent's own risk estimate; "
                                                        "the higher of this and the policy's risk applies.")
    context: dict[str, Any] = Field(default_factory=dict, description="Evidence and links shown to the reviewer.")
    agent_version: str | None = Field(
        default=None, min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:+@/-]*$",
        description="The agent's model or prompt version, e.g. `gpt-5-2026-08@prompt-14`. Stats split by it, and "
        "autonomy evidence does not carry over to a new version.")
    run_id: str | None = Field(default=None, max_length=200, pattern=NO_NUL)
    call_id: str | None = Field(default=None, max_length=200, pattern=NO_NUL)
    state: Any = Field(default=None, description="Opaque value returned unchanged with the decision.")
    callback_url: AnyHttpUrl | None = Field(default=None, description="Where the decision is POSTed, signed.")
    deadline: datetime | None = Field(default=None,
                                      description="When the agent stops caring about an answer (ISO 8601 with offset).")

    @field_validator("title", "summary", "run_id", "call_id", mode="before")
    @classmethod
    def _stripped(cls, v: Any) -> Any:
        return v.strip() if isinstance(v, str) else v

    @field_validator("title", "summary", "run_id", "call_id")
    @classmethod
    def _storable_text(cls, v: str | None) -> str | None:
        if v is not None and (problem := text_problem(v)) is not None:
            raise ValueError(problem)
        return v

    @field_validator("payload", "context", "state")
    @classmethod
    def _storable_json(cls, v: Any) -> Any:
        if (found := json_problem(v)) is not None:
            where, problem = found
            raise ValueError(f"{where}: {problem}" if where else problem)
        return v

    @field_validator("deadline")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        if v is None:
            return v
        if v.tzinfo is None:
            raise ValueError("deadline needs a timezone offset, e.g. 2026-01-01T12:00:00Z")
        try:
            in_utc = v.astimezone(UTC)
        except OverflowError:  # 9999-12-31T23:59:59-14:00 is past the last moment a datetime can hold
            raise ValueError("deadline is out of range: it must fall between the years 1 and 9999 in UTC") from None
        return in_utc

    @field_validator("callback_url")
    @classmethod
    def _fits(cls, v: AnyHttpUrl | None) -> AnyHttpUrl | None:
        if v is not None and len(str(v)) > MAX_URL:
            raise ValueError(f"callback_url is at most {MAX_URL} characters once percent-encoded")
        return v
