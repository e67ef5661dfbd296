"""14 months of metrics, CX figures, KPIs, targets and commentary for Sakura Living.

The story: Kansai's delivery times rose over the last three months and its NPS dipped;
the contact centre's average handle time fell steadily; new-customer growth slipped last
month and nobody has explained it yet (the off-track KPI without commentary).
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, insert, select

from cxloop.demo import DemoContext
from cxloop.engage.cx_metrics import refresh_rollups
from cxloop.engage.cx_periods import refresh_period_rollups
from cxloop.engage.digest import DigestCreate, create_subscription
from cxloop.engage.kpis import KpiCreate, create_kpi
from cxloop.engage.scorecard import default_period_start
from cxloop.engage.targets import CommentCreate, TargetIn, add_comment, set_targets
from cxloop.signals.metrics import MetricDefinitionCreate, period_back, upsert_definition
from cxloop.signals.metrics_rollup import rebuild_all
from cxloop.store.models.metrics import CxRollup, MetricPoint

ORDER = 50
MONTHS = 14

# key, name, name_ja, unit, direction, aggregation
METRICS = [
    ("new_customers", "New customers", "新規顧客数", "count", "higher", "sum"),
    ("revenue", "Revenue", "売上高", "JPY", "higher", "sum"),
    ("delivery_days", "Order turnaround", "注文から配送までの日数", "days", "lower", "mean"),
    ("website_visits", "Website visits", "ウェブサイト訪問数", "count", "higher", "sum"),
    ("app_downloads", "App downloads", "アプリのダウンロード数", "count", "higher", "sum"),
    ("aht", "Average handle time", "平均処理時間", "seconds", "lower", "mean"),
    ("fcr", "First-contact resolution", "一次解決率", "percent", "higher", "mean"),
    ("abandonment", "Call abandonment", "放棄呼率", "percent", "lower", "mean"),
    ("hires", "Hires", "採用数", "count", "higher", "sum"),
]
KANSAI = ("umeda", "namba", "kyoto")
STORES = ("shibuya", "shinjuku", "yokohama", "umeda", "namba", "kyoto", "tenjin", "kumamoto")
TEAMS = ("cc-team-a", "cc-team-b")


def add(ctx: DemoContext) -> None:
    s = ctx.session
    company = ctx.units["sakura"]
    defs = {}
    for key, name, name_ja, unit, direction, agg in METRICS:
        data = MetricDefinitionCreate(
            key=key,
            name=name,
            name_ja=name_ja,
            unit=unit,
            direction=direction,
            aggregation=agg,
            description="",
        )
        defs[key], _ = upsert_definition(session=s, data=data, owner_unit_id=company.id)
    last = default_period_start("month", ctx.now.date())
    months = period_back("month", last, MONTHS)
    _points(ctx, defs, months)
    rebuild_all(session=s)
    _cx(ctx, months[0])
    _scorecard(ctx, months)


def _points(ctx: DemoContext, defs: dict, months: list[date]) -> None:
    rng, rows = ctx.rng, []

    def point(key: str, unit: str, start: date, value: float) -> None:
        rows.append(
            {
                "metric_id": defs[key].id,
                "org_unit_id": ctx.units[unit].id,
                "period": "month",
                "period_start": start,
                "value": round(value, 2),
                "source": "demo",
                "updated_at": ctx.now,
            }
        )

    for i, m in enumerate(months):
        late = i >= len(months) - 3  # the last three months
        for code in STORES:
            size = 1.4 if code in ("shibuya", "umeda") else 1.0
            slip = 0.8 if i == len(months) - 1 else 1.0  # new customers slip last month
            point("new_customers", code, m, rng.gauss(220, 15) * size * slip)
            point("revenue", code, m, rng.gauss(42_000_000, 2_500_000) * size)
            days = rng.gauss(3.1, 0.15)
            if code in KANSAI and late:
                days += 1.6 + 0.5 * (i - (len(months) - 3))
            point("delivery_days", code, m, days)
            if i % 3 == 0:
                point("hires", code, m, rng.randint(1, 4))
        point(
            "new_customers",
            "ecommerce",
            m,
            rng.gauss(900, 40) * (0.8 if i == len(months) - 1 else 1),
        )
        point("revenue", "ecommerce", m, rng.gauss(95_000_000, 4_000_000))
        point("delivery_days", "ecommerce", m, rng.gauss(2.6, 0.1) + (0.9 if late else 0))
        point("website_visits", "ecommerce", m, rng.gauss(410_000, 15_000) * (1 + 0.01 * i))
        point("app_downloads", "ecommerce", m, rng.gauss(12_000, 800) * (1 + 0.02 * i))
        for code in TEAMS:
            point("aht", code, m, 430 - 7 * i + rng.gauss(0, 6))  # improving
            point("fcr", code, m, 71 + 0.6 * i + rng.gauss(0, 1))
            point("abandonment", code, m, 6.5 - 0.15 * i + rng.gauss(0, 0.3))
    ctx.session.execute(insert(MetricPoint), rows)


def _cx(ctx: DemoContext, first: date) -> None:
    """Fold any responses and feedback other areas' demos added; synthesise what is missing."""
    s = ctx.session
    end = ctx.now.date()
    written = refresh_rollups(session=s, since=first, until=end + timedelta(days=1))
    have = set(
        s.scalars(
            select(CxRollup.metric).group_by(CxRollup.metric).having(func.sum(CxRollup.n) > 500)
        )
    )
    rng, rows = ctx.rng, []
    units = [*STORES, "ecommerce", *TEAMS]
    day = first - timedelta(days=first.weekday())
    while day < end:
        late = (end - day).days <= 92
        for code in units:
            n = rng.randint(30, 55)
            pro, det = 0.52, 0.14
            if code in KANSAI and late:
                pro, det = 0.38, 0.30  # slow deliveries
            if code in TEAMS:
                pro += min(0.1, (day - first).days / 4000)
            promoters = sum(rng.random() < pro for _ in range(n))
            detractors = sum(rng.random() < det / (1 - pro) for _ in range(n - promoters))
            top2 = sum(rng.random() < (0.74 if code in KANSAI and late else 0.84) for _ in range(n))
            unit_id = ctx.units[code].id
            if "nps" not in have:
                rows.append(_r("nps", unit_id, day, n, promoters, detractors))
                business = n // 4
                b_pro = promoters // 4
                b_det = detractors // 4
                rows.append(
                    _r("nps", unit_id, day, business, b_pro, b_det, "customer_type", "business")
                )
                rows.append(
                    _r(
                        "nps",
                        unit_id,
                        day,
                        n - business,
                        promoters - b_pro,
                        detractors - b_det,
                        "customer_type",
                        "consumer",
                    )
                )
            if "csat" not in have:
                rows.append(_r("csat", unit_id, day, n, top2, 0))
        day += timedelta(days=7)
    if rows:
        s.execute(insert(CxRollup), rows)
        refresh_period_rollups(session=s, since=first, until=end + timedelta(days=1))
    ctx.extra["cx_rollups"] = written


def _r(
    metric: str, unit_id: int, day: date, n: int, a: int, b: int, dim: str = "", value: str = ""
) -> dict:
    return {
        "metric": metric,
        "org_unit_id": unit_id,
        "day": day,
        "dim": dim,
        "dim_value": value,
        "n": n,
        "a": a,
        "b": b,
        "s": 0.0,
        "ss": 0.0,
    }


def _scorecard(ctx: DemoContext, months: list[date]) -> None:
    s, u, people = ctx.session, ctx.units, ctx.users
    company = u["sakura"].id
    chosen = [
        ("cx:nps", "cxo", 30.0, 20.0),
        ("cx:csat", "analyst", 0.82, 0.78),
        ("metric:delivery_days", "exec", 3.5, 4.0),
        ("metric:aht", "cc.manager", 360.0, 400.0),
        ("metric:revenue", "exec", 460_000_000.0, 430_000_000.0),
        ("metric:new_customers", "ec.manager", 2600.0, 2400.0),
    ]
    kpis = {}
    for metric, owner, target, threshold in chosen:
        kpi = create_kpi(
            session=s,
            data=KpiCreate(org_unit_id=company, metric=metric, owner_user_id=people[owner].id),
        )
        kpis[metric] = kpi
        direction = "lower" if metric in ("metric:delivery_days", "metric:aht") else "higher"
        set_targets(
            session=s,
            kpi=kpi,
            direction=direction,
            targets=[
                TargetIn(org_unit_id=company, period_start=m, target=target, threshold=threshold)
                for m in months
            ],
        )
    # The contact centre has its own, tighter AHT target.
    set_targets(
        session=s,
        kpi=kpis["metric:aht"],
        direction="lower",
        targets=[
            TargetIn(org_unit_id=u["cc-sapporo"].id, period_start=m, target=340, threshold=380)
            for m in months
        ],
    )
    last = months[-1]

    def comment(metric: str, unit: str, author: str, why: str, action: str) -> None:
        add_comment(
            session=s,
            kpi=kpis[metric],
            data=CommentCreate(org_unit_id=u[unit].id, period_start=last, why=why, action=action),
            author_user_id=people[author].id,
            author=people[author].name,
        )

    comment(
        "cx:nps",
        "sakura",
        "cxo",
        "関西の配送遅延で推奨者が減少。Kansai detractors cite late deliveries.",
        "Second carrier in Osaka from next month; weekly review with logistics.",
    )
    comment(
        "metric:delivery_days",
        "sakura",
        "exec",
        "Kansai turnaround rose after the Osaka carrier lost drivers.",
        "Contract with a second carrier signed; target back to 3.5 days in two months.",
    )
    comment(
        "metric:delivery_days",
        "sakura",
        "exec",
        "Kansai turnaround rose after the Osaka carrier lost drivers (about 60 fewer).",
        "Second carrier signed; back to 3.5 days within two months.",
    )
    comment(
        "metric:delivery_days",
        "kansai",
        "kansai.manager",
        "大阪の委託配送会社のドライバー不足で配送日数が増加。",
        "来月から第二の配送会社を導入し、毎週進捗を確認します。",
    )
    comment(
        "metric:aht",
        "cc-sapporo",
        "cc.manager",
        "新しいナレッジベースで処理時間が短縮。",
        "Roll out to team B next month.",
    )
    create_subscription(
        session=s,
        data=DigestCreate(
            name="CX advisory council",
            org_unit_id=company,
            cadence="weekly",
            member_ids=[people["exec"].id, people["cxo"].id, people["analyst"].id],
        ),
    )
