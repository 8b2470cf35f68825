/**
 * The studio on the toy-world pack, as a new user meets it: the pack says what it is, the prompt
 * editor shows the words it knows, "Try an example" adds two subjects and a prompt, and Generate
 * makes a picture in which the example's subjects are recognisable in the asked scene, by the
 * eval's own measures (workers/world/measures.ts) on the picture taken from the gallery.
 */
import { expect, test } from './fixtures';
import { exampleCase } from '../workers/world/eval-cases';
import { conceptPreservation, promptFollowing, segment } from '../workers/world/measures';
import { galleryItems } from './generate-helpers';

/**
 * The asked scene must hold (PF), and each subject must be found with some of its identity (CP).
 * MIN_CP is the level of the model trained so far (step 4600 on CPU: CP 0.143 and 0.066 on this
 * example, PF 1), not yet "recognisable" (the aim, CP >= 0.6): a regression guard that
 * rises as training goes on (docs/toy-world.md).
 */
const MIN_CP = 0.05;
const MIN_PF = 0.8;

test('Try an example, then Generate: the example subjects in the asked scene', async ({ studio, page }) => {
  await page.setViewportSize({ width: 1440, height: 900 });
  await studio.open(`?backend=${studio.backend}&pack=/packs/toy`);
  await expect(studio.packStatus).toHaveAttribute('data-pack-name', 'toy-world');
  await expect(page.getByTestId('status.untrained')).toHaveCount(0);
  await expect(page.getByTestId('prompt.vocabulary')).toContainText('striped');

  await page.getByTestId('subjects.example').click();
  const example = exampleCase();
  await expect(page.getByTestId('prompt.input')).toHaveText(example.prompt);
  await expect(page.getByTestId('subjects.count')).toHaveText(/^2 of/);
  await expect(page.getByTestId('prompt.outside-vocabulary')).toHaveCount(0);

  await page.getByTestId('generate.button').click();
  await expect(galleryItems(page)).toHaveCount(1, { timeout: 110_000 });
  // The result canvas holds the image at its own size (the page scales it up with CSS).
  const rgb = await page.getByTestId('generate.result').evaluate((canvas: HTMLCanvasElement) => {
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    return { size: canvas.width, rgb: Array.from({ length: canvas.width * canvas.height * 3 }, (_, i) => data[Math.floor(i / 3) * 4 + (i % 3)]!) };
  });
  expect(rgb.size).toBe(128);
  const pic = { size: 128, rgb: Uint8Array.from(rgb.rgb) };
  const seg = segment(pic, example.target);
  const cps = example.subjects.map((s, i) => conceptPreservation(pic, seg.subjects[i] ?? null, s.identityId, seg.style).cp);
  const pf = promptFollowing(pic, example.target, seg);
  const measured = `CP ${cps.map((c) => c.toFixed(3)).join(', ')}, PF ${pf.pf.toFixed(3)} (${pf.attributes.filter((a) => !a.ok).map((a) => a.name).join(', ') || 'all hold'})`;
  console.log(`toy-world example: ${measured}`);
  test.info().annotations.push({ type: 'measures', description: measured });
  // `npm run screenshots` also refreshes the README's picture of the studio on its default pack.
  if (process.env.UPDATE_DOCS_SCREENSHOTS) await page.screenshot({ path: 'docs/studio-toy-world.png' });
  expect(Math.min(...cps)).toBeGreaterThanOrEqual(MIN_CP);
  expect(pf.pf).toBeGreaterThanOrEqual(MIN_PF);
});

test('a word the toy model does not know gets a gentle notice', async ({ studio, page }) => {
  await studio.open(`?backend=${studio.backend}&pack=/packs/toy`);
  await page.getByTestId('prompt.input').click();
  await page.keyboard.type('a toy on a beach, watercolor');
  await expect(page.getByTestId('prompt.outside-vocabulary')).toContainText('“beach”, “watercolor”');
});
