"""Trains the embedded neural model: a small GPT-2-architecture transformer on ../shared/corpus.

    /usr/bin/python3 training/train_gpt.py --out models/gpt-classics --minutes 55

Resumable: rerun the same command and it continues from the last checkpoint in --work (by default
~/.cache/lm-playground/gpt-training, outside the work tree, so that a later session on the same
machine can go on); --extend-minutes M adds a second cosine cycle to a finished run. Writes the
Hugging Face layout (config.json, tokenizer.json, onnx/model.onnx with a KV cache) when done.
Needs Debian's python3-torch, python3-onnx, python3-regex and libopenblas0-pthread.
"""
import argparse
import glob
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import bpe

HERE = os.path.dirname(os.path.abspath(__file__))


class Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.ln_1 = nn.LayerNorm(d)
        self.c_attn = nn.Linear(d, 3 * d)
        self.c_proj = nn.Linear(d, d)
        self.ln_2 = nn.LayerNorm(d)
        self.c_fc = nn.Linear(d, 4 * d)
        self.mlp_proj = nn.Linear(4 * d, d)

    def attend(self, x, past_k=None, past_v=None, mask=None):
        b, t, d = x.shape
        h = self.heads
        q, k, v = self.c_attn(self.ln_1(x)).split(d, dim=2)
        q = q.view(b, t, h, d // h).transpose(1, 2)
        k = k.view(b, t, h, d // h).transpose(1, 2)
        v = v.view(b, t, h, d // h).transpose(1, 2)
        if past_k is not None:
            k = torch.cat([past_k, k], dim=2)
            v = torch.cat([past_v, v], dim=2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(d // h))
        att = att + mask
        att = F.softmax(att, dim=-1)
        y = (att @ v).transpose(1, 2).reshape(b, t, d)
        return self.c_proj(y), k, v

    def forward(self, x, mask, past_k=None, past_v=None):
        a, k, v = self.attend(x, past_k, past_v, mask)
        x = x + a
        x = x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))
        return x, k, v


class GPT(nn.Module):
    def __init__(self, vocab, ctx, d, layers, heads):
        super().__init__()
        self.ctx = ctx
        self.wte = nn.Embedding(vocab, d)
        self.wpe = nn.Embedding(ctx, d)
        self.h = nn.ModuleList([Block(d, heads) for _ in range(layers)])
        self.ln_f = nn.LayerNorm(d)
        self.apply(self._init)
        for blk in self.h:  # GPT-2: residual projections scaled by depth
            nn.init.normal_(blk.c_proj.weight, std=0.02 / math.sqrt(2 * layers))
            nn.init.normal_(blk.mlp_proj.weight, std=0.02 / math.sqrt(2 * layers))

    @staticmethod
    def _init(m):
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=0.02)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, std=0.02)

    def forward(self, idx):
        b, t = idx.shape
        pos = torch.arange(t).unsqueeze(0)
        x = self.wte(idx) + self.wpe(pos)
        mask = torch.triu(torch.full((t, t), float("-inf")), diagonal=1)
        for blk in self.h:
            x, _, _ = blk(x, mask)
        return self.ln_f(x) @ self.wte.weight.t()  # tied output embedding


def load_texts(paths):
    return [open(p, encoding="utf-8").read() for p in paths]


def evaluate(model, ids, chars, ctx, stride):
    """Bits per character over a token stream, sliding windows (each token scored once with ≥ ctx-stride context)."""
    model.eval()
    total = 0.0
    with torch.no_grad():
        t = torch.tensor(ids, dtype=torch.long)
        start = 0
        scored_upto = 1  # token 0 (<|endoftext|>) is given
        while scored_upto < len(ids):
            end = min(start + ctx, len(ids))
            x = t[start:end].unsqueeze(0)
            logp = F.log_softmax(model(x[:, :-1]), dim=-1)[0]
            targets = t[start + 1 : end]
            first = scored_upto - (start + 1)
            lp = logp[first:].gather(1, targets[first:].unsqueeze(1))
            total -= lp.sum().item()
            scored_upto = end
            start = end - (ctx - stride) - 1 if end < len(ids) else end
            start = max(start, 0)
    model.train()
    return total / math.log(2) / chars


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default=os.path.join(HERE, "..", "..", "shared", "corpus", "en"))
    ap.add_argument("--out", default=os.path.join(HERE, "..", "models", "gpt-classics"))
    ap.add_argument("--work", default=os.path.join(os.path.expanduser("~"), ".cache", "lm-playground", "gpt-training"))
    ap.add_argument("--vocab", type=int, default=4096)
    ap.add_argument("--ctx", type=int, default=128)
    ap.add_argument("--d", type=int, default=256)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=8)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--minutes", type=float, default=55)
    ap.add_argument("--extend-minutes", type=float, default=0, help="continue a finished run for this long with a second cosine cycle")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1234)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    os.makedirs(args.work, exist_ok=True)
    log = open(os.path.join(args.work, "train.log"), "a")

    def say(msg):
        line = f"[{time.strftime('%H:%M:%S')}] {msg}"
        print(line, flush=True)
        log.write(line + "\n")
        log.flush()

    train_files = sorted(glob.glob(os.path.join(args.corpus, "train", "*.txt")))
    valid_files = sorted(glob.glob(os.path.join(args.corpus, "valid", "*.txt")))
    tok_path = os.path.join(args.work, "tokenizer.json")
    if not os.path.exists(tok_path):
        t0 = time.time()
        vocab, merges = bpe.train_bpe(load_texts(train_files), args.vocab)
        json.dump(bpe.tokenizer_json(vocab, merges), open(tok_path, "w"), ensure_ascii=False)
        say(f"BPE: {len(vocab)} tokens, {len(merges)} merges in {time.time() - t0:.0f} s")
    tok = json.load(open(tok_path))
    enc = bpe.Encoder(tok["model"]["vocab"], tok["model"]["merges"])
    data_path = os.path.join(args.work, "data.npz")
    if not os.path.exists(data_path):
        eot = tok["model"]["vocab"][bpe.END_OF_TEXT]
        train_ids = []
        for text in load_texts(train_files):
            train_ids.append(eot)
            train_ids.extend(enc.encode(text))
        valid_text = load_texts(valid_files)[0]
        valid_ids = [eot] + enc.encode(valid_text)
        np.savez(data_path, train=np.array(train_ids, dtype=np.uint16), valid=np.array(valid_ids, dtype=np.uint16), valid_chars=len(valid_text))
    data = np.load(data_path)
    train = torch.from_numpy(data["train"].astype(np.int64))
    valid = data["valid"].astype(np.int64).tolist()
    valid_chars = int(data["valid_chars"])
    say(f"train {len(train)} tokens, valid {len(valid)} tokens / {valid_chars} chars ({valid_chars / len(valid):.2f} chars per token)")

    vocab_size = len(tok["model"]["vocab"])
    model = GPT(vocab_size, args.ctx, args.d, args.layers, args.heads)
    n_params = sum(p.numel() for p in model.parameters())
    say(f"model: {n_params / 1e6:.2f} M parameters, d={args.d} layers={args.layers} heads={args.heads} ctx={args.ctx} vocab={vocab_size}")
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}], lr=args.lr, betas=(0.9, 0.95))
    ckpt_path = os.path.join(args.work, "checkpoint.pt")
    state = {"step": 0, "elapsed": 0.0, "total_steps": None, "history": []}
    if os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        state = ck["state"]
        say(f"resumed at step {state['step']} after {state['elapsed'] / 60:.1f} min")

    gen = torch.Generator().manual_seed(args.seed + state["step"])
    budget = args.minutes * 60
    warmup = 60

    if args.extend_minutes and state["total_steps"] is not None and state["step"] >= state["total_steps"]:
        per_step = state["elapsed"] / state["step"]
        state["cycle_start"] = state["step"]
        state["total_steps"] = state["step"] + int(args.extend_minutes * 60 / per_step)
        say(f"extending: a second cycle to step {state['total_steps']} (about {args.extend_minutes} min)")

    def lr_at(step, total):
        start = state.get("cycle_start", 0)
        peak = args.lr if start == 0 else args.lr * 0.5  # warm restart at half the first peak
        if step - start < warmup:
            return peak * (step - start + 1) / warmup
        progress = min(1.0, (step - start - warmup) / max(1, total - start - warmup))
        return peak * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress)))

    def save():
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "state": state}, ckpt_path + ".tmp")
        os.replace(ckpt_path + ".tmp", ckpt_path)

    model.train()
    last = time.time()
    while True:
        if state["total_steps"] is None and state["step"] == 20:
            per_step = state["elapsed"] / 20
            state["total_steps"] = int(budget / per_step)
            say(f"{per_step:.2f} s/step, {args.batch * args.ctx / per_step:.0f} tokens/s: {state['total_steps']} steps in {args.minutes} min")
        total = state["total_steps"] or 10**9
        if state["step"] >= total:
            break
        lr = lr_at(state["step"], total)
        for g in opt.param_groups:
            g["lr"] = lr
        ix = torch.randint(0, len(train) - args.ctx - 1, (args.batch,), generator=gen)
        x = torch.stack([train[i : i + args.ctx] for i in ix])
        y = torch.stack([train[i + 1 : i + 1 + args.ctx] for i in ix])
        loss = F.cross_entropy(model(x).view(-1, vocab_size), y.view(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        now = time.time()
        state["elapsed"] += now - last
        last = now
        state["step"] += 1
        if state["step"] % 25 == 0:
            say(f"step {state['step']}/{total} loss {loss.item():.3f} nats/token lr {lr:.2e} {state['elapsed'] / 60:.1f} min")
        if state["step"] % 200 == 0:
            # Progress check on the start of the valid split (chars estimated from the split's ratio).
            head = valid[:8192]
            bpc = evaluate(model, head, len(head) * valid_chars / len(valid), args.ctx, args.ctx // 2)
            state["history"].append((state["step"], state["elapsed"], loss.item(), bpc))
            say(f"valid (first {len(head)} tokens) ≈ {bpc:.3f} bits per character")
            save()
            last = time.time()
    save()
    bpc = evaluate(model, valid, valid_chars, args.ctx, args.ctx // 2)
    say(f"done: {state['step']} steps in {state['elapsed'] / 60:.1f} min; valid {bpc:.4f} bits per character")
    state["valid_bpc"] = bpc
    state["params"] = n_params
    save()
    import export_onnx

    export_onnx.export(model, tok, args, state, args.out)
    say(f"exported to {args.out}")


if __name__ == "__main__":
    main()
