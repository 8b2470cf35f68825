import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { folderFetch } from './folder-fetch';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'folder-fetch-'));
  await mkdir(join(dir, 'sub'));
  await writeFile(join(dir, 'manifest.json'), '{"a": 1}');
  await writeFile(join(dir, 'sub', 'w.bin'), Uint8Array.of(1, 2, 3, 4, 5));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe('folderFetch', () => {
  it('serves files under the base URL like a static server, and 404s the rest', async () => {
    const f = folderFetch(dir, 'http://x.test/pack/');
    const json = await f('http://x.test/pack/manifest.json');
    expect([json.status, json.headers.get('content-type'), await json.text()]).toEqual([200, 'application/json', '{"a": 1}']);
    const bin = await f('http://x.test/pack/sub/w.bin');
    expect([bin.headers.get('content-type'), [...new Uint8Array(await bin.arrayBuffer())]]).toEqual(['application/octet-stream', [1, 2, 3, 4, 5]]);
    for (const u of ['http://x.test/pack/missing', 'http://x.test/other/manifest.json', 'http://x.test/pack/../etc/passwd', 'http://x.test/pack/', 'http://x.test/pack/sub']) {
      expect((await f(u)).status, u).toBe(404);
    }
    expect(f.requested).toHaveLength(7);
  });

  it('answers a resume (Range: bytes=N-) with the rest of the file', async () => {
    const f = folderFetch(dir, 'http://x.test/pack');
    const part = await f('http://x.test/pack/sub/w.bin', { headers: { Range: 'bytes=3-' } });
    expect([part.status, part.headers.get('content-range'), [...new Uint8Array(await part.arrayBuffer())]]).toEqual([206, 'bytes 3-4/5', [4, 5]]);
    expect((await f('http://x.test/pack/sub/w.bin', { headers: { Range: 'bytes=5-' } })).status).toBe(416);
  });

  it('lets a test replace or hide a file', async () => {
    const f = folderFetch(dir, 'http://x.test/pack', { override: (file, bytes) => (file === 'manifest.json' ? '<!doctype html>' : file.endsWith('.bin') ? undefined : bytes) });
    const html = await f('http://x.test/pack/manifest.json');
    expect([html.headers.get('content-type'), await html.text()]).toEqual(['text/html', '<!doctype html>']);
    expect((await f('http://x.test/pack/sub/w.bin')).status).toBe(404);
  });
});
