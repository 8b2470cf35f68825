import { describe, expect, it } from 'vitest';
import { errorText, formatBytes } from './format';

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1.00 KiB'],
    [1536, '1.50 KiB'],
    [15 * 1024 * 1024, '15.0 MiB'],
    [2.5 * 1024 ** 3, '2.50 GiB'],
    [300 * 1024 ** 2, '300 MiB'],
  ])('%d bytes is %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });

  it('rejects what is not a byte count', () => {
    expect(() => formatBytes(-1)).toThrow(/not a byte count/);
    expect(() => formatBytes(Number.NaN)).toThrow(/not a byte count/);
  });
});

describe('errorText', () => {
  it('gives the message of errors and the text of anything else', () => {
    expect(errorText(new Error('boom'))).toBe('boom');
    expect(errorText('plain')).toBe('plain');
  });
});
