#!/usr/bin/env python3
"""Export a SmolVLM model folder to ONNX in the layout transformers.js v4 loads, and check it.

Issue 16's side-by-side peer: transformers.js (WebGPU through onnxruntime-web) must run the same
model with the same weights as streamvlm. transformers.js's SmolVLM / Idefics3 support
(`SmolVLMForConditionalGeneration extends Idefics3ForConditionalGeneration extends Llava...`,
model type ImageTextToText in `src/models/session_config.js` @5ed4c5c0) opens three sessions from
`<model>/onnx/`:

  vision_encoder.onnx        pixel_values [batch_size, num_images, 3, H, W] f32,
                             pixel_attention_mask [batch_size, num_images, H, W] bool
                             -> image_features [batch_size*num_images, image_seq_len, text_hidden]
  embed_tokens.onnx          input_ids [batch_size, sequence_length] i64 -> inputs_embeds
  decoder_model_merged.onnx  inputs_embeds, attention_mask [batch_size, total_sequence_length] i64,
                             position_ids [batch_size, sequence_length] i64,
                             past_key_values.{i}.key / .value [batch_size, kv_heads, past_sequence_length, head_dim],
                             num_logits_to_keep (i64 scalar; optional, transformers.js sets it to 1
                             while generating when the graph declares it)
                             -> logits, present.{i}.key / .value

(`_fp16` / `_quantized` suffixes select other dtypes; this writes fp32 and, with --fp16, `_fp16`
graphs: f16 weights and math, float32 inputs and outputs except the decoder's cache, float16.)
The same names and shapes as the onnx-community exports of SmolVLM-256M-Instruct.
transformers.js builds the empty first cache from the decoder's input metadata, resolving the symbolic dim `batch_size` and setting every other symbolic dim to 0,
so the cache inputs must have numeric head / head_dim dims and a dim named exactly `batch_size`:
this script names every dynamic dim itself (and renames them after a dynamo export).

The graphs are exported from small torch modules written here over the model's own submodules
(linear layers, norms, MLPs) rather than by tracing transformers' forward: transformers 5's cache
objects and mask builders do not trace into a plain past/present graph. Those modules are checked
against transformers itself (full-model forward, eager attention) through onnxruntime:
vision features, embeddings, prefill logits, decode logits with past, greedy tokens. The vision
graph takes whole frames (H = W = vision image_size, what the processor gives with image splitting
off, as for video frames): position ids are then 0..patches-1 exactly as transformers' bucketing
gives; pixel_attention_mask masks the keys of all-padding patches as transformers does.

Usage (GPU machine's Python: torch, transformers 5.x, onnx, onnxruntime; CPU is enough):

  python3 tools/onnx/export_smolvlm_onnx.py tools/fixtures/tiny-gqa --out /tmp/tiny-onnx
  python3 tools/onnx/export_smolvlm_onnx.py --random-256m /tmp/m256 [--seed 0] [--fp16]

`--out DIR` copies the model folder's files to DIR and writes DIR/onnx/; without it the onnx/
folder is written inside the model folder. `--random-256m OUT` first builds a SmolVLM2-256M-shaped
model with random weights (torch.manual_seed(seed), transformers' own init) into OUT
(model.safetensors f32, config.json, a tokenizer with the real special-token ids, processor configs
giving 512x512 frames, generation_config.json), then exports it into OUT/onnx. The last stdout
line is `SUMMARY {json}` (also written to <out>/onnx/export-summary.json); exit status 1 when a
check fails, 2 when no export path worked.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import time
import traceback

import numpy as np
import torch
from torch import nn

T0 = time.time()


def log(msg: str) -> None:
    print(f"[export {time.time() - T0:7.1f}s] {msg}", flush=True)


# --------------------------------------------------------------------------------------------
# The model's parts (transformers 5 attribute names, with the older ones as fallbacks)
# --------------------------------------------------------------------------------------------


def first_attr(obj, *paths):
    for p in paths:
        cur = obj
        ok = True
        for part in p.split("."):
            if not hasattr(cur, part):
                ok = False
                break
            cur = getattr(cur, part)
        if ok:
            return cur
    raise AttributeError(f"none of {paths} on {type(obj).__name__}")


class Parts:
    def __init__(self, model):
        self.model = model
        self.config = model.config
        self.vision = first_attr(model, "model.vision_model", "vision_model")
        self.connector = first_attr(model, "model.connector", "connector")
        self.text = first_attr(model, "model.text_model", "text_model", "model.language_model")
        self.lm_head = first_attr(model, "lm_head")
        tc = self.config.text_config
        vc = self.config.vision_config
        self.num_layers = tc.num_hidden_layers
        self.num_heads = tc.num_attention_heads
        self.num_kv_heads = tc.num_key_value_heads
        self.head_dim = getattr(tc, "head_dim", None) or tc.hidden_size // tc.num_attention_heads
        self.hidden = tc.hidden_size
        self.vocab = tc.vocab_size
        self.v_hidden = vc.hidden_size
        self.v_heads = vc.num_attention_heads
        self.v_layers = vc.num_hidden_layers
        self.image_size = vc.image_size
        self.patch = vc.patch_size
        self.scale_factor = self.config.scale_factor
        side = self.image_size // self.patch
        self.image_seq_len = side * side // (self.scale_factor ** 2)
        self.image_token_id = self.config.image_token_id


# --------------------------------------------------------------------------------------------
# Export modules
# --------------------------------------------------------------------------------------------


class VisionEncoder(nn.Module):
    """pixel_values [B, N, 3, S, S], pixel_attention_mask [B, N, S, S] -> image_features [B*N, seq, H]."""

    def __init__(self, parts: Parts):
        super().__init__()
        self.p = parts
        self.embeddings = parts.vision.embeddings
        self.layers = parts.vision.encoder.layers
        self.post_layernorm = parts.vision.post_layernorm
        self.connector = parts.connector
        self.register_buffer("position_ids", torch.arange((parts.image_size // parts.patch) ** 2).unsqueeze(0), persistent=False)

    def pixel_shuffle(self, x):
        # transformers' SmolVLMConnector.pixel_shuffle with -1 for the batch so it stays dynamic
        s = self.p.scale_factor
        seq, dim = x.shape[1], x.shape[2]
        side = int(round(math.sqrt(seq)))
        x = x.reshape(-1, side, side // s, dim * s)
        x = x.permute(0, 2, 1, 3)
        x = x.reshape(-1, side // s, side // s, dim * s * s)
        x = x.permute(0, 2, 1, 3)
        return x.reshape(-1, seq // (s * s), dim * s * s)

    def forward(self, pixel_values, pixel_attention_mask):
        S = self.p.image_size
        P = self.p.patch
        side = S // P
        x = pixel_values.reshape(-1, 3, S, S)
        emb = self.embeddings.patch_embedding(x).flatten(2).transpose(1, 2)
        h = emb + self.embeddings.position_embedding(self.position_ids)
        # keys of patches with no real pixel are masked (transformers' patch_attention_mask)
        m = pixel_attention_mask.reshape(-1, side, P, side, P).to(torch.float32)
        patch_valid = m.amax(dim=(2, 4)).reshape(-1, 1, 1, side * side) > 0
        key_bias = torch.where(patch_valid, torch.zeros((), dtype=h.dtype), torch.full((), torch.finfo(h.dtype).min, dtype=h.dtype))
        nh = self.p.v_heads
        hd = self.p.v_hidden // nh
        scale = hd ** -0.5
        for layer in self.layers:
            r = h
            t = layer.layer_norm1(h)
            a = layer.self_attn
            # sizes from the tensors themselves (reshape to (*, -1, hd), flatten) so every axis stays dynamic
            q = a.q_proj(t).reshape(*t.shape[:-1], -1, hd).transpose(1, 2)
            k = a.k_proj(t).reshape(*t.shape[:-1], -1, hd).transpose(1, 2)
            v = a.v_proj(t).reshape(*t.shape[:-1], -1, hd).transpose(1, 2)
            w = torch.matmul(q, k.transpose(2, 3)) * scale + key_bias
            w = torch.softmax(w.to(torch.float32), dim=-1).to(q.dtype)
            o = torch.matmul(w, v).transpose(1, 2).flatten(2)
            h = r + a.out_proj(o)
            h = h + layer.mlp(layer.layer_norm2(h))
        h = self.post_layernorm(h)
        return self.connector.modality_projection(self.pixel_shuffle(h))


class EmbedTokens(nn.Module):
    def __init__(self, parts: Parts):
        super().__init__()
        self.embed = parts.text.embed_tokens

    def forward(self, input_ids):
        return self.embed(input_ids)


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class Decoder(nn.Module):
    """Llama text model + lm_head with explicit past / present tensors (transformers' eager math)."""

    def __init__(self, parts: Parts, with_logits_to_keep: bool):
        super().__init__()
        self.p = parts
        self.layers = parts.text.layers
        self.norm = parts.text.norm
        self.lm_head = parts.lm_head
        self.with_logits_to_keep = with_logits_to_keep
        rot = parts.text.rotary_emb
        self.register_buffer("inv_freq", rot.inv_freq.detach().clone().to(torch.float32), persistent=False)
        self.attention_scaling = float(getattr(rot, "attention_scaling", 1.0))

    def forward(self, inputs_embeds, attention_mask, position_ids, *rest):
        p = self.p
        L = p.num_layers
        if self.with_logits_to_keep:
            past = rest[: 2 * L]
            num_logits_to_keep = rest[2 * L]
        else:
            past = rest
            num_logits_to_keep = None
        S = inputs_embeds.shape[1]
        past_len = past[0].shape[2]
        freqs = position_ids.to(torch.float32).unsqueeze(-1) * self.inv_freq
        emb = torch.cat((freqs, freqs), dim=-1)
        cos = (emb.cos() * self.attention_scaling).unsqueeze(1).to(inputs_embeds.dtype)
        sin = (emb.sin() * self.attention_scaling).unsqueeze(1).to(inputs_embeds.dtype)
        q_pos = torch.arange(S, device=inputs_embeds.device).unsqueeze(1) + past_len
        k_pos = torch.arange(past_len + S, device=inputs_embeds.device).unsqueeze(0)
        allowed = (k_pos <= q_pos).unsqueeze(0).unsqueeze(0) & (attention_mask[:, None, None, :] != 0)
        bias = torch.where(allowed, torch.zeros((), dtype=inputs_embeds.dtype), torch.full((), torch.finfo(inputs_embeds.dtype).min, dtype=inputs_embeds.dtype))
        nh, kvh, hd = p.num_heads, p.num_kv_heads, p.head_dim
        rep = nh // kvh
        scale = hd ** -0.5
        h = inputs_embeds
        presents = []
        for i, layer in enumerate(self.layers):
            r = h
            t = layer.input_layernorm(h)
            a = layer.self_attn
            q = a.q_proj(t).reshape(*t.shape[:-1], -1, hd).transpose(1, 2)
            k = a.k_proj(t).reshape(*t.shape[:-1], -1, hd).transpose(1, 2)
            v = a.v_proj(t).reshape(*t.shape[:-1], -1, hd).transpose(1, 2)
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
            k = torch.cat((past[2 * i], k), dim=2)
            v = torch.cat((past[2 * i + 1], v), dim=2)
            presents += [k, v]
            # transformers' repeat_kv: each KV head serves `rep` consecutive query heads
            kr = k.unsqueeze(2).expand(-1, -1, rep, -1, -1).flatten(1, 2)
            vr = v.unsqueeze(2).expand(-1, -1, rep, -1, -1).flatten(1, 2)
            w = torch.matmul(q, kr.transpose(2, 3)) * scale + bias
            w = torch.softmax(w.to(torch.float32), dim=-1).to(q.dtype)
            o = torch.matmul(w, vr).transpose(1, 2).flatten(2)
            h = r + a.o_proj(o)
            h = h + layer.mlp(layer.post_attention_layernorm(h))
        h = self.norm(h)
        if num_logits_to_keep is not None:
            # 0 keeps every position (transformers' logits_to_keep=0), n keeps the last n
            keep = torch.where(num_logits_to_keep == 0, S, num_logits_to_keep)
            h = h.index_select(1, torch.arange(S - keep, S, device=h.device))
        return (self.lm_head(h), *presents)


# --------------------------------------------------------------------------------------------
# Export with named dims; TorchScript first, dynamo second
# --------------------------------------------------------------------------------------------


def io_spec(parts: Parts, graph: str, with_logits_to_keep: bool):
    """(input names, output names, {name: {axis: dim name}}) of one graph."""
    if graph == "vision_encoder":
        return (
            ["pixel_values", "pixel_attention_mask"],
            ["image_features"],
            {
                "pixel_values": {0: "batch_size", 1: "num_images"},
                "pixel_attention_mask": {0: "batch_size", 1: "num_images"},
                "image_features": {0: "batch_size_x_num_images", 1: parts.image_seq_len, 2: parts.hidden},
            },
        )
    if graph == "embed_tokens":
        return (["input_ids"], ["inputs_embeds"], {"input_ids": {0: "batch_size", 1: "sequence_length"}, "inputs_embeds": {0: "batch_size", 1: "sequence_length"}})
    ins = ["inputs_embeds", "attention_mask", "position_ids"]
    outs = ["logits"]
    axes = {
        "inputs_embeds": {0: "batch_size", 1: "sequence_length"},
        "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
        "position_ids": {0: "batch_size", 1: "sequence_length"},
        "logits": {0: "batch_size", 1: "logits_length"},
    }
    for i in range(parts.num_layers):
        for kv in ("key", "value"):
            ins.append(f"past_key_values.{i}.{kv}")
            outs.append(f"present.{i}.{kv}")
            axes[f"past_key_values.{i}.{kv}"] = {0: "batch_size", 2: "past_sequence_length"}
            axes[f"present.{i}.{kv}"] = {0: "batch_size", 2: "total_sequence_length"}
    if with_logits_to_keep:
        ins.append("num_logits_to_keep")
    return ins, outs, axes


def sample_args(parts: Parts, graph: str, with_logits_to_keep: bool, n_images=2, seq=5, past=3):
    g = torch.Generator().manual_seed(1234)
    S = parts.image_size
    if graph == "vision_encoder":
        return (torch.rand(1, n_images, 3, S, S, generator=g) * 2 - 1, torch.ones(1, n_images, S, S, dtype=torch.bool))
    if graph == "embed_tokens":
        return (torch.randint(0, parts.vocab, (1, seq), generator=g),)
    args = [
        torch.randn(1, seq, parts.hidden, generator=g) * 0.02,
        torch.ones(1, past + seq, dtype=torch.int64),
        torch.arange(past, past + seq).unsqueeze(0),
    ]
    for _ in range(2 * parts.num_layers):
        args.append(torch.randn(1, parts.num_kv_heads, past, parts.head_dim, generator=g))
    if with_logits_to_keep:
        args.append(torch.tensor(0, dtype=torch.int64))
    return tuple(args)


def rename_dims(model_proto, axes):
    """Give every dynamic graph input/output dim the name transformers.js expects."""
    import onnx  # noqa: F401

    for vi in list(model_proto.graph.input) + list(model_proto.graph.output):
        if vi.name not in axes:
            continue
        dims = vi.type.tensor_type.shape.dim
        for axis, name in axes[vi.name].items():
            d = dims[axis]
            d.Clear()
            if isinstance(name, int):
                d.dim_value = name
            else:
                d.dim_param = name
    # internal shapes a dynamo export recorded under its own symbol names would now disagree
    del model_proto.graph.value_info[:]


def check_dims(model_proto, parts: Parts, graph: str):
    """The cache inputs must read [batch_size, kv_heads, <sym>, head_dim] for transformers.js."""
    problems = []
    for vi in model_proto.graph.input:
        dims = [(d.dim_param or d.dim_value) for d in vi.type.tensor_type.shape.dim]
        if vi.name.startswith("past_key_values."):
            if dims[0] != "batch_size" or dims[1] != parts.num_kv_heads or dims[3] != parts.head_dim or not isinstance(dims[2], str):
                problems.append(f"{vi.name} dims {dims}")
    return problems


def export_graph(module, parts, graph, path, with_logits_to_keep, opset, exporters=("torchscript", "dynamo")):
    """Returns {path, method, opset, external_data, notes}. Tries the exporters in order."""
    import onnx

    ins, outs, axes = io_spec(parts, graph, with_logits_to_keep)
    args = sample_args(parts, graph, with_logits_to_keep)
    notes = []
    tmp = path + ".tmp"
    os.makedirs(tmp, exist_ok=True)
    attempts = [(e, opset if e == "torchscript" else max(opset, 18)) for e in exporters]
    for method, op in attempts:
        raw = os.path.join(tmp, f"{graph}.{method}.onnx")
        t = time.time()
        try:
            if method == "torchscript":
                torch.onnx.export(
                    module,
                    args,
                    raw,
                    input_names=ins,
                    output_names=outs,
                    dynamic_axes={k: {a: n for a, n in v.items() if isinstance(n, str)} for k, v in axes.items()},
                    opset_version=op,
                    do_constant_folding=True,
                    dynamo=False,
                )
            else:
                dyn = []
                for name in ins:
                    ax = {a: n for a, n in axes.get(name, {}).items() if isinstance(n, str)}
                    dyn.append({a: torch.export.Dim.AUTO for a in ax} if ax else None)
                if graph == "decoder_model_merged":
                    # torch.export matches the *rest varargs as one nested tuple
                    dyn = dyn[:3] + [tuple(dyn[3:])]
                prog = torch.onnx.export(
                    module,
                    args,
                    input_names=ins,
                    output_names=outs,
                    dynamic_shapes=tuple(dyn),
                    opset_version=op,
                    dynamo=True,
                    external_data=True,
                )
                prog.save(raw, external_data=True)
            m = onnx.load(raw, load_external_data=True)
            rename_dims(m, axes)
            got_in = [i.name for i in m.graph.input]
            got_out = [o.name for o in m.graph.output]
            assert got_in == ins, f"inputs {got_in} != {ins}"
            assert got_out == outs, f"outputs {got_out} != {outs}"
            problems = check_dims(m, parts, graph)
            assert not problems, f"cache dims: {problems}"
            size = m.ByteSize()
            if size < 2 ** 31 - 2 ** 24:
                onnx.save(m, path)
                external = False
            else:
                data_name = os.path.basename(path) + "_data"
                onnx.save(m, path, save_as_external_data=True, all_tensors_to_one_file=True, location=data_name, size_threshold=1024)
                external = True
            log(f"{graph}: exported with {method} (opset {op}) in {time.time() - t:.1f}s, {os.path.getsize(path) / 1e6:.1f} MB{' + external data' if external else ''}")
            notes.append(f"{method} ok")
            shutil.rmtree(tmp, ignore_errors=True)
            return {"path": path, "method": method, "opset": op, "external_data": external, "notes": notes}
        except Exception as e:  # noqa: BLE001 - every failure is logged and the next path tried
            msg = f"{method} failed: {type(e).__name__}: {str(e)[:2000]}"
            log(f"{graph}: {msg}")
            traceback.print_exc(limit=8)
            notes.append(msg)
    shutil.rmtree(tmp, ignore_errors=True)
    return {"path": None, "method": None, "notes": notes}


# --------------------------------------------------------------------------------------------
# The random SmolVLM2-256M folder
# --------------------------------------------------------------------------------------------

SMOLVLM2_256M = {
    "architectures": ["SmolVLMForConditionalGeneration"],
    "model_type": "smolvlm",
    "image_token_id": 49190,
    "scale_factor": 4,
    "tie_word_embeddings": False,
    "pad_token_id": 2,
    "vision_config": {
        "model_type": "smolvlm_vision",
        "hidden_size": 768,
        "intermediate_size": 3072,
        "num_hidden_layers": 12,
        "num_attention_heads": 12,
        "num_channels": 3,
        "image_size": 512,
        "patch_size": 16,
        "layer_norm_eps": 1e-6,
        "hidden_act": "gelu_pytorch_tanh",
    },
    "text_config": {
        "model_type": "llama",
        "hidden_size": 576,
        "num_hidden_layers": 30,
        "num_attention_heads": 9,
        "num_key_value_heads": 3,
        "head_dim": 64,
        "intermediate_size": 1536,
        "vocab_size": 49280,
        "rms_norm_eps": 1e-5,
        "rope_parameters": {"rope_theta": 100000.0, "rope_type": "default"},
        "max_position_embeddings": 8192,
        "hidden_act": "silu",
        "tie_word_embeddings": False,
        "bos_token_id": 1,
        "eos_token_id": 49279,
        "pad_token_id": 2,
    },
}
FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "tiny-gqa")


def synthetic_tokenizer(image_token_id: int, vocab_size: int) -> dict:
    """bench/synthetic-model.ts's syntheticTokenizerJson: the tiny fixture's BPE with the special
    tokens at the real ids (<global-img> 49152, <row_r_col_c> after it, <fake_token_around_image>
    49189, <image> 49190, <end_of_utterance> 49279) and filler entries up to the vocabulary."""
    with open(os.path.join(FIXTURE, "tokenizer.json")) as f:
        tok = json.load(f)
    ids = {
        "<global-img>": image_token_id - 38,
        "<fake_token_around_image>": image_token_id - 1,
        "<image>": image_token_id,
        "<end_of_utterance>": vocab_size - 1,
    }
    next_row_col = ids["<global-img>"] + 1
    for t in tok["added_tokens"]:
        if t["id"] <= 2:
            continue
        if t["content"] in ids:
            t["id"] = ids[t["content"]]
        else:
            t["id"] = next_row_col
            next_row_col += 1
    used = set(tok["model"]["vocab"].values()) | {t["id"] for t in tok["added_tokens"]}
    for i in range(vocab_size):
        if i not in used:
            tok["model"]["vocab"][f"<filler_{i}>"] = i
    return tok


def processor_configs(tile: int, image_seq_len: int):
    """(processor_config.json in transformers 5's nested layout, preprocessor_config.json flat for
    transformers.js). Frames are tile x tile, not split, as SmolVLM2's video processor gives them
    (video_sampling.video_size.longest_edge = 512 on the real 256M); a still image of the real
    model is split into 512 px tiles (size.longest_edge 2048), which only --image-splitting
    reproduces here."""
    norm = {
        "do_convert_rgb": True,
        "do_normalize": True,
        "do_rescale": True,
        "do_resize": True,
        "do_pad": True,
        "image_mean": [0.5, 0.5, 0.5],
        "image_std": [0.5, 0.5, 0.5],
        "resample": 1,
        "rescale_factor": 1 / 255,
    }
    image = {**norm, "image_processor_type": "SmolVLMImageProcessor", "do_image_splitting": False, "max_image_size": {"longest_edge": tile}, "size": {"longest_edge": tile}}
    video = {**norm, "video_processor_type": "SmolVLMVideoProcessor", "do_sample_frames": False, "fps": 1, "num_frames": 64, "max_image_size": {"longest_edge": tile}, "size": {"longest_edge": tile}, "video_sampling": {"fps": 1, "max_frames": 64, "video_size": {"longest_edge": tile}}}
    nested = {"image_processor": image, "video_processor": video, "image_seq_len": image_seq_len, "processor_class": "SmolVLMProcessor"}
    flat = {**image, "image_processor_type": "Idefics3ImageProcessor", "processor_class": "Idefics3Processor"}
    return nested, flat


def build_random_256m(out: str, seed: int, folder_dtype: str = "float16") -> None:
    from transformers import SmolVLMConfig, SmolVLMForConditionalGeneration

    os.makedirs(out, exist_ok=True)
    cfg = SmolVLMConfig(**{k: v for k, v in SMOLVLM2_256M.items() if k != "architectures"})
    cfg.architectures = SMOLVLM2_256M["architectures"]
    try:
        cfg._attn_implementation = "eager"
    except Exception:  # noqa: BLE001
        pass
    torch.manual_seed(seed)
    t = time.time()
    model = SmolVLMForConditionalGeneration(cfg).to(torch.float32).eval()
    n = sum(p.numel() for p in model.parameters())
    tc = model.config.text_config
    theta = (getattr(tc, "rope_parameters", None) or {}).get("rope_theta", getattr(tc, "rope_theta", None))
    log(f"random 256M built in {time.time() - t:.1f}s: {n:,} parameters (spec: 256,484,928), rope_theta {theta}")
    if n != 256_484_928:
        log(f"WARNING: parameter count {n:,} is not the spec's 256,484,928 (§1.2): streamvlm's loader will say which tensor differs")
    assert theta is not None and abs(float(theta) - 100000.0) < 1e-3, f"rope_theta {theta} != 100000"
    # Saved as f16 by default: 2 bytes a weight, as a hub checkpoint (bf16) has, where an f32 folder
    # made streamvlm's load read twice the bytes and round each weight, while the peer read its
    # `--fp16` ONNX; f16 (not bf16) so every runtime holds the same values: the export reads this
    # folder back as f32 (exact), and the fp16 ONNX rounds nothing.
    model.to(getattr(torch, folder_dtype)).save_pretrained(out, safe_serialization=True)
    log(f"random 256M saved as {folder_dtype}")
    tok = synthetic_tokenizer(cfg.image_token_id, cfg.text_config.vocab_size)
    with open(os.path.join(out, "tokenizer.json"), "w") as f:
        json.dump(tok, f)
    for name in ("tokenizer_config.json", "chat_template.jinja"):
        shutil.copy(os.path.join(FIXTURE, name), os.path.join(out, name))
    nested, flat = processor_configs(cfg.vision_config.image_size, 64)
    with open(os.path.join(out, "processor_config.json"), "w") as f:
        json.dump(nested, f, indent=2)
    with open(os.path.join(out, "preprocessor_config.json"), "w") as f:
        json.dump(flat, f, indent=2)
    with open(os.path.join(out, "generation_config.json"), "w") as f:
        json.dump({"bos_token_id": 1, "eos_token_id": 49279, "pad_token_id": 2}, f, indent=2)
    log(f"random 256M folder written to {out}: {sorted(os.listdir(out))}")


# --------------------------------------------------------------------------------------------
# Checks through onnxruntime against transformers
# --------------------------------------------------------------------------------------------


def special_ids(folder: str, parts: Parts):
    fake = glob = None
    try:
        with open(os.path.join(folder, "tokenizer.json")) as f:
            for t in json.load(f)["added_tokens"]:
                if t["content"] == "<fake_token_around_image>":
                    fake = t["id"]
                if t["content"] == "<global-img>":
                    glob = t["id"]
    except Exception as e:  # noqa: BLE001
        log(f"no special ids from tokenizer.json ({e}); using plain text ids around the image")
    return fake, glob


def prompt_ids(folder, parts: Parts, n_images: int, seed: int):
    """<|im_start|> text [<fake><global-img><image>*seq<fake>]*n text: the image prompt layout."""
    rng = np.random.default_rng(seed)
    fake, glob = special_ids(folder, parts)
    hi = min(parts.vocab, parts.image_token_id) - 40
    text = lambda n: [int(x) for x in rng.integers(3, max(hi, 4), n)]  # noqa: E731
    ids = [1] + text(5)
    for _ in range(n_images):
        ids += ([fake] if fake is not None else []) + ([glob] if glob is not None else [])
        ids += [parts.image_token_id] * parts.image_seq_len
        ids += [fake] if fake is not None else []
        ids += text(2)
    ids += text(6)
    return ids


def stat(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, f"shape {a.shape} != {b.shape}"
    d = float(np.max(np.abs(a - b))) if a.size else 0.0
    scale = float(np.max(np.abs(b))) if b.size else 0.0
    return {"max_abs_diff": d, "ref_max_abs": scale, "rel": d / max(scale, 1e-12), "shape": list(a.shape)}


def ok_rel(s, tol):
    return s["max_abs_diff"] <= tol * max(s["ref_max_abs"], 1.0)


def hf_logits(model, ids, pixel_values):
    with torch.no_grad():
        out = model(
            input_ids=torch.tensor([ids]),
            attention_mask=torch.ones(1, len(ids), dtype=torch.int64),
            pixel_values=pixel_values,
            pixel_attention_mask=torch.ones(pixel_values.shape[0], pixel_values.shape[1], pixel_values.shape[3], pixel_values.shape[4], dtype=torch.bool),
        )
    return out.logits[0].float().numpy()


def hf_image_features(model, parts: Parts, pixel_values):
    """transformers' own vision tower + connector on the frames (not via the export modules)."""
    with torch.no_grad():
        flat = pixel_values.reshape(-1, *pixel_values.shape[2:])
        try:
            f = model.model.get_image_features(pixel_values=pixel_values, pixel_attention_mask=torch.ones(flat.shape[0], *flat.shape[2:], dtype=torch.bool).reshape(pixel_values.shape[0], pixel_values.shape[1], *flat.shape[2:]))
            if not torch.is_tensor(f):
                f = getattr(f, "pooler_output", None) if getattr(f, "pooler_output", None) is not None else (f[0] if isinstance(f, (tuple, list)) else None)
            if torch.is_tensor(f):
                return f.reshape(flat.shape[0], parts.image_seq_len, parts.hidden).float().numpy(), "get_image_features"
        except Exception as e:  # noqa: BLE001
            log(f"get_image_features unusable ({type(e).__name__}: {str(e)[:200]}); vision_model + connector instead")
        hs = parts.vision(pixel_values=flat).last_hidden_state
        return parts.connector(hs).float().numpy(), "vision_model+connector"


def run_checks(folder, onnx_dir, model, parts: Parts, suffix: str, tol: float, gen_steps: int, with_logits_to_keep: bool):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.log_severity_level = 3
    sess = {g: ort.InferenceSession(os.path.join(onnx_dir, f"{g}{suffix}.onnx"), so, providers=["CPUExecutionProvider"]) for g in ("vision_encoder", "embed_tokens", "decoder_model_merged")}
    res = {"suffix": suffix, "tolerance_rel": tol}
    ok = True
    S = parts.image_size
    n_images = 2
    g = torch.Generator().manual_seed(99)
    pixel_values = torch.rand(1, n_images, 3, S, S, generator=g) * 2 - 1

    # vision features (2 frames: the num_images axis is dynamic; the peer sends 8)
    t = time.time()
    feats = sess["vision_encoder"].run(None, {"pixel_values": pixel_values.numpy(), "pixel_attention_mask": np.ones((1, n_images, S, S), dtype=bool)})[0]
    res["vision_ort_cpu_s"] = time.time() - t
    ref, how = hf_image_features(model, parts, pixel_values)
    s = stat(feats, ref)
    s["reference"] = how
    s["ok"] = ok_rel(s, tol)
    res["vision_features"] = s
    ok &= s["ok"]
    log(f"vision features{suffix}: {s}")

    # embeddings
    ids = prompt_ids(folder, parts, n_images, seed=5)
    emb = sess["embed_tokens"].run(None, {"input_ids": np.array([ids], dtype=np.int64)})[0]
    with torch.no_grad():
        ref_emb = parts.text.embed_tokens(torch.tensor([ids])).float().numpy()
    s = stat(emb, ref_emb)
    s["ok"] = ok_rel(s, tol)
    res["embeddings"] = s
    ok &= s["ok"]
    log(f"embeddings{suffix}: {s}")

    # merge as transformers.js does (image_features rows into the <image> positions, in order)
    merged = emb.copy()
    pos = [i for i, t_ in enumerate(ids) if t_ == parts.image_token_id]
    assert len(pos) == feats.shape[0] * feats.shape[1], f"{len(pos)} image tokens for features {feats.shape}"
    merged[0, pos] = feats.reshape(-1, feats.shape[-1])

    dec = sess["decoder_model_merged"]
    dec_inputs = [i.name for i in dec.get_inputs()]
    L = parts.num_layers

    # the cache's element type as the graph declares it (f16 in the *_fp16 decoder)
    cache_dtype = np.float16 if next(i for i in dec.get_inputs() if i.name == "past_key_values.0.key").type == "tensor(float16)" else np.float32

    def empty_past():
        return {f"past_key_values.{i}.{kv}": np.zeros((1, parts.num_kv_heads, 0, parts.head_dim), dtype=cache_dtype) for i in range(L) for kv in ("key", "value")}

    def decode(embeds, past, past_len, keep):
        n = embeds.shape[1]
        feed = {"inputs_embeds": embeds.astype(np.float32), "attention_mask": np.ones((1, past_len + n), dtype=np.int64), "position_ids": np.arange(past_len, past_len + n, dtype=np.int64)[None], **past}
        if "num_logits_to_keep" in dec_inputs:
            feed["num_logits_to_keep"] = np.array(keep, dtype=np.int64)
        outs = dec.run(None, feed)
        names = [o.name for o in dec.get_outputs()]
        presents = {names[j].replace("present", "past_key_values"): outs[j] for j in range(1, len(names))}
        return outs[0], presents

    t = time.time()
    logits, past = decode(merged, empty_past(), 0, 0)
    res["prefill_ort_cpu_s"] = time.time() - t
    ref_logits = hf_logits(model, ids, pixel_values)
    s = stat(logits[0], ref_logits)
    s["ok"] = ok_rel(s, tol)
    res["prefill_logits"] = s
    ok &= s["ok"]
    log(f"prefill logits{suffix} ({len(ids)} tokens): {s}")
    if "num_logits_to_keep" in dec_inputs:
        last, _ = decode(merged, empty_past(), 0, 1)
        s = stat(last[0], ref_logits[-1:])
        s["ok"] = ok_rel(s, tol)
        res["prefill_last_logits_keep1"] = s
        ok &= s["ok"]

    # greedy decode with the ORT cache, each step checked against transformers' full forward
    seq = list(ids)
    tokens_ort, tokens_hf, steps = [], [], []
    cur = logits[0, -1]
    ref_cur = ref_logits[-1]
    for step in range(gen_steps):
        a, b = int(np.argmax(cur)), int(np.argmax(ref_cur))
        order = np.argsort(ref_cur)[::-1]
        gap = float(ref_cur[order[0]] - ref_cur[order[1]])
        tokens_ort.append(a)
        tokens_hf.append(b)
        tie = a != b and abs(float(ref_cur[a]) - float(ref_cur[b])) <= tol * max(float(np.max(np.abs(ref_cur))), 1.0)
        steps.append({"ort": a, "hf": b, "hf_top2_gap": gap, "near_tie": bool(tie)})
        if a != b:
            if not tie:
                ok = False
            log(f"greedy step {step}: ORT {a} vs transformers {b} (gap {gap:.3g}{', a near tie' if tie else ''}); following transformers")
        seq.append(b)
        e = sess["embed_tokens"].run(None, {"input_ids": np.array([[b]], dtype=np.int64)})[0]
        step_logits, past = decode(e, past, len(seq) - 1, 1)
        cur = step_logits[0, -1]
        ref_cur = hf_logits(model, seq, pixel_values)[-1]
        s = stat(cur, ref_cur)
        if step == 0:
            s["ok"] = ok_rel(s, tol)
            res["decode_step_logits"] = s
            ok &= s["ok"]
            log(f"decode step logits{suffix} (past {len(seq) - 1}): {s}")
        elif not ok_rel(s, tol):
            ok = False
            log(f"decode step {step} logits off: {s}")
    res["greedy"] = {"ort": tokens_ort, "transformers": tokens_hf, "equal": tokens_ort == tokens_hf, "steps": steps}
    log(f"greedy{suffix}: ORT {tokens_ort} transformers {tokens_hf}")

    # transformers' own generate() with its cache, greedy, no eos stop: the same tokens?
    try:
        with torch.no_grad():
            gen = model.generate(
                input_ids=torch.tensor([ids]),
                attention_mask=torch.ones(1, len(ids), dtype=torch.int64),
                pixel_values=pixel_values,
                pixel_attention_mask=torch.ones(1, n_images, S, S, dtype=torch.bool),
                max_new_tokens=gen_steps,
                do_sample=False,
                eos_token_id=None,
                pad_token_id=0,
            )
        g_tokens = [int(x) for x in gen[0, len(ids):]]
        res["greedy"]["transformers_generate"] = g_tokens
        log(f"transformers generate(): {g_tokens}")
    except Exception as e:  # noqa: BLE001
        res["greedy"]["transformers_generate_error"] = f"{type(e).__name__}: {str(e)[:300]}"
        log(f"generate() failed (the full-forward loop above is the reference): {e}")
    res["prompt_tokens"] = len(ids)
    res["ok"] = bool(ok)
    return res


# --------------------------------------------------------------------------------------------


def convert_fp16(onnx_dir: str, graphs):
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    out = {}
    for g in graphs:
        src = os.path.join(onnx_dir, f"{g}.onnx")
        dst = os.path.join(onnx_dir, f"{g}_fp16.onnx")
        try:
            m = onnx.load(src)
            # f16 weights and math; inputs and outputs stay f32 (what transformers.js feeds and
            # reads: pixels, embeddings, logits) except the decoder's cache, kept in f16 as the
            # onnx-community fp16 exports keep it (transformers.js types the empty cache from the
            # graph's input metadata)
            keep = True if g != "decoder_model_merged" else [v.name for v in list(m.graph.input) + list(m.graph.output) if not v.name.startswith(("past_key_values.", "present."))]
            m16 = convert_float_to_float16(m, keep_io_types=keep)
            onnx.save(m16, dst)
            out[g] = {"path": dst, "mb": os.path.getsize(dst) / 1e6}
            log(f"{g}_fp16: {out[g]['mb']:.1f} MB")
        except Exception as e:  # noqa: BLE001
            out[g] = {"error": f"{type(e).__name__}: {str(e)[:500]}"}
            log(f"{g}_fp16 failed: {e}")
    return out


def write_transformersjs_files(out: str, summary: dict) -> None:
    """config.json's transformers.js_config (dtype; external data where a graph needed it) and the
    flat preprocessor_config.json transformers.js's AutoProcessor reads."""
    cfg_path = os.path.join(out, "config.json")
    with open(cfg_path) as f:
        cfg = json.load(f)
    external = {g: True for g, r in summary["graphs"].items() if r.get("external_data")}
    cfg["transformers.js_config"] = {"dtype": "fp32", **({"use_external_data_format": external} if external else {})}
    with open(cfg_path, "w") as f:
        json.dump(cfg, f, indent=2)
    # transformers.js's AutoProcessor reads the flat preprocessor_config.json
    pre = os.path.join(out, "preprocessor_config.json")
    if not os.path.exists(pre):
        with open(os.path.join(out, "processor_config.json")) as f:
            pc = json.load(f)
        flat = {**pc.get("image_processor", {}), "image_processor_type": "Idefics3ImageProcessor", "processor_class": "Idefics3Processor"}
        with open(pre, "w") as f:
            json.dump(flat, f, indent=2)
        log("wrote preprocessor_config.json (flat image processor settings for transformers.js)")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", nargs="?", help="a SmolVLM model folder")
    ap.add_argument("--random-256m", metavar="OUT", help="build a random SmolVLM2-256M-shaped folder in OUT, then export it there")
    ap.add_argument("--folder-dtype", choices=["float16", "float32", "bfloat16"], default="float16", help="dtype of the random folder's safetensors (default float16: see build_random_256m)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", help="copy the folder here and write onnx/ in it (default: onnx/ inside the model folder)")
    ap.add_argument("--opset", type=int, default=17)
    ap.add_argument("--fp16", action="store_true", help="also write *_fp16.onnx (f16 weights and math, f32 inputs/outputs)")
    ap.add_argument("--no-logits-to-keep", action="store_true", help="decoder without the num_logits_to_keep input")
    ap.add_argument("--tol", type=float, default=1e-3, help="max |diff| allowed relative to max(|reference|, 1)")
    ap.add_argument("--gen-steps", type=int, default=6)
    ap.add_argument("--skip-checks", action="store_true")
    ap.add_argument("--onnx-only", action="store_true", help="write onnx/ only: leave config.json and the processor files as they are (parity fixtures)")
    ap.add_argument("--exporter", choices=["auto", "torchscript", "dynamo"], default="auto", help="auto: TorchScript, then dynamo on failure")
    a = ap.parse_args()

    import transformers

    log(f"torch {torch.__version__}, transformers {transformers.__version__}, python {sys.version.split()[0]}")
    try:
        import onnx
        import onnxruntime

        log(f"onnx {onnx.__version__}, onnxruntime {onnxruntime.__version__}")
    except Exception as e:  # noqa: BLE001
        log(f"onnx / onnxruntime missing: {e}")
        raise
    torch.set_grad_enabled(False)

    if a.random_256m:
        build_random_256m(a.random_256m, a.seed, a.folder_dtype)
        folder = a.random_256m
    else:
        assert a.model, "give a model folder or --random-256m OUT"
        folder = a.model
    folder = os.path.abspath(folder)
    out = os.path.abspath(a.out) if a.out else folder
    if out != folder:
        os.makedirs(out, exist_ok=True)
        for name in os.listdir(folder):
            p = os.path.join(folder, name)
            if os.path.isfile(p):
                shutil.copy(p, os.path.join(out, name))
        log(f"copied {folder} -> {out}")
    onnx_dir = os.path.join(out, "onnx")
    os.makedirs(onnx_dir, exist_ok=True)

    from transformers import SmolVLMForConditionalGeneration

    t = time.time()
    try:
        model = SmolVLMForConditionalGeneration.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager")
    except TypeError:
        model = SmolVLMForConditionalGeneration.from_pretrained(folder, torch_dtype=torch.float32, attn_implementation="eager")
    model = model.float().eval()
    parts = Parts(model)
    log(
        f"loaded {folder} in {time.time() - t:.1f}s: text {parts.num_layers} layers {parts.hidden} wide, {parts.num_heads}/{parts.num_kv_heads} heads of {parts.head_dim}, "
        f"vocab {parts.vocab}; vision {parts.v_layers} layers {parts.v_hidden} wide, {parts.image_size}px tiles of {parts.patch}px, {parts.image_seq_len} tokens per image"
    )
    assert parts.num_heads % parts.num_kv_heads == 0

    with_keep = not a.no_logits_to_keep
    summary = {"model": folder, "out": out, "torch": torch.__version__, "transformers": transformers.__version__, "graphs": {}, "ok": False}
    modules = {
        "vision_encoder": VisionEncoder(parts).eval(),
        "embed_tokens": EmbedTokens(parts).eval(),
        "decoder_model_merged": Decoder(parts, with_keep).eval(),
    }
    exported = True
    exporters = ("torchscript", "dynamo") if a.exporter == "auto" else (a.exporter,)
    for name, mod in modules.items():
        r = export_graph(mod, parts, name, os.path.join(onnx_dir, f"{name}.onnx"), with_keep and name == "decoder_model_merged", a.opset, exporters)
        if r["path"] is None and name == "decoder_model_merged" and with_keep:
            log("decoder: retrying without num_logits_to_keep")
            with_keep = False
            mod = Decoder(parts, False).eval()
            r = export_graph(mod, parts, name, os.path.join(onnx_dir, f"{name}.onnx"), False, a.opset, exporters)
        summary["graphs"][name] = r
        exported &= r["path"] is not None
    summary["decoder_num_logits_to_keep"] = with_keep
    if not exported:
        log("an export failed on every path")
        print("SUMMARY " + json.dumps(summary), flush=True)
        sys.exit(2)

    # transformers.js reads transformers.js_config from config.json (dtype per session, device config)
    if not a.onnx_only:
        write_transformersjs_files(out, summary)
    checks_ok = True
    if not a.skip_checks:
        r = run_checks(folder, onnx_dir, model, parts, "", a.tol, a.gen_steps, with_keep)
        summary["checks"] = r
        checks_ok = r["ok"]
    if a.fp16:
        summary["fp16"] = convert_fp16(onnx_dir, list(modules))
        if not a.skip_checks and all("path" in v for v in summary["fp16"].values()):
            try:
                summary["checks_fp16"] = run_checks(folder, onnx_dir, model, parts, "_fp16", 5e-2, a.gen_steps, with_keep)
                log(f"fp16 checks (informative, not gating): ok={summary['checks_fp16']['ok']}")
            except Exception as e:  # noqa: BLE001
                summary["checks_fp16"] = {"error": f"{type(e).__name__}: {str(e)[:500]}"}
                log(f"fp16 checks failed to run: {e}")
    summary["files"] = {n: os.path.getsize(os.path.join(onnx_dir, n)) for n in sorted(os.listdir(onnx_dir))}
    summary["ok"] = bool(checks_ok)
    summary["seconds"] = time.time() - T0
    if not a.onnx_only:  # a fixture's onnx/ holds the graphs alone (the summary has this machine's paths)
        with open(os.path.join(onnx_dir, "export-summary.json"), "w") as f:
            json.dump(summary, f, indent=2)
    print("SUMMARY " + json.dumps(summary), flush=True)
    sys.exit(0 if checks_ok else 1)


if __name__ == "__main__":
    main()
