/**
 * The settings panel (changes, clamping, reset, dice, per-subject knobs,
 * presets, persistence) and the pack panel (bad URLs and manifests, a local
 * folder, going back to the built-in pack).
 */
import type { Page } from '@playwright/test';
import { DEFAULT_SETTINGS, type StudioSettings } from '../src/state/settings-store';
import { expect, test, TEST_PACK_DIR, testPackManifest } from './fixtures';

const settings = (page: Page) => page.evaluate(() => window.__subjectStudio!.stores.settings.getState().settings);
const subject = (page: Page) => page.evaluate(() => window.__subjectStudio!.stores.subjects.getState().subjects[0]!);

/** The settings as saved in IndexedDB (what a reload reads back), or null. */
const persisted = (page: Page) =>
  page.evaluate(
    () =>
      new Promise<{ settings: StudioSettings; presets: { name: string }[] } | null>((resolve, reject) => {
        const open = indexedDB.open('subject-studio-documents');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          const get = db.transaction('documents').objectStore('documents').get('settings');
          get.onsuccess = () => {
            resolve((get.result as { state?: never } | undefined)?.state ?? null);
            db.close();
          };
          get.onerror = () => reject(get.error);
        };
      }),
  );

test('settings change, clamp, reset and roll the seed; every control is named and explained', async ({ studio, page }) => {
  const manifest = testPackManifest();
  await studio.open();
  const steps = page.getByTestId('settings.steps');

  await steps.fill('20');
  await expect.poll(async () => (await settings(page)).steps).toBe(20);
  await steps.fill('500');
  await steps.press('Tab');
  await expect(steps).toHaveValue('100');
  await steps.fill('');
  await steps.press('Tab');
  await expect(steps).toHaveValue('100'); // not a number: reverts, never NaN
  expect((await settings(page)).steps).toBe(100);

  const seedBefore = (await settings(page)).seed;
  await page.getByTestId('settings.dice').click();
  await expect.poll(async () => (await settings(page)).seed).not.toBe(seedBefore);
  const rolled = (await settings(page)).seed;
  expect(Number.isInteger(rolled) && rolled >= 0 && rolled < 2 ** 31).toBe(true);
  await expect(page.getByTestId('settings.seed')).toHaveValue(String(rolled));
  await page.getByTestId('settings.seed-random').check();

  // Sizes are the pack's own.
  const size = page.getByTestId('settings.size');
  await expect(size.locator('option')).toHaveText(manifest.resolutions.map((r) => new RegExp(`^${r.width} × ${r.height}`)));
  await size.selectOption('64x64');
  await page.getByRole('slider', { name: 'Text guidance slider' }).press('ArrowRight');
  await page.getByTestId('settings.drop-ratio').fill('0.35');
  await page.getByTestId('settings.drop-schedule').selectOption('late');
  await page.getByTestId('settings.ref-mode').selectOption('full');
  await expect.poll(() => settings(page)).toEqual({
    ...DEFAULT_SETTINGS,
    steps: 100,
    seed: rolled,
    randomSeed: true,
    width: 64,
    height: 64,
    textGuidance: DEFAULT_SETTINGS.textGuidance + 0.5,
    dropRatio: 0.35,
    dropSchedule: 'late',
    refMode: 'full',
  });

  // A size the pack does not list (from an old preset, say) is shown as such.
  await page.evaluate(() => window.__subjectStudio!.stores.settings.getState().actions.patch({ width: 256, height: 256 }));
  await expect(page.getByTestId('settings.size-warning')).toContainText('cannot generate at 256 × 256');
  await expect(size.locator('option:checked')).toHaveText('256 × 256 (not in this pack)');

  await page.getByTestId('settings.reset').click();
  await expect.poll(() => settings(page)).toEqual({ ...DEFAULT_SETTINGS });
  await expect(steps).toHaveValue(String(DEFAULT_SETTINGS.steps));
  await expect(size).toHaveValue(`${manifest.defaultResolution.width}x${manifest.defaultResolution.height}`);
  await expect(page.getByTestId('settings.size-warning')).toHaveCount(0);

  // Every control: reachable by keyboard, an accessible name, a one-sentence help as tooltip and description.
  const controls = page.getByTestId('settings.panel').locator('input, select, button');
  expect(await controls.count()).toBeGreaterThanOrEqual(15);
  const problems = await page.getByTestId('settings.panel').evaluate((panel) =>
    [...panel.querySelectorAll<HTMLElement>('input, select, button')].flatMap((el) => {
      const what = el.dataset.testid ?? el.outerHTML.slice(0, 80);
      const labelled = (el as HTMLInputElement).labels?.length || el.getAttribute('aria-label') || el.textContent?.trim();
      const described = (el.getAttribute('aria-describedby') ?? '').split(' ').map((id) => document.getElementById(id)?.textContent?.trim()).filter(Boolean);
      const tooltip = el.title || el.closest<HTMLElement>('[title]')?.title;
      return [!labelled && `${what}: no name`, described.length === 0 && `${what}: no description`, !tooltip && `${what}: no tooltip`, el.tabIndex < 0 && `${what}: not focusable`].filter(Boolean);
    }),
  );
  expect(problems).toEqual([]);
});

test('per-subject knobs clamp and keep their windows ordered', async ({ studio, page }) => {
  const manifest = testPackManifest();
  await studio.open();
  await page.evaluate(() => window.__subjectStudio!.stores.subjects.getState().actions.addSubject({ name: 'mochi', classWord: 'cat' }));
  const group = page.getByTestId('settings.subject.mochi');
  await expect(group).toContainText('@mochi');
  const field = (name: string) => page.getByTestId(`settings.subject.mochi.${name}`);

  await field('strength').fill('1.5');
  await expect.poll(async () => (await subject(page)).strength).toBe(1.5);
  await field('strength').fill('9');
  await field('strength').press('Tab');
  await expect.poll(async () => (await subject(page)).strength).toBe(4);

  await expect(field('cutoff')).toHaveCount(0);
  await field('frequency').check();
  await field('cutoff').fill('500');
  await field('cutoff').press('Tab');
  await field('shape').selectOption('disk');
  await field('gamma-high').fill('0.5');
  await expect.poll(async () => (await subject(page)).frequency).toEqual({ enabled: true, cutoff: 64, shape: 'disk', gammaOrig: 1, gammaLow: 0, gammaHigh: 0.5 });

  await field('layer-start').fill('40');
  await field('layer-start').press('Tab');
  await expect.poll(async () => (await subject(page)).layerStart).toBe(manifest.transformer.layers - 1);

  await field('window-start').fill('0.8');
  await expect.poll(async () => (await subject(page)).stepWindow).toEqual([0.8, 1]);
  await field('window-end').fill('0.5');
  await expect.poll(async () => (await subject(page)).stepWindow).toEqual([0.5, 0.5]);
  await expect(field('window-start')).toHaveValue('0.5');

  await field('reset').click();
  await expect.poll(async () => {
    const s = await subject(page);
    return [s.strength, s.frequency.enabled, s.layerStart, s.stepWindow];
  }).toEqual([1, false, 0, [0, 1]]);
});

test('presets save, load and delete; settings survive a reload', async ({ studio, page }) => {
  await studio.open();
  const steps = page.getByTestId('settings.steps');
  const name = page.getByTestId('settings.preset.name');
  const save = page.getByTestId('settings.preset.save');
  const pick = page.getByTestId('settings.preset.select');

  await expect(save).toBeDisabled();
  await steps.fill('12');
  await name.fill('fast');
  await save.click();
  await expect(page.getByTestId('settings.preset.message')).toHaveText('Saved preset “fast”.');
  await steps.fill('40');
  await name.fill('slow');
  await name.press('Enter');
  await expect(pick.locator('option')).toHaveText(['fast', 'slow']);

  await pick.selectOption('fast');
  await page.getByTestId('settings.preset.load').click();
  await expect(steps).toHaveValue('12');
  await pick.selectOption('slow');
  await page.getByTestId('settings.preset.delete').click();
  await expect(pick.locator('option')).toHaveText(['fast']);

  await page.getByTestId('settings.drop-ratio').fill('0.35');
  await page.getByTestId('settings.drop-schedule').selectOption('early');
  await expect.poll(async () => (await persisted(page))?.settings.dropSchedule).toBe('early');
  await page.reload();
  await expect(studio.packStatus).toBeVisible();
  await expect(steps).toHaveValue('12');
  await expect(page.getByTestId('settings.drop-ratio')).toHaveValue('0.35');
  await expect(page.getByTestId('settings.drop-schedule')).toHaveValue('early');
  await expect(pick.locator('option')).toHaveText(['fast']);
});

test('a bad pack URL or manifest shows why and the studio keeps its pack; a local folder loads', async ({ studio, page }) => {
  const manifest = testPackManifest();
  await studio.open();
  const url = page.getByTestId('pack.url');
  const error = page.getByTestId('pack.error');
  const tokens = page.getByTestId('prompt.tokens');

  await url.fill('/packs/nowhere');
  await page.getByTestId('pack.load').click();
  await expect(error).toContainText('no model pack at');
  await expect(error).toContainText('/packs/nowhere/manifest.json could not be read');

  await page.route('**/packs/broken/manifest.json', (route) =>
    route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ ...manifest, resolutions: [] }) }),
  );
  await url.fill('/packs/broken');
  await url.press('Enter');
  await expect(error).toContainText('Invalid model pack manifest:');
  await expect(error).toContainText('resolutions');

  // Still on the test pack, and the engine still answers for it.
  await expect(page.getByTestId('pack.name')).toHaveText(manifest.name);
  await expect(page.getByTestId('pack.untrained')).toHaveText('UNTRAINED');
  expect((await studio.status()).pack?.name).toBe(manifest.name);
  await page.getByTestId('prompt.input').fill('a cat');
  await expect(tokens).toHaveText(/^\d+ \/ \d+ tokens$/);

  await page.getByTestId('pack.folder').setInputFiles(TEST_PACK_DIR);
  await expect(page.getByTestId('pack.source')).toHaveText('a folder on this computer');
  await expect(error).toHaveCount(0);
  await expect(page.getByTestId('pack.graphs').locator('tbody tr')).toHaveCount(manifest.graphs.length);
  // The size list comes from the folder's manifest, and the engine tokenizes with the folder's pack.
  await expect(page.getByTestId('settings.size').locator('option')).toHaveCount(manifest.resolutions.length);
  await page.getByTestId('prompt.input').fill('a dog');
  await expect(tokens).toHaveText(/^\d+ \/ 16 tokens$/);

  await page.getByTestId('pack.builtin').click();
  await expect(page.getByTestId('pack.source')).toContainText('/packs/test');
  await expect(page.getByTestId('pack.builtin')).toHaveCount(0);
  expect((await studio.status()).pack?.url).toMatch(/\/packs\/test$/);
});
