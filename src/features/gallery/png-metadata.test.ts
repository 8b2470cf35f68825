import { deflateSync } from 'node:zlib';
import extractChunks from 'png-chunks-extract';
import encodeChunks from 'png-chunks-encode';
import { describe, expect, it } from 'vitest';
import { asciiJson, embedJson, isPng, PNG_KEYWORD, pngSize, readTextChunk, withTextChunk } from './png-metadata';

/** A real 3x2 RGBA PNG (what canvas.convertToBlob gives, minus the compression choices). */
function tinyPng(width = 3, height = 2): Uint8Array {
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr.set([8, 6, 0, 0, 0], 8);
  const raw = new Uint8Array(height * (1 + width * 4));
  for (let y = 0; y < height; y++) for (let i = 0; i < width * 4; i++) raw[y * (1 + width * 4) + 1 + i] = (y * 31 + i * 7) & 255;
  return encodeChunks([
    { name: 'IHDR', data: ihdr },
    { name: 'IDAT', data: new Uint8Array(deflateSync(raw)) },
    { name: 'IEND', data: new Uint8Array(0) },
  ]);
}

describe('PNG request metadata', () => {
  it('adds a tEXt chunk before IEND, leaving every other chunk as it was', () => {
    const png = tinyPng();
    const out = withTextChunk(png, PNG_KEYWORD, '{"a":1}');
    // extractChunks checks every CRC: it throws on a chunk written wrong.
    const names = extractChunks(out).map((c) => c.name);
    expect(names).toEqual(['IHDR', 'IDAT', 'tEXt', 'IEND']);
    expect(extractChunks(out).filter((c) => c.name !== 'tEXt')).toEqual(extractChunks(png));
    expect(readTextChunk(out, PNG_KEYWORD)).toBe('{"a":1}');
    expect(readTextChunk(out, 'other')).toBeNull();
    expect(readTextChunk(png, PNG_KEYWORD)).toBeNull();
  });

  it('round-trips JSON with text outside Latin-1 (tEXt holds Latin-1 only)', async () => {
    const value = { prompt: '@mochi in a café, 雪, 🐈', n: 3 };
    const text = asciiJson(value);
    expect(text).toMatch(/^[\x20-\x7e]+$/);
    const blob = await embedJson(new Blob([tinyPng() as Uint8Array<ArrayBuffer>]), value);
    expect(blob.type).toBe('image/png');
    const back = readTextChunk(new Uint8Array(await blob.arrayBuffer()), PNG_KEYWORD);
    expect(JSON.parse(back!)).toEqual(value);
  });

  it('reads the size and tells PNGs from other files', () => {
    expect(pngSize(tinyPng(5, 7))).toEqual({ width: 5, height: 7 });
    expect(isPng(tinyPng())).toBe(true);
    const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 0, 0, 0, 0]);
    expect(isPng(jpeg)).toBe(false);
    expect(() => readTextChunk(jpeg, PNG_KEYWORD)).toThrow(/not a PNG/);
    expect(() => withTextChunk(jpeg, PNG_KEYWORD, 'x')).toThrow(/not a PNG/);
  });

  it('refuses a damaged PNG instead of reading garbage', () => {
    const out = withTextChunk(tinyPng(), PNG_KEYWORD, '{"a":1}');
    const damaged = out.slice();
    damaged[damaged.length - 20] = damaged[damaged.length - 20]! ^ 0xff;
    expect(() => readTextChunk(damaged, PNG_KEYWORD)).toThrow();
  });
});
