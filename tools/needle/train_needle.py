#!/usr/bin/env python3
"""Trains the needle test model (tools/fixtures/needle-vlm/) from scratch with transformers.

A SmolVLMForConditionalGeneration small enough for CI on SwiftShader (64² frames, 8 px patches,
pixel shuffle 2 → 16 image tokens a frame), trained on the needle-in-a-stream task of
src/needle/render.ts with a next-token loss on the answer tokens alone, on exactly the token
layout the engine builds at question time (src/engine/stream-prompt.ts):

    prefix (the sinks) · frame pieces `\\nFrame from MM:SS:<fake><global-img><image>×16<fake>` ·
    `\\n\\n{question}<end_of_utterance>\\nAssistant:` · ` {answer}<end_of_utterance>`

Contexts are of two kinds, half each: consecutive frames (1–32 of them, anywhere in a stream of up
to an hour), and answer-shaped ones — up to 8 frames from anywhere earlier in time order with gaps
between their timestamps (what retrieval restores), then 16 consecutive recent frames (the
window). Nothing in the loss or the data refers to retrieval: the model only learns to answer.

Frames come from the TypeScript renderer through Node (tools/needle/render-pool.ts: the rendered
frame through a 4:2:0 .y4m and back, then the engine's resize), training streams' seeds from
1 000 000, held-out ones from 2 000 000; benchmarks and tests use seeds below 1 000 000.

Run on the GPU machine, from the repository root, after `npm run build:node` here
(carry dist-node, .gpu and .debs; see tools/needle/README.md):

    python3 tools/needle/train_needle.py --out /tmp/needle-vlm --log /tmp/train.log

Gate (in transformers, on 500 held-out 24-frame contexts, greedy answers): colour ≥ 97 %,
time ≥ 95 %, presence ≥ 95 %. The script exits 1 if the gate fails.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers  # noqa: E402
from transformers import PreTrainedTokenizerFast, SmolVLMConfig, SmolVLMForConditionalGeneration, SmolVLMProcessor  # noqa: E402

# keep in step with src/needle/shapes.ts and src/engine/stream-prompt.ts
COMMON = ["circle", "square", "triangle", "diamond"]
RARE = ["star", "heart", "cross", "arrow"]
COLORS = ["red", "green", "blue", "yellow", "white", "purple", "orange", "cyan"]
PREFIX = "<|im_start|>User: You are provided the following series of frames from a live video.\n"
TILE = 64
PATCH = 8
SCALE = 2
SEQ = (TILE // PATCH) ** 2 // SCALE**2  # 16 image tokens a frame
WINDOW = 16
TOP_K = 8
MAX_STREAM_S = 3600
TRAIN_SEED0 = 1_000_000
HELD_SEED0 = 2_000_000
FRAMES_PER_POOL_STREAM = 8

HUB_CHAT_TEMPLATE = (
    "<|im_start|>{% for message in messages %}{{message['role'] | capitalize}}"
    "{% if message['content'][0]['type'] == 'image' %}{{':'}}{% else %}{{': '}}{% endif %}"
    "{% for line in message['content'] %}{% if line['type'] == 'text' %}{{line['text']}}"
    "{% elif line['type'] == 'image' %}{{ '<image>' }}{% endif %}{% endfor %}<end_of_utterance>\n"
    "{% endfor %}{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}"
)
IMAGE_SPECIALS = (
    ["<global-img>"]
    + [f"<row_{r}_col_{c}>" for r in range(1, 7) for c in range(1, 7)]
    + ["<fake_token_around_image>", "<image>", "<end_of_utterance>"]
)


def article(shape):
    return "an" if shape == "arrow" else "a"


QUESTIONS = {
    "color": lambda s: f"What color was the {s}?",
    "time": lambda s: f"When did you see the {s}?",
    "presence": lambda s: f"Did you see {article(s)} {s}?",
}


def stamp(t):
    return f"{t // 60:02d}:{t % 60:02d}"


def frame_piece(t):
    return f"\nFrame from {stamp(t)}:<fake_token_around_image><global-img>" + "<image>" * SEQ + "<fake_token_around_image>"


def question_piece(q):
    return f"\n\n{q}<end_of_utterance>\nAssistant:"


def log(fh, msg):
    print(msg, flush=True)
    fh.write(msg + "\n")
    fh.flush()


# ---------------------------------------------------------------------------------------------
# tokenizer


def build_tokenizer():
    """Byte-level BPE (digits split one by one, as SmolLM2's) trained on the task's own text, with
    SmolVLM's special tokens; answers are short words, so the vocabulary stays small."""
    corpus = [PREFIX]
    for t in range(0, 6000, 7):
        corpus.append(f"\nFrame from {stamp(t)}:")
    for s in RARE + COMMON:
        for f in QUESTIONS.values():
            corpus.append(f"\n\n{f(s)}\nAssistant:")
    for c in COLORS + ["yes", "no"]:
        corpus.append(f" {c}")
    corpus.append("User: Can you describe this image? Assistant: a red star on a dark background.")
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False)]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=420,
        special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(corpus * 10, trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<|im_start|>", eos_token="<end_of_utterance>",
        pad_token="<|im_end|>", unk_token="<|endoftext|>", model_max_length=8192,
    )
    fast.add_special_tokens({"additional_special_tokens": IMAGE_SPECIALS})
    extra = {
        "fake_image_token": "<fake_token_around_image>", "image_token": "<image>",
        "global_image_token": "<global-img>", "end_of_utterance_token": "<end_of_utterance>",
    }
    for k, v in extra.items():
        setattr(fast, k, v)
    try:
        fast.extra_special_tokens = extra
    except Exception:  # noqa: BLE001
        pass
    return fast


# ---------------------------------------------------------------------------------------------
# frames


def render_pool(first_seed, streams, folder, name, jobs):
    """Frames from the TypeScript renderer, in parallel Node processes; returns (frames, labels)."""
    per = (streams + jobs - 1) // jobs
    procs = []
    for j in range(jobs):
        n = min(per, streams - j * per)
        if n <= 0:
            break
        out = os.path.join(folder, f"{name}-{j}")
        procs.append((out, subprocess.Popen(
            ["node", "dist-node/needle-pool.js", "--first-seed", str(first_seed + j * per), "--streams", str(n), "--tile", str(TILE), "--out", out],
            stdout=subprocess.DEVNULL,
        )))
    frames, labels = [], []
    for out, p in procs:
        if p.wait() != 0:
            raise SystemExit(f"needle-pool failed for {out}")
        frames.append(np.fromfile(out + ".frames.u8", dtype=np.uint8).reshape(-1, TILE, TILE, 3))
        labels.append(np.fromfile(out + ".labels.u8", dtype=np.uint8).reshape(-1, 2))
    return np.concatenate(frames), np.concatenate(labels)


class Pool:
    def __init__(self, frames, labels, device):
        self.frames = torch.from_numpy(frames).to(device)  # [M, 64, 64, 3] uint8
        self.shape = labels[:, 0]
        self.color = labels[:, 1]
        self.common = np.nonzero(self.shape < 4)[0]
        self.rare = {s: np.nonzero(self.shape == 4 + i)[0] for i, s in enumerate(RARE)}

    def pixels(self, rows):
        """uint8 frames → pixel values as the processor makes them: x/255, then (x − 0.5)/0.5."""
        x = self.frames[torch.as_tensor(rows, device=self.frames.device)].permute(0, 3, 1, 2).float()
        return (x * (1 / 255) - 0.5) / 0.5


# ---------------------------------------------------------------------------------------------
# contexts


class Contexts:
    def __init__(self, tokenizer, pool):
        self.tok = tokenizer
        self.pool = pool
        enc = lambda s: tokenizer(s, add_special_tokens=False)["input_ids"]  # noqa: E731
        self.enc = enc
        self.prefix = enc(PREFIX)
        self._frames = {}
        self.questions = {(f, s): enc(question_piece(q(s))) for f, q in QUESTIONS.items() for s in RARE}
        self.eou = tokenizer.convert_tokens_to_ids("<end_of_utterance>")

    def frame_ids(self, t):
        ids = self._frames.get(t)
        if ids is None:
            ids = self._frames[t] = self.enc(frame_piece(t))
        return ids

    def answer_ids(self, answer):
        return self.enc(" " + answer) + [self.eou]

    def timestamps(self, rng, kind, n):
        if kind == "answer":
            # up to TOP_K frames from anywhere earlier (time order, gaps), then the window
            r = n - WINDOW
            end = int(rng.integers(n, MAX_STREAM_S + 1))
            earlier = np.sort(rng.choice(end - WINDOW, size=r, replace=False)) if r > 0 else np.zeros(0, dtype=np.int64)
            return [int(x) for x in earlier] + list(range(end - WINDOW, end))
        start = int(rng.integers(0, MAX_STREAM_S - n + 1))
        return list(range(start, start + n))

    def sample(self, rng, kind, n, family=None, needles=None):
        """One context: (ids, frame pool rows, answer start index, family, answer)."""
        stamps = self.timestamps(rng, kind, n)
        if needles is None:
            needles = int(rng.choice([0, 1, 2, 3], p=[0.15, 0.45, 0.25, 0.15]))
        needles = min(needles, n)
        shapes = list(rng.permutation(RARE)[:needles])
        slots = rng.choice(n, size=needles, replace=False)
        rows = [int(x) for x in rng.choice(self.pool.common, size=n)]
        colors = {}
        for s, slot in zip(shapes, slots):
            rows[slot] = int(rng.choice(self.pool.rare[s]))
            colors[s] = COLORS[self.pool.color[rows[slot]]]
        if family is None:
            family = "presence" if needles == 0 else str(rng.choice(["color", "time", "presence"]))
        if family == "presence":
            present = needles > 0 and (needles == 4 or rng.random() < 0.5)
            shape = str(rng.choice(shapes)) if present else str(rng.choice([s for s in RARE if s not in shapes]))
            answer = "yes" if present else "no"
        else:
            k = int(rng.integers(needles))
            shape = str(shapes[k])
            answer = colors[shape] if family == "color" else stamp(stamps[int(slots[k])])
        ids = list(self.prefix)
        for t in stamps:
            ids += self.frame_ids(t)
        ids += self.questions[(family, shape)]
        start = len(ids)
        ids += self.answer_ids(answer)
        return ids, rows, start, family, answer

    def batch(self, rng, size, kind=None, n=None, family=None, needles=None):
        if kind is None:
            kind = "answer" if rng.random() < 0.5 else "consecutive"
        if n is None:
            n = WINDOW + (TOP_K if rng.random() < 0.7 else int(rng.integers(0, TOP_K + 1))) if kind == "answer" else int(rng.integers(1, 33))
        items = [self.sample(rng, kind, n, family, needles) for _ in range(size)]
        length = max(len(i[0]) for i in items)
        pad = self.tok.pad_token_id
        ids = torch.full((size, length), pad, dtype=torch.long)
        target = torch.full((size, length), -100, dtype=torch.long)
        for b, (seq, _, start, _, _) in enumerate(items):
            ids[b, : len(seq)] = torch.tensor(seq)
            # position p predicts token p + 1: the answer tokens only
            target[b, start - 1 : len(seq) - 1] = torch.tensor(seq[start:])
        rows = [r for i in items for r in i[1]]
        return ids, target, rows, n, items


# ---------------------------------------------------------------------------------------------


def make_model(tokenizer, seed):
    torch.manual_seed(seed)
    config = SmolVLMConfig(
        image_token_id=tokenizer.convert_tokens_to_ids("<image>"),
        scale_factor=SCALE,
        tie_word_embeddings=False,
        vision_config=dict(
            hidden_size=128, intermediate_size=256, num_hidden_layers=3, num_attention_heads=4,
            image_size=TILE, patch_size=PATCH,
        ),
        text_config=dict(
            model_type="llama", hidden_size=256, intermediate_size=512, num_hidden_layers=4,
            num_attention_heads=8, num_key_value_heads=2, head_dim=32, vocab_size=len(tokenizer),
            rms_norm_eps=1e-5, rope_theta=10000.0, max_position_embeddings=8192, tie_word_embeddings=False,
            pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        ),
        pad_token_id=tokenizer.pad_token_id,
    )
    config._attn_implementation = "sdpa"
    model = SmolVLMForConditionalGeneration(config)
    model.generation_config.eos_token_id = tokenizer.convert_tokens_to_ids("<end_of_utterance>")
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model


def forward_logits(model, pool, ids, rows, n, device):
    pv = pool.pixels(rows).reshape(ids.shape[0], n, 3, TILE, TILE)
    out = model(input_ids=ids.to(device), pixel_values=pv, attention_mask=torch.ones_like(ids, device=device))
    return out.logits


def evaluate(model, ctx, pool, device, contexts, seed, batch=50):
    """Greedy accuracy per family on held-out 24-frame contexts: with teacher forcing, the answer is
    exact iff every answer step's argmax is its target (that is what greedy decoding would emit)."""
    rng = np.random.default_rng(seed)
    correct = {f: 0 for f in QUESTIONS}
    total = {f: 0 for f in QUESTIONS}
    model.eval()
    with torch.no_grad():
        for family in QUESTIONS:
            for i in range(0, contexts, batch):
                kind = "answer" if (i // batch) % 2 == 0 else "consecutive"
                needles = None if family == "presence" else int(rng.integers(1, 4))
                ids, target, rows, n, _ = ctx.batch(rng, min(batch, contexts - i), kind=kind, n=WINDOW + TOP_K, family=family, needles=needles)
                logits = forward_logits(model, pool, ids, rows, n, device).float()
                pred = logits.argmax(-1).cpu()
                mask = target != -100
                ok = ((pred == target) | ~mask).all(dim=1)
                correct[family] += int(ok.sum())
                total[family] += ids.shape[0]
    model.train()
    return {f: correct[f] / total[f] for f in QUESTIONS}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--work", default="/tmp/needle-pool")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", type=int, default=4000)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--train-streams", type=int, default=12000)
    ap.add_argument("--held-streams", type=int, default=600)
    ap.add_argument("--eval-contexts", type=int, default=500)
    ap.add_argument("--jobs", type=int, default=16)
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    os.makedirs(args.out, exist_ok=True)
    fh = open(args.log, "w")
    device = "cuda" if torch.cuda.is_available() else "cpu"
    log(fh, f"train_needle.py: {json.dumps(vars(args))}; torch {torch.__version__}, device {torch.cuda.get_device_name() if device == 'cuda' else 'cpu'}")
    t0 = time.time()
    train = Pool(*render_pool(TRAIN_SEED0, args.train_streams, args.work, "train", args.jobs), device)
    held = Pool(*render_pool(HELD_SEED0, args.held_streams, args.work, "held", args.jobs), device)
    log(fh, f"rendered {train.frames.shape[0]} training and {held.frames.shape[0]} held-out frames in {time.time() - t0:.1f} s")

    tokenizer = build_tokenizer()
    model = make_model(tokenizer, args.seed).to(device)
    params = sum(p.numel() for p in model.parameters())
    log(fh, f"model: {params} parameters; vocabulary {len(tokenizer)}")
    ctx = Contexts(tokenizer, train)
    held_ctx = Contexts(tokenizer, held)
    log(fh, f"tokens: prefix {len(ctx.prefix)}, frame piece {len(ctx.frame_ids(42))}, 24-frame context ~{len(ctx.prefix) + 24 * len(ctx.frame_ids(42)) + 14}")

    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.98), weight_decay=0.01)
    warmup = 200
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + np.cos(np.pi * min(1.0, s / args.steps)))
    )
    rng = np.random.default_rng(args.seed)
    model.train()
    t1 = time.time()
    running = None
    for step in range(1, args.steps + 1):
        ids, target, rows, n, _ = ctx.batch(rng, args.batch)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=device == "cuda"):
            logits = forward_logits(model, train, ids, rows, n, device)
        loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), target.to(device).reshape(-1), ignore_index=-100)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        running = float(loss) if running is None else 0.98 * running + 0.02 * float(loss)
        if step % 100 == 0 or step == 1:
            log(fh, f"step {step:5d}  loss {float(loss):.4f}  smoothed {running:.4f}  lr {sched.get_last_lr()[0]:.2e}  {time.time() - t1:.0f} s")
        if step % 1000 == 0 and step < args.steps:
            acc = evaluate(model, held_ctx, held, device, 100, seed=7)
            log(fh, f"step {step:5d}  held-out (100 contexts a family): " + ", ".join(f"{k} {v:.3f}" for k, v in acc.items()))
    log(fh, f"trained {args.steps} steps in {time.time() - t1:.0f} s")

    model = model.float().eval()
    acc = evaluate(model, held_ctx, held, device, args.eval_contexts, seed=12345)
    gate = {"color": 0.97, "time": 0.95, "presence": 0.95}
    passed = all(acc[k] >= gate[k] for k in gate)
    log(fh, f"gate on {args.eval_contexts} held-out 24-frame contexts a family (f32, greedy): " + ", ".join(f"{k} {acc[k]:.3f} (≥ {gate[k]})" for k in gate) + f" → {'PASS' if passed else 'FAIL'}")

    # check the teacher-forced score against generate() on a few held-out contexts
    rng_g = np.random.default_rng(99)
    agree = 0
    for i in range(12):
        ids, _, rows, n, items = held_ctx.batch(rng_g, 1, kind="answer", n=WINDOW + TOP_K, family=list(QUESTIONS)[i % 3], needles=1)
        seq, _, start, family, answer = items[0]
        prompt = torch.tensor([seq[:start]], device=device)
        pv = held.pixels(rows).reshape(1, n, 3, TILE, TILE)
        with torch.no_grad():
            gen = model.generate(input_ids=prompt, attention_mask=torch.ones_like(prompt), pixel_values=pv, max_new_tokens=8, do_sample=False)
        text = tokenizer.decode(gen[0, start:], skip_special_tokens=True).strip()
        agree += text == answer
    log(fh, f"generate() on 12 held-out contexts: {agree}/12 answers exact")

    model.to("cpu").save_pretrained(args.out, safe_serialization=True)
    from make_fixtures import find_pil_image_processor

    ImageProcessor = find_pil_image_processor()
    image_processor = ImageProcessor(do_resize=True, size={"longest_edge": TILE}, max_image_size={"longest_edge": TILE}, do_image_splitting=False, resample=1)
    kwargs = dict(image_processor=image_processor, tokenizer=tokenizer, image_seq_len=SEQ, chat_template=HUB_CHAT_TEMPLATE)
    try:
        from transformers import SmolVLMVideoProcessor

        kwargs["video_processor"] = SmolVLMVideoProcessor(
            size={"longest_edge": TILE}, max_image_size={"longest_edge": TILE},
            video_sampling={"fps": 1, "max_frames": 64, "video_size": {"longest_edge": TILE}},
        )
    except Exception as e:  # noqa: BLE001
        log(fh, f"warning: no video processor ({e})")
    SmolVLMProcessor(**kwargs).save_pretrained(args.out)
    with open(os.path.join(args.out, "training.json"), "w") as f:
        json.dump({"args": vars(args), "held_out_accuracy": acc, "gate": gate, "passed": passed, "parameters": params}, f, indent=1)
    log(fh, f"saved {args.out} in {time.time() - t0:.0f} s total")
    fh.close()
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
