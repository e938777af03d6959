#!/usr/bin/env node
// Which objects a V8 heap grew by between two snapshots (node's writeHeapSnapshot or Chrome's
// DevTools): counts and self sizes per constructor / node type, the growth of each, largest first.
// Reads the snapshot format's own meta (node_fields, node_types), so it follows V8's layout.
//
//   node tools/heap-diff.mjs before.heapsnapshot after.heapsnapshot [--top 25] [--per N]
//     (--per N: divide the growth by N, e.g. the frames streamed between the two)
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const value = Number(args[i + 1]);
  args.splice(i, 2);
  return value;
};
const top = flag('--top', 25);
const per = flag('--per', 1);
if (args.length !== 2) {
  console.error('usage: node tools/heap-diff.mjs before.heapsnapshot after.heapsnapshot [--top 25] [--per N]');
  process.exit(2);
}

function summarize(path) {
  const snap = JSON.parse(readFileSync(path, 'utf8'));
  const meta = snap.snapshot.meta;
  const fields = meta.node_fields;
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const types = meta.node_types[typeAt];
  const out = new Map();
  const nodes = snap.nodes;
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + typeAt]];
    // objects by constructor name; strings, arrays, code etc. by their type
    const key = type === 'object' || type === 'closure' ? `${type} ${snap.strings[nodes[i + nameAt]]}` : `(${type})`;
    const row = out.get(key) ?? { count: 0, bytes: 0 };
    row.count++;
    row.bytes += nodes[i + sizeAt];
    out.set(key, row);
  }
  return out;
}

const before = summarize(args[0]);
const after = summarize(args[1]);
const rows = [];
let total = 0;
for (const [key, a] of after) {
  const b = before.get(key) ?? { count: 0, bytes: 0 };
  const bytes = a.bytes - b.bytes;
  total += bytes;
  if (bytes !== 0 || a.count !== b.count) rows.push({ key, count: a.count - b.count, bytes });
}
for (const [key, b] of before) if (!after.has(key)) { rows.push({ key, count: -b.count, bytes: -b.bytes }); total -= b.bytes; }
rows.sort((x, y) => y.bytes - x.bytes);
const fmt = (n) => (per === 1 ? String(n) : (n / per).toFixed(2));
console.log(`| what | objects${per === 1 ? '' : ' per ' + per} | bytes${per === 1 ? '' : ' per ' + per} |`);
console.log('| --- | ---: | ---: |');
for (const r of rows.slice(0, top)) console.log(`| ${r.key.slice(0, 60)} | ${fmt(r.count)} | ${fmt(r.bytes)} |`);
console.log(`| all | | ${fmt(total)} |`);
