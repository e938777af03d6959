import { InputError } from '../../errors';
import { ATTENTION_POLICY } from './attention-policy';
import { KEY_SUMMARY_POLICY } from './key-summary-policy';
import { MAX_SIM_POLICY } from './max-sim-policy';
import type { RetrievalPolicy } from './policy';

/**
 * Every retrieval policy, by name (the engine's `retrieval` option; needle-bench's --retrieval).
 * A new policy is one file in this folder and one line here.
 */
export const RETRIEVAL_POLICIES = {
  attention: ATTENTION_POLICY,
  'key-summary': KEY_SUMMARY_POLICY,
  'max-sim': MAX_SIM_POLICY,
} as const satisfies Record<string, RetrievalPolicy>;

export type RetrievalPolicyName = keyof typeof RETRIEVAL_POLICIES;

/** The engine's default. */
export const DEFAULT_RETRIEVAL: RetrievalPolicyName = 'attention';

export function isRetrievalPolicyName(name: unknown): name is RetrievalPolicyName {
  return typeof name === 'string' && Object.hasOwn(RETRIEVAL_POLICIES, name);
}

/** The policy of this name; InputError naming the known ones otherwise. */
export function retrievalPolicy(name: string): RetrievalPolicy {
  if (!isRetrievalPolicyName(name)) throw new InputError(`unknown retrieval policy "${name}"; known: ${Object.keys(RETRIEVAL_POLICIES).join(', ')}`);
  return RETRIEVAL_POLICIES[name];
}
