import { defineConfig } from '@playwright/test';
import { existsSync } from 'node:fs';
import type { StudioOptions } from './e2e/fixtures';

const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!existsSync(chromiumPath)) {
  throw new Error(
    `Chromium was not found at ${chromiumPath}. The end-to-end tests use Debian's Chromium: install it with\n\n` +
      `    sudo apt-get update && sudo apt-get install -y chromium\n\n` +
      `(.ci/run does this), or point CHROMIUM_PATH at another Chromium. Do not run "npx playwright install".`,
  );
}
if (!existsSync('dist/index.html')) {
  throw new Error('dist/ holds no build of the studio: run `npm run build` first (`npm test` does).');
}

const port = Number(process.env.E2E_PORT ?? 4173);
const baseArgs = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

export default defineConfig<StudioOptions>({
  testDir: 'e2e',
  timeout: 120_000,
  expect: { timeout: 60_000 },
  forbidOnly: true,
  retries: 0,
  // WebGPU here is SwiftShader on the CPU: one browser at a time keeps small CI machines responsive.
  workers: 1,
  reporter: [['list']],
  use: {
    baseURL: `http://localhost:${port}`,
    browserName: 'chromium',
    headless: true,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
  projects: [
    {
      name: 'webgpu',
      // WebGPU here is SwiftShader: every page is ~3x slower and a step of the test pack takes ~5 s, and CI
      // must stay under 15 minutes. This project runs what depends on the backend: choosing it, running
      // graphs against Node, generating (two subjects, cancel, full mode, a converted real-family pack),
      // restarting after a crash, and the pack cache (streaming external data into OPFS, resume, quota,
      // hash checks: the loader's path to WebGPU sessions). UI flows (subjects, mask, prompt, settings,
      // layout, gallery, the whole flow) are the same code on either backend and run once, on WASM.
      testIgnore: [
        '**/subjects.spec.ts',
        '**/mask.spec.ts',
        '**/prompt.spec.ts',
        '**/settings.spec.ts',
        '**/layout.spec.ts',
        '**/convert-cancel.spec.ts',
        '**/gallery.spec.ts',
        '**/flow.spec.ts',
        '**/toy-world.spec.ts',
      ],
      use: {
        backend: 'webgpu',
        launchOptions: { executablePath: chromiumPath, args: [...baseArgs, '--enable-unsafe-webgpu'] },
      },
    },
    {
      name: 'wasm',
      // The pack cache is the same code on either backend and runs once, on WebGPU (above).
      testIgnore: ['**/pack-cache.spec.ts'],
      use: {
        backend: 'wasm',
        // No --enable-unsafe-webgpu and the feature switched off: Chromium 156 still defines navigator.gpu
        // but gives no adapter, so this browser really has no WebGPU (a test checks it).
        launchOptions: { executablePath: chromiumPath, args: [...baseArgs, '--disable-features=WebGPU'] },
      },
    },
  ],
  // navigator.gpu exists only in a secure context: serve the built app on http://localhost.
  webServer: {
    command: `node node_modules/vite/bin/vite.js preview --host localhost --port ${port} --strictPort`,
    url: `http://localhost:${port}/`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
