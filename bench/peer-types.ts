// What the side-by-side page (bench/peer/peer-page.ts) and its driver (bench/peer-browser.ts)
// exchange. Kept apart from the page's code so that the driver and the report, built and
// type-checked with the project, never import transformers.js (bench/peer/ has its own install).
import type { OursResult } from './peer-streamvlm';

export type PeerDevice = 'webgpu' | 'wasm';
export type PeerDtype = 'fp32' | 'fp16';

/** What the driver passes to the page (bench/peer-browser.ts's options). */
export interface PeerPageSettings {
  peerDevice: PeerDevice;
  peerDtype: PeerDtype;
  /** streamvlm's math: 'auto' = f16 where the adapter has shader-f16, else f32. */
  precision: 'auto' | 'f32' | 'f16';
  contextTokens: number;
  decodeSteps: number;
  answerTokens: number;
  repeats: number;
  minutes: number[];
  ingestBudgetMs: number;
  /** Date.now() after which streamvlm's stream stops (set by the driver from its time limit). */
  ingestDeadline: number;
  warmMs: number;
  /** Cases of the folder's expected.json whose greedy tokens transformers.js must give (parity fixtures only). */
  checkCases: string[];
  /** Only those checks: no measurements, no processor (a fixture's onnx/ alone is enough). */
  checkOnly: boolean;
  skipOurs: boolean;
  skipPeer: boolean;
}

export interface ReencodeRow {
  minutes: number;
  frames: number;
  sampledFrames: number;
  promptTokens: number;
  /** Median over QUESTIONS: from the raw frames (before preprocessing) to the first answer token. */
  firstTokenMs: number;
  decodeTokensPerSecond: number;
}

export interface PeerResult {
  runtime: 'transformers.js';
  version: string;
  onnxruntimeWeb: string;
  device: PeerDevice;
  dtype: PeerDtype;
  loadMs: number;
  pipeline: { preprocessMsPerFrame: number; visionMsPerFrame: number; reencode: ReencodeRow[] };
  ort: { visionMsPerFrame: number; prefillMs: number; prefillTokens: number; cachedTokens: number; decodeTokensPerSecond: number; decodeSteps: number };
}

export interface PeerCheck {
  case: string;
  expected: number[];
  peer: number[];
  equal: boolean;
}

export interface PeerPageResult {
  userAgent: string;
  adapter: string;
  shaderF16: boolean;
  settings: PeerPageSettings;
  peer: PeerResult | { error: string } | null;
  peerChecks: PeerCheck[];
  ours: OursResult | { error: string } | null;
}

declare global {
  interface Window {
    /** The page's results, or why it failed: set once, at the end. */
    peerDone?: PeerPageResult | { error: string };
    /** What is measured so far (the driver writes it if the page runs out of time). */
    peerPartial?: PeerPageResult;
    /** Exposed by the driver: resolves once it has noted the phase (and the card's memory then). */
    peerMark?: (phase: string) => Promise<void>;
  }
}
