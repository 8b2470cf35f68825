import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diskFetch, TEST_PACK_DIR, TEST_PACK_URL } from '../test-support/disk-fetch';
import { loadPack } from './loader';
import { ManifestError, PackFileError, packFiles, parseManifest } from './manifest';

const manifestOnDisk = async () => parseManifest(await readFile(join(TEST_PACK_DIR, 'manifest.json'), 'utf8'));

describe('loadPack (the built-in test pack, served from disk)', () => {
  it('fetches the manifest and every file it lists, and summarises the pack', async () => {
    const fetchFn = diskFetch();
    const pack = await loadPack(`${TEST_PACK_URL}/`, fetchFn);
    const manifest = await manifestOnDisk();
    const files = packFiles(manifest);

    expect(fetchFn.requested).toEqual([`${TEST_PACK_URL}/manifest.json`, ...files.map((f) => `${TEST_PACK_URL}/${f.file}`)]);
    expect([...pack.files.keys()].sort()).toEqual(files.map((f) => f.file).sort());
    expect(pack.summary.url).toBe(TEST_PACK_URL);
    expect(pack.summary.name).toBe(manifest.name);
    expect(pack.summary.trained).toBe(false);
    expect(pack.summary.fileCount).toBe(files.length);
    const bytesOnDisk = await Promise.all(files.map(async (f) => (await readFile(join(TEST_PACK_DIR, f.file))).byteLength));
    expect(pack.summary.totalBytes).toBe(bytesOnDisk.reduce((a, b) => a + b, 0));
    expect(pack.summary.graphs.map((g) => `${g.role}/${g.attention}`)).toContain('vae_decoder/none');
  });

  it('says where it looked when there is no manifest', async () => {
    await expect(loadPack('http://studio.test/packs/nothing', diskFetch())).rejects.toThrow(
      'no model pack at http://studio.test/packs/nothing: http://studio.test/packs/nothing/manifest.json could not be read (HTTP 404)',
    );
  });

  it('treats an HTML page (a single-page-app fallback) as no manifest', async () => {
    const fetchFn = diskFetch(undefined, { override: (file, bytes) => (file === 'manifest.json' ? '<!doctype html><html></html>' : bytes) });
    await expect(loadPack(TEST_PACK_URL, fetchFn)).rejects.toThrow('(the server answered with an HTML page)');
  });

  it('reports network failures with the URL', async () => {
    const failing = () => Promise.reject(new TypeError('Failed to fetch'));
    await expect(loadPack(TEST_PACK_URL, failing)).rejects.toThrow(`could not fetch ${TEST_PACK_URL}/manifest.json: Failed to fetch`);
  });

  it('rejects an invalid manifest with ManifestError', async () => {
    const fetchFn = diskFetch(undefined, {
      override: (file, bytes) => {
        if (file !== 'manifest.json') return bytes;
        const m = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
        m.graphs = (m.graphs as { role: string }[]).filter((g) => g.role !== 'vae_decoder');
        return new TextEncoder().encode(JSON.stringify(m));
      },
    });
    const err = await loadPack(TEST_PACK_URL, fetchFn).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ManifestError);
    expect((err as ManifestError).problems).toContain('graphs: the pack has no vae_decoder graph');
  });

  it('rejects missing, truncated and corrupt files with PackFileError listing each', async () => {
    const manifest = await manifestOnDisk();
    const decoder = manifest.graphs.find((g) => g.role === 'vae_decoder')!.file;
    const encoder = manifest.graphs.find((g) => g.role === 'vae_encoder')!.file;
    const tokenizer = manifest.tokenizer.file;
    const fetchFn = diskFetch(undefined, {
      override: (file, bytes) => {
        if (file === decoder) return undefined;
        if (file === encoder) return bytes.slice(0, 10);
        if (file === tokenizer) {
          const flipped = bytes.slice();
          flipped[0] = flipped[0]! ^ 0xff;
          return flipped;
        }
        return bytes;
      },
    });
    const err = await loadPack(TEST_PACK_URL, fetchFn).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PackFileError);
    const problems = (err as PackFileError).problems;
    expect(problems).toHaveLength(3);
    expect(problems).toContain(`missing file "${decoder}"`);
    expect(problems).toContain(`"${encoder}" has 10 bytes, the manifest says ${manifest.graphs.find((g) => g.file === encoder)!.bytes}`);
    expect(problems.find((p) => p.startsWith(`"${tokenizer}" has sha256`))).toMatch(/corrupt or wrong file/);
  });

  it('fails on server errors other than 404', async () => {
    const base = diskFetch();
    const fetchFn = (url: string) => (url.endsWith('.onnx') ? Promise.resolve(new Response('nope', { status: 500 })) : base(url));
    await expect(loadPack(TEST_PACK_URL, fetchFn)).rejects.toThrow(/could not fetch .*\.onnx: HTTP 500/);
  });
});
