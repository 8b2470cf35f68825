import { test } from '../fixtures';
import { openEditor, paint, seedPhoto, editorState, saved } from './helpers';
test.use({ viewport: { width: 1440, height: 900 } });
test('shot', async ({ studio, page }) => {
  await studio.open();
  const s = await seedPhoto(page, 'chelsea.png');
  await openEditor(page, s);
  console.log(await editorState(page));
  await paint(page, [[100, 150], [300, 150], [300, 250]]);
  await saved(page);
  await page.evaluate(() => window.__maskEditor!.whenDrawn());
  await page.mouse.move(700, 400);
  await page.waitForTimeout(500);
  await page.screenshot({ path: '/tmp/mask-shot.png' });
  console.log(await editorState(page));
});
