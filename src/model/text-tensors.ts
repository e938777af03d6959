import type { TextConfig } from './config';
import { linear, tensor } from './tensor-spec';

/** Where the decoder's tensors sit in a SmolVLM / Idefics3 checkpoint. */
export const TEXT_PREFIX = 'model.text_model';

/**
 * The Llama decoder's tensors, named and shaped by its config, in checkpoint order: what load reads
 * and what the family's manifest checks (tensor-spec.ts). The head is optional where the config
 * ties it to the embeddings.
 */
export function textTensors(t: TextConfig, tieWordEmbeddings: boolean, prefix = TEXT_PREFIX) {
  const { hiddenSize: hidden, intermediateSize: ff, vocabSize: vocab } = t;
  const q = t.numHeads * t.headDim;
  const kv = t.numKvHeads * t.headDim;
  return {
    embed: tensor(`${prefix}.embed_tokens.weight`, [vocab, hidden]),
    layers: Array.from({ length: t.numLayers }, (_, i) => {
      const p = `${prefix}.layers.${i}`;
      return {
        prefix: p,
        inputNorm: tensor(`${p}.input_layernorm.weight`, [hidden]),
        postNorm: tensor(`${p}.post_attention_layernorm.weight`, [hidden]),
        q: linear(`${p}.self_attn.q_proj`, q, hidden),
        k: linear(`${p}.self_attn.k_proj`, kv, hidden),
        v: linear(`${p}.self_attn.v_proj`, kv, hidden),
        o: linear(`${p}.self_attn.o_proj`, hidden, q),
        gate: linear(`${p}.mlp.gate_proj`, ff, hidden),
        up: linear(`${p}.mlp.up_proj`, ff, hidden),
        down: linear(`${p}.mlp.down_proj`, hidden, ff),
      };
    }),
    norm: tensor(`${prefix}.norm.weight`, [hidden]),
    head: linear('lm_head', vocab, hidden, { optional: tieWordEmbeddings }),
  };
}
