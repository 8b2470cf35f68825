/** The committed test pack is exactly what its script builds, every time, and stays small. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseManifest, sha256, verifyPackFiles } from '../pack/manifest';
import { buildPack } from './pack';
import { TEST_PACK_CONFIG } from './testPack';

const DIR = join(import.meta.dirname, '..', '..', 'public', 'packs', 'test');

describe('built-in test pack', () => {
  it('is rebuilt byte-identically, twice in a row and against the committed files', async () => {
    const a = await buildPack(TEST_PACK_CONFIG);
    const b = await buildPack(TEST_PACK_CONFIG);
    expect([...a.files.keys()]).toEqual([...b.files.keys()]);
    for (const [name, bytes] of a.files) expect(await sha256(bytes), name).toBe(await sha256(b.files.get(name)!));

    const committed = parseManifest(await readFile(join(DIR, 'manifest.json'), 'utf8'));
    expect(committed).toEqual(a.manifest);
    const verified = await verifyPackFiles(committed, async (f) => new Uint8Array(await readFile(join(DIR, f))));
    for (const [name, bytes] of a.files) expect(await sha256(verified.get(name)!), name).toBe(await sha256(bytes));
  });

  it('is under 8 MB and labelled untrained', async () => {
    const { manifest, files } = await buildPack(TEST_PACK_CONFIG);
    const total = [...files.values()].reduce((n, f) => n + f.byteLength, 0);
    expect(total).toBeLessThan(8 * 1024 * 1024);
    expect(manifest.trained).toBe(false);
    expect(manifest.description).toMatch(/untrained/i);
  });

  it('has every role, in both attention variants where there is attention', async () => {
    const { manifest } = await buildPack(TEST_PACK_CONFIG);
    const kinds = manifest.graphs.map((g) => `${g.role}:${g.attention}`).sort();
    expect(kinds).toEqual(
      [
        'dit_reference:decomposed', 'dit_reference:mha', 'dit_step:decomposed', 'dit_step:mha', 'dit_step_full:decomposed', 'dit_step_full:mha',
        'text_encoder:decomposed', 'text_encoder:mha', 'vae_decoder:none', 'vae_encoder:none',
      ].sort(),
    );
  });
});
