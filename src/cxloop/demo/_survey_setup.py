"""Sakura Living's surveys, their programs (post-call, post-delivery, store visit, yearly
relationship NPS, quarterly pulse, web widget, re-survey after a closed case) and the typhoon
sensitivity rule: the set-up ``demo/surveys.py`` then fills with answers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from cxloop.demo import DemoContext
from cxloop.signals.survey_programs import (
    ProgramCreate,
    SensitivityRuleCreate,
    create_program,
    create_sensitivity_rule,
)
from cxloop.signals.surveys import SurveyCreate, create_survey
from cxloop.store.models.surveys import Survey, SurveyProgram


def survey(ctx: DemoContext, key: str, spec: dict[str, Any]) -> Survey:
    return create_survey(
        session=ctx.session,
        data=SurveyCreate.model_validate(
            {
                "key": key,
                "org_unit_id": ctx.units[spec["unit"]].id,
                "kind": spec.get("kind", "customer"),
                "title": spec["title"],
                "status": "live",
                "anonymous": spec.get("anonymous", False),
                "definition": spec["definition"],
            }
        ),
    )


def programs(ctx: DemoContext, surveys: dict[str, Survey]) -> dict[str, SurveyProgram]:
    caps = {"caps": [{"max_invitations": 2, "window_days": 30}], "min_days_between": 7}
    quiet = {"quiet_start": "21:00", "quiet_end": "09:00"}
    specs = [
        (
            "post-call",
            "Post-call CSAT",
            "transactional",
            "call-csat",
            "cc-sapporo",
            {
                "event_types": ["call_ended"],
                "delay_minutes": 30,
                "unknown_customer": "create",
                "reminder_after_days": 3,
                "policy": {**caps, **quiet},
            },
        ),
        (
            "post-delivery",
            "Post-delivery CSAT",
            "transactional",
            "delivery-csat",
            "ecommerce",
            {
                "event_types": ["order_delivered"],
                "delay_minutes": 24 * 60,
                "reminder_after_days": 4,
                "policy": {**caps, **quiet},
            },
        ),
        (
            "store-visit",
            "Store visit NPS",
            "transactional",
            "visit-nps",
            "sakura",
            {
                "event_types": ["store_visit"],
                "delay_minutes": 120,
                "policy": {**caps, **quiet, "sample_percent": 60},
            },
        ),
        (
            "yearly-nps",
            "Yearly relationship NPS",
            "relationship",
            "rel-nps",
            "sakura",
            {
                "every_months": 12,
                "next_wave_at": (ctx.now + timedelta(days=290)).isoformat(),
                "reminder_after_days": 5,
                "expires_after_days": 21,
                "policy": {
                    "caps": [{"max_invitations": 3, "window_days": 90}],
                    "sample_percent": 40,
                    **quiet,
                },
            },
        ),
        (
            # Close the loop: a closed case re-asks the customer (act.resurvey uses this key).
            "resurvey",
            "Follow-up after a case",
            "transactional",
            "visit-nps",
            "sakura",
            {
                "event_types": ["case_closed"],
                "delay_minutes": 24 * 60,
                "policy": {**quiet, "caps": [{"max_invitations": 1, "window_days": 30}]},
            },
        ),
        (
            "quarterly-pulse",
            "Quarterly team pulse",
            "pulse",
            "team-pulse",
            "sakura",
            {"every_months": 3, "next_wave_at": (ctx.now + timedelta(days=80)).isoformat()},
        ),
    ]
    out = {}
    for key, name, kind, survey, unit, extra in specs:
        out[key] = create_program(
            session=ctx.session,
            data=ProgramCreate.model_validate(
                {
                    "key": key,
                    "name": name,
                    "kind": kind,
                    "survey_id": surveys[survey].id,
                    "org_unit_id": ctx.units[unit].id,
                    **extra,
                }
            ),
        )
    return out


def sensitivity_rule(ctx: DemoContext) -> None:
    wave_day = (ctx.now - timedelta(days=75)).date()
    create_sensitivity_rule(
        session=ctx.session,
        data=SensitivityRuleCreate(
            org_unit_id=ctx.units["sakura"].id,
            name="Typhoon disruption",
            attribute="industry",
            values=["travel", "hospitality"],
            start=wave_day - timedelta(days=10),
            end=wave_day + timedelta(days=20),
            reason="Typhoon No. 7 cancelled travel across Kyushu; do not ask these customers "
            "for a rating while they are still rebooking.",
        ),
        created_by="admin@sakura-living.example",
    )
