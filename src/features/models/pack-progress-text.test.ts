import { describe, expect, it } from 'vitest';
import { formatDuration, packProgressText } from './pack-progress-text';

describe('packProgressText', () => {
  it('says bytes of total, rate and time left while downloading', () => {
    expect(
      packProgressText({ kind: 'files', file: 'dit.onnx.data', phase: 'download', doneBytes: 512 * 1024 * 1024, totalBytes: 2 * 1024 ** 3, rate: 8 * 1024 * 1024, etaSeconds: 192 }),
    ).toBe('Downloading 512 MiB of 2.00 GiB · 8.00 MiB/s · 3 min 12 s left (dit.onnx.data)');
  });

  it('says when it checks cached files, without a rate', () => {
    expect(packProgressText({ kind: 'files', file: 'a.onnx', phase: 'verify', doneBytes: 1024, totalBytes: 4096, rate: null, etaSeconds: null })).toBe(
      'Checking cached files: 1.00 KiB of 4.00 KiB (a.onnx)',
    );
  });

  it('formats durations for people', () => {
    expect(formatDuration(0.4)).toBe('under a second');
    expect(formatDuration(42)).toBe('42 s');
    expect(formatDuration(3725)).toBe('1 h 2 min');
  });
});
