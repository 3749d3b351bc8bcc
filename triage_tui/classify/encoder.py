"""MiniLM-L6 sentence embeddings: a BERT forward pass in numpy over the `tokenizers` library.

No torch: the weights are read from `model.safetensors`, the word pieces come from
`tokenizer.json`, and the pass is the model card's recipe (6 BERT layers, masked mean pooling,
L2 normalisation). Needs the `embed` extra: numpy, tokenizers, safetensors.

BLAS runs one thread per call (set process-wide when an encoder loads): on a shared 2-core
machine a second BLAS thread spinning against other processes made calls 10x slower. Batches
are split across `os.cpu_count()` Python threads instead (numpy releases the GIL).
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
BATCH = 32
_LAYER = "encoder.layer.{}."


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    variance = np.mean(centred * centred, axis=-1, keepdims=True)
    return centred / np.sqrt(variance + eps) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    """Exact (erf) GELU in float32: erfc by Abramowitz-Stegun 7.1.26 (error < 2e-7); no scipy."""
    z = np.abs(x)
    z *= np.float32(0.7071067811865476)
    t = z * np.float32(0.3275911)
    t += np.float32(1.0)
    np.reciprocal(t, out=t)
    tail = t * np.float32(1.061405429)
    for coefficient in (-1.453152027, 1.421413741, -0.284496736, 0.254829592):
        tail += np.float32(coefficient)
        tail *= t
    z *= z
    np.negative(z, out=z)
    np.exp(z, out=z)
    tail *= z
    tail *= np.float32(0.5)  # the normal CDF at -|x|
    below = x * tail
    return np.where(x < 0, below, x - below)


class _Layer:
    """One transformer layer's weights, transposed once for `x @ w`; query, key, value fused."""

    def __init__(self, weights: dict[str, np.ndarray], index: int) -> None:
        p = _LAYER.format(index)
        attention = p + "attention.self."
        self.qkv_w = np.ascontiguousarray(np.concatenate(
            [weights[attention + n + ".weight"] for n in ("query", "key", "value")]).T)
        self.qkv_b = np.concatenate([weights[attention + n + ".bias"] for n in ("query", "key", "value")])
        self.out_w = np.ascontiguousarray(weights[p + "attention.output.dense.weight"].T)
        self.out_b = weights[p + "attention.output.dense.bias"]
        self.ln1 = (weights[p + "attention.output.LayerNorm.weight"],
                    weights[p + "attention.output.LayerNorm.bias"])
        self.up_w = np.ascontiguousarray(weights[p + "intermediate.dense.weight"].T)
        self.up_b = weights[p + "intermediate.dense.bias"]
        self.down_w = np.ascontiguousarray(weights[p + "output.dense.weight"].T)
        self.down_b = weights[p + "output.dense.bias"]
        self.ln2 = (weights[p + "output.LayerNorm.weight"], weights[p + "output.LayerNorm.bias"])


def _single_threaded_blas() -> None:
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="blas")


class MiniLMEncoder:
    """Sentence embeddings (384 floats, unit length) for lists of texts; thread-safe."""

    def __init__(self, model_dir: str | Path, *, max_tokens: int = MAX_TOKENS) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        model_dir = Path(model_dir)
        config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.dimension = int(config["hidden_size"])
        weights = load_file(str(model_dir / "model.safetensors"))
        weights = {k.removeprefix("bert."): v for k, v in weights.items()}
        self.words = weights["embeddings.word_embeddings.weight"]
        self.positions = weights["embeddings.position_embeddings.weight"]
        self.token_type = weights["embeddings.token_type_embeddings.weight"][0]
        self.ln0 = (weights["embeddings.LayerNorm.weight"], weights["embeddings.LayerNorm.bias"])
        self.layers = [_Layer(weights, i) for i in range(int(config["num_hidden_layers"]))]
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
        """One row per text, float32, L2-normalised; shorter texts batched with similar lengths."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            encodings = self._tokenizer.encode_batch(list(texts))
        ids = [e.ids for e in encodings]
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        chunks = [order[start:start + BATCH] for start in range(0, len(order), BATCH)]
        out = np.empty((len(ids), self.dimension), dtype=np.float32)
        if len(chunks) == 1 or self.threads == 1:
            for chunk in chunks:
                out[chunk] = self._forward([ids[i] for i in chunk])
            return out
        # Alternate long and short chunks so each thread gets a similar amount of work.
        lanes = [chunks[i::self.threads] for i in range(self.threads)]
        futures = [self._pool.submit(self._run_lane, lane, ids, out) for lane in lanes]
        for future in futures:
            future.result()
        return out

    def _run_lane(self, lane: list[list[int]], ids: list[list[int]], out: np.ndarray) -> None:
        for chunk in lane:
            out[chunk] = self._forward([ids[i] for i in chunk])

    def _forward(self, batch: list[list[int]]) -> np.ndarray:
        length = max(len(ids) for ids in batch)
        n = len(batch)
        tokens = np.zeros((n, length), dtype=np.int64)
        mask = np.zeros((n, length), dtype=np.float32)
        for row, ids in enumerate(batch):
            tokens[row, :len(ids)] = ids
            mask[row, :len(ids)] = 1.0
        x = self.words[tokens] + self.positions[:length] + self.token_type
        x = _layer_norm(x, *self.ln0, self.eps)
        padded = mask.min() == 0.0
        bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :] if padded else None
        heads, width = self.heads, self.dimension // self.heads
        scale = np.float32(1.0 / np.sqrt(width))
        x = x.reshape(n * length, self.dimension)
        for layer in self.layers:
            qkv = x @ layer.qkv_w + layer.qkv_b
            qkv = qkv.reshape(n, length, 3, heads, width).transpose(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
            scores = (q * scale) @ k.transpose(0, 1, 3, 2)
            if bias is not None:
                scores = scores + bias
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(n * length, self.dimension)
            x = _layer_norm(context @ layer.out_w + layer.out_b + x, *layer.ln1, self.eps)
            hidden = _gelu(x @ layer.up_w + layer.up_b)
            x = _layer_norm(hidden @ layer.down_w + layer.down_b + x, *layer.ln2, self.eps)
        x = x.reshape(n, length, self.dimension)
        pooled = (x * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
