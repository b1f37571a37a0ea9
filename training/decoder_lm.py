"""A Llama-family decoder (Llama, Mistral, Qwen2, SmolLM) written in ops that torch 1.13 exports to
ONNX, with the key/value cache in the Hugging Face / onnx-community layout.

forward(input_ids [b, t], attention_mask [b, past + t], position_ids [b, t], *past) returns
(logits [b, t, vocab], present.0.key, present.0.value, ...), every cache tensor
[b, kv_heads, length, head_dim]. The first step feeds zero-length past tensors.

Rotary angles are computed in the graph from position_ids in float32, as transformers computes them
(onnx_variants.to_fp16 keeps that part in float32); grouped-query attention repeats each key/value
head for its query heads.
"""
import dataclasses
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

# Masked attention scores: the most negative float16 rather than -inf, so that a row with every
# position masked (left padding) gives a uniform softmax instead of NaN, in float32 and float16.
MASKED = -65504.0


@dataclasses.dataclass
class Shape:
    vocab: int
    hidden: int
    layers: int
    heads: int
    kv_heads: int
    head_dim: int
    intermediate: int
    qkv_bias: bool
    tied: bool
    rope_theta: float
    max_positions: int
    rms_eps: float
    # Qwen3 and Gemma 3: an RMSNorm over each head's queries and keys, before the rotation.
    qk_norm: bool = False


class RMSNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat([-x[..., half:], x[..., :half]], dim=-1)


class Attention(nn.Module):
    def __init__(self, s: Shape):
        super().__init__()
        self.s = s
        self.q_proj = nn.Linear(s.hidden, s.heads * s.head_dim, bias=s.qkv_bias)
        self.k_proj = nn.Linear(s.hidden, s.kv_heads * s.head_dim, bias=s.qkv_bias)
        self.v_proj = nn.Linear(s.hidden, s.kv_heads * s.head_dim, bias=s.qkv_bias)
        self.o_proj = nn.Linear(s.heads * s.head_dim, s.hidden, bias=False)
        if s.qk_norm:
            self.q_norm = RMSNorm(s.head_dim, s.rms_eps)
            self.k_norm = RMSNorm(s.head_dim, s.rms_eps)

    def forward(self, x, cos, sin, keep, past_k, past_v):
        s = self.s
        b, t = x.shape[0], x.shape[1]
        # The same operations in the same order as without q/k norms (the other fixtures' graphs stay byte for byte).
        q = self.q_proj(x).view(b, t, s.heads, s.head_dim)
        q = (self.q_norm(q) if s.qk_norm else q).transpose(1, 2)
        k = self.k_proj(x).view(b, t, s.kv_heads, s.head_dim)
        k = (self.k_norm(k) if s.qk_norm else k).transpose(1, 2)
        v = self.v_proj(x).view(b, t, s.kv_heads, s.head_dim).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = torch.cat([past_k, k], dim=2)
        v = torch.cat([past_v, v], dim=2)
        present_k, present_v = k, v
        group = s.heads // s.kv_heads
        if group > 1:
            total = k.shape[2]
            k = k.unsqueeze(2).expand(b, s.kv_heads, group, total, s.head_dim).reshape(b, s.heads, total, s.head_dim)
            v = v.unsqueeze(2).expand(b, s.kv_heads, group, total, s.head_dim).reshape(b, s.heads, total, s.head_dim)
        scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(s.head_dim))
        scores = torch.where(keep, scores, torch.tensor(MASKED))
        y = F.softmax(scores, dim=-1) @ v
        y = y.transpose(1, 2).reshape(b, t, s.heads * s.head_dim)
        return self.o_proj(y), present_k, present_v


class MLP(nn.Module):
    def __init__(self, s: Shape):
        super().__init__()
        self.gate_proj = nn.Linear(s.hidden, s.intermediate, bias=False)
        self.up_proj = nn.Linear(s.hidden, s.intermediate, bias=False)
        self.down_proj = nn.Linear(s.intermediate, s.hidden, bias=False)

    def forward(self, x):
        g = self.gate_proj(x)
        return self.down_proj(g * torch.sigmoid(g) * self.up_proj(x))


class Layer(nn.Module):
    def __init__(self, s: Shape):
        super().__init__()
        self.input_layernorm = RMSNorm(s.hidden, s.rms_eps)
        self.self_attn = Attention(s)
        self.post_attention_layernorm = RMSNorm(s.hidden, s.rms_eps)
        self.mlp = MLP(s)

    def forward(self, x, cos, sin, keep, past_k, past_v):
        a, k, v = self.self_attn(self.input_layernorm(x), cos, sin, keep, past_k, past_v)
        x = x + a
        return x + self.mlp(self.post_attention_layernorm(x)), k, v


class Body(nn.Module):
    def __init__(self, s: Shape):
        super().__init__()
        self.embed_tokens = nn.Embedding(s.vocab, s.hidden)
        self.layers = nn.ModuleList([Layer(s) for _ in range(s.layers)])
        self.norm = RMSNorm(s.hidden, s.rms_eps)


class DecoderLM(nn.Module):
    """Parameter names follow transformers' LlamaForCausalLM / Qwen2ForCausalLM."""

    def __init__(self, s: Shape):
        super().__init__()
        self.s = s
        self.model = Body(s)
        if not s.tied:
            self.lm_head = nn.Linear(s.hidden, s.vocab, bias=False)
        inv_freq = 1.0 / (s.rope_theta ** (torch.arange(0, s.head_dim, 2, dtype=torch.int64).float() / s.head_dim))
        self.register_buffer("inv_freq", inv_freq, persistent=False)
        self.init_weights()

    def init_weights(self):
        # Normal(0, 0.02) as transformers initialises, residual outputs scaled down by depth.
        for name, p in self.named_parameters():
            if name.endswith("layernorm.weight") or name.endswith("norm.weight"):
                continue
            if name.endswith(".bias"):
                nn.init.normal_(p, std=0.02)
            else:
                std = 0.02 / math.sqrt(2 * self.s.layers) if name.endswith(("o_proj.weight", "down_proj.weight")) else 0.02
                nn.init.normal_(p, std=std)

    def output_weight(self):
        return self.model.embed_tokens.weight if self.s.tied else self.lm_head.weight

    def empty_past(self, batch):
        s = self.s
        return [torch.zeros(batch, s.kv_heads, 0, s.head_dim) for _ in range(2 * s.layers)]

    def forward(self, input_ids, attention_mask, position_ids, *past):
        t = input_ids.shape[1]
        total = attention_mask.shape[1]
        x = self.model.embed_tokens(input_ids)
        freqs = position_ids.unsqueeze(-1).float() * self.inv_freq
        angles = torch.cat([freqs, freqs], dim=-1)
        cos = angles.cos().unsqueeze(1)
        sin = angles.sin().unsqueeze(1)
        # Query i (at absolute index past + i) sees keys j <= past + i that the mask keeps.
        i = torch.arange(t).unsqueeze(1) + (total - t)
        j = torch.arange(total).unsqueeze(0)
        keep = (j <= i).unsqueeze(0).unsqueeze(0) & attention_mask.bool().unsqueeze(1).unsqueeze(1)
        presents = []
        for n, layer in enumerate(self.model.layers):
            x, k, v = layer(x, cos, sin, keep, past[2 * n], past[2 * n + 1])
            presents += [k, v]
        logits = self.model.norm(x) @ self.output_weight().t()
        return (logits, *presents)

    def logits(self, ids):
        """Logits for a batch of unpadded sequences [b, t], no cache: the reference path."""
        b, t = ids.shape
        mask = torch.ones(b, t, dtype=torch.long)
        pos = torch.arange(t).unsqueeze(0).expand(b, t)
        return self.forward(ids, mask, pos, *self.empty_past(b))[0]
