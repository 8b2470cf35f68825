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
  const path = Array.from({ length: 61 }, (_, i) => [200 + i * 60, 300 + Math.round(1200 * Math.sin(i / 10)) + 1000] as [number, number]);
  const at = await page.evaluate((pts) => pts.map(([x, y]) => window.__maskEditor!.imageToClient(x, y)!), path);
  await browser.startTracing(page, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'blink', 'cc', 'gpu', 'toplevel'] });
  await page.mouse.move(at[0]!.x, at[0]!.y);
  await page.mouse.down();
  for (const p of at.slice(1)) { await page.mouse.move(p.x, p.y, { steps: 2 }); await page.waitForTimeout(12); }
  await page.mouse.up();
  await page.evaluate(() => window.__maskEditor!.whenDrawn());
  const buf = await browser.stopTracing();
  writeFileSync('/tmp/trace.json', buf);
});
