/**
 * The pack cache in the browser: a pack with external-data shards streams
 * into OPFS with visible progress; a reload loads it with no request for its
 * files; an interrupted download resumes with a Range request; a quota too
 * small refuses a new pack with both numbers and loses nothing cached; a
 * corrupted cached file is found by its hash and fetched again; a cancelled
 * switch keeps the current pack.
 */
import { readFileSync } from 'node:fs';
import type { BrowserContext, Page, Route } from '@playwright/test';
import { expect, test, testPackManifest, TEST_PACK_DIR } from './fixtures';
import { setRequest } from './generate-helpers';
import { packFiles } from '../workers/pack/manifest';

const manifest = testPackManifest();
const packFileNames = new Set(packFiles(manifest).map((f) => f.file));

interface Logged {
  file: string;
  range: string | null;
}

/** Requests for the test pack's files (workers included), with their Range header. */
function logPackRequests(context: BrowserContext, dir = '/packs/test/'): Logged[] {
  const log: Logged[] = [];
  context.on('request', (r) => {
    const path = new URL(r.url()).pathname;
    if (path.startsWith(dir)) log.push({ file: path.slice(dir.length), range: r.headers()['range'] ?? null });
  });
  return log;
}

const weightRequests = (log: Logged[]) => log.filter((r) => r.file !== 'manifest.json');
const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitForPack(page: Page, name = manifest.name): Promise<void> {
  await expect(page.getByTestId('status.pack')).toHaveAttribute('data-pack-name', name);
}

async function openStudio(page: Page, backendQuery: string): Promise<void> {
  await page.goto(`/${backendQuery}`);
  await waitForPack(page);
}

/** Serves /packs/other/ as the test pack under another name, with a bigger tokenizer (so one file is new). */
async function routeOtherPack(context: BrowserContext, opts: { extraTokenizerBytes: number; slowMs?: number }): Promise<void> {
  const tokenizer = Buffer.concat([readFileSync(`${TEST_PACK_DIR}tokenizer.json`), Buffer.alloc(opts.extraTokenizerBytes, 0x20)]);
  const { createHash } = await import('node:crypto');
  const other = structuredClone(manifest);
  other.name = 'other-pack';
  other.tokenizer = { ...other.tokenizer, bytes: tokenizer.byteLength, sha256: createHash('sha256').update(tokenizer).digest('hex') };
  await context.route('**/packs/other/**', async (route: Route) => {
    const file = new URL(route.request().url()).pathname.replace('/packs/other/', '');
    if (opts.slowMs) await delay(opts.slowMs);
    if (file === 'manifest.json') return route.fulfill({ contentType: 'application/json', body: JSON.stringify(other) });
    if (file === 'tokenizer.json') return route.fulfill({ contentType: 'application/json', body: tokenizer });
    if (!packFileNames.has(file)) return route.fulfill({ status: 404, body: 'not found' });
    return route.fulfill({ contentType: 'application/octet-stream', body: readFileSync(`${TEST_PACK_DIR}${file}`) });
  });
}

async function loadPackUrl(page: Page, url: string): Promise<void> {
  await page.getByTestId('pack.url').fill(url);
  await page.getByTestId('pack.load').click();
}

test.describe('pack cache (OPFS)', () => {
  test('streams a pack with external data into the cache with progress; a reload fetches none of its files', async ({ page, context, studio }) => {
    const query = studio.backend === 'wasm' ? '?backend=wasm' : '';
    const log = logPackRequests(context);
    // Slow the weight files down so that the progress can be seen.
    await context.route('**/packs/test/*.data', async (route) => {
      await delay(250);
      await route.continue();
    });
    await page.goto(`/${query}`);
    const progress = page.getByTestId('pack.progress.text');
    await expect(progress).toContainText(/Downloading [\d.]+ (B|KiB|MiB) of [\d.]+ (KiB|MiB)/);
    await expect(page.getByTestId('pack.progress.bar')).toBeVisible();
    await waitForPack(page);
    await expect(page.getByTestId('pack.progress')).toHaveCount(0);

    const fetched = weightRequests(log);
    expect(fetched.some((r) => r.file.endsWith('.data'))).toBe(true);
    expect(fetched.every((r) => packFileNames.has(r.file))).toBe(true);
    // Only the variant this backend runs: never both attention variants of one graph.
    const roles = fetched.filter((r) => r.file.endsWith('.onnx')).map((r) => r.file.replace('.mha', ''));
    expect(new Set(roles).size).toBe(roles.length);
    await expect(page.getByTestId('pack.storage')).toContainText('in this browser');
    await expect(page.getByTestId('pack.cached.item')).toHaveCount(1);

    log.length = 0;
    await page.reload();
    await waitForPack(page);
    expect(weightRequests(log)).toEqual([]);
    // And the cached pack still generates.
    await setRequest(page, 'a cat on a table', { steps: 2, seed: 3 });
    await page.getByTestId('generate.button').click();
    await expect(page.getByTestId('generate.result')).toBeVisible({ timeout: 120_000 });
  });

  test('an interrupted download resumes from where it stopped (Range) after a reload', async ({ page, context, studio }) => {
    const query = studio.backend === 'wasm' ? '?backend=wasm' : '';
    const log = logPackRequests(context);
    let cutAt = 0;
    let cutFile = '';
    // The connection drops half way through the reference pass's weights (whichever variant is chosen): a file
    // no other graph shares (dit_step_full's shards hold dit_step's very bytes and are fetched once).
    await context.route('**/packs/test/dit_reference*.onnx.data', async (route) => {
      const file = new URL(route.request().url()).pathname.replace('/packs/test/', '');
      const bytes = readFileSync(`${TEST_PACK_DIR}${file}`);
      cutFile = file;
      cutAt = Math.floor(bytes.byteLength / 2);
      await route.fulfill({ contentType: 'application/octet-stream', body: bytes.subarray(0, cutAt) });
    });
    await page.goto(`/${query}`);
    await expect(page.getByTestId('status.error')).toContainText(/stopped at \d+ of \d+ bytes/);
    expect(await page.getByTestId('status.error').innerText()).toContain(`stopped at ${cutAt} of`);
    await context.unroute('**/packs/test/dit_reference*.onnx.data');

    log.length = 0;
    await page.reload();
    await waitForPack(page);
    const again = weightRequests(log).filter((r) => r.file === cutFile);
    expect(again).toEqual([{ file: cutFile, range: `bytes=${cutAt}-` }]);
    // Files finished before the cut are not fetched again.
    expect(weightRequests(log).every((r) => r.file === cutFile || !r.file.startsWith('text_encoder'))).toBe(true);
  });

  test('a quota too small for a new pack names both numbers and loses nothing cached', async ({ page, context, studio }) => {
    const query = studio.backend === 'wasm' ? '?backend=wasm' : '';
    await openStudio(page, query);
    const { usage } = await page.evaluate(() => navigator.storage.estimate());
    const cdp = await context.newCDPSession(page);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: new URL(page.url()).origin, quotaSize: (usage ?? 0) + 8 * 1024 });
    await routeOtherPack(context, { extraTokenizerBytes: 64 * 1024 });

    await loadPackUrl(page, '/packs/other');
    const error = page.getByTestId('pack.error');
    await expect(error).toContainText('not enough storage for this pack: it needs');
    // Chrome enforces an overridden quota without reporting it in estimate(), so the refusal comes from the write itself.
    await expect(error).toContainText(/it needs [\d.]+ KiB more, and (this site has [\d.]+ (B|KiB) free|the browser refused to store more after [\d.]+ (B|KiB))/);
    await expect(error).toContainText('nothing was changed');
    await waitForPack(page);
    await expect(page.getByTestId('pack.cached.item')).toHaveCount(1);

    const log = logPackRequests(context);
    await page.reload();
    await waitForPack(page);
    expect(weightRequests(log)).toEqual([]);
  });

  test('a corrupted cached file is detected by its hash and fetched again', async ({ page, context, studio }) => {
    const query = studio.backend === 'wasm' ? '?backend=wasm' : '';
    await openStudio(page, query);
    // Flip one byte of the cached tokenizer, in OPFS, the way a disk fault would.
    await page.evaluate(async (sha) => {
      const root = await navigator.storage.getDirectory();
      const blobs = await (await root.getDirectoryHandle('pack-cache')).getDirectoryHandle('blobs');
      const handle = await blobs.getFileHandle(sha);
      const bytes = new Uint8Array(await (await handle.getFile()).arrayBuffer());
      bytes[10] = bytes[10]! ^ 0xff;
      const w = await handle.createWritable();
      await w.write(bytes);
      await w.close();
    }, manifest.tokenizer.sha256);
    const log = logPackRequests(context);
    await page.reload();
    await waitForPack(page);
    expect(weightRequests(log)).toEqual([{ file: manifest.tokenizer.file, range: null }]);
  });

  test('a cancelled pack switch keeps the current pack', async ({ page, context, studio }) => {
    const query = studio.backend === 'wasm' ? '?backend=wasm' : '';
    await openStudio(page, query);
    await routeOtherPack(context, { extraTokenizerBytes: 1024, slowMs: 1500 });
    await loadPackUrl(page, '/packs/other');
    await expect(page.getByTestId('pack.progress')).toBeVisible();
    await page.getByTestId('pack.progress.cancel').click();
    await expect(page.getByTestId('pack.error')).toContainText('cancelled');
    await waitForPack(page);
    await expect(page.getByTestId('pack.progress')).toHaveCount(0);
  });
});
