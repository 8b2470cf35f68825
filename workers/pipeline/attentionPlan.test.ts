/** One test per row of METHOD.md section 2's table, plus windows, regions and the dummy reference. */
import { describe, expect, it } from 'vitest';
import { logBias, planAttention, type PlanInput, type PlanSubject } from './attentionPlan';

const MIN = -10000;
const M = 4; // text tokens
const N = 6; // image tokens
const at = (p: ReturnType<typeof planAttention>, r: number, c: number) => p.bias[r * p.cols + c]!;

function subject(over: Partial<PlanSubject> = {}): PlanSubject {
  return { gamma: 1, refSets: [{ tokens: 3, gammaScale: 1, mask: null }], conceptPositions: [1], ...over };
}
function plan(over: Partial<PlanInput> = {}) {
  return planAttention({ textTokens: M, imageTokens: N, subjects: [subject()], mode: 'cached', layers: 2, biasMin: MIN, ...over });
}
const refCols = (p: ReturnType<typeof planAttention>, si: number) => {
  const c = p.subjectColumns[si]!;
  return Array.from({ length: c.count }, (_, k) => c.start + k);
};

describe('attention plan', () => {
  it('shapes: cached rows are text+image, full rows add the references', () => {
    const c = plan();
    expect([c.rows, c.cols, c.refTokens]).toEqual([M + N, M + N + 3, 3]);
    const f = plan({ mode: 'full' });
    expect([f.rows, f.cols]).toEqual([M + N + 3, M + N + 3]);
    expect(c.layerBias.length).toBe(2 * 3);
  });

  it('concept text token -> its refs: log(gamma) + log(m)', () => {
    const mask = Float32Array.of(1, 0.5, 0);
    const p = plan({ subjects: [subject({ gamma: 2, refSets: [{ tokens: 3, gammaScale: 1, mask }] })] });
    const [a, b, c] = refCols(p, 0);
    expect(at(p, 1, a!)).toBeCloseTo(Math.log(2), 6);
    expect(at(p, 1, b!)).toBeCloseTo(Math.log(2) + Math.log(0.5), 6);
    expect(at(p, 1, c!)).toBe(MIN); // m = 0: background not seen at all
  });

  it('any other text token -> any ref: blocked', () => {
    const p = plan();
    for (const t of [0, 2, 3]) for (const c of refCols(p, 0)) expect(at(p, t, c)).toBe(MIN);
  });

  it('selective mask off: every text row sees the references with the concept rows\' bias', () => {
    const mask = Float32Array.of(1, 0.5, 0);
    const p = plan({ selectiveMask: false, subjects: [subject({ gamma: 2, refSets: [{ tokens: 3, gammaScale: 1, mask }] })] });
    const on = plan({ subjects: [subject({ gamma: 2, refSets: [{ tokens: 3, gammaScale: 1, mask }] })] });
    for (let t = 0; t < M; t++) for (const c of refCols(p, 0)) expect(at(p, t, c)).toBe(at(on, 1, c));
    for (let n = 0; n < N; n++) for (const c of refCols(p, 0)) expect(at(p, M + n, c)).toBe(at(on, M + n, c));
  });

  it('image token -> ref_i: log(gamma_i) + log(m_i)', () => {
    const mask = Float32Array.of(0.25, 1, 1);
    const p = plan({ subjects: [subject({ gamma: 0.5, refSets: [{ tokens: 3, gammaScale: 1, mask }] })] });
    const cols = refCols(p, 0);
    for (let n = 0; n < N; n++) {
      expect(at(p, M + n, cols[0]!)).toBeCloseTo(Math.log(0.5) + Math.log(0.25), 6);
      expect(at(p, M + n, cols[1]!)).toBeCloseTo(Math.log(0.5), 6);
    }
  });

  it('gamma = 0 blocks the subject everywhere; gamma = 1 with no mask is the model as trained (0)', () => {
    const off = plan({ subjects: [subject({ gamma: 0 })] });
    for (let r = 0; r < off.rows; r++) for (const c of refCols(off, 0)) expect(at(off, r, c)).toBe(MIN);
    const on = plan();
    for (let n = 0; n < N; n++) for (const c of refCols(on, 0)) expect(at(on, M + n, c)).toBe(0);
  });

  it('text, image -> text, image: 0 (unchanged model)', () => {
    const p = plan({ subjects: [subject({ gamma: 3 }), subject({ gamma: 0 })] });
    for (let r = 0; r < M + N; r++) for (let c = 0; c < M + N; c++) expect(at(p, r, c)).toBe(0);
  });

  it('full mode: ref_i -> ref_i 0, ref_i -> ref_j blocked, ref -> text/image 0 (or blocked when refs may not see context)', () => {
    const two = [subject({ conceptPositions: [1] }), subject({ conceptPositions: [2], refSets: [{ tokens: 2, gammaScale: 1, mask: null }] })];
    const p = plan({ mode: 'full', subjects: two });
    const a = refCols(p, 0);
    const b = refCols(p, 1);
    for (const r of a) {
      for (const c of a) expect(at(p, r, c)).toBe(0);
      for (const c of b) expect(at(p, r, c)).toBe(MIN);
      for (let c = 0; c < M + N; c++) expect(at(p, r, c)).toBe(0);
    }
    const closed = plan({ mode: 'full', subjects: two, refsSeeContext: false });
    for (const r of b) for (let c = 0; c < M + N; c++) expect(at(closed, r, c)).toBe(MIN);
    // Blocking off: every reference sees every other subject's references too.
    const joint = plan({ mode: 'full', subjects: two, blockReferences: false });
    for (const r of [...a, ...b]) for (const c of [...a, ...b]) expect(at(joint, r, c)).toBe(0);
  });

  it('full mode: two reference images of one subject do not mix either (equals the cached per-image pass)', () => {
    const s = subject({ refSets: [{ tokens: 2, gammaScale: 1, mask: null }, { tokens: 2, gammaScale: 1, mask: null }] });
    const p = plan({ mode: 'full', subjects: [s] });
    const [c0, c1, c2, c3] = refCols(p, 0);
    expect(at(p, c0!, c1!)).toBe(0);
    expect(at(p, c0!, c2!)).toBe(MIN);
    expect(at(p, c3!, c2!)).toBe(0);
  });

  it('frequency bands scale gamma per set and stay one subject for the selective mask', () => {
    const s = subject({ gamma: 2, refSets: [{ tokens: 1, gammaScale: 1, mask: null }, { tokens: 1, gammaScale: 0.5, mask: null }, { tokens: 1, gammaScale: 0, mask: null }] });
    const p = plan({ subjects: [s] });
    const [orig, low, high] = refCols(p, 0);
    expect(at(p, 1, orig!)).toBeCloseTo(Math.log(2), 6);
    expect(at(p, 1, low!)).toBeCloseTo(0, 6);
    expect(at(p, 1, high!)).toBe(MIN);
  });

  it('target region: image rows outside it cannot see the subject', () => {
    const region = Float32Array.of(1, 1, 1, 0, 0, 0);
    const p = plan({ subjects: [subject({ targetRegion: region })] });
    for (const c of refCols(p, 0)) {
      for (let n = 0; n < 3; n++) expect(at(p, M + n, c)).toBe(0);
      for (let n = 3; n < N; n++) expect(at(p, M + n, c)).toBe(MIN);
    }
  });

  it('layer window: the subject is blocked below its start layer through layerBias', () => {
    const p = plan({ layers: 3, subjects: [subject({ layerStart: 2 }), subject({ conceptPositions: [2] })] });
    const R = p.refTokens;
    const a = refCols(p, 0).map((c) => c - (M + N));
    const b = refCols(p, 1).map((c) => c - (M + N));
    for (const l of [0, 1]) for (const k of a) expect(p.layerBias[l * R + k]).toBe(MIN);
    for (const k of a) expect(p.layerBias[2 * R + k]).toBe(0);
    for (const l of [0, 1, 2]) for (const k of b) expect(p.layerBias[l * R + k]).toBe(0);
  });

  it('step window: outside [start, end] the subject is off; inside it is on', () => {
    const s = subject({ stepWindow: [0.25, 0.5] });
    for (const [f, on] of [[0, false], [0.25, true], [0.5, true], [0.75, false]] as const) {
      const p = plan({ subjects: [s], stepFraction: f });
      expect(at(p, M, refCols(p, 0)[0]!)).toBe(on ? 0 : MIN);
    }
  });

  it('no references: one dummy column blocked for every row', () => {
    const p = plan({ subjects: [] });
    expect(p.dummyReference).toBe(true);
    expect(p.refTokens).toBe(1);
    for (let r = 0; r < p.rows; r++) expect(at(p, r, M + N)).toBe(MIN);
    expect(() => plan({ subjects: [], mode: 'full' })).toThrow(/needs at least one reference/);
  });

  it('rejects a concept position outside the text', () => {
    expect(() => plan({ subjects: [subject({ conceptPositions: [M] })] })).toThrow(/outside/);
  });

  it('logBias clamps at the "may not attend" value', () => {
    expect(logBias(0, MIN)).toBe(MIN);
    expect(logBias(-1, MIN)).toBe(MIN);
    expect(logBias(1, MIN)).toBe(0);
  });
});
