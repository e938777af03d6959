import type { SmolVlmConfig } from './config';
import { linear } from './tensor-spec';

export const CONNECTOR_WEIGHT = 'model.connector.modality_projection.proj';

/** The connector's one tensor, shaped by the config (tensor-spec.ts): the projection after the pixel shuffle. */
export function connectorTensors(config: SmolVlmConfig) {
  const s = config.scaleFactor;
  return { proj: linear(CONNECTOR_WEIGHT, config.text.hiddenSize, config.vision.hiddenSize * s * s) };
}
