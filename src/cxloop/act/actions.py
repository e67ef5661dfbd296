"""What a rule does when it fires: open a case, notify, send praise, or invite to a survey."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator

from cxloop.act.sla import BusinessCalendar


class _Action(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OpenCase(_Action):
    type: Literal["open_case"] = "open_case"
    priority: Literal["low", "normal", "high", "urgent"] = "normal"
    sla_hours: float | None = Field(48, gt=0, le=24 * 365)
    # {"mon-fri": "09:00-18:00"}: count the SLA in the owning unit's business hours.
    business_hours: dict[str, str | list[str]] | None = None
    owner: str | None = Field(None, description="e-mail of the owner; default: unit manager")
    resurvey: bool = Field(True, description="invite the customer to a re-survey on closing")

    @field_validator("business_hours")
    @classmethod
    def _valid_hours(
        cls, value: dict[str, str | list[str]] | None
    ) -> dict[str, str | list[str]] | None:
        if value:
            BusinessCalendar.from_hours("UTC", value)  # raises ValueError with the reason
        return value or None


class Notify(_Action):
    type: Literal["notify"] = "notify"
    endpoint_id: int | None = None
    email: str | None = None
    owner: bool = Field(False, description="e-mail the case owner")


class Praise(_Action):
    type: Literal["praise"] = "praise"


class SendSurvey(_Action):
    type: Literal["survey"] = "survey"
    reason: str = "rule"


Action = Annotated[OpenCase | Notify | Praise | SendSurvey, Field(discriminator="type")]
_ADAPTER: TypeAdapter[list[Action]] = TypeAdapter(list[Action])

# The record kinds an action feeds back into the rule engine (for the loop guard). A case's
# re-survey reply is not listed: it carries ``resurvey_case_id`` and fires no rule.
OUTPUT_KINDS: dict[str, tuple[str, ...]] = {"survey": ("response",)}


def parse_actions(raw: list[dict[str, object]]) -> list[Action]:
    return _ADAPTER.validate_python(raw)


def dump_actions(actions: list[Action]) -> list[dict[str, object]]:
    return [a.model_dump(mode="json") for a in actions]


def output_kinds(actions: list[Action]) -> set[str]:
    return {k for a in actions for k in OUTPUT_KINDS.get(a.type, ())}
