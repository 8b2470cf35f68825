import { describe, expect, it } from 'vitest';
import { attentionProbeGraph, probeAttention, PROBE_PIECES, runProbe } from './probe';

describe('backend probes (onnxruntime-web in Node, WASM)', () => {
  it('runProbe passes on the WASM backend', async () => {
    await expect(runProbe('wasm')).resolves.toBeUndefined();
  });

  it('the attention conformance probe compares fused and decomposed attention with the reference', async () => {
    const probe = await probeAttention('wasm', 4, 64, -10000);
    expect(probe.pieces).toEqual(PROBE_PIECES);
    expect(probe.cases.map((c) => c.withBias)).toEqual([true, false]);
    for (const c of probe.cases) {
      expect(c.error).toBeNull();
      expect(c.decomposedError).toBeLessThan(1e-5);
      expect(c.fusedError).toBeLessThan(1e-5);
      expect(c.fusedMatches).toBe(true);
    }
  });

  it('tests the form the pack graphs use: one fused call per head and query chunk, the bias fed [B, 1, rows, L]', () => {
    const ops = (impl: 'mha' | 'decomposed') => attentionProbeGraph(impl, 4, 64, true, PROBE_PIECES).nodes.map((n) => n.opType);
    const fused = ops('mha');
    expect(PROBE_PIECES.headsPerPiece).toBe(1);
    expect(fused.filter((o) => o === 'MultiHeadAttention')).toHaveLength(4 * PROBE_PIECES.queryChunks);
    expect(fused).not.toContain('Expand');
    const decomposed = ops('decomposed');
    expect(decomposed.filter((o) => o === 'Softmax')).toHaveLength(4 * PROBE_PIECES.queryChunks);
    expect(decomposed).not.toContain('Expand');
  });

  it("rejects a head count that does not divide the hidden size", async () => {
    // 5 heads do not divide 64: both graphs are invalid; the probe must say so for the fused one.
    await expect(probeAttention('wasm', 5, 64, -10000)).rejects.toThrow();
  });
});
