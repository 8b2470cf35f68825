/**
 * Run-length coding of undo diffs. A diff is before XOR after over a
 * rectangle, so it is mostly zeros (pixels a stroke did not change) and long
 * runs of one value (a fill of an empty mask is all 255): it codes to a few
 * bytes per run instead of a byte per pixel, and because XOR is its own
 * inverse the same diff both undoes and redoes.
 *
 * Format: a sequence of segments, each a varint header h = length * 2 + kind,
 * then one value byte (kind 1: a run of `length` copies) or `length` literal
 * bytes (kind 0).
 */
import type { Rect } from './raster';

/** Runs shorter than this are cheaper as literals (header + value costs two bytes or more). */
const MIN_RUN = 4;

class ByteWriter {
  private buf: Uint8Array;
  private n = 0;

  constructor(capacity: number) {
    this.buf = new Uint8Array(Math.max(16, capacity));
  }

  private reserve(extra: number): void {
    if (this.n + extra <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.n + extra));
    next.set(this.buf.subarray(0, this.n));
    this.buf = next;
  }

  varint(v: number): void {
    this.reserve(5);
    while (v >= 0x80) {
      this.buf[this.n++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.n++] = v;
  }

  run(value: number, length: number): void {
    this.varint(length * 2 + 1);
    this.buf[this.n++] = value;
  }

  literal(src: Uint8Array, from: number, to: number, flip: number): void {
    this.varint((to - from) * 2);
    this.reserve(to - from);
    if (flip === 0) this.buf.set(src.subarray(from, to), this.n);
    else for (let i = from; i < to; i++) this.buf[this.n + i - from] = src[i]! ^ flip;
    this.n += to - from;
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.n);
  }
}

export interface EncodedRuns {
  runs: Uint8Array;
  /** False when every coded byte is 0 (the diff changes nothing). */
  nonZero: boolean;
}

/** Codes src[i] ^ flip for every i (flip 255 codes the complement without a temporary copy). */
export function encodeRuns(src: Uint8Array, flip = 0): EncodedRuns {
  const out = new ByteWriter(src.length >> 6);
  const n = src.length;
  let nonZero = false;
  let lit = 0;
  let i = 0;
  while (i < n) {
    const v = src[i]!;
    let j = i + 1;
    while (j < n && src[j] === v) j++;
    if ((v ^ flip) !== 0) nonZero = true;
    if (j - i >= MIN_RUN) {
      if (lit < i) out.literal(src, lit, i, flip);
      out.run(v ^ flip, j - i);
      lit = j;
    }
    i = j;
  }
  if (lit < n) out.literal(src, lit, n, flip);
  return { runs: out.result(), nonZero };
}

/** A run of one value over `length` bytes, coded without a source buffer (an invert's diff is one run of 255). */
export function uniformRuns(value: number, length: number): Uint8Array {
  const out = new ByteWriter(8);
  out.run(value, length);
  return out.result();
}

/** Decodes runs back into rect-major bytes (for tests and small rects). */
export function decodeRuns(runs: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  walk(runs, (pos, len, value, literalAt) => {
    if (literalAt < 0) out.fill(value, pos, pos + len);
    else out.set(runs.subarray(literalAt, literalAt + len), pos);
  });
  return out;
}

/** Calls visit(position, length, runValue, literalOffset or -1) for each segment. */
function walk(runs: Uint8Array, visit: (pos: number, len: number, value: number, literalAt: number) => void): void {
  let p = 0;
  let pos = 0;
  while (p < runs.length) {
    let h = 0;
    let scale = 1;
    let byte: number;
    do {
      byte = runs[p++]!;
      h += (byte & 0x7f) * scale;
      scale *= 128;
    } while (byte & 0x80);
    const len = Math.floor(h / 2);
    if (h % 2 === 1) {
      visit(pos, len, runs[p++]!, -1);
    } else {
      visit(pos, len, 0, p);
      p += len;
    }
    pos += len;
  }
}

/** mask[rect] ^= decoded runs. Zero runs are skipped without touching the mask. */
export function xorRunsInto(mask: Uint8Array, width: number, rect: Rect, runs: Uint8Array): void {
  const rw = rect.x1 - rect.x0;
  walk(runs, (pos, len, value, literalAt) => {
    if (literalAt < 0 && value === 0) return;
    if (rw === width) {
      // Full rows (fills, inverts): the rect is one contiguous span of the mask.
      const base = rect.y0 * width + pos;
      if (literalAt < 0) xorSpan(mask, base, len, value);
      else for (let k = 0; k < len; k++) mask[base + k] = mask[base + k]! ^ runs[literalAt + k]!;
      return;
    }
    let row = Math.floor(pos / rw);
    let col = pos - row * rw;
    let i = (rect.y0 + row) * width + rect.x0 + col;
    for (let k = 0; k < len; k++) {
      mask[i] = mask[i]! ^ (literalAt < 0 ? value : runs[literalAt + k]!);
      i++;
      if (++col === rw) {
        col = 0;
        row++;
        i += width - rw;
      }
    }
  });
}

/**
 * mask[start .. start + len) ^= value, four bytes at a time over the aligned
 * middle: an invert or its undo on a 12-megapixel mask is one such span.
 */
export function xorSpan(mask: Uint8Array, start: number, len: number, value: number): void {
  const end = start + len;
  let i = start;
  while (i < end && (mask.byteOffset + i) % 4 !== 0) mask[i] = mask[i++]! ^ value;
  const words = (end - i) >> 2;
  if (words > 0) {
    const w = new Uint32Array(mask.buffer, mask.byteOffset + i, words);
    const v = (value * 0x01010101) >>> 0;
    for (let k = 0; k < words; k++) w[k] = w[k]! ^ v;
    i += words * 4;
  }
  while (i < end) mask[i] = mask[i++]! ^ value;
}
