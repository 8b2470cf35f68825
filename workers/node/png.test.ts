import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodePng, decodeReferencePng, encodePng, readPng, rgbaToMask, rgbaToReference } from './png';

const CHELSEA = new URL('../../e2e/photos/chelsea.png', import.meta.url).pathname;

describe('png', () => {
  it('round-trips RGBA bytes', () => {
    const width = 5;
    const height = 3;
    const data = Uint8Array.from({ length: width * height * 4 }, (_, i) => (i * 37) % 256);
    const back = decodePng(encodePng({ width, height, data }));
    expect(back).toMatchObject({ width, height });
    expect(back.data).toEqual(data);
  });

  it('reads an RGB photo as RGBA, and refuses what is not a PNG', async () => {
    const img = await readPng(CHELSEA);
    expect([img.width, img.height, img.data.length]).toEqual([451, 300, 451 * 300 * 4]);
    expect(img.data[3]).toBe(255);
    expect(() => decodePng(new TextEncoder().encode('GIF89a....'), 'x.gif')).toThrow('x.gif is not a PNG file (10 bytes)');
    const cut = encodePng({ width: 4, height: 4, data: new Uint8Array(64).fill(200) }).slice(0, 40);
    expect(() => decodePng(cut, 'cut.png')).toThrow(/^cut\.png could not be decoded as a PNG/);
    await expect(readPng('/nonexistent.png')).rejects.toThrow('cannot read /nonexistent.png: no such file');
  });

  it('brings a photo to the generation size like the worker: centre crop, planar RGB in [-1, 1]', async () => {
    // 4x2, left half black, right half white: a 2x2 target crops the middle 2 columns (one black, one white).
    const data = new Uint8Array(4 * 2 * 4);
    for (let y = 0; y < 2; y++) for (let x = 0; x < 4; x++) data.set(x < 2 ? [0, 0, 0, 255] : [255, 255, 255, 255], 4 * (y * 4 + x));
    const rgb = rgbaToReference({ width: 4, height: 2, data }, 2, 2);
    expect(Array.from(rgb)).toEqual([-1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1]);
    const blob = new Blob([readFileSync(CHELSEA)], { type: 'image/png' });
    const ref = await decodeReferencePng(blob, 128, 128, 'image 1 of @mochi');
    expect(ref).toHaveLength(3 * 128 * 128);
    expect(Math.min(...ref)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...ref)).toBeLessThanOrEqual(1);
  });

  it('reads a mask as grey level times alpha', () => {
    const data = Uint8Array.from([255, 255, 255, 255, 0, 0, 0, 255, 255, 255, 255, 0, 128, 128, 128, 255]);
    expect(rgbaToMask({ width: 2, height: 2, data })).toEqual({ width: 2, height: 2, data: Uint8Array.from([255, 0, 0, 128]) });
  });
});
