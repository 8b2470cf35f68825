/**
 * Helpers for the generate, gallery and recovery specs: a subject made of a
 * real photo, the request set through the stores, and watching a run
 * (progress, preview, long tasks and the main thread's CPU time).
 */
import { readFileSync } from 'node:fs';
import { expect, type Page } from '@playwright/test';

export const galleryItems = (page: Page) => page.getByTestId('gallery.item');

/**
 * Puts a real photo (and, optionally, a painted mask) in the blob store and
 * makes @mochi of them, as the subjects panel would (its own spec covers that UI).
 */
export async function addMochi(page: Page, { mask = true } = {}): Promise<void> {
  const photo = [...readFileSync(new URL('./photos/chelsea.png', import.meta.url))];
  await page.evaluate(
    async ([bytes, withMask]) => {
      const put = (id: string, blob: Blob) =>
        new Promise<void>((resolve, reject) => {
          // The studio's blob store (idb-keyval: database subject-studio-blobs, object store blobs).
          const open = indexedDB.open('subject-studio-blobs');
          open.onupgradeneeded = () => open.result.createObjectStore('blobs');
          open.onerror = () => reject(open.error);
          open.onsuccess = () => {
            const tx = open.result.transaction('blobs', 'readwrite');
            tx.objectStore('blobs').put(blob, id);
            tx.oncomplete = () => (open.result.close(), resolve());
            tx.onerror = () => reject(tx.error);
          };
        });
      await put('e2e-photo-chelsea', new Blob([new Uint8Array(bytes)], { type: 'image/png' }));
      // A mask over the left part of the photo: one byte per pixel.
      if (withMask) await put('e2e-mask-chelsea', new Blob([new Uint8Array(64 * 48).map((_, i) => (i % 64 < 40 ? 255 : 0))]));
      const { actions } = window.__subjectStudio!.stores.subjects.getState();
      const s = actions.addSubject({ name: 'mochi', classWord: 'cat' });
      const mask = withMask ? { id: 'e2e-mask-chelsea', width: 64, height: 48 } : null;
      actions.addImages(s.id, [{ id: 'e2e-photo-chelsea', fileName: 'chelsea.png', width: 451, height: 300, mask }]);
    },
    [photo, mask] as const,
  );
}

/** Sets the prompt and the settings a test asks for (128 × 128, the test pack's size, unless it says otherwise). */
export async function setRequest(page: Page, prompt: string, settings: { steps: number; seed: number; width?: number; height?: number }): Promise<void> {
  await page.evaluate(
    ([p, s]) => {
      const { stores } = window.__subjectStudio!;
      stores.prompt.getState().actions.setPrompt(p);
      stores.settings.getState().actions.patch({ width: 128, height: 128, randomSeed: false, ...s });
    },
    [prompt, settings] as const,
  );
}

/** Waits (checking every frame: WASM steps are quick) until the progress bar reaches `step`. */
export async function waitForStep(page: Page, step: number): Promise<void> {
  await page.waitForFunction((n) => Number(document.querySelector('[data-testid="generate.progress"]')?.getAttribute('aria-valuenow')) >= n, step, { polling: 'raf' });
}

/** Presses Generate and waits until the image is in the gallery and the panel is idle again. */
export async function generateOnce(page: Page, expectedCount: number): Promise<void> {
  await page.getByTestId('generate.button').click();
  await expect(galleryItems(page)).toHaveCount(expectedCount);
  await expect(page.getByTestId('generate.cancel')).toBeDisabled();
}

export interface Watched {
  /** aria-valuenow of the progress bar, each change. */
  values: number[];
  /** data-step of the preview canvas, each change, with whether it held a picture (not one flat colour). */
  previews: { step: number; drawn: boolean }[];
  /** Durations of the page's long tasks (PerformanceObserver 'longtask': wall time over 50 ms). */
  longTasks: number[];
}

/** Records from now on every change of the progress bar and the preview (sampled each frame) and every long task. */
export async function startWatching(page: Page): Promise<void> {
  await page.evaluate(() => {
    const watched: Watched = { values: [], previews: [], longTasks: [] };
    const tasks = new PerformanceObserver((list) => list.getEntries().forEach((e) => watched.longTasks.push(e.duration)));
    tasks.observe({ type: 'longtask' });
    let raf = 0;
    const sample = () => {
      const v = document.querySelector('[data-testid="generate.progress"]')?.getAttribute('aria-valuenow');
      if (v != null && Number(v) !== watched.values.at(-1)) watched.values.push(Number(v));
      const canvas = document.querySelector<HTMLCanvasElement>('[data-testid="generate.preview"]');
      const step = Number(canvas?.dataset.step ?? 0);
      if (canvas && step > 0 && step !== watched.previews.at(-1)?.step) {
        const px = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        watched.previews.push({ step, drawn: px.some((x, i) => i % 4 !== 3 && x !== px[0]) });
      }
      raf = requestAnimationFrame(sample);
    };
    raf = requestAnimationFrame(sample);
    (window as unknown as { __watch: { watched: Watched; stop(): void } }).__watch = { watched, stop: () => (tasks.disconnect(), cancelAnimationFrame(raf)) };
  });
}

export function stopWatching(page: Page): Promise<Watched> {
  return page.evaluate(() => {
    const w = (window as unknown as { __watch: { watched: Watched; stop(): void } }).__watch;
    w.stop();
    return w.watched;
  });
}

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  /** Wall time, µs. */
  dur?: number;
  /** Time the thread actually ran, µs. */
  tdur?: number;
  args?: { name?: string; data?: { frames?: { url?: string; processId?: number }[] } };
}

/**
 * Traces the browser (Chromium) to measure the page's main-thread tasks by
 * CPU time. A long task's wall time also counts the time its thread waited
 * for a core: SwiftShader (WebGPU on the CPU here) and anything else on a
 * small machine take cores away, so wall time alone blames the page for
 * the machine's load. CPU time is what the page's own work costs.
 */
export async function startCpuTrace(page: Page): Promise<void> {
  await page.context().browser()!.startTracing(page, { categories: ['disabled-by-default-devtools.timeline', 'toplevel'] });
}

/** The page main thread's tasks while tracing: how many, and the longest by CPU time and by wall time (ms). */
export async function stopCpuTrace(page: Page, origin: string): Promise<{ tasks: number; maxCpuMs: number; maxWallMs: number }> {
  const { traceEvents } = JSON.parse((await page.context().browser()!.stopTracing()).toString()) as { traceEvents: TraceEvent[] };
  const frames = traceEvents.flatMap((e) => (e.name === 'TracingStartedInBrowser' ? (e.args?.data?.frames ?? []) : []));
  const pids = new Set(frames.filter((f) => f.url?.startsWith(origin)).map((f) => f.processId));
  const main = traceEvents.find((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain' && pids.has(e.pid));
  if (!main) throw new Error(`no renderer main thread for ${origin} in the trace`);
  const tasks = traceEvents.filter((e) => e.ph === 'X' && e.name === 'RunTask' && e.pid === main.pid && e.tid === main.tid);
  if (tasks.length === 0 || tasks.some((t) => t.tdur === undefined)) throw new Error('the trace has no thread times for the main thread');
  return {
    tasks: tasks.length,
    maxCpuMs: Math.max(...tasks.map((t) => t.tdur!)) / 1000,
    maxWallMs: Math.max(...tasks.map((t) => t.dur ?? 0)) / 1000,
  };
}
