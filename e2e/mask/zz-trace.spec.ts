import { writeFileSync } from 'node:fs';
import { test } from '../fixtures';
import { openEditor, seedLargePhoto } from './helpers';
test.use({ viewport: { width: 1440, height: 900 } });
test('trace', async ({ studio, page, browser }) => {
  test.setTimeout(240_000);
  await studio.open();
  const big = await seedLargePhoto(page, 4000, 3000);
  await openEditor(page, big);
  await page.getByTestId('mask.size').fill('160');
  await page.waitForTimeout(500);
  const path = Array.from({ length: 61 }, (_, i) => [200 + i * 60, 1300 + Math.round(1200 * Math.sin(i / 10))] as [number, number]);
  const at = await page.evaluate((pts) => pts.map(([x, y]) => window.__maskEditor!.imageToClient(x, y)!), path);
  const cdp = await page.context().newCDPSession(page);
  const mouse = (type: 'mouseMoved' | 'mousePressed' | 'mouseReleased', p: { x: number; y: number }, buttons: number) =>
    cdp.send('Input.dispatchMouseEvent', { type, x: p.x, y: p.y, button: 'left', buttons, clickCount: type === 'mouseMoved' ? 0 : 1 });
  await browser.startTracing(page, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'blink', 'cc', 'toplevel', 'v8'] });
  await mouse('mouseMoved', at[0]!, 0);
  await mouse('mousePressed', at[0]!, 1);
  for (const p of at.slice(1)) { await mouse('mouseMoved', p, 1); await new Promise((r) => setTimeout(r, 16)); }
  await mouse('mouseReleased', at.at(-1)!, 0);
  await page.waitForTimeout(1000);
  writeFileSync('/tmp/trace.json', await browser.stopTracing());
});
