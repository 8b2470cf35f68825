import { describe, expect, it } from 'vitest';
import { parseStudioParams } from './url-params';

describe('parseStudioParams', () => {
  it('defaults to auto and the built-in pack', () => {
    expect(parseStudioParams('', '/packs/test')).toEqual({ backend: 'auto', packUrl: '/packs/test', problems: [] });
  });

  it.each(['webgpu', 'wasm', 'auto'] as const)('reads backend=%s', (backend) => {
    expect(parseStudioParams(`?backend=${backend}`, '/packs/test').backend).toBe(backend);
  });

  it('reports an unknown backend and keeps auto', () => {
    const p = parseStudioParams('?backend=webgl', '/packs/test');
    expect(p.backend).toBe('auto');
    expect(p.problems).toEqual(['unknown backend "webgl" in the URL; use auto, webgpu, wasm']);
  });

  it('reads a pack URL, ignoring a blank one', () => {
    expect(parseStudioParams('?pack=/packs/other', '/packs/test').packUrl).toBe('/packs/other');
    expect(parseStudioParams('?pack=%20', '/packs/test').packUrl).toBe('/packs/test');
  });
});
