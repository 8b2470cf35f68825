import { describe, expect, it } from 'vitest';
import { Rng, uniform } from './params';
import { quantizeConvInt8, quantizeLinearInt4, quantizeLinearInt8, toFloat16 } from './quantize';

describe('quantization', () => {
  const w = uniform(new Rng(3), 64 * 8, 0.5);

  it('int8 per output column: codes in [-127, 127], error within half a step', () => {
    const q = quantizeLinearInt8(w, 64, 8);
    for (let i = 0; i < w.length; i++) {
      const s = q.scale[i % 8]!;
      expect(Math.abs(q.q[i]!)).toBeLessThanOrEqual(127);
      expect(Math.abs(q.dequant[i]! - w[i]!)).toBeLessThanOrEqual(s / 2 + 1e-7);
      expect(q.dequant[i]).toBe(Math.fround(q.q[i]! * s));
    }
    // The largest weight of each column maps to +-127.
    for (let n = 0; n < 8; n++) expect(Math.max(...Array.from({ length: 64 }, (_, k) => Math.abs(q.q[k * 8 + n]!)))).toBe(127);
  });

  it('int8 conv: one scale per output channel', () => {
    const q = quantizeConvInt8(w, 8);
    expect(q.scale.length).toBe(8);
    for (let i = 0; i < w.length; i++) expect(Math.abs(q.dequant[i]! - w[i]!)).toBeLessThanOrEqual(q.scale[Math.floor(i / 64)]! / 2 + 1e-7);
  });

  it('int4 blocks: MatMulNBits nibble layout decodes to the dequantized weights', () => {
    const q = quantizeLinearInt4(w, 64, 8, 32);
    expect(q.blocks).toBe(2);
    expect(q.packed.length).toBe(8 * 2 * 16);
    for (let n = 0; n < 8; n++)
      for (let k = 0; k < 64; k++) {
        const j = Math.floor(k / 32);
        const t = k % 32;
        const byte = q.packed[(n * 2 + j) * 16 + (t >> 1)]!;
        const code = t & 1 ? byte >> 4 : byte & 15;
        const s = q.scales[n * 2 + j]!;
        expect(q.dequant[k * 8 + n]).toBe(Math.fround((code - 8) * s));
        expect(Math.abs(q.dequant[k * 8 + n]! - w[k * 8 + n]!)).toBeLessThanOrEqual(s / 2 + 1e-7);
      }
  });

  it('int4 rejects a reduction size that is not a multiple of the block', () => {
    expect(() => quantizeLinearInt4(new Float32Array(48 * 2), 48, 2, 32)).toThrow(/multiple of block size/);
  });
});

describe('float16 storage', () => {
  it('rounds to the nearest half (ties to even), keeps the layout, and dequantizes to those halves', () => {
    const w = Float32Array.of(1, 0.1, -2, 65504, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 6e-8);
    const { bits, dequant } = toFloat16(w);
    expect(Array.from(bits.slice(0, 4))).toEqual([0x3c00, 0x2e66, 0xc000, 0x7bff]);
    // 1 + 2^-11 is a tie between 1 and 1 + 2^-10: to even (1); 1 + 3 * 2^-11 goes up to 1 + 2^-9.
    expect(dequant[4]).toBe(1);
    expect(dequant[5]).toBe(1 + 2 ** -9);
    expect(dequant[1]).toBeCloseTo(0.0999755859375, 12);
    // A subnormal half stays a nonzero half, not flushed to zero.
    expect(dequant[6]).toBeGreaterThan(0);
    for (let i = 0; i < w.length; i++) expect(Math.abs(dequant[i]! - w[i]!)).toBeLessThanOrEqual(Math.abs(w[i]!) * 2 ** -11 + 2 ** -25);
  });

  it('refuses a weight beyond +-65504 by position instead of storing infinity', () => {
    expect(() => toFloat16(Float32Array.of(0, 70000), 'the 1x2 linear')).toThrow('the 1x2 linear has a value 70000 outside the float16 range (+-65504) at index 1: convert it at fp32 or int8');
  });
});
