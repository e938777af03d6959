// Markdown tables and heatmap PNGs from needle-bench results.
//
//   node dist-node/needle-report.js needle-results.json [more.json …] [--out-dir needle-report]
//
// Several files are merged (a long benchmark split over runs): per (seed, length, method) the
// later file wins. Writes <out-dir>/needle-report.md and <out-dir>/needle-<metric>-<method>.png.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { option, parseArgs } from '../src/cli/args';
import { heatmapPng } from './needle-heatmap';
import { RESULTS_SCHEMA, summarize, type Cell, type Count, type LengthSummary, type NeedleResults, type RecallCount, type StreamRecord } from './needle-results';

const args = parseArgs(process.argv.slice(2), []);
const files = args.positional;
const outDir = option(args, 'out-dir') ?? 'needle-report';
if (files.length === 0) {
  console.error('usage: node dist-node/needle-report.js needle-results.json [more.json …] [--out-dir DIR]');
  process.exit(2);
}

const inputs = files.map((f) => {
  const r = JSON.parse(readFileSync(f, 'utf8')) as NeedleResults;
  if (r.schema !== RESULTS_SCHEMA) throw new Error(`${f}: schema ${String(r.schema)}, expected ${RESULTS_SCHEMA}`);
  return r;
});

/** Streams of every file, methods merged per (seed, length); a later file's method run replaces an earlier one's. */
function mergeStreams(results: NeedleResults[]): StreamRecord[] {
  const byKey = new Map<string, StreamRecord>();
  for (const r of results) {
    for (const s of r.streams) {
      const key = `${s.seed}/${s.frames}`;
      const had = byKey.get(key);
      if (!had) byKey.set(key, { ...s, methods: [...s.methods] });
      else for (const m of s.methods) had.methods = [...had.methods.filter((x) => x.method !== m.method), m];
    }
  }
  return [...byKey.values()];
}

const streams = mergeStreams(inputs);
const { lengths, cells } = summarize(streams);
const methods = [...new Set(lengths.map((l) => l.method))];
const frameCounts = [...new Set(lengths.map((l) => l.frames))].sort((a, b) => a - b);
const depths = [...new Set(streams.flatMap((s) => s.depths))].sort((a, b) => a - b);

const pct = (c: Count) => (c.total === 0 ? '–' : `${((100 * c.correct) / c.total).toFixed(0)}% (${c.correct}/${c.total})`);
const hits = (r: RecallCount) => r.memory + r.window + r.sampled;
const recallText = (r: RecallCount) => {
  if (r.total === 0) return '–';
  const parts = [r.memory && `mem ${r.memory}`, r.window && `win ${r.window}`, r.sampled && `sampled ${r.sampled}`].filter(Boolean).join(', ');
  return `${((100 * hits(r)) / r.total).toFixed(0)}% (${hits(r)}/${r.total}${parts ? `: ${parts}` : ''})`;
};
const lengthLabel = (frames: number) => (frames % 60 === 0 ? `${frames / 60} min` : `${frames} s`);
const minutes = (frames: number) => String(Math.round((frames / 60) * 100) / 100);
const ms = (x: number | null) => (x === null ? '–' : x.toFixed(x < 10 ? 1 : 0));

interface Metric {
  key: string;
  title: string;
  of: (c: Cell) => { value: number | null; text: string };
}
const fraction = (c: Count) => ({ value: c.total ? c.correct / c.total : null, text: pct(c) });
const METRICS: Metric[] = [
  { key: 'color', title: 'Colour accuracy', of: (c) => fraction(c.color) },
  { key: 'time', title: 'Time accuracy (MM:SS exact)', of: (c) => fraction(c.time) },
  { key: 'presence', title: "Presence accuracy on the needles' shapes (answer 'yes')", of: (c) => fraction(c.presence) },
  { key: 'recall', title: 'Retrieval recall (needle frame in the context)', of: (c) => ({ value: c.recall.total ? hits(c.recall) / c.recall.total : null, text: recallText(c.recall) }) },
];
const cellAt = (method: string, frames: number, depth: number) => cells.find((c) => c.method === method && c.frames === frames && c.depth === depth);
const lengthAt = (method: string, frames: number): LengthSummary | undefined => lengths.find((l) => l.method === method && l.frames === frames);

const md: string[] = [];
const first = inputs[0];
md.push('# Needle in a stream: results', '');
md.push(`- model: \`${first.model}\`; ${first.host.adapter}; ${first.host.precision} math; Node ${first.host.node}`);
md.push(`- files: ${files.map((f, i) => `\`${f}\` (${inputs[i].status}, ${inputs[i].streams.length} streams, ${inputs[i].updatedAt})`).join('; ')}`);
const s = first.settings;
md.push(`- settings: window ${s.windowFrames} frames, top-k ${s.topK}, ≤ ${s.maxAnswerTokens} answer tokens; ${s.needlesPerStream} needles a stream; seeds from ${s.firstSeed}; exact-match scoring (\`answer.trim() === expected\`)`);
md.push(`- methods: \`kv-B\` = the streaming engine with B-bit memory (\`none\` = raw); \`window\` = sinks + window only (top-k 0); \`uniform8\` = 8 frames sampled evenly, re-encoded per question in one prompt; \`allgpu\` = every frame's K/V in the GPU window`);
md.push('');
md.push('## Per method and length', '');
md.push('| method | length | streams | colour | time | presence yes | presence no | recall | TTFT median / p90 ms | ingest ms/frame |');
md.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const method of methods) {
  for (const frames of frameCounts) {
    const l = lengthAt(method, frames);
    if (!l) continue;
    if (l.skipped) {
      md.push(`| ${method} | ${lengthLabel(frames)} | – | ${l.skipped.startsWith('does not fit') ? 'does not fit' : 'skipped'} | | | | | | |`);
      continue;
    }
    md.push(`| ${method} | ${lengthLabel(frames)} | ${l.streams} | ${pct(l.color)} | ${pct(l.time)} | ${pct(l.presenceYes)} | ${pct(l.presenceNo)} | ${recallText(l.recall)} | ${ms(l.firstTokenMsMedian)} / ${ms(l.firstTokenMsP90)} | ${ms(l.ingestMsPerFrame)} |`);
  }
}
if (inputs.some((r) => r.settings.sharedIngest)) {
  md.push('', '- shared ingest (`--shared-ingest`): one raw engine ingested each stream; every other `kv-B` store is its store re-encoded, bit for bit what a `kv-B` engine stores, so those rows have no ingest time of their own (the raw row\'s includes its window backups)');
}
const skips = lengths.filter((l) => l.skipped);
if (skips.length) md.push('', ...skips.map((l) => `- ${l.method} at ${lengthLabel(l.frames)}: ${l.skipped}`));
md.push('');
md.push('Heatmaps: x = needle depth (0 = first frame, 1 = last), y = stream length in minutes (shortest on top); cell colour red 0 % → yellow 50 % → green 100 %, percentage written in the cell; grey "-" = no data (not run, or does not fit).');

mkdirSync(outDir, { recursive: true });
for (const metric of METRICS) {
  md.push('', `## ${metric.title}`, '');
  md.push(`| method | length | ${depths.map((d) => `depth ${d}`).join(' | ')} |`);
  md.push(`| --- | --- | ${depths.map(() => '---').join(' | ')} |`);
  for (const method of methods) {
    const values: (number | null)[][] = [];
    for (const frames of frameCounts) {
      const row = depths.map((d) => {
        const c = cellAt(method, frames, d);
        return c ? metric.of(c) : { value: null, text: lengthAt(method, frames)?.skipped ? 'does not fit' : '–' };
      });
      values.push(row.map((r) => r.value));
      if (lengthAt(method, frames)) md.push(`| ${method} | ${lengthLabel(frames)} | ${row.map((r) => r.text).join(' | ')} |`);
    }
    const png = `needle-${metric.key}-${method}.png`;
    writeFileSync(join(outDir, png), heatmapPng({ columns: depths.map(String), rows: frameCounts.map(minutes), values }));
  }
  md.push('', methods.map((m) => `**${m}**<br>![${metric.key} ${m}](${`needle-${metric.key}-${m}.png`})`).join(' '));
}

const report = md.join('\n') + '\n';
writeFileSync(join(outDir, 'needle-report.md'), report);
process.stdout.write(report);
console.error(`needle-report: ${streams.length} streams → ${join(outDir, 'needle-report.md')} and ${METRICS.length * methods.length} PNGs`);
