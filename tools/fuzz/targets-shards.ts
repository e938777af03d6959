import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsSource } from '../../src/platform/node/fs-source';
import { Checkpoint } from '../../src/model/checkpoint';
import { UrlSource } from '../../src/model/source';
import { mutateJson } from './mutate-json';
import { Rng } from './rng';
import { utf8, type FuzzTarget } from './target';
import { buildSafetensors } from './targets-model';

/** Names a hostile shard index might give: other hosts, parent folders, absolute paths, odd encodings. */
const HOSTILE_NAMES = [
  '../outside.safetensors', '../../outside.safetensors', 'sub/../../outside.safetensors', '/etc/passwd', '/tmp/outside.safetensors',
  'https://evil.example/outside.safetensors', '//evil.example/outside.safetensors', 'http:outside.safetensors', 'C:\\outside.safetensors',
  '..\\outside.safetensors', '%2e%2e/outside.safetensors', '.%2e/outside.safetensors', 'model-1.safetensors?x=../../outside', 'model-1.safetensors#x',
  'sub/model-1.safetensors', './model-1.safetensors', 'model-1.safetensors\u0000.x', '', 'x'.repeat(300) + '.safetensors', 'data:,x',
];

/** The model folder (and, beside it, a file no model may reach): URL → bytes. */
const BASE = 'https://models.example/org/model/resolve/main/';
let folder: Map<string, Uint8Array> | null = null;
let disk: string | null = null;

/** Built once per worker, from a fixed seed: every case sees the same folder, so cases replay exactly. */
function files(): Map<string, Uint8Array> {
  if (!folder) {
    const rng = new Rng(0x5eed);
    folder = new Map();
    folder.set('model-1.safetensors', buildSafetensors(rng, { 'a.weight': { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }));
    folder.set('model-2.safetensors', buildSafetensors(rng, { 'b.weight': { dtype: 'F16', shape: [3], data_offsets: [0, 6] } }));
    folder.set('sub/model-1.safetensors', folder.get('model-1.safetensors')!);
    // outside the folder: reading it would put the tensor "outside" in the checkpoint
    folder.set('../outside.safetensors', buildSafetensors(rng, { outside: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }));
    disk = mkdtempSync(join(tmpdir(), 'streamvlm-fuzz-'));
    mkdirSync(join(disk, 'model/sub'), { recursive: true });
    for (const [name, bytes] of folder) writeFileSync(join(disk, 'model', name), bytes);
  }
  return folder;
}

/** A fetch over the map: the real UrlSource decides which URLs it asks for. */
function fetchFrom(map: Map<string, Uint8Array>, index: string, asked: string[]): typeof fetch {
  return async (input) => {
    const url = String(input);
    asked.push(url);
    const rel = url.startsWith(BASE) ? url.slice(BASE.length) : url === 'https://models.example/org/model/resolve/outside.safetensors' ? '../outside.safetensors' : null;
    const body = rel === 'model.safetensors.index.json' ? utf8(index) : rel !== null ? map.get(rel) : undefined;
    return body ? new Response(body as Uint8Array<ArrayBuffer>, { status: 200 }) : new Response(null, { status: 404 });
  };
}

interface ShardCase {
  index: string;
  disk: boolean;
}

export const shardsTarget: FuzzTarget<ShardCase, { names: string[]; asked: string[] }> = {
  name: 'shards',
  names: ['model.safetensors.index.json', 'safetensors', 'model folder'],
  make(rng) {
    files();
    const map: Record<string, string> = { 'a.weight': 'model-1.safetensors', 'b.weight': 'model-2.safetensors' };
    if (rng.chance(0.6)) map[rng.pick(['a.weight', 'b.weight', 'c.weight'])] = rng.pick(HOSTILE_NAMES);
    const text = JSON.stringify({ metadata: { total_size: 14 }, weight_map: map });
    return { index: rng.chance(0.3) ? mutateJson(rng, text) : text, disk: rng.chance(0.3) };
  },
  async run(c) {
    const asked: string[] = [];
    const source = c.disk ? new FsSource(join(disk!, 'model')) : new UrlSource(BASE, fetchFrom(files(), c.index, asked));
    if (c.disk) writeFileSync(join(disk!, 'model', 'model.safetensors.index.json'), c.index);
    const checkpoint = await Checkpoint.open(source);
    return { names: checkpoint.names, asked };
  },
  check(_c, { names, asked }) {
    if (names.includes('outside')) return 'read a file outside the model folder';
    const away = asked.find((u) => !u.startsWith(BASE));
    return away ? `fetched ${away}, outside the model folder` : null;
  },
  bytes: (c) => utf8(JSON.stringify(c)),
};
