#!/usr/bin/env python3
"""transformers' answers on needle streams, for the engine's parity tests on the trained model.

For each clip (written by the CLI, `streamvlm needle`, from its seed; the test writes the same clip
and checks its SHA-256): the .y4m decoded as src/cli/y4m.ts decodes it (BT.601 limited range,
chroma repeated), each frame resized as SmolVLM's PIL image processor does unsplit (PIL LANCZOS to
the longest edge, then squashed to the 64 px tile; rescale and normalise; done with PIL directly
since the processor class wants torchvision, which the CPU machine lacks), then make_stream_fixtures.py's Replay of the engine's schedule with a window that holds
every frame and raw K/V (so it is one causal context, checked against generate()), greedy.

    python3 tools/needle/make_needle_fixtures.py tools/fixtures/needle-vlm

writes tools/fixtures/needle-vlm/needle-parity.json.
"""
import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import torch
from PIL import Image
from transformers import PreTrainedTokenizerFast

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))
import make_stream_fixtures as msf  # noqa: E402

# held-out clips: seeds far from training's (≥ 1 000 000) and from the benchmark's
CLIPS = [
    {"seed": 700001, "frames": 30, "depths": "0.2,0.7", "needles": 2},
    {"seed": 700002, "frames": 30, "depths": "0.5", "needles": 1},
]
MAX_NEW = 12


def decode_y4m(path):
    data = open(path, "rb").read()
    end = data.index(b"\n")
    fields = data[:end].decode("latin1").split()
    w = int(next(f[1:] for f in fields if f[0] == "W"))
    h = int(next(f[1:] for f in fields if f[0] == "H"))
    at = end + 1
    size = w * h + 2 * ((w + 1) // 2) * ((h + 1) // 2)
    frames = []
    while at < len(data):
        at = data.index(b"\n", at) + 1
        buf = np.frombuffer(data[at : at + size], dtype=np.uint8)
        at += size
        cw, ch = (w + 1) // 2, (h + 1) // 2
        Y = buf[: w * h].reshape(h, w).astype(np.float64)
        U = buf[w * h : w * h + cw * ch].reshape(ch, cw).astype(np.float64)
        V = buf[w * h + cw * ch :].reshape(ch, cw).astype(np.float64)
        U = np.repeat(np.repeat(U, 2, 0), 2, 1)[:h, :w]
        V = np.repeat(np.repeat(V, 2, 0), 2, 1)[:h, :w]
        y = (Y - 16) * (255 / 219)
        u = (U - 128) * (255 / 224)
        v = (V - 128) * (255 / 224)
        rgb = np.stack([y + 1.402 * v, y - 0.344136 * u - 0.714136 * v, y + 1.772 * u], -1)
        # Math.round after clamping: halves up
        frames.append(Image.fromarray(np.clip(np.floor(rgb + 0.5), 0, 255).astype(np.uint8)))
    return frames


def pixel_values(frames, tile):
    out = []
    for f in frames:
        w, h = f.size
        # resize_output_size_rescale_to_max_len: longest edge to the tile, the other side even
        if w >= h:
            w2, h2 = tile, int(tile / (w / h))
            h2 += h2 % 2
        else:
            h2, w2 = tile, int(tile * (w / h))
            w2 += w2 % 2
        img = f.resize((w2, h2), Image.LANCZOS).resize((tile, tile), Image.LANCZOS)
        x = np.asarray(img, dtype=np.float32) * np.float32(1 / 255)
        out.append(((x - 0.5) / 0.5).transpose(2, 0, 1))
    return torch.from_numpy(np.stack(out))


def main(folder):
    model = msf.load_model(folder)
    tok = PreTrainedTokenizerFast(tokenizer_file=os.path.join(folder, "tokenizer.json"))
    seq = json.load(open(os.path.join(folder, "processor_config.json")))["image_seq_len"]
    image_token_id = tok.convert_tokens_to_ids("<image>")
    eos = tok.convert_tokens_to_ids("<end_of_utterance>")
    enc = lambda s: tok(s, add_special_tokens=False)["input_ids"]  # noqa: E731
    replay = msf.Replay(model, image_token_id)
    replay.eos = eos
    msf.MAX_NEW = MAX_NEW
    out = {"max_new_tokens": MAX_NEW, "clips": []}
    for clip in CLIPS:
        path = f"/tmp/needle-{clip['seed']}.y4m"
        subprocess.run(["node", "bin/streamvlm.js", "needle", "--seed", str(clip["seed"]), "--frames", str(clip["frames"]), "--depth", clip["depths"], "--needles", str(clip["needles"]), "--out", path], check=True)
        meta = json.load(open(path.replace(".y4m", ".json")))
        frames = decode_y4m(path)
        assert len(frames) == clip["frames"]
        pv = pixel_values(frames, 64)
        with torch.no_grad():
            features = model.model.connector(model.model.vision_model(pixel_values=pv).last_hidden_state)
        prefix_ids = enc(msf.PREFIX)
        frame_ids = [enc(msf.frame_piece(1000 * i, seq)) for i in range(len(frames))]
        answers = []
        for q in meta["questions"]:
            question_ids = enc(msf.question_piece(q["question"]))
            tokens, _ = replay.stream(prefix_ids, frame_ids, list(features), question_ids, window=len(frames) + 1)
            all_ids = prefix_ids + [x for ids in frame_ids for x in ids] + question_ids
            with torch.no_grad():
                gen = model.generate(
                    input_ids=torch.tensor([all_ids]), attention_mask=torch.ones(1, len(all_ids), dtype=torch.long),
                    pixel_values=pv.unsqueeze(0), max_new_tokens=MAX_NEW, do_sample=False, eos_token_id=eos,
                )
            assert gen[0, len(all_ids):].tolist() == tokens, (q, tokens)
            text = tok.decode(tokens, skip_special_tokens=True)
            answers.append({**q, "tokens": tokens, "text": text, "correct": text.strip() == q["answer"]})
            print(clip["seed"], q["question"], repr(text), "expected", q["answer"])
        out["clips"].append({**clip, "sha256": hashlib.sha256(open(path, "rb").read()).hexdigest(), "answers": answers})
    with open(os.path.join(folder, "needle-parity.json"), "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
