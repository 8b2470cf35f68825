/**
 * FLUX.2 klein converted from diffusers (workers/convert/flux2): Qwen3 hidden-state taps as the
 * text rows (no pooled vector), RoPE positions on 4 axes with each reference on its own time
 * coordinate (flux2-positions.ts), and the klein pipelines' image-size-dependent schedule
 * (flux2-schedule.ts). Which reference mode is exact is the pack's (klein 4B / base 4B: full;
 * 9B-kv: cached).
 */
import type { ExtraFeeds, FamilyAdapter, TokenLayout } from './family';
import { concatPositions, gridPositions, referenceTime, ropeTables, textPositions, type Positions } from './flux2-positions';
import { flux2Sigmas } from './flux2-schedule';

/** The RoPE geometry of a FLUX.2 transformer (axes dims and theta, from its config). */
export interface Flux2Rope {
  axesDims: readonly number[];
  theta: number;
}

function tables(prefix: string, ids: Positions, rope: Flux2Rope, batch: boolean): ExtraFeeds {
  const t = ropeTables(ids, rope.axesDims, rope.theta);
  const half = t.cos.length / t.tokens;
  const dims = batch ? [1, t.tokens, half] : [t.tokens, half];
  return { [`${prefix}rope_cos`]: { data: t.cos, dims }, [`${prefix}rope_sin`]: { data: t.sin, dims } };
}

export function flux2Family(rope: Flux2Rope): FamilyAdapter {
  return {
    id: 'flux2',
    label: 'FLUX.2 klein',
    textEncoders: 'Qwen3 (three hidden-state taps, the chat template with thinking off)',
    sigmas: (_manifest, steps, imageTokens) => flux2Sigmas(steps, imageTokens),
    // The pipeline passes t / 1000 and the model multiplies by 1000: 1000 sigma, as the other families.
    timestep: (sigma) => 1000 * sigma,
    // FLUX.2's reference pass reads no text.
    referencePrompt: () => '',
    referenceReadsText: false,
    stepPositions: (layout: TokenLayout) =>
      tables(
        '',
        concatPositions(
          textPositions(layout.textRows),
          gridPositions(layout.grid.height, layout.grid.width),
          ...layout.references.map((r, i) => gridPositions(r.height, r.width, referenceTime(i))),
        ),
        rope,
        false,
      ),
    referencePositions: (index, grid) => tables('ref_', gridPositions(grid.height, grid.width, referenceTime(index)), rope, true),
  };
}
