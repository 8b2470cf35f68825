/**
 * `npm run generate` in-process on the built-in test pack (128 px, 2 steps):
 * reproducible from a noise file, the seeded noise as a file gives the seeded
 * run, a subject photo with a mask changes the image, and bad input fails
 * with one line.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gaussianNoise } from '../pipeline/schedule';
import { TEST_PACK_DIR } from '../test-support/disk-fetch';
import { generateMain, runGenerate } from './generate';
import { encodeNpy, readNpy } from './npy';
import { encodePng, readPng } from './png';

const CHELSEA = new URL('../../e2e/photos/chelsea.png', import.meta.url).pathname;
// The test pack at 128 px: latents [4, 16, 16].
const [C, h, w] = [4, 16, 16];

let dir: string;
const at = (name: string) => join(dir, name);
const quiet = { log: () => {}, print: () => {} };
const base = (out: string, ...more: string[]) => ['--pack', TEST_PACK_DIR, '--prompt', '@mochi on a table', '--size', '128', '--steps', '2', '--seed', '3', '--out', at(out), ...more];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'generate-'));
  await writeFile(at('noise.npy'), encodeNpy(gaussianNoise(C * h * w, 99), [1, C, h, w]));
  // A mask: a centred ellipse at the photo's size (451x300).
  const mw = 451;
  const mh = 300;
  const mask = new Uint8Array(mw * mh * 4);
  for (let y = 0; y < mh; y++)
    for (let x = 0; x < mw; x++) {
      const v = ((x - mw / 2) / (mw / 3)) ** 2 + ((y - mh / 2) / (mh / 3)) ** 2 < 1 ? 255 : 0;
      mask.set([v, v, v, 255], 4 * (y * mw + x));
    }
  await writeFile(at('mask.png'), encodePng({ width: mw, height: mh, data: mask }));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

const bytes = (path: string) => readFile(path);

describe('npm run generate', () => {
  it('gives identical latents and PNG from the same noise file, and the seeded noise as a file gives the seeded run', async () => {
    const lines: string[] = [];
    const log = (l: string) => lines.push(l);
    const printed: string[] = [];
    const a = await runGenerate(base('a.png', '--noise-in', at('noise.npy'), '--save-latents', at('a.npy')), { log, print: (l) => printed.push(l) });
    await runGenerate(base('b.png', '--noise-in', at('noise.npy'), '--save-latents', at('b.npy')), quiet);
    expect(a).toMatchObject({ width: 128, height: 128, steps: 2 });
    expect((await bytes(at('a.npy'))).equals(await bytes(at('b.npy')))).toBe(true);
    expect((await bytes(at('a.png'))).equals(await bytes(at('b.png')))).toBe(true);
    const latents = await readNpy(at('a.npy'));
    expect(latents.shape).toEqual([1, C, h, w]);
    expect(latents.data).toEqual(a!.result.latents);
    expect(await readPng(at('a.png'))).toMatchObject({ width: 128, height: 128 });

    // Progress on the log (one line per step), one final line.
    expect(lines.filter((l) => /^step \d\/2 {2}[\d.]+ ms {2}.* left$/.test(l))).toHaveLength(2);
    expect(printed).toHaveLength(1);
    expect(printed[0]).toMatch(new RegExp(`^wrote ${at('a.png')} and ${at('a.npy')}: 128x128, 2 steps in `));

    // gaussianNoise(seed 3) written as [C, h, w] = what --seed 3 uses by itself.
    await writeFile(at('seed3.npy'), encodeNpy(gaussianNoise(C * h * w, 3), [C, h, w]));
    await runGenerate(base('s.png', '--save-latents', at('s.npy')), quiet);
    await runGenerate(base('t.png', '--seed', '5', '--noise-in', at('seed3.npy'), '--save-latents', at('t.npy')), quiet);
    expect((await bytes(at('s.npy'))).equals(await bytes(at('t.npy')))).toBe(true);
    expect((await bytes(at('s.npy'))).equals(await bytes(at('a.npy')))).toBe(false);
  });

  it('runs with a subject photo and a painted mask, and the image differs from no subject', async () => {
    const noise = ['--noise-in', at('noise.npy')];
    await runGenerate(base('plain.png', ...noise, '--save-latents', at('plain.npy')), quiet);
    await runGenerate(base('cat.png', ...noise, '--save-latents', at('cat.npy'), '--subject', `mochi/cat=${CHELSEA}:${at('mask.png')}`), quiet);
    await runGenerate(base('nomask.png', ...noise, '--save-latents', at('nomask.npy'), '--subject', `mochi/cat=${CHELSEA}`), quiet);
    const plain = (await readNpy(at('plain.npy'))).data;
    const cat = (await readNpy(at('cat.npy'))).data;
    const nomask = (await readNpy(at('nomask.npy'))).data;
    const maxDiff = (x: Float32Array, y: Float32Array) => x.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i]!)), 0);
    expect(maxDiff(plain, cat)).toBeGreaterThan(1e-2);
    expect(maxDiff(cat, nomask)).toBeGreaterThan(1e-3);
    expect((await bytes(at('plain.png'))).equals(await bytes(at('cat.png')))).toBe(false);
  });

  it('fails with one line and exit status 1 on bad input', async () => {
    const fail = async (argv: string[]) => {
      const lines: string[] = [];
      expect(await generateMain(argv, { log: (l) => lines.push(l), print: () => {} })).toBe(1);
      expect(lines).toHaveLength(1);
      expect(lines[0]).not.toContain('\n');
      return lines[0]!;
    };
    await writeFile(at('not-a.png'), 'hello');
    await writeFile(at('small.npy'), encodeNpy(new Float32Array(C * 8 * 8), [1, C, 8, 8]));
    expect(await fail(base('x.png', '--size', '256'))).toBe('generate: --size 256: pack test-pack has no 256x256 resolution; it has: 128, 64');
    expect(await fail(base('x.png', '--noise-in', at('small.npy')))).toBe(
      `generate: --noise-in ${at('small.npy')} has shape (1, 4, 8, 8); pack test-pack at 128x128 needs (4, 16, 16) or (1, 4, 16, 16)`,
    );
    expect(await fail(base('x.png', '--noise-in', at('missing.npy')))).toBe(`generate: cannot read ${at('missing.npy')}: no such file`);
    expect(await fail(base('x.png', '--subject', `mochi=${at('missing.png')}`))).toBe(`generate: cannot read ${at('missing.png')}: no such file`);
    expect(await fail(base('x.png', '--subject', `mochi=${at('not-a.png')}`))).toBe(`generate: ${at('not-a.png')} is not a PNG file (5 bytes)`);
    expect(await fail(base('x.png', '--subject', `mochi=${CHELSEA}:${at('noise.npy')}`))).toMatch(/is not a PNG file/);
    expect(await fail(base('x.png', '--subject', 'mochi'))).toBe('generate: --subject mochi: expected name[/class]=photo.png[:mask.png]');
    expect(await fail(base('x.png', '--subject', `1cat=${CHELSEA}`))).toMatch(/^generate: --subject 1cat=.*: the name must be a letter/);
    expect(await fail(base('x.png', '--steps', '0'))).toBe('generate: --steps must be an integer >= 1, got "0"');
    expect(await fail(base('x.png', '--mode', 'fast'))).toBe('generate: --mode must be cached or full, got "fast"');
    expect(await fail(base('x.png', '--bogus'))).toBe("generate: Unknown option '--bogus' (see --help)");
    expect(await fail(['--prompt', 'x', '--out', at('x.png')])).toBe('generate: --pack is required (see --help)');
    expect(await fail(base('x.png', '--pack', dir))).toBe(`generate: no pack in ${dir}: it has no manifest.json`);
    expect(await fail(base('x.png', '--pack', at('nope')))).toBe(`generate: no pack folder at ${at('nope')}: no such folder`);
  });

  it('prints its usage for --help', async () => {
    const printed: string[] = [];
    expect(await runGenerate(['--help'], { log: () => {}, print: (l) => printed.push(l) })).toBeNull();
    expect(printed.join('\n')).toContain('--noise-in <file.npy>');
  });
});
