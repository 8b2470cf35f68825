/**
 * A cancelled conversion leaves the pack cache exactly as it was and the
 * current pack loaded. Cancel stops the conversion before any graph runs, the
 * same code on both backends: the wasm project runs it (playwright.config.ts).
 */
import { expect, test, testPackManifest } from './fixtures';
import { chooseSmallOptions, opfsCache, pickFixture, slowReads } from './convert-helpers';

const testPack = testPackManifest().name;

test.describe('cancelling a conversion', () => {
  test('a cancelled conversion leaves the cache as it was and the current pack loaded', async ({ page, studio }) => {
    await studio.open();
    await expect(studio.packStatus).toHaveAttribute('data-pack-name', testPack);
    const before = await opfsCache(page);
    await pickFixture(page);
    await chooseSmallOptions(page);
    await slowReads(page, 10);
    await page.getByTestId('convert.start').click();
    await expect(page.getByTestId('convert.progress.text')).toContainText(/ of .* tensors/);
    await page.getByTestId('convert.cancel').click();
    await expect(page.getByTestId('convert.error')).toContainText('The conversion was cancelled: nothing was saved');
    await expect(page.getByTestId('convert.progress')).toHaveCount(0);
    await expect(studio.packStatus).toHaveAttribute('data-pack-name', testPack);
    expect(await opfsCache(page)).toEqual(before);
    await expect(page.getByTestId('pack.cached.item')).toHaveCount(1);
  });
});
