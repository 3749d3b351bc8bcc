"""The speed baseline for the encoder: MiniLM-L6 as a textbook numpy BERT pass, one text at a time.

No fused projections, no row padding or blocking, scipy's erf for GELU: what a first port of the
model card's recipe looks like. Same weights and word pieces as MiniLMEncoder, so the benchmark
can time both in the same run (the machine's load hits both alike) and print the ratio.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scipy.special import erf


class NaiveEncoder:
    """Unit-length sentence embeddings, one straightforward forward pass per text."""

    def __init__(self, model_dir: str | Path, tokenizer) -> None:
        from safetensors.numpy import load_file

        config = json.loads((Path(model_dir) / "config.json").read_text(encoding="utf-8"))
        self.heads = int(config["num_attention_heads"])
        raw = load_file(str(Path(model_dir) / "model.safetensors"))
        self.w = {k.removeprefix("bert."): v.astype(np.float32) for k, v in raw.items()}
        self.tokenizer = tokenizer
        self.layers = sum(1 for k in self.w if k.endswith("attention.self.query.weight"))

    def _ln(self, x: np.ndarray, name: str) -> np.ndarray:
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + 1e-12) * self.w[name + ".weight"] + self.w[name + ".bias"]

    def _dense(self, x: np.ndarray, name: str) -> np.ndarray:
        return x @ self.w[name + ".weight"].T + self.w[name + ".bias"]

    def encode_one(self, text: str) -> np.ndarray:
        """The embedding of one text."""
        ids = self.tokenizer.encode(text).ids
        w = self.w
        x = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:len(ids)]
             + w["embeddings.token_type_embeddings.weight"][0])
        x = self._ln(x, "embeddings.LayerNorm")
        heads, width = self.heads, x.shape[1] // self.heads
        for i in range(self.layers):
            p = f"encoder.layer.{i}."
            q, k, v = (self._dense(x, p + f"attention.self.{n}").reshape(len(ids), heads, width).transpose(1, 0, 2)
                       for n in ("query", "key", "value"))
            scores = q @ k.transpose(0, 2, 1) / np.sqrt(width)
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(1, 0, 2).reshape(len(ids), -1)
            x = self._ln(self._dense(context, p + "attention.output.dense") + x, p + "attention.output.LayerNorm")
            hidden = self._dense(x, p + "intermediate.dense")
            hidden = 0.5 * hidden * (1.0 + erf(hidden / np.sqrt(2.0)))
            x = self._ln(self._dense(hidden, p + "output.dense") + x, p + "output.LayerNorm")
        pooled = x.mean(0)
        return pooled / np.linalg.norm(pooled)
