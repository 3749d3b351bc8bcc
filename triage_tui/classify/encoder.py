"""MiniLM-L6 sentence embeddings: a BERT forward pass in numpy over the `tokenizers` library.

No torch: the weights are read from `model.safetensors`, the word pieces come from
`tokenizer.json`, and the pass is the model card's recipe (6 BERT layers, masked mean pooling,
L2 normalisation). Needs the `embed` extra: numpy, tokenizers, safetensors.

BLAS runs one thread per call (set process-wide when an encoder loads): on a shared 2-core
machine a second BLAS thread spinning against other processes made calls 10x slower. Batches
are split across `os.cpu_count()` Python threads instead (numpy releases the GIL); a call with a
single pass (one message, a few short ones) splits each layer's big products in two instead.
"""

from __future__ import annotations

import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

# The model was trained on at most 128 word pieces; longer mail is cut there (speed stays flat).
MAX_TOKENS = 128
# Token rows per forward pass, and per feed-forward block: the block's 1536-wide hidden layer
# (64 x 1536 floats) stays in a core's L2 cache, where the GELU's passes over it are cheap.
ROWS = 256
FFN_ROWS = 64
ROW_MULTIPLE = 8
_LAYER = "encoder.layer.{}."
# erfc(z) ~ t(a1 + t(a2 + ...)) exp(-z^2), t = 1 / (1 + p z) (Abramowitz-Stegun 7.1.26, error
# < 1.5e-7); with z = |x| / sqrt(2) and the 1/2 of the normal CDF folded into the coefficients.
_GELU_P = np.float32(0.3275911 / np.sqrt(2.0))
_GELU_A = tuple(np.float32(a / 2) for a in (1.061405429, -1.453152027, 1.421413741, -0.284496736,
                                           0.254829592))
_MINUS_HALF = np.float32(-0.5)


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    """LayerNorm over the last axis, in place."""
    x -= x.mean(axis=-1, keepdims=True)
    variance = np.einsum("...i,...i->...", x, x)[..., None]
    variance /= np.float32(x.shape[-1])
    variance += np.float32(eps)
    np.sqrt(variance, out=variance)
    x /= variance
    x *= weight
    x += bias
    return x


def _gelu(x: np.ndarray) -> np.ndarray:
    """Exact (erf) GELU in float32, in place: max(x, 0) - |x| * normal CDF(-|x|); no scipy."""
    a = np.abs(x)
    t = a * _GELU_P
    t += np.float32(1.0)
    np.reciprocal(t, out=t)
    tail = t * _GELU_A[0]
    for coefficient in _GELU_A[1:]:
        tail += coefficient
        tail *= t
    np.square(x, out=t)
    t *= _MINUS_HALF
    np.exp(t, out=t)
    tail *= t  # the normal CDF at -|x|
    tail *= a
    np.maximum(x, np.float32(0.0), out=x)
    x -= tail
    return x


class _Layer:
    """One transformer layer's weights, transposed once for `x @ w`; query, key, value fused and
    the query pre-scaled by 1/sqrt(head width)."""

    def __init__(self, weights: dict[str, np.ndarray], index: int, scale: float) -> None:
        p = _LAYER.format(index)
        attention = p + "attention.self."
        w = [weights[attention + n + ".weight"] for n in ("query", "key", "value")]
        b = [weights[attention + n + ".bias"] for n in ("query", "key", "value")]
        w[0], b[0] = w[0] * np.float32(scale), b[0] * np.float32(scale)
        self.qkv_w = np.ascontiguousarray(np.concatenate(w).T)
        self.qkv_b = np.concatenate(b)
        self.out_w = np.ascontiguousarray(weights[p + "attention.output.dense.weight"].T)
        self.out_b = weights[p + "attention.output.dense.bias"]
        self.ln1 = (weights[p + "attention.output.LayerNorm.weight"],
                    weights[p + "attention.output.LayerNorm.bias"])
        self.up_w = np.ascontiguousarray(weights[p + "intermediate.dense.weight"].T)
        self.up_b = weights[p + "intermediate.dense.bias"]
        self.down_w = np.ascontiguousarray(weights[p + "output.dense.weight"].T)
        self.down_b = weights[p + "output.dense.bias"]
        self.ln2 = (weights[p + "output.LayerNorm.weight"], weights[p + "output.LayerNorm.bias"])
        # Halves for a pass split over two threads: the query/key/value columns, and the
        # feed-forward's hidden units (each half's down projection is a partial sum).
        half, middle = self.qkv_w.shape[1] // 2, self.up_w.shape[1] // 2
        self.qkv_halves = [(np.ascontiguousarray(self.qkv_w[:, cols]), self.qkv_b[cols])
                           for cols in (slice(0, half), slice(half, None))]
        self.ffn_halves = [(np.ascontiguousarray(self.up_w[:, cols]), self.up_b[cols],
                            np.ascontiguousarray(self.down_w[cols]))
                           for cols in (slice(0, middle), slice(middle, None))]


def _single_threaded_blas() -> None:
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="blas")


def chunks_by_rows(lengths: list[int], rows: int) -> list[list[int]]:
    """Indexes sorted by length, cut into runs whose padded size (count x longest) fits `rows`."""
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    out: list[list[int]] = []
    for i in order:
        if out and (len(out[-1]) + 1) * lengths[i] <= rows:
            out[-1].append(i)
        else:
            out.append([i])
    return out


class MiniLMEncoder:
    """Sentence embeddings (384 floats, unit length) for lists of texts; thread-safe."""

    def __init__(self, model_dir: str | Path, *, max_tokens: int = MAX_TOKENS) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        self.model_dir = model_dir = Path(model_dir)
        config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.dimension = int(config["hidden_size"])
        weights = load_file(str(model_dir / "model.safetensors"))
        weights = {k.removeprefix("bert."): v.astype(np.float32, copy=False) for k, v in weights.items()}
        self.words = weights["embeddings.word_embeddings.weight"]
        # Every text is one segment (token type 0): its embedding folds into the positions'.
        self.positions = (weights["embeddings.position_embeddings.weight"]
                          + weights["embeddings.token_type_embeddings.weight"][0])
        self.ln0 = (weights["embeddings.LayerNorm.weight"], weights["embeddings.LayerNorm.bias"])
        scale = 1.0 / np.sqrt(self.dimension // self.heads)
        self.layers = [_Layer(weights, i, scale) for i in range(int(config["num_hidden_layers"]))]
        self.max_tokens = min(max_tokens, self.positions.shape[0])
        tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        tokenizer.no_padding()
        tokenizer.enable_truncation(self.max_tokens)
        self._tokenizer = tokenizer
        self._lock = threading.Lock()
        self.threads = max(1, min(4, os.cpu_count() or 1))
        self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="minilm")
        _single_threaded_blas()

    def encode(self, texts: list[str]) -> np.ndarray:
        """One row per text, float32, L2-normalised; texts of similar length share a pass."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            encodings = self._tokenizer.encode_batch(list(texts))
        ids = [e.ids for e in encodings]
        chunks = chunks_by_rows([len(i) for i in ids], ROWS)
        out = np.empty((len(ids), self.dimension), dtype=np.float32)
        if len(chunks) == 1 and self.threads > 1:
            out[chunks[0]] = self._forward([ids[i] for i in chunks[0]], split=True)
            return out
        if self.threads == 1:
            self._run_lane(chunks, ids, out)
            return out
        # Longest chunks first, each to whichever thread is free: the threads end together.
        chunks.sort(key=lambda chunk: -len(chunk) * len(ids[chunk[-1]]))
        futures = [self._pool.submit(self._run_lane, [chunk], ids, out) for chunk in chunks]
        for future in futures:
            future.result()
        return out

    def _run_lane(self, chunks: list[list[int]], ids: list[list[int]], out: np.ndarray) -> None:
        for chunk in chunks:
            out[chunk] = self._forward([ids[i] for i in chunk])

    def _forward(self, batch: list[list[int]], split: bool = False) -> np.ndarray:
        n, length, width = len(batch), max(len(ids) for ids in batch), self.dimension
        real = n * length
        # BLAS runs row counts that are a multiple of 8 up to a third faster (15 rows cost more
        # than 16): the rows past `real` are filler that attention and pooling never read.
        tokens = np.zeros(-(-real // ROW_MULTIPLE) * ROW_MULTIPLE, dtype=np.intp)
        grid = tokens[:real].reshape(n, length)
        for row, ids in enumerate(batch):
            grid[row, :len(ids)] = ids
        mask = np.arange(length) < np.array([len(ids) for ids in batch])[:, None]
        x = self.words[tokens]
        x[:real].reshape(n, length, width)[:] += self.positions[:length]
        x = _layer_norm(x, *self.ln0, self.eps)
        bias = None
        if not mask.all():
            bias = np.where(mask, np.float32(0.0), np.float32(-1e9))[:, None, None, :]
        for layer in self.layers:
            if split:
                qkv = self._split_qkv(x, layer)
            else:
                qkv = x @ layer.qkv_w
                qkv += layer.qkv_b
            y = self._attention(qkv, n, length, bias) @ layer.out_w
            y += layer.out_b
            y += x
            y = _layer_norm(y, *layer.ln1, self.eps)
            x = self._split_feed_forward(y, layer) if split else self._feed_forward(y, layer)
        x = x[:real].reshape(n, length, width)
        if bias is None:
            pooled = x.mean(axis=1)
        else:
            pooled = np.einsum("nlw,nl->nw", x, mask.astype(np.float32))
            pooled /= mask.sum(axis=1, keepdims=True).astype(np.float32)
        pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), np.float32(1e-12))
        return pooled

    def _attention(self, qkv: np.ndarray, n: int, length: int, bias: np.ndarray | None) -> np.ndarray:
        """Each head's softmax(q k^T) v over the real rows; the context, filler rows zero."""
        heads, width = self.heads, self.dimension // self.heads
        real = n * length
        q, k, v = qkv[:real].reshape(n, length, 3, heads, width).transpose(2, 0, 3, 1, 4)
        scores = q @ k.transpose(0, 1, 3, 2)
        if bias is not None:
            scores += bias
        scores -= scores.max(axis=-1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=-1, keepdims=True)
        context = np.empty((len(qkv), self.dimension), dtype=np.float32)
        context[real:] = 0.0
        np.matmul(scores, v, out=context[:real].reshape(n, length, heads, width).transpose(0, 2, 1, 3))
        return context

    def _split_qkv(self, x: np.ndarray, layer: _Layer) -> np.ndarray:
        """x W + b for the query/key/value columns, each half on its own thread."""
        qkv = np.empty((len(x), layer.qkv_w.shape[1]), dtype=np.float32)
        middle = layer.qkv_halves[0][0].shape[1]

        def half(index: int) -> None:
            w, b = layer.qkv_halves[index]
            target = qkv[:, :middle] if index == 0 else qkv[:, middle:]
            target[:] = x @ w
            target += b

        other = self._pool.submit(half, 1)
        half(0)
        other.result()
        return qkv

    def _split_feed_forward(self, x: np.ndarray, layer: _Layer) -> np.ndarray:
        """The feed-forward block with its hidden units halved over two threads."""
        def half(index: int) -> np.ndarray:
            up_w, up_b, down_w = layer.ffn_halves[index]
            hidden = x @ up_w
            hidden += up_b
            return _gelu(hidden) @ down_w

        other = self._pool.submit(half, 1)
        out = half(0)
        out += other.result()
        out += layer.down_b
        out += x
        return _layer_norm(out, *layer.ln2, self.eps)

    def _feed_forward(self, x: np.ndarray, layer: _Layer) -> np.ndarray:
        """GELU(x W1 + b1) W2 + b2 + x, LayerNorm; row blocks keep the hidden layer in cache."""
        out = np.empty_like(x)
        for start in range(0, len(x), FFN_ROWS):
            part, target = x[start:start + FFN_ROWS], out[start:start + FFN_ROWS]
            hidden = part @ layer.up_w
            hidden += layer.up_b
            np.matmul(_gelu(hidden), layer.down_w, out=target)
            target += layer.down_b
            target += part
        return _layer_norm(out, *layer.ln2, self.eps)
