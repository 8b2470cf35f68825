import { describe, expect, it } from 'vitest';
import { probeAttention, runProbe } from './probe';

describe('backend probes (onnxruntime-web in Node, WASM)', () => {
  it('runProbe passes on the WASM backend', async () => {
    await expect(runProbe('wasm')).resolves.toBeUndefined();
  });

  it('the attention conformance probe compares fused and decomposed attention with the reference', async () => {
    const probe = await probeAttention('wasm', 4, 64, -10000);
    expect(probe.cases.map((c) => c.withBias)).toEqual([true, false]);
    for (const c of probe.cases) {
      expect(c.error).toBeNull();
      expect(c.decomposedError).toBeLessThan(1e-5);
      expect(c.fusedError).toBeLessThan(1e-5);
      expect(c.fusedMatches).toBe(true);
    }
  });

  it("rejects a head count that does not divide the hidden size", async () => {
    // 5 heads do not divide 64: both graphs are invalid; the probe must say so for the fused one.
    await expect(probeAttention('wasm', 5, 64, -10000)).rejects.toThrow();
  });
});
