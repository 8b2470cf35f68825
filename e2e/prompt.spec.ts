/**
 * The prompt editor: @mention suggestions (keyboard and mouse), chips,
 * unknown names, the token counter against the pack's own tokenizer,
 * Ctrl+Enter and live mode.
 */
import { Tokenizer } from '@huggingface/tokenizers';
import type { Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { compilePrompt } from '../workers/pipeline/text/prompt';
import { expect, test, TEST_PACK_DIR, testPackManifest } from './fixtures';

const SUBJECTS = [
  { name: 'mochi', classWord: 'cat' },
  { name: 'momo', classWord: 'dog' },
];

async function addSubjects(page: Page): Promise<void> {
  await page.evaluate((subjects) => {
    const { actions } = window.__subjectStudio!.stores.subjects.getState();
    for (const s of subjects) actions.addSubject(s);
  }, SUBJECTS);
}

const generation = (page: Page) =>
  page.evaluate(() => {
    const g = window.__subjectStudio!.stores.generation.getState();
    return { requestId: g.requestId, reason: g.requestReason };
  });

/** What the test pack's tokenizer makes of a prompt, computed here in Node with the compiler the worker runs. */
function expectedReport(prompt: string) {
  const manifest = testPackManifest();
  const tokenizer = new Tokenizer(JSON.parse(readFileSync(`${TEST_PACK_DIR}${manifest.tokenizer.file}`, 'utf8')), {});
  const subjects = SUBJECTS.map((s, i) => ({ ...s, placeholder: manifest.tokenizer.placeholders[i]! }));
  const c = compilePrompt(tokenizer, manifest, prompt, subjects);
  return { count: c.tokenCount, max: manifest.tokens.maxText, cut: c.truncation?.droppedText ?? null };
}

test('mentions: suggestions by keyboard and mouse, chips, unknown names, undo', async ({ studio, page }) => {
  await studio.open();
  await addSubjects(page);
  const input = page.getByTestId('prompt.input');
  const list = page.getByTestId('prompt.suggestions');
  const options = list.getByRole('option');

  await input.click();
  await page.keyboard.type('@mo');
  await expect(list).toBeVisible();
  await expect(input).toHaveAttribute('aria-expanded', 'true');
  await expect(options).toHaveText(['@mochicat', '@momodog']);
  await expect(options.nth(0)).toHaveAttribute('aria-selected', 'true');
  await page.keyboard.press('ArrowDown');
  await expect(options.nth(1)).toHaveAttribute('aria-selected', 'true');
  await expect(input).toHaveAttribute('aria-activedescendant', (await options.nth(1).getAttribute('id'))!);
  await page.keyboard.press('ArrowDown'); // wraps around
  await expect(options.nth(0)).toHaveAttribute('aria-selected', 'true');
  await page.keyboard.press('Enter');
  await expect(input).toHaveValue('@mochi ');
  await expect(list).toBeHidden();

  // Undo takes the completion back, as for typed text.
  await page.keyboard.press('Control+z');
  await expect(input).toHaveValue('@mo');
  await page.keyboard.press('End'); // the browser selects what undo restored; a caret in the mention opens the list again
  await expect(list).toBeVisible();
  await page.keyboard.press('Tab'); // Tab accepts instead of leaving the field
  await expect(input).toHaveValue('@mochi ');
  await expect(input).toBeFocused();

  // Escape closes the list without changing the text.
  await page.keyboard.type('next to @');
  await expect(options).toHaveCount(2);
  await page.keyboard.press('Escape');
  await expect(list).toBeHidden();
  await expect(input).toHaveValue('@mochi next to @');

  // It stays closed for that mention while typing; Ctrl+Space opens it again; a click picks a subject.
  await page.keyboard.type('m');
  await expect(input).toHaveValue('@mochi next to @m');
  await expect(list).toBeHidden();
  await page.keyboard.press('Control+Space');
  await expect(list).toBeVisible();
  await options.filter({ hasText: '@momo' }).click();
  await expect(input).toHaveValue('@mochi next to @momo ');
  await expect(input).toBeFocused();

  const chips = page.getByTestId('prompt.chip');
  await expect(chips).toHaveCount(2);
  await expect(chips.nth(0)).toHaveText('@mochi');
  await expect(chips.nth(1)).toHaveAttribute('data-subject', 'momo');
  await expect(page.getByTestId('prompt.unknown')).toHaveCount(0);

  await page.keyboard.type('and @ghost');
  await expect(page.getByTestId('prompt.unknown')).toContainText('No subject named @ghost');
  const mark = page.getByTestId('prompt.unknown-mention');
  await expect(mark).toHaveText('@ghost');
  expect(await mark.evaluate((el) => getComputedStyle(el).textDecorationStyle)).toBe('wavy');
  await expect(input).toHaveAttribute('aria-describedby', /\S/);

  // The chips lie under the text they mark: the mirror wraps exactly like the textarea.
  const [field, mirror] = await Promise.all([input.boundingBox(), page.locator('.mention-mirror').boundingBox()]);
  expect(mirror).toEqual(field);
  const chipBox = (await chips.nth(0).boundingBox())!;
  expect(chipBox.x).toBeGreaterThanOrEqual(field!.x);
  expect(chipBox.y).toBeGreaterThanOrEqual(field!.y);

  // A subject renamed away leaves its mention unknown; the store is what the editor reads.
  await page.evaluate(() => {
    const s = window.__subjectStudio!.stores.subjects.getState();
    s.actions.rename(s.subjects[1]!.id, 'tofu');
  });
  await expect(chips).toHaveCount(1);
  await expect(page.getByTestId('prompt.unknown')).toContainText('@momo, @ghost');
  expect(await page.evaluate(() => window.__subjectStudio!.stores.prompt.getState().prompt)).toBe('@mochi next to @momo and @ghost');
});

test('prompt and pack controls are named and reachable by keyboard', async ({ studio, page }) => {
  await studio.open();
  for (const panel of [page.locator('.prompt-editor'), page.getByTestId('pack.panel')]) {
    const controls = panel.locator('input, select, button, textarea');
    expect(await controls.count()).toBeGreaterThanOrEqual(3);
    const problems = await panel.evaluate((root) =>
      [...root.querySelectorAll<HTMLElement>('input, select, button, textarea')].flatMap((el) => {
        const what = el.dataset.testid ?? el.outerHTML.slice(0, 80);
        const named = (el as HTMLInputElement).labels?.length || el.getAttribute('aria-label') || el.textContent?.trim();
        return [!named && `${what}: no accessible name`, el.tabIndex < 0 && `${what}: not focusable`].filter(Boolean);
      }),
    );
    expect(problems).toEqual([]);
  }
  await expect(page.getByRole('combobox', { name: 'Prompt' })).toHaveAttribute('data-testid', 'prompt.input');
  await expect(page.getByRole('textbox', { name: 'Negative prompt' })).toHaveAttribute('data-testid', 'prompt.negative');
  await expect(page.getByRole('checkbox', { name: 'Live' })).toHaveAttribute('data-testid', 'prompt.live');
  await expect(page.getByRole('textbox', { name: 'Pack URL' })).toHaveAttribute('data-testid', 'pack.url');
  // The folder picker is visually hidden behind its label, but Tab still reaches it.
  await page.getByTestId('pack.url').focus();
  await page.keyboard.press('Tab'); // Load (disabled while the field is empty) is skipped
  await expect(page.getByTestId('pack.folder')).toBeFocused();
});

test("the token counter matches the pack's tokenizer and shows what is cut", async ({ studio, page }) => {
  await studio.open();
  await addSubjects(page);
  const input = page.getByTestId('prompt.input');
  const tokens = page.getByTestId('prompt.tokens');
  const cut = page.getByTestId('prompt.cut');

  const short = '@mochi sleeping';
  const fits = expectedReport(short);
  expect(fits.cut).toBeNull();
  await input.fill(short);
  await expect(tokens).toHaveText(`${fits.count} / ${fits.max} tokens`);
  await expect(cut).toHaveCount(0);
  await expect(tokens).not.toHaveClass(/over/);

  const long = '@mochi sleeping next to @momo on a stack of old books, watercolor, soft morning light';
  const over = expectedReport(long);
  expect(over.count).toBeGreaterThan(over.max);
  await input.fill(long);
  await expect(tokens).toHaveText(`${over.count} / ${over.max} tokens`);
  await expect(tokens).toHaveClass(/over/);
  await expect(cut).toHaveText(`cut: ${over.cut}`);

  // Class words count: a longer one changes the count as the worker computes it.
  await page.evaluate(() => {
    const s = window.__subjectStudio!.stores.subjects.getState();
    s.actions.setClassWord(s.subjects[0]!.id, 'fluffy cat');
  });
  SUBJECTS[0]!.classWord = 'fluffy cat';
  try {
    const longer = expectedReport(short);
    expect(longer.count).toBeGreaterThan(fits.count);
    await input.fill(short);
    await expect(tokens).toHaveText(`${longer.count} / ${longer.max} tokens`);
  } finally {
    SUBJECTS[0]!.classWord = 'cat';
  }
});

test('Ctrl+Enter asks for a generation; live mode asks once typing pauses', async ({ studio, page }) => {
  await studio.open();
  await addSubjects(page);
  const input = page.getByTestId('prompt.input');
  await input.fill('@mochi asleep');

  const before = await generation(page);
  await input.press('Control+Enter');
  await expect.poll(() => generation(page)).toEqual({ requestId: before.requestId + 1, reason: 'shortcut' });
  await expect(input).toHaveValue('@mochi asleep'); // no newline typed
  await page.getByTestId('prompt.negative').press('Meta+Enter');
  await expect.poll(() => generation(page)).toEqual({ requestId: before.requestId + 2, reason: 'shortcut' });

  // Live mode off: typing asks for nothing.
  const live = page.getByTestId('prompt.live');
  await expect(live).not.toBeChecked();
  await input.press('End');
  await page.keyboard.type(' zz');
  await page.waitForTimeout(1000);
  expect((await generation(page)).requestId).toBe(before.requestId + 2);

  await live.check();
  expect(await page.evaluate(() => window.__subjectStudio!.stores.prompt.getState().liveMode)).toBe(true);
  await input.focus();
  await input.press('End');
  // A burst of typing (keys 100 ms apart, under the 600 ms pause) makes one request, after the pause.
  await page.keyboard.type(' on books', { delay: 100 });
  expect((await generation(page)).requestId).toBe(before.requestId + 2);
  await expect.poll(() => generation(page), { timeout: 5000 }).toEqual({ requestId: before.requestId + 3, reason: 'live' });
  await page.waitForTimeout(1000);
  expect((await generation(page)).requestId).toBe(before.requestId + 3);
});
