/**
 * Converting a model folder in the studio: the committed SD3 fixture folder
 * (a real diffusers folder with random weights and toy widths) is picked in
 * the pack panel, converted in the engine worker with progress, stored in
 * OPFS and loaded; it generates with a subject; after a reload it is in the
 * cached list and loads from there, with no conversion. A cancelled
 * conversion: e2e/convert-cancel.spec.ts.
 */
import { expect, test, testPackManifest } from './fixtures';
import { addMochi, setRequest } from './generate-helpers';
import { chooseSmallOptions, pickFixture, progressSeen, recordProgress, slowReads } from './convert-helpers';

const testPack = testPackManifest().name;
const SCREENSHOTS = process.env.CONVERT_SCREENSHOTS;

test.describe('converting a model folder in the studio', () => {
  test('converts the SD3 fixture with progress, generates with a subject, and loads it from the cache after a reload', async ({ page, studio }) => {
    // SwiftShader on a 2-core machine: the generation alone takes a minute or more on WebGPU.
    test.setTimeout(360_000);
    await studio.open();
    await expect(studio.packStatus).toHaveAttribute('data-pack-name', testPack);
    await recordProgress(page);
    await pickFixture(page);
    await chooseSmallOptions(page);
    await slowReads(page, SCREENSHOTS ? 20 : 2);
    await page.getByTestId('convert.start').click();
    await expect(page.getByTestId('convert.progress.text')).toContainText(/ of .* tensors/);
    await expect(page.getByTestId('convert.progress.bar')).toBeVisible();
    if (SCREENSHOTS) await page.getByTestId('pack.panel').screenshot({ path: `${SCREENSHOTS}/convert-progress-${studio.backend}.png` });

    await expect(page.getByTestId('convert.done')).toContainText('Converted into sd3-int4');
    await expect(studio.packStatus).toHaveAttribute('data-pack-name', 'sd3-int4');
    const seen = await progressSeen(page);
    expect(seen.some((t) => /^Reading the (text encoders|VAE|transformer): [\d.]+ (B|KiB|MiB) of [\d.]+ MiB · \d+\/\d+ tensors/.test(t)), seen.join('\n')).toBe(true);
    expect(seen.some((t) => t.startsWith('Storing the pack in this browser: ')), seen.join('\n')).toBe(true);
    // What the pack panel says of any loaded pack.
    await expect(page.getByTestId('pack.made')).toContainText('converted from Stable Diffusion 3');
    await expect(page.getByTestId('pack.source')).toHaveText('converted in this browser');
    await expect(page.getByTestId('pack.precision')).toContainText('int4 (block 16)');
    await expect(page.getByTestId('pack.storage')).toContainText('in this browser');
    await expect(page.getByTestId('pack.memory.plan')).toContainText('64×64');
    await expect(page.getByTestId('pack.cached.item').filter({ hasText: 'sd3-int4' })).toContainText('in use');
    if (SCREENSHOTS) await page.getByTestId('pack.panel').screenshot({ path: `${SCREENSHOTS}/convert-done-${studio.backend}.png` });

    // The settings follow the new pack once: its only size and SD3's recommended steps and guidance.
    await expect(page.getByTestId('settings.follow-note')).toContainText('Settings follow sd3-int4: 64 × 64, 28 steps, text guidance 7.');
    await expect(page.getByTestId('settings.size')).toHaveValue('64x64');
    await expect(page.getByTestId('settings.size-warning')).toHaveCount(0);
    await expect(page.getByTestId('settings.steps')).toHaveValue('28');
    if (SCREENSHOTS) await page.getByTestId('settings.panel').screenshot({ path: `${SCREENSHOTS}/convert-settings-${studio.backend}.png` });

    // One subject, 2 steps at the pack's 64 px.
    await addMochi(page);
    await setRequest(page, '@mochi on a table', { steps: 2, seed: 1, width: 64, height: 64 });
    const t0 = Date.now();
    await page.getByTestId('generate.button').click();
    await expect(page.getByTestId('generate.result')).toBeVisible({ timeout: 240_000 });
    console.log(`[${studio.backend}] converted pack, one subject, 2 steps at 64 px: ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    // A reload starts on the test pack; the converted one is in the cached list and loads from there.
    await page.reload();
    await expect(studio.packStatus).toHaveAttribute('data-pack-name', testPack);
    const cached = page.getByTestId('pack.cached.item').filter({ hasText: 'sd3-int4' });
    await expect(cached).toHaveCount(1);
    await cached.getByTestId('pack.cached.load').click();
    await expect(studio.packStatus).toHaveAttribute('data-pack-name', 'sd3-int4');
    // Back on the test pack after the reload, the settings followed it (128 px, 8 steps); now they follow this one again.
    await expect(page.getByTestId('settings.size')).toHaveValue('64x64');
    await expect(page.getByTestId('pack.source')).toHaveText('converted in this browser');
    await expect(page.getByTestId('convert.progress')).toHaveCount(0);
    await expect(page.getByTestId('convert.done')).toHaveCount(0);
  });
});
