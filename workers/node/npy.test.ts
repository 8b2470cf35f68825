import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeNpy, encodeNpy, parseNpyHeader, readNpy, writeNpy } from './npy';

/** An .npy file by hand: version, header text, raw data. */
function npyBytes(major: 1 | 2, header: string, data: Uint8Array): Uint8Array {
  const pre = major === 1 ? 10 : 12;
  const padded = header.padEnd(Math.ceil((pre + header.length + 1) / 64) * 64 - pre - 1, ' ') + '\n';
  const out = new Uint8Array(pre + padded.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, padded.length, true);
  else view.setUint32(8, padded.length, true);
  for (let i = 0; i < padded.length; i++) out[pre + i] = padded.charCodeAt(i);
  out.set(data, pre + padded.length);
  return out;
}

const f64 = (xs: number[]) => new Uint8Array(Float64Array.from(xs).buffer);
const f32 = (xs: number[]) => new Uint8Array(Float32Array.from(xs).buffer);

describe('npy', () => {
  const dirs: string[] = [];
  afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it('round-trips float32 through a file, version 1, data 64-byte aligned', async () => {
    const data = Float32Array.from({ length: 24 }, (_, i) => Math.sin(i) * 1e3);
    const bytes = encodeNpy(data, [1, 2, 3, 4]);
    const headerLen = new DataView(bytes.buffer).getUint16(8, true);
    expect((10 + headerLen) % 64).toBe(0);
    expect(bytes[6]).toBe(1);
    expect(new TextDecoder().decode(bytes.subarray(10, 10 + headerLen))).toMatch(/^\{'descr': '<f4', 'fortran_order': False, 'shape': \(1, 2, 3, 4\), \} *\n$/);
    const dir = await mkdtemp(join(tmpdir(), 'npy-'));
    dirs.push(dir);
    await writeNpy(join(dir, 'a.npy'), data, [1, 2, 3, 4]);
    const back = await readNpy(join(dir, 'a.npy'));
    expect(back.shape).toEqual([1, 2, 3, 4]);
    expect(back.data).toEqual(data);
  });

  it('writes 1-d and 0-d shapes as Python tuples', () => {
    expect(decodeNpy(encodeNpy(Float32Array.of(1, 2), [2])).shape).toEqual([2]);
    expect(new TextDecoder().decode(encodeNpy(Float32Array.of(1, 2), [2]))).toContain("'shape': (2,)");
    expect(decodeNpy(encodeNpy(Float32Array.of(5), [])).shape).toEqual([]);
    expect(() => encodeNpy(Float32Array.of(1, 2, 3), [2])).toThrow('shape (2) has 2 values, the data 3');
  });

  it('reads version 2 headers, <f8 and <f2, keys in any order, double quotes', () => {
    const v2 = decodeNpy(npyBytes(2, `{"shape": (2, 2), "fortran_order": False, "descr": "<f8"}`, f64([0.5, -1.25, 3, 1e-3])));
    expect(v2.shape).toEqual([2, 2]);
    expect(Array.from(v2.data)).toEqual([0.5, -1.25, 3, Math.fround(1e-3)]);
    // 1.0, -2.0, 0.5, 65504 (max half), smallest subnormal
    const half = new Uint8Array(new Uint16Array([0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001]).buffer);
    const h = decodeNpy(npyBytes(1, `{'descr': '<f2', 'fortran_order': False, 'shape': (5,), }`, half));
    expect(Array.from(h.data)).toEqual([1, -2, 0.5, 65504, Math.fround(2 ** -24)]);
  });

  it('refuses bad magic, fortran order, other dtypes and the wrong data size, naming the file', () => {
    expect(() => decodeNpy(new TextEncoder().encode('not an npy file at all'), 'x.npy')).toThrow('x.npy is not a NumPy .npy file (bad magic)');
    expect(() => decodeNpy(npyBytes(1, `{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }`, f32([1, 2, 3, 4])), 'f.npy')).toThrow(
      'f.npy: fortran_order arrays are not supported; save it in C order (numpy.ascontiguousarray)',
    );
    expect(() => decodeNpy(npyBytes(1, `{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }`, f32([1])))).toThrow("dtype '>f4' is not supported");
    expect(() => decodeNpy(npyBytes(1, `{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }`, f64([1])))).toThrow("dtype '<i8' is not supported");
    expect(() => decodeNpy(npyBytes(1, `{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }`, f32([1, 2])), 's.npy')).toThrow(
      "s.npy: shape (3) of '<f4' needs 12 data bytes, the file has 8",
    );
    const v9 = npyBytes(1, `{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }`, f32([1]));
    v9[6] = 9;
    expect(() => decodeNpy(v9)).toThrow('.npy format version 9.0 is not supported');
  });

  it('parses headers as data, never code', () => {
    expect(parseNpyHeader(`{'descr': '<f4', 'fortran_order': False, 'shape': (), }`)).toEqual({ descr: '<f4', fortranOrder: false, shape: [] });
    expect(() => parseNpyHeader(`{'descr': '<f4', 'fortran_order': __import__('os'), 'shape': (1,)}`)).toThrow('unreadable .npy header');
    expect(() => parseNpyHeader(`{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,)}`)).toThrow('unreadable .npy header');
    expect(() => parseNpyHeader(`{'descr': '<f4', 'shape': (1,)}`)).toThrow('needs descr, fortran_order and shape');
    expect(() => parseNpyHeader(`{'descr': '<f4', 'fortran_order': False, 'shape': (1.5,)}`)).toThrow('non-integer dimension');
  });

  it('says when a file is missing', async () => {
    await expect(readNpy('/nonexistent/noise.npy')).rejects.toThrow('cannot read /nonexistent/noise.npy: no such file');
  });
});
