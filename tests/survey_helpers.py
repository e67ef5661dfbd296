"""Factories shared by the survey tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from cxloop.signals.customers import CustomerCreate, IdentityIn, upsert_customer
from cxloop.signals.survey_definitions import SurveyDefinition
from cxloop.signals.survey_programs import ProgramCreate, create_program
from cxloop.signals.surveys import SurveyCreate, create_survey
from cxloop.store.models.customers import Customer
from cxloop.store.models.org import OrgUnit
from cxloop.store.models.surveys import Survey, SurveyProgram

T0 = datetime(2026, 5, 12, 3, 0, tzinfo=UTC)  # 12:00 in Tokyo


def en_ja(en: str, ja: str) -> dict[str, str]:
    return {"en": en, "ja": ja}


DEFINITION: dict[str, Any] = {
    "intro": en_ja("Thanks for shopping with us.", "ご利用ありがとうございます。"),
    "thanks": en_ja("Thank you for your answers!", "ご回答ありがとうございました！"),
    "questions": [
        {
            "id": "nps",
            "type": "nps",
            "required": True,
            "text": en_ja("How likely are you to recommend us?", "当店を薦める可能性は？"),
        },
        {
            "id": "why_low",
            "type": "text",
            "text": en_ja("What went wrong?", "何が問題でしたか？"),
            "show_if": {"question": "nps", "op": "lte", "value": 6},
        },
        {
            "id": "csat",
            "type": "csat",
            "text": en_ja("How satisfied were you?", "満足度は？"),
        },
        {
            "id": "csat_fix",
            "type": "single",
            "text": en_ja("What should we fix first?", "最初に直すべき点は？"),
            "choices": [
                {"value": "wait", "label": en_ja("Waiting time", "待ち時間")},
                {"value": "staff", "label": en_ja("Staff", "スタッフ")},
            ],
            "show_if": {"question": "csat", "op": "lte", "value": 2},
        },
        {
            "id": "ces",
            "type": "ces",
            "text": en_ja(
                "The store made it easy to get what I needed.", "必要なものを簡単に入手できた。"
            ),
        },
        {
            "id": "channels",
            "type": "multi",
            "text": en_ja("Which channels did you use?", "利用したチャネルは？"),
            "choices": [
                {"value": "store", "label": en_ja("Store", "店舗")},
                {"value": "web", "label": en_ja("Web", "ウェブ")},
                {"value": "phone", "label": en_ja("Phone", "電話")},
            ],
        },
        {
            "id": "stars",
            "type": "rating",
            "scale_min": 1,
            "scale_max": 4,
            "text": en_ja("Rate the fitting room", "試着室の評価"),
        },
        {
            "id": "comment",
            "type": "text",
            "max_length": 500,
            "text": en_ja("Anything else?", "その他ご意見は？"),
        },
    ],
}


def make_survey(
    session: Session,
    unit: OrgUnit,
    *,
    key: str = "store-nps",
    kind: str = "customer",
    status: str = "live",
    anonymous: bool = False,
    definition: dict[str, Any] | None = None,
) -> Survey:
    survey = create_survey(
        session=session,
        data=SurveyCreate(
            key=key,
            org_unit_id=unit.id,
            kind=kind,  # type: ignore[arg-type]
            title=en_ja(f"Survey {key}", f"アンケート {key}"),  # type: ignore[arg-type]
            status=status,  # type: ignore[arg-type]
            anonymous=anonymous,
            definition=SurveyDefinition.model_validate(definition or DEFINITION),
        ),
    )
    session.commit()
    return survey


def make_program(
    session: Session, survey: Survey, unit: OrgUnit, *, key: str = "post-visit", **kw: Any
) -> SurveyProgram:
    fields: dict[str, Any] = {
        "key": key,
        "name": key.replace("-", " "),
        "kind": "transactional",
        "survey_id": survey.id,
        "org_unit_id": unit.id,
        "event_types": ["store_visit"],
    }
    fields.update(kw)
    program = create_program(session=session, data=ProgramCreate.model_validate(fields))
    session.commit()
    return program


def make_customer(
    session: Session,
    unit: OrgUnit,
    email: str,
    *,
    language: str = "ja",
    timezone: str = "Asia/Tokyo",
    **kw: Any,
) -> Customer:
    customer, _ = upsert_customer(
        session=session,
        data=CustomerCreate(
            org_unit_id=unit.id,
            name=kw.pop("name", "山田 太郎"),
            language=language,
            timezone=timezone,
            identities=[IdentityIn(kind="email", value=email)],
            **kw,
        ),
    )
    session.commit()
    return customer
