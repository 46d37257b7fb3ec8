"""What a modal carries in Slack's `private_metadata` from its opening to its submission (3,000 characters)."""
from __future__ import annotations

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError


class ModalMetadata(BaseModel):
    # Modals opened before an upgrade carry the old one-letter keys {"a", "c", "r"}; they still parse.
    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    action_id: str = Field(default="", validation_alias=AliasChoices("action_id", "a"), max_length=64)
    channel: str | None = Field(default=None, validation_alias=AliasChoices("channel", "c"), max_length=40)
    revision: int | None = Field(default=None, validation_alias=AliasChoices("revision", "r"))  # as the modal showed it
    seen: str | None = Field(default=None, max_length=40)  # core/seen.py: the revision and payload hash it showed

    def dump(self) -> str:
        return self.model_dump_json(exclude_none=True)

    @classmethod
    def of(cls, view: dict) -> ModalMetadata:
        """A missing or mangled value parses as empty: the decision then fails with "no such action"."""
        try:
            return cls.model_validate_json(view.get("private_metadata") or "{}")
        except ValidationError:
            return cls()
