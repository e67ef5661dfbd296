"""Survey definitions and bilingual comments for the demo company."""

from __future__ import annotations

from typing import Any


def _t(en: str, ja: str) -> dict[str, str]:
    return {"en": en, "ja": ja}


_NPS = {
    "id": "nps",
    "type": "nps",
    "required": True,
    "text": _t(
        "How likely are you to recommend Sakura Living to a friend or colleague?",
        "さくらリビングを友人や同僚に薦める可能性はどのくらいありますか？",
    ),
}
_WHY = {
    "id": "why_low",
    "type": "text",
    "text": _t(
        "We are sorry. What should we do better?",
        "申し訳ございません。改善すべき点を教えてください。",
    ),
    "show_if": {"question": "nps", "op": "lte", "value": 6},
}
_CSAT = {
    "id": "csat",
    "type": "csat",
    "required": True,
    "text": _t("Overall, how satisfied were you?", "全体として、どのくらい満足されましたか？"),
}
_COMMENT = {
    "id": "comment",
    "type": "text",
    "text": _t(
        "Anything else you would like to tell us?", "その他、ご意見があればお聞かせください。"
    ),
}

DEFINITIONS: dict[str, dict[str, Any]] = {
    "rel-nps": {
        "unit": "sakura",
        "title": _t("Sakura Living customer survey", "さくらリビング お客様アンケート"),
        "definition": {
            "intro": _t(
                "Once a year we ask how we are doing. It takes a minute.",
                "年に一度、私たちのサービスについてお伺いしています（約1分）。",
            ),
            "questions": [
                _NPS,
                _WHY,
                {
                    "id": "reasons",
                    "type": "multi",
                    "text": _t("What matters most to you?", "特に重視されている点は？"),
                    "choices": [
                        {"value": v, "label": _t(en, ja)}
                        for v, en, ja in [
                            ("quality", "Product quality", "商品の品質"),
                            ("price", "Price", "価格"),
                            ("service", "Staff and service", "接客・サービス"),
                            ("delivery", "Delivery", "配送"),
                            ("online", "Online store", "オンラインストア"),
                        ]
                    ],
                },
                _COMMENT,
            ],
        },
    },
    "call-csat": {
        "unit": "cc-sapporo",
        "title": _t(
            "Your call with our contact centre", "コンタクトセンターへのお問い合わせについて"
        ),
        "definition": {
            "questions": [
                _CSAT,
                {
                    "id": "csat_fix",
                    "type": "single",
                    "text": _t("What went wrong most?", "最も問題だった点は？"),
                    "show_if": {"question": "csat", "op": "lte", "value": 2},
                    "choices": [
                        {"value": v, "label": _t(en, ja)}
                        for v, en, ja in [
                            ("wait", "Waiting time", "待ち時間"),
                            ("knowledge", "The answer I got", "回答の内容"),
                            ("transfer", "Being transferred", "転送されたこと"),
                        ]
                    ],
                },
                {
                    "id": "ces",
                    "type": "ces",
                    "required": True,
                    "text": _t(
                        "Sakura Living made it easy to handle my issue.",
                        "さくらリビングは私の問題を簡単に解決してくれた。",
                    ),
                },
                _COMMENT,
            ]
        },
    },
    "delivery-csat": {
        "unit": "ecommerce",
        "title": _t("Your delivery", "お届けについてのアンケート"),
        "definition": {
            "questions": [
                _CSAT,
                {
                    "id": "ces",
                    "type": "ces",
                    "required": True,
                    "text": _t(
                        "Receiving my order was easy.", "注文した商品の受け取りは簡単だった。"
                    ),
                },
                _COMMENT,
            ]
        },
    },
    "visit-nps": {
        "unit": "sakura",
        "title": _t("Your visit to our store", "店舗ご来店アンケート"),
        "definition": {"questions": [_NPS, _WHY, _CSAT, _COMMENT]},
    },
    "team-pulse": {
        "unit": "sakura",
        "kind": "pulse",
        "anonymous": True,
        "title": _t("Team pulse", "チームパルスサーベイ"),
        "definition": {
            "intro": _t(
                "Anonymous: results are shown only for groups of five or more.",
                "匿名です。結果は5人以上のグループのみ表示されます。",
            ),
            "questions": [
                {
                    "id": "enps",
                    "type": "nps",
                    "required": True,
                    "text": _t(
                        "How likely are you to recommend Sakura Living as a place to work?",
                        "さくらリビングを働く場所として薦める可能性は？",
                    ),
                },
                {
                    "id": "workload",
                    "type": "rating",
                    "scale_min": 1,
                    "scale_max": 5,
                    "text": _t("My workload is manageable.", "業務量は適切だ。"),
                },
                {
                    "id": "recognition",
                    "type": "rating",
                    "scale_min": 1,
                    "scale_max": 5,
                    "text": _t(
                        "I get recognition for good work.", "良い仕事をすると認められている。"
                    ),
                },
                _COMMENT,
            ],
        },
    },
    "web-feedback": {
        "unit": "ecommerce",
        "anonymous": True,
        "title": _t("How is our online store?", "オンラインストアはいかがですか？"),
        "definition": {"questions": [_NPS, _CSAT, _COMMENT]},
    },
}

COMMENTS: dict[str, dict[str, dict[str, list[str]]]] = {
    "call-csat": {
        "good": {
            "ja": [
                "オペレーターの方がとても丁寧で、すぐに解決しました。",
                "説明が分かりやすかったです。",
                "返品の手続きを電話一本で済ませられて助かりました。",
            ],
            "en": [
                "The agent was friendly and fixed it on the first call.",
                "Clear explanation, thank you.",
                "Quick and painless return over the phone.",
            ],
        },
        "bad": {
            "ja": [
                "何度も転送されて、同じ説明を三回しました。",
                "待ち時間が20分以上ありました。",
                "担当の方が商品のことをよく分かっていないようでした。",
            ],
            "en": [
                "I was transferred three times and had to repeat myself.",
                "Waited over 20 minutes on hold.",
                "The agent did not seem to know the product.",
            ],
        },
    },
    "delivery-csat": {
        "good": {
            "ja": ["予定通りに届き、梱包も丁寧でした。", "時間指定どおりで助かりました。"],
            "en": ["Arrived on time and well packed.", "The delivery slot was kept exactly."],
        },
        "bad": {
            "ja": [
                "配達予定日に届かず、再配達の連絡もつきませんでした。",
                "箱が潰れていて、家具に傷がありました。",
                "不在票の再配達受付がとても分かりにくいです。",
            ],
            "en": [
                "The parcel was two days late and nobody answered the carrier's phone.",
                "The box was crushed and the shelf was scratched.",
                "Rebooking a missed delivery was confusing.",
            ],
        },
    },
    "visit-nps": {
        "good": {
            "ja": [
                "スタッフの方がコーディネートの相談に乗ってくれて楽しかったです。",
                "店内が見やすく、欲しい物がすぐ見つかりました。",
            ],
            "en": [
                "Staff helped me plan the whole living room. Lovely visit.",
                "Easy to find everything; bright, tidy store.",
            ],
        },
        "bad": {
            "ja": [
                "レジが一台しか開いておらず、長く並びました。",
                "在庫がなく、取り寄せに三週間かかると言われました。",
            ],
            "en": [
                "Only one till open and a long queue.",
                "Out of stock; three weeks to order it in.",
            ],
        },
    },
    "rel-nps": {
        "good": {
            "ja": [
                "品質が良く、長く使えるので毎回ここで買っています。",
                "会員特典とアフターサービスに満足しています。",
            ],
            "en": [
                "Good quality that lasts; I keep coming back.",
                "Great after-sales service and member perks.",
            ],
        },
        "bad": {
            "ja": [
                "最近値上がりして他社と比べるようになりました。",
                "配送トラブルが続いて不安です。",
            ],
            "en": [
                "Prices went up; I now compare with other shops.",
                "Repeated delivery problems make me hesitate to order online.",
            ],
        },
    },
    "web-feedback": {
        "good": {
            "ja": ["商品ページの写真が多くてイメージしやすいです。"],
            "en": ["Great photos on the product pages."],
        },
        "bad": {
            "ja": ["スマホで決済画面がエラーになりました。", "絞り込み検索が使いにくいです。"],
            "en": ["Checkout failed on my phone.", "The filters are hard to use."],
        },
    },
    "team-pulse": {
        "good": {
            "ja": [
                "チームの雰囲気が良く、相談しやすいです。",
                "店長が小さな改善もきちんと認めてくれます。",
            ],
            "en": ["Supportive team; easy to ask for help.", "My manager notices the small wins."],
        },
        "bad": {
            "ja": [
                "人手が足りず、休憩が取りにくい日が続いています。",
                "新しいシステムの研修が不十分です。",
            ],
            "en": [
                "We are short-staffed and breaks get skipped.",
                "Not enough training on the new system.",
            ],
        },
    },
}
