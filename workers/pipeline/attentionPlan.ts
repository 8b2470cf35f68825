/**
 * The attention plan (METHOD.md section 2): a pure function from the token
 * layout and every customization knob to the additive attention bias the step
 * graph takes. The graph only adds it; every knob lives here.
 *
 * Token layout, rows (queries) and columns (keys):
 *   [ text: M | image: N | ref set 1 | ref set 2 | ... ]
 * A subject owns one or more reference token sets (one per reference image
 * and frequency band). In cached mode only text and image tokens are queries.
 */

export interface RefSet {
  /** Tokens in this set (the image grid of one reference). */
  tokens: number;
  /** Multiplies the subject's gamma for this set (frequency band weights). */
  gammaScale: number;
  /** The subject mask on this set's token grid, values in [0, 1]; null = all ones. */
  mask: Float32Array | null;
}

export interface PlanSubject {
  /** Strength gamma >= 0: multiplies the attention mass on the subject's tokens. */
  gamma: number;
  refSets: RefSet[];
  /** Text token indices of the subject's concept (placeholder + class word). */
  conceptPositions: number[];
  /** Image tokens where the subject may appear (1 = allowed), [N]; null = anywhere. */
  targetRegion?: Float32Array | null;
  /** The subject is off in layers below this one (IP-Adapter style windows). */
  layerStart?: number;
  /** The subject is on only for steps whose fraction i/(n-1) lies in [start, end]. */
  stepWindow?: [number, number];
}

export interface PlanInput {
  textTokens: number;
  imageTokens: number;
  subjects: PlanSubject[];
  mode: 'cached' | 'full';
  /** Full mode only: whether references may attend to text and image (true = the full-mode default). */
  refsSeeContext?: boolean;
  /**
   * AlignGen's selective mask (default true): only a subject's concept tokens among the text rows
   * see its references. False: every text row sees every reference (with its strength and mask).
   */
  selectiveMask?: boolean;
  /**
   * Full mode only (default true): a reference set attends to itself only. False: reference sets
   * of all subjects (and bands) see one another, as if one joint reference pass.
   */
  blockReferences?: boolean;
  layers: number;
  /** The "may not attend" value (a large finite negative). */
  biasMin: number;
  /** Which step this plan is for, to apply step windows: fraction in [0, 1]. */
  stepFraction?: number;
}

export interface AttentionPlan {
  rows: number;
  cols: number;
  refTokens: number;
  /** [rows * cols], row-major. */
  bias: Float32Array;
  /** [layers * refTokens]: added to reference columns of text/image rows in layer l. */
  layerBias: Float32Array;
  /** Column offset of each subject's first reference token, and its count. */
  subjectColumns: { start: number; count: number }[];
  /** True when no subject has a reference token: the graph gets one dummy, fully masked column. */
  dummyReference: boolean;
}

/** log(x), clamped so that 0 maps to the "may not attend" value. */
export function logBias(x: number, biasMin: number): number {
  return x > 0 ? Math.max(biasMin, Math.log(x)) : biasMin;
}

function subjectActive(s: PlanSubject, stepFraction: number | undefined): boolean {
  if (!s.stepWindow || stepFraction === undefined) return true;
  const [a, b] = s.stepWindow;
  return stepFraction >= a - 1e-9 && stepFraction <= b + 1e-9;
}

export function planAttention(inp: PlanInput): AttentionPlan {
  const { textTokens: M, imageTokens: N, biasMin } = inp;
  const MN = M + N;
  const sets = inp.subjects.flatMap((s, si) => s.refSets.map((r) => ({ ...r, si })));
  const realR = sets.reduce((n, r) => n + r.tokens, 0);
  const dummyReference = realR === 0;
  if (dummyReference && inp.mode === 'full') throw new Error('full reference mode needs at least one reference');
  const R = dummyReference ? 1 : realR;
  const cols = MN + R;
  const rows = inp.mode === 'cached' ? MN : MN + R;
  const bias = new Float32Array(rows * cols);
  const layerBias = new Float32Array(inp.layers * R);

  if (dummyReference) {
    for (let r = 0; r < rows; r++) bias[r * cols + MN] = biasMin;
    return { rows, cols, refTokens: R, bias, layerBias, subjectColumns: inp.subjects.map(() => ({ start: MN, count: 0 })), dummyReference };
  }

  const conceptOf = new Int32Array(M).fill(-1);
  inp.subjects.forEach((s, si) => {
    for (const p of s.conceptPositions) {
      if (p < 0 || p >= M) throw new Error(`concept position ${p} outside the ${M} text tokens`);
      conceptOf[p] = si;
    }
  });

  const selective = inp.selectiveMask ?? true;
  const subjectColumns = inp.subjects.map(() => ({ start: -1, count: 0 }));
  let col = MN;
  for (const set of sets) {
    const s = inp.subjects[set.si]!;
    const sc = subjectColumns[set.si]!;
    if (sc.start < 0) sc.start = col;
    sc.count += set.tokens;
    const active = subjectActive(s, inp.stepFraction);
    const g = s.gamma * set.gammaScale;
    for (let k = 0; k < set.tokens; k++, col++) {
      const m = set.mask ? set.mask[k]! : 1;
      const open = active && g > 0 && m > 0 ? Math.max(biasMin, Math.log(g) + Math.log(m)) : biasMin;
      // Text rows: only the subject's own concept tokens see its references (unless the selective mask is off).
      for (let t = 0; t < M; t++) bias[t * cols + col] = selective ? (conceptOf[t] === set.si ? open : biasMin) : open;
      // Image rows: everywhere, or only inside the target region.
      for (let n = 0; n < N; n++) {
        const allowed = !s.targetRegion || s.targetRegion[n]! > 0.5;
        bias[(M + n) * cols + col] = allowed ? open : biasMin;
      }
      for (let l = 0; l < inp.layers; l++) layerBias[l * R + (col - MN)] = l < (s.layerStart ?? 0) ? biasMin : 0;
    }
  }

  if (inp.mode === 'full') {
    const seeContext = inp.refsSeeContext ?? true;
    const block = inp.blockReferences ?? true;
    let start = MN;
    for (const set of sets) {
      for (let r = start; r < start + set.tokens; r++) {
        const row = r * cols;
        for (let c = 0; c < MN; c++) bias[row + c] = seeContext ? 0 : biasMin;
        // A reference set sees itself only: sets (images, bands, subjects) never mix, unless blocking is off.
        for (let c = MN; c < cols; c++) bias[row + c] = !block || (c >= start && c < start + set.tokens) ? 0 : biasMin;
      }
      start += set.tokens;
    }
  }
  return { rows, cols, refTokens: R, bias, layerBias, subjectColumns, dummyReference };
}
