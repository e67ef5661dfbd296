"""The survey demo tells its story and hands its ids to later steps."""

import random
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select

from cxloop.demo import DemoContext, company
from cxloop.demo import surveys as survey_demo
from cxloop.signals.survey_pulse import pulse_results, pulse_waves
from cxloop.store.models.customers import Customer
from cxloop.store.models.surveys import Survey, SurveyInvitation, SurveyResponse
from cxloop.store.scope import Scope


def test_survey_demo_story(settings, session):
    today = datetime.combine(datetime.now(UTC).date(), time(), tzinfo=UTC)
    ctx = DemoContext(session, settings, random.Random(7), today)
    company.add(ctx)
    session.flush()
    survey_demo.add(ctx)
    session.flush()
    ids = ctx.extra["survey_ids"]
    assert set(ids) == {
        "rel-nps",
        "call-csat",
        "delivery-csat",
        "visit-nps",
        "team-pulse",
        "web-feedback",
    }
    assert len(ctx.extra["survey_response_ids"]["call-csat"]) > 100

    def mean(column, survey, *where):
        values = session.scalars(
            select(column)
            .join(Customer, Customer.id == SurveyResponse.customer_id)
            .where(SurveyResponse.survey_id == ids[survey], column.is_not(None), *where)
        ).all()
        return sum(values) / len(values)

    cutoff = today - timedelta(days=45)
    kansai = Customer.region == "kansai"
    before = mean(SurveyResponse.ces, "delivery-csat", kansai, SurveyResponse.completed_at < cutoff)
    after = mean(SurveyResponse.ces, "delivery-csat", kansai, SurveyResponse.completed_at > cutoff)
    assert after > before + 1  # the new Kansai carrier made deliveries easier

    namba = mean(
        SurveyResponse.nps, "visit-nps", SurveyResponse.org_unit_id == ctx.units["namba"].id
    )
    shibuya = mean(
        SurveyResponse.nps, "visit-nps", SurveyResponse.org_unit_id == ctx.units["shibuya"].id
    )
    assert shibuya > namba

    reasons = set(session.scalars(select(SurveyInvitation.reason_code)).all())
    assert {"sent", "sensitivity_rule", "not_sampled"} <= reasons
    ja = session.scalars(
        select(SurveyResponse.comment).where(
            SurveyResponse.language == "ja", SurveyResponse.comment.is_not(None)
        )
    )
    en = session.scalars(
        select(SurveyResponse.comment).where(
            SurveyResponse.language == "en", SurveyResponse.comment.is_not(None)
        )
    )
    assert ja.first() and en.first()

    pulse = session.get(Survey, ids["team-pulse"])
    wave = pulse_waves(session, pulse)[0]
    groups = {
        g.unit_id: g
        for g in pulse_results(
            session=session, survey=pulse, wave=wave, scope=Scope(("/",)), min_group=5, lang="en"
        )
    }
    assert groups[ctx.units["kumamoto"].id].status == "below_threshold"
    assert groups[ctx.units["shibuya"].id].status == "shown"
