import * as ort from 'onnxruntime-web';
import { readFileSync } from 'node:fs';
import { formatBytes } from '../src/app/format';
import { graphFor, packFiles } from '../workers/pack/manifest';
import { expect, test, TEST_PACK_DIR, testPackManifest } from './fixtures';
import { seededUniform } from './prng';

test('shows the backend it chose and the pack it loaded', async ({ studio, backend, page }) => {
  const manifest = testPackManifest();
  await studio.open();

  await expect(studio.backendStatus).toHaveAttribute('data-backend', backend);
  await expect(studio.backendStatus).toHaveText(backend);
  const adapter = page.getByTestId('status.adapter');
  if (backend === 'webgpu') {
    await expect(adapter).not.toHaveText('no GPU adapter');
    const pageAdapter = await studio.webGpuAdapter();
    expect(pageAdapter).not.toBeNull();
    await expect(adapter).toHaveText(pageAdapter!.replace('/', ' · '));
  } else {
    await expect(adapter).toHaveText('no GPU adapter');
    // The wasm project's browser must really lack WebGPU, not merely be asked to skip it.
    expect(await studio.webGpuAdapter()).toBeNull();
  }
  await expect(page.getByTestId('status.fallback')).toHaveCount(0);

  await expect(studio.packStatus).toHaveAttribute('data-pack-name', manifest.name);
  await expect(studio.packStatus).toHaveAttribute('data-pack-version', manifest.version);
  const total = packFiles(manifest).reduce((n, f) => n + f.bytes, 0);
  await expect(page.getByTestId('status.pack-size')).toHaveText(`${formatBytes(total)} in ${packFiles(manifest).length} files`);
  expect(manifest.trained).toBe(false);
  await expect(page.getByTestId('status.untrained')).toBeVisible();
  await expect(page.getByTestId('status.untrained')).toContainText('UNTRAINED');
  await expect(page.getByTestId('pack.graphs').locator('tbody tr')).toHaveCount(manifest.graphs.length);
});

test('runs the test pack vae_decoder in the worker, matching onnxruntime-web in Node', async ({ studio, backend }) => {
  const manifest = testPackManifest();
  const spec = graphFor(manifest, 'vae_decoder', 'none');
  const dims = [1, manifest.latent.channels, 16, 16];
  const latent = seededUniform(20240611, dims.reduce((a, b) => a * b, 1));

  await studio.open();
  const inBrowser = await studio.runGraph('vae_decoder', spec.attention, { latent: { dtype: 'float32', dims, data: latent } });
  const status = await studio.status();
  expect(status.backend).toBe(backend);
  expect(status.sessions).toContain(`vae_decoder/${spec.attention}`);

  const session = await ort.InferenceSession.create(readFileSync(`${TEST_PACK_DIR}${spec.file}`), { executionProviders: ['wasm'] });
  const inNode = await session.run({ latent: new ort.Tensor('float32', Float32Array.from(latent), dims) });
  await session.release();

  const browserImage = inBrowser.image!;
  const nodeImage = inNode.image!;
  expect(Object.keys(inBrowser)).toEqual(['image']);
  expect(browserImage.dims).toEqual([1, 3, 128, 128]);
  expect(browserImage.dims).toEqual([...nodeImage.dims]);
  const expected = nodeImage.data as Float32Array;
  expect(browserImage.data).toHaveLength(expected.length);
  let maxDiff = 0;
  browserImage.data.forEach((v, i) => {
    maxDiff = Math.max(maxDiff, Math.abs(v - expected[i]!));
  });
  // A graph of constants would match trivially: make sure the output depends on the input.
  expect(Math.max(...expected) - Math.min(...expected)).toBeGreaterThan(1e-3);
  console.log(`[${backend}] vae_decoder (${spec.file}): max |browser - node wasm| = ${maxDiff.toExponential(3)} over ${expected.length} values`);
  expect(maxDiff).toBeLessThan(1e-4);
});

test('auto picks WebGPU where the browser has an adapter, else WASM and says why', async ({ studio, backend, page }) => {
  await studio.open('?backend=auto');
  await expect(studio.backendStatus).toHaveAttribute('data-backend', backend);
  const fallback = page.getByTestId('status.fallback');
  if (backend === 'webgpu') {
    await expect(fallback).toHaveCount(0);
  } else {
    await expect(fallback).toContainText('WebGPU unavailable:');
    expect((await studio.status()).fallbackReason).toMatch(/navigator\.gpu is missing|returned no adapter/);
  }
});

test('says why a pack with a corrupt file or an invalid manifest cannot load', async ({ studio, page }) => {
  const manifest = testPackManifest();
  const decoder = graphFor(manifest, 'vae_decoder', 'none');
  await page.route(`**/packs/test/${decoder.file}`, (route) => route.fulfill({ status: 200, contentType: 'application/octet-stream', body: Buffer.alloc(decoder.bytes) }));
  await page.goto(studio.backend === 'wasm' ? '/?backend=wasm' : '/');
  const error = page.getByTestId('status.error');
  await expect(error).toContainText(`"${decoder.file}" has sha256`);
  await expect(error).toContainText('(corrupt or wrong file)');
  await expect(studio.packStatus).toHaveCount(0);

  await page.unroute(`**/packs/test/${decoder.file}`);
  await page.route('**/packs/test/manifest.json', (route) =>
    route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ ...manifest, formatVersion: 99 }) }),
  );
  await page.reload();
  await expect(error).toContainText('Invalid model pack manifest:');
  await expect(error).toContainText('unsupported formatVersion 99');
});
