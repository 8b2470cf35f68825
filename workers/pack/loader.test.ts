import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diskFetch, TEST_PACK_DIR, TEST_PACK_URL } from '../test-support/disk-fetch';
import type { FetchLike } from './download';
import { filesFor, listCachedPacks, loadPack, loadPackFromBlobs, PackLoadError, portableGraphs, type PackLoadProgress } from './loader';
import { formatBytes } from './bytes';
import { ManifestError, PackFileError, packFiles, parseManifest } from './manifest';
import { deleteCachedPack, MemoryBlobStore } from './store/blob-store';

const manifestOnDisk = async () => parseManifest(await readFile(join(TEST_PACK_DIR, 'manifest.json'), 'utf8'));

const errorOf = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

/** The chosen (portable) files of the test pack, as the loader fetches them. */
async function chosenFiles() {
  const m = await manifestOnDisk();
  return filesFor(m, portableGraphs(m));
}

/**
 * The chosen files as the cache fetches and stores them: one per content
 * (dit_step and dit_step_full hold the same weights, so their external-data
 * shards are byte-identical and fetched once).
 */
async function distinctChosenFiles() {
  const seen = new Set<string>();
  return (await chosenFiles()).filter((f) => !seen.has(f.sha256) && seen.add(f.sha256));
}

/** A fetch that cuts the body of `file` after `afterBytes` bytes (a dropped connection) the first `times` times. */
function cuttingFetch(base: FetchLike, file: string, afterBytes: number, times = 1): FetchLike & { ranges: (string | null)[] } {
  const ranges: (string | null)[] = [];
  let cuts = 0;
  const f: FetchLike = async (url, init) => {
    const res = await base(url, init);
    if (!url.endsWith(`/${file}`)) return res;
    ranges.push(new Headers(init?.headers).get('range'));
    if (cuts >= times) return res;
    cuts++;
    const bytes = new Uint8Array(await res.arrayBuffer());
    let sent = false;
    const body = new ReadableStream<Uint8Array>({
      pull(ctrl) {
        if (!sent) {
          ctrl.enqueue(bytes.slice(0, afterBytes));
          sent = true;
        } else ctrl.error(new TypeError('network connection lost'));
      },
    });
    return new Response(body, { status: res.status, headers: res.headers });
  };
  return Object.assign(f, { ranges });
}

describe('loadPack (the built-in test pack, served from disk)', () => {
  it('fetches the manifest, then only the chosen graphs with their external-data shards', async () => {
    const fetchFn = diskFetch();
    const pack = await loadPack(`${TEST_PACK_URL}/`, { fetch: fetchFn });
    const manifest = await manifestOnDisk();
    const chosen = await chosenFiles();
    const distinct = await distinctChosenFiles();
    expect(distinct.length).toBeLessThan(chosen.length);

    expect(fetchFn.requested).toEqual([`${TEST_PACK_URL}/manifest.json`, ...distinct.map((f) => `${TEST_PACK_URL}/${f.file}`)]);
    // No mha variant was fetched: the default choice is the portable graph of each role.
    expect(fetchFn.requested.some((u) => u.includes('.mha.'))).toBe(false);
    expect(chosen.some((f) => f.file.endsWith('.data'))).toBe(true);
    expect(pack.summary.url).toBe(TEST_PACK_URL);
    expect(pack.summary.name).toBe(manifest.name);
    expect(pack.summary.trained).toBe(false);
    expect(pack.summary.fileCount).toBe(packFiles(manifest).length);
    const onDisk = async (files: { file: string }[]) =>
      (await Promise.all(files.map(async (f) => (await readFile(join(TEST_PACK_DIR, f.file))).byteLength))).reduce((a, b) => a + b, 0);
    expect(pack.summary.totalBytes).toBe(await onDisk(packFiles(manifest)));
    expect(pack.summary.loadedBytes).toBe(await onDisk(chosen));
    for (const f of chosen) expect((await pack.files.blob(f.file)).size).toBe(f.bytes);
  });

  it('reports progress in bytes that only grows and ends at the total', async () => {
    const events: PackLoadProgress[] = [];
    await loadPack(TEST_PACK_URL, { fetch: diskFetch(), onProgress: (p) => events.push(p) });
    const files = events.filter((e) => e.kind === 'files');
    const total = (await chosenFiles()).reduce((n, f) => n + f.bytes, 0);
    expect(files.length).toBeGreaterThan(0);
    expect(files.every((e) => e.totalBytes === total)).toBe(true);
    for (let i = 1; i < files.length; i++) expect(files[i]!.doneBytes).toBeGreaterThanOrEqual(files[i - 1]!.doneBytes);
    expect(files.at(-1)!.doneBytes).toBe(total);
    expect(events[0]!.kind).toBe('manifest');
    expect(events.at(-1)!.kind).toBe('ready');
  });

  it('loads a second time from the cache: only the manifest is requested', async () => {
    const store = new MemoryBlobStore();
    await loadPack(TEST_PACK_URL, { fetch: diskFetch(), store });
    const again = diskFetch();
    await loadPack(TEST_PACK_URL, { fetch: again, store });
    expect(again.requested).toEqual([`${TEST_PACK_URL}/manifest.json`]);
    const [cached] = await listCachedPacks(store);
    expect(cached!.url).toBe(TEST_PACK_URL);
    expect(cached!.bytes).toBe((await chosenFiles()).reduce((n, f) => n + f.bytes, 0));
  });

  it('works offline from the cache (the manifest cannot be fetched)', async () => {
    const store = new MemoryBlobStore();
    await loadPack(TEST_PACK_URL, { fetch: diskFetch(), store });
    const offline: FetchLike = () => Promise.reject(new TypeError('Failed to fetch'));
    const pack = await loadPack(TEST_PACK_URL, { fetch: offline, store });
    expect(pack.manifest.name).toBe('test-pack');
  });

  it('detects a corrupted cached file by its hash and fetches it again', async () => {
    const store = new MemoryBlobStore();
    await loadPack(TEST_PACK_URL, { fetch: diskFetch(), store });
    const shard = (await chosenFiles()).find((f) => f.file.endsWith('.data'))!;
    await store.corrupt(shard.sha256, 100);
    const again = diskFetch();
    await loadPack(TEST_PACK_URL, { fetch: again, store });
    expect(again.requested).toEqual([`${TEST_PACK_URL}/manifest.json`, `${TEST_PACK_URL}/${shard.file}`]);
    const blob = (await store.get(shard.sha256))!;
    expect(new Uint8Array(await blob.arrayBuffer())).toEqual(new Uint8Array(await readFile(join(TEST_PACK_DIR, shard.file))));
  });

  it('resumes an interrupted download with a Range request from where it stopped', async () => {
    const store = new MemoryBlobStore();
    const shard = (await chosenFiles()).find((f) => f.file.endsWith('.data') && f.bytes > 100_000)!;
    const cut = cuttingFetch(diskFetch(), shard.file, 70_000);
    const err = await errorOf(loadPack(TEST_PACK_URL, { fetch: cut, store }));
    expect(err).toBeInstanceOf(PackLoadError);
    expect((err as PackLoadError).code).toBe('network');
    expect((err as Error).message).toContain(`stopped at 70000 of ${shard.bytes} bytes`);
    expect((await store.partial(shard.sha256))?.bytes).toBe(70_000);

    const events: PackLoadProgress[] = [];
    const pack = await loadPack(TEST_PACK_URL, { fetch: cut, store, onProgress: (p) => events.push(p) });
    expect(cut.ranges).toEqual([null, 'bytes=70000-']);
    expect(new Uint8Array(await (await pack.files.blob(shard.file)).arrayBuffer())).toEqual(new Uint8Array(await readFile(join(TEST_PACK_DIR, shard.file))));
    expect(await store.partial(shard.sha256)).toBeUndefined();
  });

  it('starts over when the server ignores the Range header', async () => {
    const store = new MemoryBlobStore();
    const shard = (await chosenFiles()).find((f) => f.file.endsWith('.data') && f.bytes > 100_000)!;
    const base = diskFetch();
    const noRanges: FetchLike = (url, init) => base(url, { ...init, headers: {} });
    await errorOf(loadPack(TEST_PACK_URL, { fetch: cuttingFetch(noRanges, shard.file, 50_000), store }));
    const pack = await loadPack(TEST_PACK_URL, { fetch: noRanges, store });
    expect((await pack.files.blob(shard.file)).size).toBe(shard.bytes);
  });

  it('refuses, before fetching any file, a pack larger than the free storage, naming both numbers', async () => {
    const store = new MemoryBlobStore();
    const fetchFn = diskFetch();
    const err = await errorOf(loadPack(TEST_PACK_URL, { fetch: fetchFn, store, storageEstimate: async () => ({ quota: 1024 * 1024, usage: 512 * 1024 }) }));
    expect((err as PackLoadError).code).toBe('quota');
    const need = (await chosenFiles()).reduce((n, f) => n + f.bytes, 0);
    expect((err as Error).message).toContain(`it needs ${formatBytes(need)} more`);
    expect((err as Error).message).toContain('this site has 512 KiB free (quota 1.00 MiB, 512 KiB used)');
    expect(fetchFn.requested).toEqual([`${TEST_PACK_URL}/manifest.json`]);
  });

  it('says what fit when the browser refuses a write (a quota it does not report), and keeps no half pack', async () => {
    const store = new MemoryBlobStore();
    let written = 0;
    const open = store.openPartial.bind(store);
    store.openPartial = async (sha, from) => {
      const w = await open(sha, from);
      return {
        ...w,
        write: async (chunk) => {
          if (written + chunk.byteLength > 300_000) throw new DOMException('The operation failed because it would cause the application to exceed its storage quota.', 'QuotaExceededError');
          written += chunk.byteLength;
          await w.write(chunk);
        },
      };
    };
    const err = await errorOf(loadPack(TEST_PACK_URL, { fetch: diskFetch(), store, storageEstimate: async () => ({ quota: 1e12, usage: 0 }) }));
    expect((err as PackLoadError).code).toBe('quota');
    const need = (await chosenFiles()).reduce((n, f) => n + f.bytes, 0);
    expect((err as Error).message).toContain(`it needs ${formatBytes(need)} more, and the browser refused to store more after`);
    expect(await store.list()).toEqual([]);
    expect(await listCachedPacks(store)).toEqual([]);
  });

  it('counts only what is missing against the storage: a cached pack loads with no free space', async () => {
    const store = new MemoryBlobStore();
    await loadPack(TEST_PACK_URL, { fetch: diskFetch(), store });
    await expect(loadPack(TEST_PACK_URL, { fetch: diskFetch(), store, storageEstimate: async () => ({ quota: 10, usage: 10 }) })).resolves.toBeDefined();
  });

  it('is cancelled by its signal, keeping the bytes downloaded so far', async () => {
    const store = new MemoryBlobStore();
    const ctrl = new AbortController();
    const err = await errorOf(
      loadPack(TEST_PACK_URL, {
        fetch: diskFetch(),
        store,
        signal: ctrl.signal,
        onProgress: (p) => {
          if (p.kind === 'files' && p.doneBytes > 200_000) ctrl.abort();
        },
      }),
    );
    expect((err as PackLoadError).code).toBe('cancelled');
    expect((await store.list()).length).toBeGreaterThan(0);
  });

  it('runs the check before any file is fetched, and its refusal stops the load', async () => {
    const fetchFn = diskFetch();
    const check = () => {
      throw new PackLoadError('plan-refused', 'needs 9.0 GiB of GPU memory, your budget is 8.0 GiB');
    };
    await expect(loadPack(TEST_PACK_URL, { fetch: fetchFn, check })).rejects.toThrow('your budget is 8.0 GiB');
    expect(fetchFn.requested).toEqual([`${TEST_PACK_URL}/manifest.json`]);
  });

  it('deletes a cached pack and its files, keeping files another pack uses', async () => {
    const store = new MemoryBlobStore();
    await loadPack(TEST_PACK_URL, { fetch: diskFetch(), store });
    const n = (await store.list()).length;
    const freed = await deleteCachedPack(store, TEST_PACK_URL);
    expect(freed).toBe((await distinctChosenFiles()).reduce((a, f) => a + f.bytes, 0));
    expect(await store.list()).toHaveLength(0);
    expect(n).toBeGreaterThan(0);
    expect(await listCachedPacks(store)).toEqual([]);
  });

  it('says where it looked when there is no manifest', async () => {
    await expect(loadPack('http://studio.test/packs/nothing', { fetch: diskFetch() })).rejects.toThrow(
      'no model pack at http://studio.test/packs/nothing: http://studio.test/packs/nothing/manifest.json could not be read (HTTP 404)',
    );
  });

  it('treats an HTML page (a single-page-app fallback) as no manifest', async () => {
    const fetchFn = diskFetch(undefined, { override: (file, bytes) => (file === 'manifest.json' ? '<!doctype html><html></html>' : bytes) });
    await expect(loadPack(TEST_PACK_URL, { fetch: fetchFn })).rejects.toThrow('(the server answered with an HTML page)');
  });

  it('reports network failures with the URL', async () => {
    const failing = () => Promise.reject(new TypeError('Failed to fetch'));
    await expect(loadPack(TEST_PACK_URL, { fetch: failing })).rejects.toThrow(`could not fetch ${TEST_PACK_URL}/manifest.json: Failed to fetch`);
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
    const err = await errorOf(loadPack(TEST_PACK_URL, { fetch: fetchFn }));
    expect(err).toBeInstanceOf(ManifestError);
    expect((err as ManifestError).problems).toContain('graphs: the pack has no vae_decoder graph');
  });

  it('rejects missing, truncated and corrupt files, naming the file', async () => {
    const manifest = await manifestOnDisk();
    const decoder = manifest.graphs.find((g) => g.role === 'vae_decoder')!.file;
    const encoder = manifest.graphs.find((g) => g.role === 'vae_encoder')!;
    const tokenizer = manifest.tokenizer.file;
    const serve = (broken: string) =>
      diskFetch(undefined, {
        override: (file, bytes) => {
          if (file !== broken) return bytes;
          if (file === decoder) return undefined;
          if (file === encoder.file) return bytes.slice(0, 10);
          const flipped = bytes.slice();
          flipped[0] = flipped[0]! ^ 0xff;
          return flipped;
        },
      });
    await expect(loadPack(TEST_PACK_URL, { fetch: serve(decoder) })).rejects.toThrow(`missing file "${decoder}"`);
    await expect(loadPack(TEST_PACK_URL, { fetch: serve(encoder.file) })).rejects.toThrow(`stopped at 10 of ${encoder.bytes} bytes`);
    const bad = await errorOf(loadPack(TEST_PACK_URL, { fetch: serve(tokenizer) }));
    expect((bad as PackLoadError).code).toBe('bad-hash');
    expect((bad as Error).message).toMatch(new RegExp(`^"${tokenizer}" has sha256 [0-9a-f]{64}, the manifest says .* \\(corrupt or wrong file\\)$`));
  });

  it('fails on server errors other than 404', async () => {
    const base = diskFetch();
    const fetchFn: FetchLike = (url, init) => (url.endsWith('.onnx') ? Promise.resolve(new Response('nope', { status: 500 })) : base(url, init));
    await expect(loadPack(TEST_PACK_URL, { fetch: fetchFn })).rejects.toThrow(/could not fetch .*\.onnx: HTTP 500/);
  });
});

describe('loadPackFromBlobs (a picked folder)', () => {
  const folder = async (edit?: (file: string, bytes: Uint8Array) => Uint8Array | undefined) => {
    const m = await manifestOnDisk();
    const byName = new Map<string, Blob>([['manifest.json', new Blob([await readFile(join(TEST_PACK_DIR, 'manifest.json'))])]]);
    for (const f of packFiles(m)) {
      const bytes = new Uint8Array(await readFile(join(TEST_PACK_DIR, f.file)));
      const served = edit ? edit(f.file, bytes) : bytes;
      if (served) byName.set(f.file, new Blob([served as BlobPart]));
    }
    return byName;
  };

  it('verifies the chosen files in place', async () => {
    const pack = await loadPackFromBlobs('local-pack:test', await folder());
    expect(pack.summary.storage).toBe('folder');
    expect(pack.graphs.get('dit_step')!.attention).toBe('decomposed');
  });

  it('lists every broken file at once', async () => {
    const chosen = await chosenFiles();
    const [a, b] = [chosen[1]!, chosen[2]!];
    const err = await errorOf(loadPackFromBlobs('local-pack:test', await folder((f, bytes) => (f === a.file ? undefined : f === b.file ? bytes.slice(1) : bytes))));
    expect(err).toBeInstanceOf(PackFileError);
    expect((err as PackFileError).problems).toEqual([`missing file "${a.file}"`, `"${b.file}" has ${b.bytes - 1} bytes, the manifest says ${b.bytes}`]);
  });
});
