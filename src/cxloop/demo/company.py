"""Org units, people and customers of Sakura Living (さくらリビング)."""

from __future__ import annotations

from cxloop.demo import DEMO_PASSWORD, DemoContext
from cxloop.security import hash_password
from cxloop.store.models.customers import Customer, CustomerIdentity
from cxloop.store.models.org import User, UserUnit
from cxloop.store.org import create_unit

ORDER = 10

# code, kind, parent, English name, Japanese name
UNITS = [
    ("sakura", "company", None, "Sakura Living", "さくらリビング株式会社"),
    ("kanto", "region", "sakura", "Kanto region", "関東エリア"),
    ("shibuya", "store", "kanto", "Shibuya store", "渋谷店"),
    ("shinjuku", "store", "kanto", "Shinjuku store", "新宿店"),
    ("yokohama", "store", "kanto", "Yokohama store", "横浜店"),
    ("kansai", "region", "sakura", "Kansai region", "関西エリア"),
    ("umeda", "store", "kansai", "Umeda store", "梅田店"),
    ("namba", "store", "kansai", "Namba store", "なんば店"),
    ("kyoto", "store", "kansai", "Kyoto store", "京都店"),
    ("kyushu", "region", "sakura", "Kyushu region", "九州エリア"),
    ("tenjin", "store", "kyushu", "Tenjin store", "天神店"),
    ("kumamoto", "store", "kyushu", "Kumamoto store", "熊本店"),
    ("ecommerce", "ecommerce", "sakura", "Online store", "オンラインストア"),
    ("cc-sapporo", "contact_centre", "sakura", "Sapporo contact centre", "札幌コンタクトセンター"),
    ("cc-team-a", "team", "cc-sapporo", "Contact centre team A", "コンタクトセンター Aチーム"),
    ("cc-team-b", "team", "cc-sapporo", "Contact centre team B", "コンタクトセンター Bチーム"),
]

# e-mail local part, name, role, units, language
PEOPLE = [
    ("admin", "Aiko Tanaka (田中 愛子)", "admin", ["sakura"], "ja"),
    ("exec", "Emily Carter", "executive", ["sakura"], "en"),
    ("cxo", "佐藤 恵美", "executive", ["sakura"], "ja"),
    ("analyst", "Kenji Mori (森 健二)", "analyst", ["sakura"], "en"),
    ("kanto.manager", "鈴木 大輔", "manager", ["kanto"], "ja"),
    ("kansai.manager", "高橋 美咲", "manager", ["kansai"], "ja"),
    ("kyushu.manager", "Daniel Okafor", "manager", ["kyushu"], "en"),
    ("shibuya.manager", "伊藤 翔", "manager", ["shibuya"], "ja"),
    ("shinjuku.manager", "渡辺 結衣", "manager", ["shinjuku"], "ja"),
    ("yokohama.manager", "山本 拓也", "manager", ["yokohama"], "ja"),
    ("umeda.manager", "中村 さくら", "manager", ["umeda"], "ja"),
    ("namba.manager", "小林 健", "manager", ["namba"], "ja"),
    ("kyoto.manager", "Sophie Laurent", "manager", ["kyoto"], "en"),
    ("tenjin.manager", "加藤 真央", "manager", ["tenjin"], "ja"),
    ("kumamoto.manager", "吉田 蓮", "manager", ["kumamoto"], "ja"),
    ("ec.manager", "Priya Nair", "manager", ["ecommerce"], "en"),
    ("cc.manager", "山田 花子", "manager", ["cc-sapporo"], "ja"),
    ("shibuya.staff1", "松本 陽菜", "frontline", ["shibuya"], "ja"),
    ("shibuya.staff2", "Lucas Silva", "frontline", ["shibuya"], "en"),
    ("umeda.staff1", "井上 颯", "frontline", ["umeda"], "ja"),
    ("cc.agent1", "木村 優子", "frontline", ["cc-team-a"], "ja"),
    ("cc.agent2", "林 直樹", "frontline", ["cc-team-a"], "ja"),
    ("cc.agent3", "Grace Kim", "frontline", ["cc-team-b"], "en"),
    ("cc.agent4", "清水 葵", "frontline", ["cc-team-b"], "ja"),
]
DOMAIN = "sakura-living.example"

_JA_FAMILY = [
    "佐藤",
    "鈴木",
    "高橋",
    "田中",
    "伊藤",
    "渡辺",
    "山本",
    "中村",
    "小林",
    "加藤",
    "吉田",
    "山田",
    "佐々木",
    "山口",
    "松本",
    "井上",
    "木村",
    "林",
    "斎藤",
    "清水",
]
_JA_GIVEN = [
    "翔太",
    "美咲",
    "大輝",
    "陽菜",
    "蓮",
    "結衣",
    "悠真",
    "葵",
    "湊",
    "さくら",
    "健",
    "愛",
    "誠",
    "真由美",
    "浩",
    "恵子",
    "直子",
    "隆",
    "学",
    "由美",
]
_EN_FAMILY = [
    "Smith",
    "Johnson",
    "Brown",
    "Garcia",
    "Miller",
    "Davis",
    "Wilson",
    "Taylor",
    "Clark",
    "Lewis",
    "Walker",
    "Young",
]
_EN_GIVEN = ["Olivia", "Liam", "Emma", "Noah", "Ava", "James", "Mia", "Lucas", "Chloe", "Ethan"]
_INDUSTRIES = ["retail", "hospitality", "travel", "construction", "it", "healthcare"]
N_CUSTOMERS = 1500


def add(ctx: DemoContext) -> None:
    for code, kind, parent, name, name_ja in UNITS:
        ctx.units[code] = create_unit(
            session=ctx.session,
            code=code,
            kind=kind,
            name=name,
            name_ja=name_ja,
            parent=ctx.units[parent] if parent else None,
            timezone="Asia/Tokyo",
        )
    shared_hash = hash_password(DEMO_PASSWORD)  # argon2 is slow on purpose: hash once
    for local, name, role, units, lang in PEOPLE:
        user = User(
            email=f"{local}@{DOMAIN}",
            name=name,
            role=role,
            language=lang,
            password_hash=shared_hash,
        )
        user.units = [UserUnit(org_unit_id=ctx.units[c].id) for c in units]
        ctx.session.add(user)
        ctx.users[local] = user
    ctx.session.flush()
    _customers(ctx)


def _customers(ctx: DemoContext) -> None:
    rng = ctx.rng
    homes = [u for u in ctx.units.values() if u.kind in ("store", "ecommerce")]
    region_of = {
        u.id: ctx.units[next(c for c, *_ in UNITS if ctx.units[c].id == u.parent_id)].code
        if u.kind == "store"
        else "online"
        for u in homes
    }
    for i in range(1, N_CUSTOMERS + 1):
        english = rng.random() < 0.2
        business = rng.random() < 0.25
        if english:
            name = f"{rng.choice(_EN_GIVEN)} {rng.choice(_EN_FAMILY)}"
        else:
            name = f"{rng.choice(_JA_FAMILY)} {rng.choice(_JA_GIVEN)}"
        home = rng.choice(homes)
        tier = rng.choices(["bronze", "silver", "gold", "platinum"], [50, 30, 15, 5])[0]
        revenue = round(rng.lognormvariate(11 if business else 9.5, 0.8), -2)
        customer = Customer(
            org_unit_id=home.id,
            name=name,
            language="en" if english else "ja",
            timezone=rng.choice(["America/Los_Angeles", "Europe/London"])
            if english and rng.random() < 0.5
            else "Asia/Tokyo",
            customer_type="business" if business else "consumer",
            industry=rng.choice(_INDUSTRIES) if business else None,
            tier=tier,
            region=region_of[home.id],
            annual_revenue=revenue,
            attributes={"member_since": 2015 + rng.randrange(11)},
        )
        customer.identities = [
            CustomerIdentity(kind="email", value=f"customer{i:05d}@mail.example"),
            CustomerIdentity(kind="crm_id", value=f"CRM-{100000 + i}"),
            CustomerIdentity(kind="phone", value=f"+8190{rng.randrange(10**7, 10**8)}"),
        ]
        ctx.session.add(customer)
        ctx.customers.append(customer)
    ctx.session.flush()
