"""Sentences the demo's feedback is written from: (topic, tone) -> Japanese and English lines.

``{staff}`` is replaced by a staff member's name where a customer names who served them.
"""

from __future__ import annotations

JA: dict[tuple[str, str], list[str]] = {
    ("delivery", "neg"): [
        "配送が予定より三日も遅れました。",
        "ソファの配送日が連絡なしに変更されて困りました。",
        "配達員の方が時間指定を守ってくれませんでした。",
        "配送の箱が潰れていて、テーブルの角に傷がありました。",
        "配送状況を問い合わせても返事がありません。",
        "注文から二週間たっても商品が届きません。",
    ],
    ("delivery", "pos"): [
        "配送がとても早くて助かりました。",
        "配達の方が丁寧に設置までしてくれました。",
    ],
    ("staff", "pos"): [
        "{staff}さんがとても親切に相談に乗ってくれました。",
        "スタッフの{staff}さんの笑顔と丁寧な説明に感謝しています。",
        "{staff}さんのおかげで部屋にぴったりのカーテンが見つかりました。",
        "店員さんの接客が素晴らしかったです。",
    ],
    ("staff", "neg"): [
        "店員さんの態度が横柄で残念でした。",
        "質問しても店員さんが無愛想でした。",
    ],
    ("wait", "neg"): [
        "レジの待ち時間が長すぎます。",
        "週末は行列ができていて三十分も待たされました。",
    ],
    ("price", "neg"): ["値段が高いと感じました。", "前より価格が上がってしまい残念です。"],
    ("price", "pos"): ["セールでお得に買えて満足です。", "この品質でこの値段はコスパが良いです。"],
    ("quality", "pos"): [
        "ベッドの品質がとても良く、ぐっすり眠れます。",
        "食器のデザインが素敵で気に入っています。",
    ],
    ("quality", "neg"): [
        "椅子の脚が一か月で壊れました。",
        "カーテンの色が写真と違い、品質にがっかりしました。",
    ],
    ("stock", "neg"): ["欲しかった棚が在庫切れでした。", "人気の商品がいつも品切れです。"],
    ("returns", "neg"): [
        "返品の手続きが複雑で分かりにくいです。",
        "返金までに一か月以上かかりました。",
    ],
    ("website", "neg"): [
        "アプリでログインできず注文できませんでした。",
        "サイトの決済画面でエラーが出ました。",
    ],
    ("website", "pos"): ["サイトが使いやすく、すぐに注文できました。"],
    ("store", "pos"): ["店内が清潔で、ゆっくり買い物ができました。", "駐車場が広くて便利です。"],
    ("store", "neg"): ["店内のトイレが汚れていました。", "駐車場が狭くて停めにくいです。"],
    ("support", "neg"): [
        "コールセンターに電話してもなかなかつながりません。",
        "問い合わせたらたらい回しにされました。",
    ],
    ("support", "pos"): ["オペレーターの方がすぐに解決してくれました。"],
}

EN: dict[tuple[str, str], list[str]] = {
    ("delivery", "neg"): [
        "My delivery arrived three days late.",
        "The delivery date was changed without any notice.",
        "The box was crushed and the table was scratched on delivery.",
        "I asked about my delivery twice and never heard back.",
    ],
    ("delivery", "pos"): ["Delivery was fast and the driver was careful."],
    ("staff", "pos"): [
        "{staff} was incredibly helpful and patient with us.",
        "Thanks to {staff} for the friendly advice on sofas.",
        "The staff were friendly and knowledgeable.",
    ],
    ("staff", "neg"): ["The staff seemed rude and uninterested."],
    ("wait", "neg"): ["The checkout line was slow and we waited twenty minutes."],
    ("price", "neg"): ["Prices have gone up a lot and it feels too expensive now."],
    ("price", "pos"): ["Great value for the price."],
    ("quality", "pos"): ["The bed frame is solid and well made. Love it."],
    ("quality", "neg"): ["The chair broke after a month. Poor quality."],
    ("stock", "neg"): ["The shelf I wanted was out of stock again."],
    ("returns", "neg"): ["The return process was confusing and the refund took weeks."],
    ("website", "neg"): ["The app kept crashing at checkout."],
    ("website", "pos"): ["The website is easy to use."],
    ("store", "pos"): ["The store was clean and bright."],
    ("store", "neg"): ["The restroom was dirty."],
    ("support", "neg"): ["I was on hold for forty minutes and then transferred twice."],
    ("support", "pos"): ["The agent fixed my problem on the first call."],
}

# Contact-centre calls: (customer line ja, agent line ja, customer line en, agent line en)
CALLS = [
    (
        "注文した{item}がまだ届きません。いつ届くんですか。",
        "大変申し訳ございません。配送状況をすぐに確認いたします。",
        "My {item} still has not arrived. When will it come?",
        "I am very sorry about that. Let me check the delivery status right away.",
    ),
    (
        "{item}の請求額が二重になっています。",
        "ご迷惑をおかけしております。返金の手続きをいたします。",
        "I was charged twice for the {item}.",
        "I apologise for the trouble. I will process the refund now.",
    ),
    (
        "{item}を返品したいのですが、手続きが分かりません。",
        "ご案内いたします。返品用のラベルをメールでお送りします。",
        "I want to return the {item} but the process is confusing.",
        "Happy to help. I will e-mail you a return label.",
    ),
    (
        "{item}の組み立て方を教えてもらえて助かりました。ありがとう。",
        "お役に立ててうれしいです。ほかにご不明点はございますか。",
        "Thanks, your help assembling the {item} was great.",
        "Glad I could help. Is there anything else?",
    ),
]
ITEMS_JA = ["ソファ", "ダイニングテーブル", "ベッド", "カーテン", "本棚"]
ITEMS_EN = ["sofa", "dining table", "bed", "curtains", "bookcase"]

AGENT_NOTES_JA = [
    "お客様は配送遅延に強い不満あり。折り返し連絡を約束。",
    "二重請求の件、返金処理済み。お客様は納得された様子。",
    "返品方法を案内。ラベルをメール送付済み。",
]
AGENT_NOTES_EN = [
    "Customer very unhappy about late delivery; promised a callback.",
    "Refunded double charge; customer satisfied.",
]
ROUNDTABLE_JA = [
    "座談会では、配送日の連絡が遅いという意見が多く出ました。",
    "参加者の多くが店舗スタッフの提案力を高く評価していました。",
]
ADVISORY_EN = [
    "Advisory board members asked for clearer delivery tracking in the app.",
    "Board members praised the new bedding range but found prices high.",
]
