#!/usr/bin/env python3
"""Trains the needle test model (tools/fixtures/needle-vlm/) from scratch with transformers.

A SmolVLMForConditionalGeneration small enough for CI on SwiftShader (64² frames, 8 px patches,
pixel shuffle 2 → 16 image tokens a frame), trained on the needle-in-a-stream task of
src/needle/render.ts with a next-token loss on the answer tokens alone, on exactly the token
layout the engine builds at question time (src/families/smolvlm/stream-layout.ts):

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

Gate (in transformers, greedy answers): colour ≥ 97 %, time ≥ 95 %, presence ≥ 95 % on 500
held-out 24-frame contexts a family, and the same on 500 recalled ones (answer-shaped, every needle
among the 8 earlier frames, as when the engine answers about a long stream). The script exits 1 if
either gate fails. `--recalled P` trains that share of answer-shaped contexts recalled.

`--confusers P` (from `--confusers-from F` of the run on): that share of answer-shaped contexts
gets, as its earlier frames beside the needles, the common frames that look most like the needles
(or like an absent rare shape) to the model itself: nearest in its own pooled image features,
refreshed as it trains. That is what the engine's retrieval puts there. It ranks frames by how
strongly the question's queries meet their keys, so the frames it restores beside a needle are the
ones the model confuses with it; with frames drawn at random instead, 40 of the 43 answers the
committed model got wrong about an hour's stream come out right (bench/needle-replay.ts
--random-distractors). The loss is still the answer's next tokens alone, and the model is not told
which frame is the needle; confusers only make the contexts it learns to answer from as hard as the
ones it will meet.
"""
import argparse
import json
import os
import queue
import subprocess
import sys
import threading
import time
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers  # noqa: E402
from transformers import PreTrainedTokenizerFast, SmolVLMConfig, SmolVLMForConditionalGeneration, SmolVLMProcessor  # noqa: E402

# keep in step with src/needle/shapes.ts and src/families/smolvlm/stream-layout.ts
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
    """Frames from the TypeScript renderer, in parallel Node processes; returns (frames, labels).
    A pool already rendered into `folder` with the same settings is read back instead (the renderer
    is deterministic; each stage of train.sh would otherwise render the same pool again)."""
    per = (streams + jobs - 1) // jobs
    params = {"first_seed": first_seed, "streams": streams, "jobs": jobs, "tile": TILE, "renderer": os.path.getmtime("dist-node/needle-pool.js")}
    marker = os.path.join(folder, f"{name}.params.json")
    parts = [os.path.join(folder, f"{name}-{j}") for j in range(jobs) if min(per, streams - j * per) > 0]
    if os.path.exists(marker) and json.load(open(marker)) == params:
        return (np.concatenate([np.fromfile(out + ".frames.u8", dtype=np.uint8).reshape(-1, TILE, TILE, 3) for out in parts]),
                np.concatenate([np.fromfile(out + ".labels.u8", dtype=np.uint8).reshape(-1, 2) for out in parts]))
    if os.path.exists(marker):
        os.remove(marker)
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
    with open(marker, "w") as f:
        json.dump(params, f)
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
        idx = torch.as_tensor(rows)
        if self.frames.is_cuda:
            # through page-locked memory: a copy from pageable memory would wait for the queued steps
            idx = idx.pin_memory().to(self.frames.device, non_blocking=True)
        x = self.frames[idx].permute(0, 3, 1, 2).float()
        return (x * (1 / 255) - 0.5) / 0.5


# ---------------------------------------------------------------------------------------------
# contexts


class PackedBatch(NamedTuple):
    ids: torch.Tensor  # [B, L]
    target: torch.Tensor  # [B, L], -100 where no loss
    rows: list  # frame pool rows, n per context
    n: int  # frames a context
    pos: torch.Tensor  # [B, L] position ids
    seg: torch.Tensor  # [B, L] segment ids (see Contexts.packed_batch)
    spans: list  # per context: (frame tokens, [(start, end) of each q·a block])


def block_mask(seg):
    """[B, 1, L, L] boolean attention mask from segment ids: token i sees token j ≤ i when j is
    one of the frames' tokens (segment 0) or in i's own segment. The frames see each other
    causally; a q·a block sees the frames and itself; padding rows see something (no NaN rows)
    and no real token sees padding."""
    length = seg.shape[1]
    causal = torch.ones(length, length, dtype=torch.bool, device=seg.device).tril()
    si = seg.unsqueeze(2)
    sj = seg.unsqueeze(1)
    return (causal & ((sj == 0) | (sj == si))).unsqueeze(1)


class BatchProducer:
    """Makes the training batches ahead, in one background thread with its own seeded generator,
    while the GPU runs the current step (building a batch is Python work of tens of ms; the step's
    GPU work releases the interpreter while it waits). One thread, in order: the batches are the
    same sequence a loop without it would make, given the same max_frames per batch. This is how
    the committed model was trained (--workers 0); it caps a step at ~80 ms on the H100 machine,
    as the thread and the training loop share one interpreter lock."""

    def __init__(self, ctx, rng, size, max_frames_for, ahead=3):
        self.ctx, self.rng, self.size, self.max_frames_for = ctx, rng, size, max_frames_for
        self.queue = queue.Queue(maxsize=ahead)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            while not self.stopped.is_set():
                batch = self.ctx.packed_batch(self.rng, self.size, max_frames=self.max_frames_for())
                if torch.cuda.is_available():
                    # page-locked, so the copies to the device overlap the step (non_blocking)
                    batch = batch._replace(**{k: getattr(batch, k).pin_memory() for k in ("ids", "target", "pos", "seg")})
                while not self.stopped.is_set():
                    try:
                        self.queue.put(batch, timeout=0.5)
                        break
                    except queue.Full:
                        continue
        except BaseException as error:  # noqa: BLE001 — handed to the consumer, raised there
            self.queue.put(error)

    def next(self, step):  # noqa: ARG002 — the thread's batches come in its own order
        item = self.queue.get()
        if isinstance(item, BaseException):
            raise item
        return item

    def set_features(self, features):
        self.ctx.features = features

    def stop(self):
        self.stopped.set()


class ProcessBatchProducer:
    """The batches built in W forked worker processes, each with its own interpreter, so building
    them no longer competes with the training loop for one interpreter lock. Batch s comes from
    worker (s − 1) mod W and is drawn from its own generator, seeded by (seed, s): the sequence of
    batches depends on the seed and the steps alone, not on W or on timing (given the same
    max_frames per batch; under --max-minutes the curriculum follows the clock, as before).

    The workers never touch CUDA or the tokenizer: every piece of text a context can hold is
    tokenized before the fork (Contexts.tokenize_all). The confusers' features (refreshed by the
    training loop) reach them through shared memory, double-buffered: the loop writes the slot the
    workers are not reading, then flips the index."""

    def __init__(self, ctx, seed, size, max_frames_for_step, workers, feature_shape=None, ahead=2):
        import multiprocessing as mp
        from multiprocessing import shared_memory

        self.workers = workers
        fork = mp.get_context("fork")
        self.progress = fork.Value("d", 0.0, lock=False)
        self.slot = fork.Value("i", -1, lock=False)
        self.shm = None
        if feature_shape is not None:
            nbytes = 2 * int(np.prod(feature_shape)) * 4
            self.shm = shared_memory.SharedMemory(create=True, size=nbytes)
            self.slots = np.ndarray((2, *feature_shape), dtype=np.float32, buffer=self.shm.buf)
        self.queues = [fork.Queue(maxsize=ahead) for _ in range(workers)]
        self.procs = []
        for w in range(workers):
            proc = fork.Process(target=self._run, args=(ctx, seed, size, max_frames_for_step, w), daemon=True)
            proc.start()
            self.procs.append(proc)

    def _run(self, ctx, seed, size, max_frames_for_step, w):
        torch.set_num_threads(1)
        out = self.queues[w]
        try:
            step = w + 1
            while True:
                slot = self.slot.value
                ctx.features = self.slots[slot] if slot >= 0 else None
                rng = np.random.default_rng([seed, step])
                b = ctx.packed_batch(rng, size, max_frames=max_frames_for_step(step, self.progress.value))
                out.put((step, b.ids.numpy().astype(np.int32), b.target.numpy().astype(np.int32), b.rows, b.n,
                         b.pos.numpy().astype(np.int32), b.seg.numpy().astype(np.int32), b.spans))
                step += self.workers
        except BaseException as error:  # noqa: BLE001 — handed to the consumer, raised there
            out.put(("error", repr(error)))

    def next(self, step, progress=None):
        if progress is not None:
            self.progress.value = progress
        item = self.queues[(step - 1) % self.workers].get()
        if item[0] == "error":
            raise RuntimeError(f"batch worker failed: {item[1]}")
        s, ids, target, rows, n, pos, seg, spans = item
        if s != step:
            raise RuntimeError(f"batch worker sent step {s} for step {step}")
        pinned = torch.cuda.is_available()
        t = lambda a: (lambda x: x.pin_memory() if pinned else x)(torch.from_numpy(a).long())  # noqa: E731
        return PackedBatch(t(ids), t(target), rows, n, t(pos), t(seg), spans)

    def set_features(self, features):
        if self.shm is None:
            raise RuntimeError("ProcessBatchProducer made without feature_shape")
        slot = 1 - self.slot.value if self.slot.value >= 0 else 0
        self.slots[slot][...] = features
        self.slot.value = slot

    def stop(self):
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            proc.join(timeout=5)
        if self.shm is not None:
            self.slots = None
            self.shm.close()
            self.shm.unlink()


class Contexts:
    def __init__(self, tokenizer, pool, recalled=0.0, confusers=0.0):
        self.tok = tokenizer
        self.pool = pool
        # the fraction of answer-shaped contexts whose needles all sit among the earlier frames
        self.recalled = recalled
        # the fraction of answer-shaped contexts whose other earlier frames are confusers (see the
        # module's docstring), once `features` (pool_features of the current model) is set
        self.confusers = confusers
        self.features = None
        enc = lambda s: tokenizer(s, add_special_tokens=False)["input_ids"]  # noqa: E731
        self.enc = enc
        self.prefix = enc(PREFIX)
        self._frames = {}
        self._answers = {}
        self.questions = {(f, s): enc(question_piece(q(s))) for f, q in QUESTIONS.items() for s in RARE}
        self.eou = tokenizer.convert_tokens_to_ids("<end_of_utterance>")

    def frame_ids(self, t):
        ids = self._frames.get(t)
        if ids is None:
            ids = self._frames[t] = self.enc(frame_piece(t))
        return ids

    def answer_ids(self, answer):
        ids = self._answers.get(answer)
        if ids is None:
            ids = self._answers[answer] = self.enc(" " + answer) + [self.eou]
        return list(ids)

    def tokenize_all(self):
        """Every frame piece and answer a context can hold, tokenized now (batch workers are
        forked after this and never call the tokenizer)."""
        for t in range(MAX_STREAM_S):
            self.frame_ids(t)
            self.answer_ids(stamp(t))
        for answer in COLORS + ["yes", "no"]:
            self.answer_ids(answer)

    def timestamps(self, rng, kind, n):
        if kind == "answer":
            # up to TOP_K frames from anywhere earlier (time order, gaps), then the window
            r = n - WINDOW
            end = int(rng.integers(n, MAX_STREAM_S + 1))
            earlier = np.sort(rng.choice(end - WINDOW, size=r, replace=False)) if r > 0 else np.zeros(0, dtype=np.int64)
            return [int(x) for x in earlier] + list(range(end - WINDOW, end))
        start = int(rng.integers(0, MAX_STREAM_S - n + 1))
        return list(range(start, start + n))

    def needle_slots(self, rng, kind, n, needles, recalled=None):
        """Where a context's needles sit: anywhere among its frames, or, in a recalled answer
        context, all among the earlier frames before the window. That is where a question's needles
        are when the engine answers about a stream longer than its window (every rare shape of the
        stream tends to be among what it restores), and uniform placement rarely makes it: three
        needles all among 8 of 24 frames is 2.8 % of three-needle contexts."""
        earlier = n - WINDOW if kind == "answer" else 0
        if recalled is None:
            recalled = kind == "answer" and self.recalled > 0 and rng.random() < self.recalled
        if recalled and earlier >= needles:
            return rng.choice(earlier, size=needles, replace=False)
        return rng.choice(n, size=needles, replace=False)

    def with_confusers(self, rng, kind, n, rows, slots, shapes, hard=None):
        """Replaces the earlier frames that are not needles by confusers, in place, when this
        context is to have them: common frames nearest (cosine of the model's pooled image
        features) to one of the anchors, which are the context's needles and one frame of each
        rare shape it lacks (what a presence question about an absent shape retrieves). Drawn at
        random among the 4·k nearest of 1,024 candidates, so the same few frames do not repeat."""
        earlier = n - WINDOW if kind == "answer" else 0
        if hard is None:
            hard = earlier > 0 and self.features is not None and self.confusers > 0 and rng.random() < self.confusers
        if not hard or earlier <= 0:
            return
        taken = {int(x) for x in slots}
        free = [i for i in range(earlier) if i not in taken]
        if not free:
            return
        feats = self.features
        anchors = [rows[int(x)] for x in slots] + [int(rng.choice(self.pool.rare[s])) for s in RARE if s not in shapes]
        cand = rng.choice(self.pool.common, size=min(1024, len(self.pool.common)), replace=False)
        nearest = (feats[cand] @ feats[anchors].T).max(axis=1)
        top = np.argsort(-nearest)[: 4 * len(free)]
        picks = cand[rng.choice(top, size=len(free), replace=False)]
        for i, r in zip(free, picks):
            rows[i] = int(r)

    def sample(self, rng, kind, n, family=None, needles=None, recalled=None, hard=None):
        """One context: (ids, frame pool rows, answer start index, family, answer)."""
        stamps = self.timestamps(rng, kind, n)
        if needles is None:
            needles = int(rng.choice([0, 1, 2, 3], p=[0.15, 0.45, 0.25, 0.15]))
        needles = min(needles, n)
        shapes = list(rng.permutation(RARE)[:needles])
        slots = self.needle_slots(rng, kind, n, needles, recalled)
        rows = [int(x) for x in rng.choice(self.pool.common, size=n)]
        colors = {}
        for s, slot in zip(shapes, slots):
            rows[slot] = int(rng.choice(self.pool.rare[s]))
            colors[s] = COLORS[self.pool.color[rows[slot]]]
        self.with_confusers(rng, kind, n, rows, slots, shapes, hard)
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

    def scene(self, rng, kind, n):
        """A context's frames with every question it can answer: (prefix + frame ids, pool rows,
        [(question ids, answer ids)]): per needle its colour and time, and presence of each rare shape."""
        stamps = self.timestamps(rng, kind, n)
        needles = min(int(rng.choice([0, 1, 2, 3], p=[0.15, 0.45, 0.25, 0.15])), n)
        shapes = [str(x) for x in rng.permutation(RARE)[:needles]]
        slots = self.needle_slots(rng, kind, n, needles)
        rows = [int(x) for x in rng.choice(self.pool.common, size=n)]
        qa = []
        for s, slot in zip(shapes, slots):
            rows[slot] = int(rng.choice(self.pool.rare[s]))
            qa.append((self.questions[("color", s)], self.answer_ids(COLORS[self.pool.color[rows[slot]]])))
            qa.append((self.questions[("time", s)], self.answer_ids(stamp(stamps[int(slot)]))))
        self.with_confusers(rng, kind, n, rows, slots, shapes)
        for s in RARE:
            qa.append((self.questions[("presence", s)], self.answer_ids("yes" if s in shapes else "no")))
        ids = list(self.prefix)
        for t in stamps:
            ids += self.frame_ids(t)
        return ids, rows, qa

    def packed_batch(self, rng, size, max_frames=None):
        """Contexts with all their questions at once: `[frames][q1 a1][q2 a2]…` where each q·a block
        sees the frames and itself only (a block mask) at the positions it would have alone, so
        each block is exactly the engine's one-question layout, and one pass over the frames
        trains every question about them. The mask travels as one segment id a token (0: the
        frames, k: the k-th q·a block, -1: padding) and is made on the device (block_mask): the
        dense [B, 1, L, L] mask built here took most of a training step (49 MB a batch)."""
        if max_frames is not None:
            kind, n = "consecutive", int(rng.integers(1, max_frames + 1))
        else:
            kind = "answer" if rng.random() < 0.5 else "consecutive"
            n = WINDOW + (TOP_K if rng.random() < 0.7 else int(rng.integers(0, TOP_K + 1))) if kind == "answer" else int(rng.integers(1, 33))
        scenes = [self.scene(rng, kind, n) for _ in range(size)]
        length = max(len(ids) + sum(len(q) + len(a) for q, a in qa) for ids, _, qa in scenes)
        ids_t = np.full((size, length), self.tok.pad_token_id, dtype=np.int64)
        target = np.full((size, length), -100, dtype=np.int64)
        pos = np.zeros((size, length), dtype=np.int64)
        seg = np.full((size, length), -1, dtype=np.int64)
        spans = []
        for b, (ids, _, qa) in enumerate(scenes):
            row_spans = []
            p = len(ids)
            ids_t[b, :p] = ids
            pos[b, :p] = np.arange(p)
            seg[b, :p] = 0
            at = p
            for k, (q, a) in enumerate(qa, start=1):
                block = q + a
                m = len(block)
                ids_t[b, at : at + m] = block
                pos[b, at : at + m] = np.arange(p, p + m)
                seg[b, at : at + m] = k
                # the block's last question token predicts the first answer token, and so on
                target[b, at + len(q) - 1 : at + m - 1] = a
                row_spans.append((at, at + m))
                at += m
            spans.append((p, row_spans))
        rows = [r for _, r, _ in scenes]
        return PackedBatch(torch.from_numpy(ids_t), torch.from_numpy(target), [x for r in rows for x in r], n, torch.from_numpy(pos), torch.from_numpy(seg), spans)

    def batch(self, rng, size, kind=None, n=None, family=None, needles=None, max_frames=None, recalled=None, hard=None):
        if max_frames is not None:
            # curriculum: short consecutive contexts first (see CURRICULUM)
            kind, n = "consecutive", int(rng.integers(1, max_frames + 1))
        if kind is None:
            kind = "answer" if rng.random() < 0.5 else "consecutive"
        if n is None:
            n = WINDOW + (TOP_K if rng.random() < 0.7 else int(rng.integers(0, TOP_K + 1))) if kind == "answer" else int(rng.integers(1, 33))
        items = [self.sample(rng, kind, n, family, needles, recalled, hard) for _ in range(size)]
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


# Frames a context may hold while training starts: a model trained from scratch on 24-frame
# contexts stays at the answer prior (a first run here: 5000 steps, held-out colour 13 %, time 5 %,
# presence 56 %, i.e. chance), since one frame in 24 carries the answer and nothing yet tells the
# model which. Short contexts first let it learn to see and to attend, then the contexts grow to
# the full mix. (fraction of the steps, most frames a context holds until then)
CURRICULUM = [(0.08, 1), (0.16, 2), (0.24, 4), (0.32, 8), (0.40, 16)]


def curriculum_frames(step, steps):
    for until, frames in CURRICULUM:
        if step <= until * steps:
            return frames
    return None


def make_model(tokenizer, seed):
    torch.manual_seed(seed)
    config = SmolVLMConfig(
        image_token_id=tokenizer.convert_tokens_to_ids("<image>"),
        scale_factor=SCALE,
        tie_word_embeddings=False,
        vision_config=dict(
            hidden_size=96, intermediate_size=192, num_hidden_layers=2, num_attention_heads=4,
            image_size=TILE, patch_size=PATCH,
        ),
        text_config=dict(
            model_type="llama", hidden_size=128, intermediate_size=384, num_hidden_layers=4,
            num_attention_heads=4, num_key_value_heads=2, head_dim=32, vocab_size=len(tokenizer),
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


def forward_logits(model, pool, ids, rows, n, device, position_ids=None, seg=None):
    """transformers' own modules, as SmolVLM's forward chains them (vision tower, connector, image
    rows of the embeddings replaced, Llama decoder, lm_head), with the merge done in the
    embeddings' dtype so bf16 autocast can train it."""
    ids = ids.to(device, non_blocking=True)
    emb = model.model.text_model.get_input_embeddings()(ids)
    vision = model.model.vision_model(pixel_values=pool.pixels(rows)).last_hidden_state
    features = model.model.connector(vision)
    image_rows = ids == model.config.image_token_id
    emb = emb.masked_scatter(image_rows.unsqueeze(-1).expand_as(emb), features.reshape(-1, features.shape[-1]).to(emb.dtype))
    if seg is None:
        hidden = model.model.text_model(inputs_embeds=emb).last_hidden_state
    else:
        mask = block_mask(seg.to(device, non_blocking=True))
        hidden = model.model.text_model(inputs_embeds=emb, position_ids=position_ids.to(device, non_blocking=True), attention_mask=mask).last_hidden_state
    return model.lm_head(hidden)


def pool_features(model, pool, device, chunk=4096):
    """Each pool frame as the model sees it: its image tokens after the connector, mean-pooled,
    unit length ([M, text hidden] float32, on the host)."""
    was_training = model.training
    model.eval()
    out = []
    with torch.no_grad(), torch.autocast("cuda", dtype=torch.bfloat16, enabled=device == "cuda"):
        for i in range(0, pool.frames.shape[0], chunk):
            rows = list(range(i, min(pool.frames.shape[0], i + chunk)))
            tokens = model.model.connector(model.model.vision_model(pixel_values=pool.pixels(rows)).last_hidden_state)
            out.append(F.normalize(tokens.float().mean(1), dim=-1).cpu())
    model.train(was_training)
    return torch.cat(out).numpy()


def evaluate(model, ctx, pool, device, contexts, seed, batch=50, recalled=False, hard=False):
    """Greedy accuracy per family on held-out 24-frame contexts: with teacher forcing, the answer is
    exact iff every answer step's argmax is its target (that is what greedy decoding would emit).
    Mixed: half answer-shaped, half consecutive, needles anywhere. Recalled: answer-shaped only,
    1–3 needles all among the 8 earlier frames (see Contexts.needle_slots). Hard: recalled, and
    the other earlier frames are confusers (Contexts.with_confusers; needs ctx.features)."""
    rng = np.random.default_rng(seed)
    correct = {f: 0 for f in QUESTIONS}
    total = {f: 0 for f in QUESTIONS}
    model.eval()
    with torch.no_grad():
        for family in QUESTIONS:
            for i in range(0, contexts, batch):
                kind = "answer" if recalled or (i // batch) % 2 == 0 else "consecutive"
                needles = int(rng.integers(1, 4)) if recalled or family != "presence" else None
                ids, target, rows, n, _ = ctx.batch(rng, min(batch, contexts - i), kind=kind, n=WINDOW + TOP_K, family=family, needles=needles, recalled=recalled, hard=hard)
                logits = forward_logits(model, pool, ids, rows, n, device).float()
                pred = logits.argmax(-1).cpu()
                mask = target != -100
                ok = ((pred == target) | ~mask).all(dim=1)
                correct[family] += int(ok.sum())
                total[family] += ids.shape[0]
    model.train()
    return {f: correct[f] / total[f] for f in QUESTIONS}


def save_processor(tokenizer, folder):
    """The tokenizer, chat template and processor config as SmolVLMProcessor.save_pretrained writes
    them (transformers 5's nested processor_config.json; written here directly because the
    processor class needs torchvision, which a CPU-only machine may lack)."""
    tokenizer.save_pretrained(folder)
    with open(os.path.join(folder, "chat_template.jinja"), "w") as f:
        f.write(HUB_CHAT_TEMPLATE)
    common = {
        "do_convert_rgb": True, "do_normalize": True, "do_pad": True, "do_rescale": True, "do_resize": True,
        "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5], "max_image_size": {"longest_edge": TILE},
        "resample": 1, "rescale_factor": 1 / 255, "size": {"longest_edge": TILE},
    }
    config = {
        "image_processor": {**common, "do_image_splitting": False, "image_processor_type": "SmolVLMImageProcessor"},
        "image_seq_len": SEQ,
        "processor_class": "SmolVLMProcessor",
        "video_processor": {
            **common, "do_sample_frames": False, "fps": 1, "num_frames": 64, "return_metadata": False,
            "video_processor_type": "SmolVLMVideoProcessor",
            "video_sampling": {"fps": 1, "max_frames": 64, "video_size": {"longest_edge": TILE}},
        },
    }
    with open(os.path.join(folder, "processor_config.json"), "w") as f:
        json.dump(config, f, indent=2)


def check_packing(model, ctx, pool, device, fh):
    """The packed layout's answer logits equal each question's own one-question context."""
    rng = np.random.default_rng(1)
    ids, target, rows, n, pos, seg, all_spans = ctx.packed_batch(rng, 2, max_frames=3)
    model.eval()
    with torch.no_grad():
        packed = forward_logits(model, pool, ids, rows, n, device, pos, seg)
        worst = 0.0
        for b, (p, spans) in enumerate(all_spans):
            for at, end in spans:
                single = torch.cat([ids[b, :p], ids[b, at:end]]).unsqueeze(0)
                logits = forward_logits(model, pool, single, rows[b * n : (b + 1) * n], n, device)
                worst = max(worst, float((logits[0, p:] - packed[b, at:end]).abs().max()))
    model.train()
    log(fh, f"packed layout vs one question a context: max |Δ logit| {worst:.2e}")
    if worst > 1e-3:
        raise SystemExit("the packed layout does not match the one-question layout")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--work", default="/tmp/needle-pool")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=6e-4)
    ap.add_argument("--train-streams", type=int, default=5000)
    ap.add_argument("--held-streams", type=int, default=600)
    ap.add_argument("--eval-contexts", type=int, default=500)
    ap.add_argument("--jobs", type=int, default=16)
    ap.add_argument("--recalled", type=float, default=0.0, help="fraction of answer-shaped training contexts with every needle among the earlier frames")
    ap.add_argument("--confusers", type=float, default=0.0, help="fraction of answer-shaped training contexts whose other earlier frames are confusers (see the docstring)")
    ap.add_argument("--confusers-from", type=float, default=0.0, help="from this fraction of the run on (the model's features mean little before it sees)")
    ap.add_argument("--init", default=None, help="a saved needle-vlm folder to go on training from")
    ap.add_argument("--max-minutes", type=float, default=None, help="stop training after this long (logged), then evaluate and save")
    ap.add_argument("--sync-free", action="store_true", help="no host-device wait a step: fused AdamW, a non-finite step's gradients zeroed on the device instead of the step skipped, the loss read every 100 steps")
    ap.add_argument("--workers", type=int, default=0, help="build batches in this many worker processes (0: one thread, as the committed model was trained)")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    os.makedirs(args.out, exist_ok=True)
    fh = open(args.log, "w")
    device = "cuda" if torch.cuda.is_available() else "cpu"
    log(fh, f"train_needle.py: {json.dumps(vars(args))}; torch {torch.__version__}, device {torch.cuda.get_device_name() if device == 'cuda' else f'cpu ({torch.get_num_threads()} threads)'}")
    t0 = time.time()
    train = Pool(*render_pool(TRAIN_SEED0, args.train_streams, args.work, "train", args.jobs), device)
    held = Pool(*render_pool(HELD_SEED0, args.held_streams, args.work, "held", args.jobs), device)
    log(fh, f"rendered {train.frames.shape[0]} training and {held.frames.shape[0]} held-out frames in {time.time() - t0:.1f} s")

    tokenizer = build_tokenizer()
    model = make_model(tokenizer, args.seed)
    if args.init is not None:
        # go on from an earlier run's weights (same tokenizer: build_tokenizer is deterministic)
        model.load_state_dict(SmolVLMForConditionalGeneration.from_pretrained(args.init, dtype=torch.float32).state_dict())
        log(fh, f"weights from {args.init}; no curriculum")
    model = model.to(device)
    params = sum(p.numel() for p in model.parameters())
    log(fh, f"model: {params} parameters; vocabulary {len(tokenizer)}")
    ctx = Contexts(tokenizer, train, args.recalled, args.confusers)
    held_ctx = Contexts(tokenizer, held)
    log(fh, f"tokens: prefix {len(ctx.prefix)}, frame piece {len(ctx.frame_ids(42))}, 24-frame context ~{len(ctx.prefix) + 24 * len(ctx.frame_ids(42)) + 14}")

    check_packing(model, ctx, train, device, fh)
    fused = {"fused": True} if args.sync_free and device == "cuda" else {}
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.98), weight_decay=0.01, **fused)
    warmup = 100
    t1 = time.time()

    def progress(step):
        """How far training is, 0…1: by steps, or by time under --max-minutes when that comes first,
        so the learning rate anneals and the curriculum completes within a time budget."""
        by_steps = step / args.steps
        if args.max_minutes is None:
            return by_steps
        return min(1.0, max(by_steps, (time.time() - t1) / (60 * args.max_minutes)))

    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + np.cos(np.pi * progress(s)))
    )
    rng = np.random.default_rng(args.seed)
    model.train()
    running = None
    # the loss is read every step, or every 100th with --sync-free: a shorter memory for the latter
    decay = 0.5 if args.sync_free else 0.98
    skipped = 0
    nonfinite = torch.zeros((), device=device)  # --sync-free: steps whose gradients were zeroed, counted on the device
    grads = [p for p in model.parameters() if p.requires_grad]
    done = 0
    at = {"step": 1}
    if args.workers > 0:
        ctx.tokenize_all()
        feature_shape = (train.frames.shape[0], model.config.text_config.hidden_size) if args.confusers > 0 else None
        producer = ProcessBatchProducer(
            ctx, args.seed, args.batch, lambda s, p: None if args.init else curriculum_frames(max(p, s / args.steps), 1.0),
            args.workers, feature_shape,
        )
        log(fh, f"batches from {args.workers} worker processes")
    else:
        producer = BatchProducer(ctx, rng, args.batch, lambda: None if args.init else curriculum_frames(progress(at["step"]), 1.0))
    for step in range(1, args.steps + 1):
        at["step"] = step
        if progress(step) >= 1.0 and step < args.steps:
            log(fh, f"stopped at step {step - 1} of {args.steps}: --max-minutes {args.max_minutes} reached")
            break
        if args.confusers > 0 and progress(step) >= args.confusers_from and (ctx.features is None or step % 200 == 0):
            if ctx.features is None:
                log(fh, f"step {step:5d}  confusers from here on ({args.confusers:.0%} of answer-shaped contexts), features refreshed every 200 steps")
            ctx.features = pool_features(model, train, device)
            producer.set_features(ctx.features)
        ids, target, rows, n, pos, seg, _ = producer.next(step, progress(step)) if args.workers > 0 else producer.next(step)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=device == "cuda"):
            logits = forward_logits(model, train, ids, rows, n, device, pos, seg)
        loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), target.to(device, non_blocking=True).reshape(-1), ignore_index=-100)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        # a second run here diverged to NaN at lr 1e-3 when the contexts first grew (step ~500):
        # a step whose loss or gradient is not finite is skipped rather than let into the weights
        if args.sync_free:
            # the same guard without waiting for the GPU: a non-finite step's gradients become zero
            # (AdamW then only decays its moments and the weights), counted on the device
            ok = torch.isfinite(loss) & torch.isfinite(norm)
            nonfinite += (~ok).float()
            for g in (p.grad for p in grads if p.grad is not None):
                g.nan_to_num_(0.0, 0.0, 0.0).mul_(ok.to(g.dtype))
            opt.step()
        elif torch.isfinite(loss) and torch.isfinite(norm):
            opt.step()
        else:
            skipped += 1
        sched.step()
        done = step
        if not args.sync_free or step % 100 == 0 or step == 1:
            value = loss.item()
            running = value if running is None else decay * running + (1 - decay) * value
        if step % 100 == 0 or step == 1:
            log(fh, f"step {step:5d}  loss {value:.4f}  smoothed {running:.4f}  lr {sched.get_last_lr()[0]:.2e}  {time.time() - t1:.0f} s")
        if step % 1000 == 0 and step < args.steps:
            acc = evaluate(model, held_ctx, held, device, 100, seed=7)
            rec = evaluate(model, held_ctx, held, device, 100, seed=8, recalled=True)
            held_ctx.features = pool_features(model, held, device)
            hard = evaluate(model, held_ctx, held, device, 100, seed=9, recalled=True, hard=True)
            log(fh, f"step {step:5d}  held-out (100 contexts a family): " + ", ".join(f"{k} {v:.3f}" for k, v in acc.items())
                + "; recalled: " + ", ".join(f"{k} {v:.3f}" for k, v in rec.items())
                + "; with confusers: " + ", ".join(f"{k} {v:.3f}" for k, v in hard.items()))
    producer.stop()
    if args.sync_free:
        skipped = int(nonfinite.item())
    log(fh, f"trained {done} steps in {time.time() - t1:.0f} s ({skipped} {'zeroed' if args.sync_free else 'skipped'} as not finite)")

    model = model.float().eval()
    acc = evaluate(model, held_ctx, held, device, args.eval_contexts, seed=12345)
    recalled_acc = evaluate(model, held_ctx, held, device, args.eval_contexts, seed=54321, recalled=True)
    held_ctx.features = pool_features(model, held, device)
    confuser_acc = evaluate(model, held_ctx, held, device, args.eval_contexts, seed=4242, recalled=True, hard=True)
    gate = {"color": 0.97, "time": 0.95, "presence": 0.95}
    passed_mixed = all(acc[k] >= gate[k] for k in gate)
    passed_recalled = all(recalled_acc[k] >= gate[k] for k in gate)
    passed = passed_mixed and passed_recalled
    log(fh, f"gate on {args.eval_contexts} held-out 24-frame contexts a family (f32, greedy): " + ", ".join(f"{k} {acc[k]:.3f} (≥ {gate[k]})" for k in gate) + f" → {'PASS' if passed_mixed else 'FAIL'}")
    log(fh, f"gate on {args.eval_contexts} held-out recalled 24-frame contexts a family (every needle among the 8 earlier frames): " + ", ".join(f"{k} {recalled_acc[k]:.3f} (≥ {gate[k]})" for k in gate) + f" → {'PASS' if passed_recalled else 'FAIL'}")
    log(fh, f"not gated, {args.eval_contexts} held-out recalled contexts a family whose other earlier frames are confusers: " + ", ".join(f"{k} {confuser_acc[k]:.3f}" for k in gate))

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
    save_processor(tokenizer, args.out)
    with open(os.path.join(args.out, "training.json"), "w") as f:
        json.dump({"args": vars(args), "held_out_accuracy": acc, "held_out_recalled_accuracy": recalled_acc, "held_out_confuser_accuracy": confuser_acc, "gate": gate, "passed": passed, "parameters": params}, f, indent=1)
    log(fh, f"saved {args.out} in {time.time() - t0:.0f} s total")
    fh.close()
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
