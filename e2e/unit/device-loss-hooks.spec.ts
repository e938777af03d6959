import { expect, test } from '@playwright/test';
import { InputError } from '../../src/errors';
import { checkOptions, workerLoadOptions } from '../../src/sdk/options';
import { watchOptions } from '../../src/cli/watch-options';
import { parseArgs } from '../../src/cli/args';

// The device-loss test hooks (issue 14; e2e/browser/device-loss.spec.ts and the CLI spec use them):
// they destroy a real GPUDevice, so they must never reach the worker or the CLI unless asked, and a
// malformed request is refused like any option.

test('StreamVLM.load: loseDeviceDuringLoadsForTesting reaches the worker only when asked, and is checked', () => {
  const plain = workerLoadOptions(checkOptions({}), 'f32');
  expect('loseDeviceDuringLoadsForTesting' in plain).toBe(false);
  const empty = { loseDeviceDuringLoadsForTesting: [] };
  expect('loseDeviceDuringLoadsForTesting' in workerLoadOptions(checkOptions(empty), 'f32', empty.loseDeviceDuringLoadsForTesting)).toBe(false);
  expect(workerLoadOptions(checkOptions({ loseDeviceDuringLoadsForTesting: [0, 2] }), 'f32', [0, 2]).loseDeviceDuringLoadsForTesting).toEqual([0, 2]);
  for (const bad of [[-1], [1.5], [64], 'x', [Number.NaN]]) {
    expect(() => checkOptions({ loseDeviceDuringLoadsForTesting: bad as number[] })).toThrow(InputError);
    expect(() => checkOptions({ loseDeviceDuringLoadsForTesting: bad as number[] })).toThrow(/loseDeviceDuringLoadsForTesting/);
  }
});

test('watch --lose-device-at: load, a video time, or both; nothing without it', () => {
  const o = (value?: string) => watchOptions(parseArgs(['--model', 'm', '--video', 'v.y4m', '--ask', 'q', ...(value === undefined ? [] : ['--lose-device-at', value])], []));
  const hook = (value?: string) => {
    const w = o(value);
    return { atMs: w.loseDeviceAtMs, load: w.loseDeviceDuringLoad };
  };
  expect(hook()).toEqual({ atMs: null, load: false });
  expect(hook('load')).toEqual({ atMs: null, load: true });
  expect(hook('12.5')).toEqual({ atMs: 12_500, load: false });
  expect(hook('load,12')).toEqual({ atMs: 12_000, load: true });
  expect(hook('12,load')).toEqual({ atMs: 12_000, load: true });
  for (const bad of ['x', 'load,x', '1,2', 'load,load', '-1', '', 'load,']) expect(() => o(bad)).toThrow(/--lose-device-at must be/);
});
