/**
 * Playwright fixtures: `backend` (per project) and `studio`, a page object for
 * the studio that fails a test on uncaught page errors.
 */
import { test as base, expect, type Locator, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { AttentionKind, GraphRole, PackManifest } from '../workers/pack/manifest';
import { parseManifest } from '../workers/pack/manifest';
import type { JsonTensor } from '../src/engine-client/test-hook';

export type BackendName = 'webgpu' | 'wasm';

export interface StudioOptions {
  /** The backend this project's browser must end up on. */
  backend: BackendName;
}

export const TEST_PACK_DIR = fileURLToPath(new URL('../public/packs/test/', import.meta.url));

export function testPackManifest(): PackManifest {
  return parseManifest(readFileSync(`${TEST_PACK_DIR}manifest.json`, 'utf8'));
}

export class StudioPage {
  readonly pageErrors: string[] = [];

  constructor(
    readonly page: Page,
    readonly backend: BackendName,
  ) {
    page.on('pageerror', (e) => this.pageErrors.push(e.message));
  }

  get backendStatus(): Locator {
    return this.page.getByTestId('status.backend');
  }

  get packStatus(): Locator {
    return this.page.getByTestId('status.pack');
  }

  /**
   * Opens the studio and waits until the pack is loaded or an error shows. By
   * default the webgpu project leaves the choice to the engine (auto) and the
   * wasm project asks for ?backend=wasm.
   */
  async open(query: string = this.backend === 'wasm' ? '?backend=wasm' : ''): Promise<void> {
    await this.page.goto(`/${query}`);
    const error = this.page.getByTestId('status.error');
    await expect(this.packStatus.or(error)).toBeVisible();
    if (await error.isVisible()) throw new Error(`the studio shows an error:\n${await error.innerText()}`);
  }

  /** Runs one graph in the page's engine worker through the test hook on window. */
  runGraph(role: GraphRole, attention: AttentionKind, feeds: Record<string, JsonTensor>): Promise<Record<string, JsonTensor>> {
    return this.page.evaluate(
      ([r, a, f]) => {
        const hook = window.__subjectStudio;
        if (!hook) throw new Error('window.__subjectStudio is not installed');
        return hook.runGraph(r, a, f);
      },
      [role, attention, feeds] as const,
    );
  }

  /** "vendor/architecture" of the adapter the page itself can get, or null when it has no WebGPU. */
  webGpuAdapter(): Promise<string | null> {
    return this.page.evaluate(async () => {
      if (!('gpu' in navigator)) return null;
      const adapter = await navigator.gpu.requestAdapter();
      return adapter ? `${adapter.info.vendor}/${adapter.info.architecture}` : null;
    });
  }

  status() {
    return this.page.evaluate(() => window.__subjectStudio!.status());
  }
}

export const test = base.extend<StudioOptions & { studio: StudioPage }>({
  backend: ['webgpu', { option: true }],
  studio: async ({ page, backend }, use) => {
    const studio = new StudioPage(page, backend);
    await use(studio);
    expect(studio.pageErrors, 'uncaught errors in the page').toEqual([]);
  },
});

export { expect };
