// The markdown of issue 16's side-by-side run: "streamvlm / transformers.js, same GPU, same run",
// from the page's results (bench/peer-page.ts) and the driver's memory samples. A ratio > 1 means
// streamvlm is better (faster, more tokens per second, less memory) by that factor.
import type { OursResult } from './peer-streamvlm';
import type { PeerPageResult, PeerResult } from './peer-types';

export interface MemoryMark {
  phase: string;
  atMs: number;
  cardMiB: number | null;
  processMiB: number | null;
}

export interface PeerRunRecord {
  format: 'streamvlm-peer/1';
  date: string;
  browser: string;
  args: string[];
  page: PeerPageResult;
  marks: MemoryMark[];
  /** nvidia-smi deltas over each runtime's phases (MiB on the card; null without nvidia-smi). */
  gpuMemoryMiB: { peer: number | null; ours: number | null };
}

const ok = <T extends object>(x: T | { error: string } | null): T | null => (x && !('error' in x) ? x : null);
const f = (v: number | null | undefined, d = 1) => (v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(d));

/** lower-is-better figures: peer / ours; higher-is-better: ours / peer. */
function ratio(ours: number | null | undefined, peer: number | null | undefined, higherIsBetter: boolean): string {
  if (ours === null || ours === undefined || peer === null || peer === undefined || !(ours > 0) || !(peer > 0)) return '–';
  const r = higherIsBetter ? ours / peer : peer / ours;
  return `${r.toFixed(2)}×`;
}

/** The card's memory rise from the mark before `from` to the highest mark up to `to`. */
export function memoryDelta(marks: readonly MemoryMark[], from: string, toPhases: readonly string[]): number | null {
  const i = marks.findIndex((m) => m.phase === from);
  if (i < 0 || marks[i].cardMiB === null) return null;
  const later = marks.filter((m) => toPhases.includes(m.phase) && m.cardMiB !== null).map((m) => m.cardMiB!);
  return later.length ? Math.max(...later) - marks[i].cardMiB! : null;
}

export function peerMarkdown(run: PeerRunRecord): string {
  const p = run.page;
  const peer: PeerResult | null = ok(p.peer);
  const ours: OursResult | null = ok(p.ours);
  const mb = ours?.modelBench;
  const lines: string[] = [];
  lines.push(`## streamvlm / transformers.js, same GPU, same run`);
  lines.push('');
  lines.push(`${run.date}; ${run.browser}; adapter: ${p.adapter} (shader-f16 ${p.shaderF16}).`);
  lines.push(`transformers.js ${peer?.version ?? '?'} (onnxruntime-web ${peer?.onnxruntimeWeb ?? '?'}), device ${p.settings.peerDevice}, dtype ${p.settings.peerDtype}; streamvlm ${ours?.precision ?? '?'} math, f16 weights.`);
  lines.push('');
  if (p.settings.checkOnly) return `${[...lines, ...checkLines(p)].join('\n')}\n`;
  lines.push('| figure | streamvlm | transformers.js pipeline | onnxruntime-web direct | streamvlm advantage (vs pipeline / vs direct) |');
  lines.push('| --- | ---: | ---: | ---: | ---: |');
  const row = (name: string, o: number | null | undefined, pp: number | null | undefined, d: number | null | undefined, higher: boolean, digits = 1) =>
    lines.push(`| ${name} | ${f(o, digits)} | ${f(pp, digits)} | ${f(d, digits)} | ${ratio(o, pp, higher)} / ${ratio(o, d, higher)} |`);
  row('load, model folder → ready (ms)', ours?.loadMs, peer?.loadMs, null, false, 0);
  row('preprocess one 640×480 frame (ms)', mb?.frame.preprocessWallMs, peer?.pipeline.preprocessMsPerFrame, null, false);
  row('vision encoder + connector, one 512×512 frame (ms)', mb?.frame.visionConnectorWallMs, peer?.pipeline.visionMsPerFrame, peer?.ort.visionMsPerFrame, false);
  const pre = mb ? `prefill ${mb.prefill.tokens} tokens on ${mb.prefill.cachedTokens} cached (ms)` : 'prefill (ms)';
  row(pre, mb?.prefill.wallMs, null, peer?.ort.prefillMs, false);
  row(`decode on ${mb?.decode.cachedTokens ?? '?'} cached, one step at a time (tokens/s)`, mb?.decode.serialTokensPerSecond, null, peer?.ort.decodeTokensPerSecond, true);
  row(`decode, streamvlm pipelined / peer generate() on its 8-frame prompt (tokens/s)`, mb?.decode.tokensPerSecond, peer?.pipeline.reencode[0]?.decodeTokensPerSecond, null, true);
  row('GPU memory, card rise over the runtime (MiB, nvidia-smi)', run.gpuMemoryMiB.ours, run.gpuMemoryMiB.peer, null, false, 0);
  lines.push('');
  lines.push('Time to the first answer token for a question about a stream: transformers.js re-encodes 8 frames sampled over it (preprocessing, vision, prefill of the whole prompt); streamvlm answers from its memory of every frame (window 16, 4-bit K/V store, top-8 restored), after ingesting the stream at 1 frame/s of simulated camera frames.');
  lines.push('');
  lines.push('| stream | streamvlm memory (ms) | transformers.js 8 frames re-encoded (ms) | prompt tokens (peer) | streamvlm advantage |');
  lines.push('| --- | ---: | ---: | ---: | ---: |');
  for (const m of p.settings.minutes) {
    const o = ours?.memory.find((r) => Math.abs(r.minutes - m) < 1e-9 || r.frames === Math.round(m * 60));
    const r = peer?.pipeline.reencode.find((x) => x.minutes === m);
    const oursCell = o ? (o.reached ? f(o.firstTokenMs) : "not reached in the run's time") : '–';
    lines.push(`| ${m} min | ${oursCell} | ${f(r?.firstTokenMs)} | ${r?.promptTokens ?? '–'} | ${ratio(o?.firstTokenMs, r?.firstTokenMs, false)} |`);
  }
  lines.push(...checkLines(p));
  for (const [name, x] of [['transformers.js', p.peer], ['streamvlm', p.ours]] as const) if (x && 'error' in x) lines.push(`\n**${name} failed:** \`${x.error.split('\n')[0]}\``);
  return `${lines.join('\n')}\n`;
}

/** One line per --check case: transformers.js's greedy tokens against transformers'. */
function checkLines(p: PeerPageResult): string[] {
  return p.peerChecks.flatMap((c) => ['', `Correctness: transformers.js greedy tokens on the fixture case \`${c.case}\` ${c.equal ? 'equal' : 'DIFFER FROM'} transformers' (${JSON.stringify(c.peer)} vs ${JSON.stringify(c.expected)}).`]);
}
