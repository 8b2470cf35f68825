/**
 * The studio as a person sees it, at 1440x900 and 1024x768: with two real
 * photos dropped in and a prompt, no control overlaps another or is cut off,
 * every control has an accessible name, and Tab reaches every one of them.
 * With UPDATE_DOCS_SCREENSHOTS=1 it also writes the README's screenshots
 * (`npm run screenshots`).
 */
import { mkdirSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures';
import { dropFiles, photo } from './subjects/helpers';

const SIZES = [
  { width: 1440, height: 900 },
  { width: 1024, height: 768 },
] as const;

const CONTROLS = 'button, input, select, textarea, a[href], [role="slider"], [role="combobox"], [tabindex]:not([tabindex="-1"])';

async function populate(page: Page): Promise<void> {
  await page.waitForFunction(() => window.__subjectStudio?.stores.subjects.persist.hasHydrated() === true);
  await dropFiles(page, [photo('chelsea.png')]);
  await expect(page.getByTestId('subject.card')).toHaveCount(1);
  await expect(page.getByTestId('subject.image')).toHaveCount(1);
  await page.getByTestId('subject.name').first().fill('mochi');
  await page.getByTestId('subject.class').first().fill('cat');
  await page.getByTestId('subjects.add').click();
  await dropFiles(page, [photo('coffee.png')]);
  await expect(page.getByTestId('subject.image')).toHaveCount(2);
  await page.getByTestId('subject.name').nth(1).fill('mug');
  await page.getByTestId('subject.class').nth(1).fill('cup');
  await page.getByRole('combobox', { name: 'Prompt' }).fill('@mochi sleeping next to @mug on a stack of books, watercolor');
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('prompt.chip')).toHaveCount(2);
}

interface Problem {
  what: string;
  a: string;
  b?: string;
}

/** Every visible control: not covered by another element, not cut off, not overlapping another control. */
function layoutProblems(page: Page): Promise<Problem[]> {
  return page.evaluate((selector) => {
    const describe = (el: Element) => `${el.tagName.toLowerCase()}[${el.getAttribute('data-testid') ?? el.getAttribute('aria-label') ?? (el.textContent ?? '').trim().slice(0, 30)}]`;
    const visible = [...document.querySelectorAll(selector)].filter((el) => {
      const r = el.getBoundingClientRect();
      const style = getComputedStyle(el);
      return r.width > 0 && r.height > 0 && style.visibility !== 'hidden' && style.opacity !== '0' && !el.closest('[hidden], [inert]');
    });
    const problems: { what: string; a: string; b?: string }[] = [];
    const vw = document.documentElement.clientWidth;
    for (const el of visible) {
      el.scrollIntoView({ block: 'center', inline: 'center' });
      const r = el.getBoundingClientRect();
      if (r.left < -0.5 || r.right > vw + 0.5) problems.push({ what: 'cut off horizontally', a: describe(el) });
      // The control's centre must be the control (or inside it): nothing covers it and no ancestor clips it.
      const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
      const label = el.id ? document.querySelector(`label[for="${el.id}"]`) : null;
      if (hit && !el.contains(hit) && !hit.contains(el) && hit !== label && !label?.contains(hit)) {
        problems.push({ what: 'covered', a: describe(el), b: describe(hit) });
      }
    }
    window.scrollTo(0, 0);
    const boxes = visible.map((el) => ({ el, r: el.getBoundingClientRect() }));
    for (let i = 0; i < boxes.length; i++)
      for (let j = i + 1; j < boxes.length; j++) {
        const { el: a, r: ra } = boxes[i]!;
        const { el: b, r: rb } = boxes[j]!;
        if (a.contains(b) || b.contains(a)) continue;
        const w = Math.min(ra.right, rb.right) - Math.max(ra.left, rb.left);
        const h = Math.min(ra.bottom, rb.bottom) - Math.max(ra.top, rb.top);
        if (w > 1 && h > 1) problems.push({ what: 'overlap', a: describe(a), b: describe(b) });
      }
    return problems;
  }, CONTROLS);
}

/** Controls with no accessible name (aria-label, aria-labelledby, a label, title, alt or text). */
function unnamedControls(page: Page): Promise<string[]> {
  return page.evaluate((selector) => {
    const nameOf = (el: HTMLElement): string => {
      const labelledBy = el.getAttribute('aria-labelledby');
      const byIds = labelledBy ? labelledBy.split(/\s+/).map((id) => document.getElementById(id)?.textContent ?? '').join(' ') : '';
      const labels = 'labels' in el ? [...((el as HTMLInputElement).labels ?? [])].map((l) => l.textContent ?? '').join(' ') : '';
      return [el.getAttribute('aria-label'), byIds, labels, el.getAttribute('title'), el.getAttribute('alt'), el.textContent].map((s) => (s ?? '').trim()).join('');
    };
    return [...document.querySelectorAll<HTMLElement>(selector)]
      .filter((el) => el.getBoundingClientRect().width > 0 && !(el as HTMLInputElement).disabled && (el as HTMLInputElement).type !== 'hidden')
      .filter((el) => !nameOf(el))
      .map((el) => el.outerHTML.slice(0, 120));
  }, CONTROLS);
}

for (const size of SIZES) {
  test(`layout at ${size.width}x${size.height}: no overlapping or cut-off controls, all named, all reachable by Tab`, async ({ studio, page, backend }) => {
    test.setTimeout(180_000);
    await page.setViewportSize(size);
    await studio.open();
    await populate(page);

    expect(await layoutProblems(page)).toEqual([]);
    expect(await unnamedControls(page)).toEqual([]);
    // The checks can fail: a stray control over the Generate button and an unnamed one are both caught.
    await page.evaluate(() => {
      const r = document.querySelector('[data-testid="generate.button"]')!.getBoundingClientRect();
      const stray = Object.assign(document.createElement('button'), { id: 'stray' });
      stray.style.cssText = `position:absolute;left:${r.left + window.scrollX}px;top:${r.top + window.scrollY}px;width:${r.width}px;height:${r.height}px`;
      document.body.append(stray);
    });
    expect((await layoutProblems(page)).map((p) => p.what)).toEqual(expect.arrayContaining(['covered', 'overlap']));
    expect(await unnamedControls(page)).toHaveLength(1);
    await page.evaluate(() => document.getElementById('stray')!.remove());

    // Tab through the page: every enabled, visible control takes the focus.
    const expected = await page.evaluate((selector) => {
      const all = [...document.querySelectorAll<HTMLElement>(selector)].filter(
        (el) => el.getBoundingClientRect().width > 0 && !(el as HTMLInputElement).disabled && el.tabIndex >= 0 && (el as HTMLInputElement).type !== 'file',
      );
      all.forEach((el, i) => el.setAttribute('data-tab-probe', String(i)));
      return all.length;
    }, CONTROLS);
    expect(expected).toBeGreaterThan(30);
    const reached = new Set<string>();
    await page.locator('body').focus();
    for (let i = 0; i < expected * 2 + 10 && reached.size < expected; i++) {
      await page.keyboard.press('Tab');
      const probe = await page.evaluate(() => document.activeElement?.closest('[data-tab-probe]')?.getAttribute('data-tab-probe') ?? null);
      if (probe) reached.add(probe);
    }
    const missed = await page.evaluate((seen) => [...document.querySelectorAll('[data-tab-probe]')].filter((el) => !seen.includes(el.getAttribute('data-tab-probe')!)).map((el) => el.outerHTML.slice(0, 120)), [...reached]);
    expect(missed).toEqual([]);

    if (process.env.UPDATE_DOCS_SCREENSHOTS && backend === 'wasm') {
      mkdirSync('docs', { recursive: true });
      await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
      await page.screenshot({ path: `docs/studio-${size.width}x${size.height}.png` });
    }
  });
}
