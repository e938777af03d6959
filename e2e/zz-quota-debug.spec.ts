import { test } from '@playwright/test';
test('dbg', async ({ page }) => {
  await page.goto('/e2e/cache-harness.html');
  const cdp = await page.context().newCDPSession(page);
  const origin = new URL(page.url()).origin;
  await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: 200_000 });
  const r = await page.evaluate(async () => {
    const out: string[] = [];
    try { const c = await caches.open('dbg'); out.push('open ok');
      try { await c.put('/small', new Response('hi')); out.push('small ok'); } catch (e) { out.push('small ' + e); }
      try { await c.put('/big', new Response(new Uint8Array(1_000_000))); out.push('big ok'); } catch (e) { out.push('big ' + e); }
      let ctrl: any; const s = new ReadableStream({ start: (c) => void (ctrl = c) });
      const p = c.put('/stream', new Response(s, { headers: { 'content-length': '1000000' } })).then(() => 'stream ok', (e) => 'stream ' + e);
      for (let i = 0; i < 10; i++) ctrl.enqueue(new Uint8Array(100_000));
      ctrl.close();
      out.push(await p);
      out.push('keys ' + (await c.keys()).map((k) => k.url).join());
      out.push(JSON.stringify(await navigator.storage.estimate()));
    } catch (e) { out.push('open ' + e); }
    return out;
  });
  console.log(r);
});
