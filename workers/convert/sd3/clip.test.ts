/**
 * The CLIP text encoder graph from the fixtures' own weights against transformers'
 * CLIPTextModelWithProjection on the same ids: hidden_states[-2] and text_embeds for the six fixture
 * prompts, for both SD3 fixture models and both encoders (quick_gelu CLIP-L, gelu bigG).
 */
import { fp32Weights } from '../../packbuild/params';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { readNpy } from '../../node/npy';
import type { PrecisionSpec } from '../../packbuild/nn';
import { quantizeLinearInt4, quantizeLinearInt8 } from '../../packbuild/quantize';
import { maxAbs, maxAbsDiff, relRms, runGraph } from '../../packbuild/testing/harness';
import type { JsonObject } from '../folder';
import { folderFromDisk } from '../node-source';
import { openCheckpoint } from '../safetensors';
import { buildClipTextEncoder, loadClipTextParams, type ClipTextParams } from './clip';

const FIXTURES = new URL('../../../fixtures/sd3/', import.meta.url).pathname;
const EOS = 999;
const FP32: PrecisionSpec = { matmul: 'fp32', conv: 'fp32', blockSize: 32 };

interface ReferenceIndex {
  prompts: string[];
  token_ids: { tokenizer: string; ids: number[][] }[];
}

async function loadEncoder(model: string, component: string, placeholderRows = 0): Promise<ClipTextParams> {
  const folder = await folderFromDisk(`${FIXTURES}${model}`);
  const config = JSON.parse(await readFile(`${FIXTURES}${model}/${component}/config.json`, 'utf8')) as JsonObject;
  return loadClipTextParams(await openCheckpoint(folder, `${component}/model.safetensors`), config, { placeholderRows });
}

/** index.json's ids (the same as tokens.npy / tokens_2.npy, checked in clip-tokenizer.test.ts) as an int64 feed. */
async function idsFeed(model: string, tokenizer: string) {
  const index = JSON.parse(await readFile(`${FIXTURES}${model}/reference/index.json`, 'utf8')) as ReferenceIndex;
  const ids = index.token_ids.find((t) => t.tokenizer === tokenizer)!.ids;
  return { type: 'int64' as const, dims: [ids.length, 77], data: BigInt64Array.from(ids.flat().map(BigInt)) };
}

/**
 * The relative weight error a precision leaves, worst over the encoder's linears (quantize.ts's own
 * dequantized weights against the stored ones): the per-layer noise the tolerance is scaled from.
 */
function worstWeightError(p: ClipTextParams, prec: PrecisionSpec): number {
  const linears = [...p.layers.flatMap((l) => [l.q, l.k, l.v, l.out, l.fc1, l.fc2]), p.projection];
  return Math.max(
    ...linears.map((lin) => {
      const int4 = prec.matmul === 'int4' && lin.inF % prec.blockSize === 0;
      const w = fp32Weights(lin);
      const dequant = int4 ? quantizeLinearInt4(w, lin.inF, lin.outF, prec.blockSize).dequant : quantizeLinearInt8(w, lin.inF, lin.outF).dequant;
      return relRms(dequant, w);
    }),
  );
}

describe.each(['sd3', 'sd3.5'])('CLIP text encoders of fixtures/sd3/%s against transformers', (model) => {
  describe.each([
    { component: 'text_encoder', tokenizer: 'tokenizer', hidden: 32, act: 'quick_gelu', int4Block: 32 },
    { component: 'text_encoder_2', tokenizer: 'tokenizer_2', hidden: 48, act: 'gelu', int4Block: 16 },
  ])('$component ($act)', ({ component, tokenizer, hidden, act, int4Block }) => {
    const references = async () => ({
      hidden: await readNpy(`${FIXTURES}${model}/reference/${component}.hidden_states_m2.npy`),
      pooled: await readNpy(`${FIXTURES}${model}/reference/${component}.text_embeds.npy`),
    });

    it('loads the weights (placeholder rows = the mean token row)', async () => {
      const p = await loadEncoder(model, component, 2);
      expect(p.cfg).toMatchObject({ vocabSize: 1000, tokenRows: 1002, hidden, layers: 5, heads: 4, positions: 77, layerNormEps: 1e-5, activation: act });
      const D = p.cfg.hidden;
      for (let i = 0; i < D; i++) {
        let mean = 0;
        for (let r = 0; r < 1000; r++) mean += p.tokenEmbedding[r * D + i]! / 1000;
        expect(p.tokenEmbedding[1000 * D + i]).toBeCloseTo(mean, 6);
        expect(p.tokenEmbedding[1001 * D + i]).toBe(p.tokenEmbedding[1000 * D + i]);
      }
    });

    it('fp32: hidden_states[-2] and text_embeds within 1e-4 (whole attention, and MultiHeadAttention in query chunks)', async () => {
      const p = await loadEncoder(model, component, 4);
      const ref = await references();
      const feed = await idsFeed(model, tokenizer);
      for (const [impl, pieces] of [
        ['decomposed', { headsPerPiece: Number.POSITIVE_INFINITY, queryChunks: 1 }],
        ['mha', { headsPerPiece: 1, queryChunks: 3 }],
      ] as const) {
        const out = await runGraph(buildClipTextEncoder(p, { eosId: EOS }, FP32, impl, pieces), { input_ids: feed });
        expect(out.hidden_states_m2!.dims).toEqual(ref.hidden.shape);
        expect(out.text_embeds!.dims).toEqual(ref.pooled.shape);
        for (const [name, ours, theirs] of [
          ['hidden_states_m2', out.hidden_states_m2!.data, ref.hidden.data],
          ['text_embeds', out.text_embeds!.data, ref.pooled.data],
        ] as const) {
          const err = maxAbsDiff(ours, theirs);
          console.info(`${model} ${component} fp32 ${impl} ${name}: max abs ${err.toExponential(2)}, rel RMS ${relRms(ours, theirs).toExponential(2)}`);
          expect(err, `${impl} ${name}`).toBeLessThanOrEqual(1e-4 * Math.max(1, maxAbs(theirs)));
        }
      }
    });

    /*
     * Quantized tolerance. e = the worst relative RMS error the rounding leaves in one linear's
     * weights (measured from quantize.ts's dequantized weights), so that linear's output is off by
     * about e relative. The errors of independent linears add in quadrature; each layer has 6
     * linears and each layer's branches are about 1/sqrt(layers) of the residual stream, so the
     * stream (and the pooled vector after one more LayerNorm and projection) is off by about
     * e * sqrt(6 * layers / layers) = 2.4 e. The bound allows 3x that for the pre-norms' gains
     * (1 + 0.2 N(0,1) here) and for rounding errors that are not independent:
     *   tol = 3 * sqrt(6) * e  (~7.3 e).
     * Measured: int8 (per column) e = 0.56-0.60 %, outputs 0.8-1.6 %; int4 e = 8.7-10 %, outputs
     * 13-27 %: 1.5-2.8 e in all. int4 runs in blocks of 32 for width 32 and 16 for width 48; fc2, whose
     * input width (37, 53) is a multiple of neither, is stored int8 (clip.ts precisionFor).
     */
    it.each([
      { matmul: 'int8' as const, blockSize: 32 },
      { matmul: 'int4' as const, blockSize: int4Block },
    ])('$matmul (block $blockSize): relative RMS error within the derived bound', async ({ matmul, blockSize }) => {
      if (matmul === 'int4') expect(hidden % blockSize).toBe(0);
      const p = await loadEncoder(model, component);
      const ref = await references();
      const prec: PrecisionSpec = { matmul, conv: 'fp32', blockSize };
      const out = await runGraph(buildClipTextEncoder(p, { eosId: EOS }, prec, 'decomposed', { headsPerPiece: 1, queryChunks: 1 }), { input_ids: await idsFeed(model, tokenizer) });
      const e = worstWeightError(p, prec);
      const tol = 3 * Math.sqrt(6) * e;
      for (const [name, ours, theirs] of [
        ['hidden_states_m2', out.hidden_states_m2!.data, ref.hidden.data],
        ['text_embeds', out.text_embeds!.data, ref.pooled.data],
      ] as const) {
        const rel = relRms(ours, theirs);
        console.info(`${model} ${component} ${matmul}/${blockSize} ${name}: rel RMS ${rel.toExponential(2)} (weights ${e.toExponential(2)}, bound ${tol.toExponential(2)}), max abs ${maxAbsDiff(ours, theirs).toExponential(2)}`);
        expect(rel, name).toBeLessThanOrEqual(tol);
      }
    });
  });

  it('pools at the first <|endoftext|>, not at argmax(ids), when a placeholder id (> eos) follows it', async () => {
    // Placeholder id 1000 put after the first EOS of "a photo of a cat": argmax(ids) (transformers'
    // rule for the legacy eos_token_id 2) would pool there. Causal attention leaves every row up to
    // it as transformers computed them, so the pooled vector must still be the reference's.
    const p = await loadEncoder(model, 'text_encoder', 1);
    const hiddenRef = await readNpy(`${FIXTURES}${model}/reference/text_encoder.hidden_states_m2.npy`);
    const pooledRef = await readNpy(`${FIXTURES}${model}/reference/text_encoder.text_embeds.npy`);
    const ids = (await idsFeed(model, 'tokenizer')).data.slice(0, 77);
    const eosAt = ids.indexOf(BigInt(EOS));
    ids[eosAt + 3] = 1000n;
    const out = await runGraph(buildClipTextEncoder(p, { eosId: EOS }, FP32, 'decomposed', { headsPerPiece: 1, queryChunks: 1 }), {
      input_ids: { type: 'int64', dims: [1, 77], data: ids },
    });
    const D = p.cfg.hidden;
    expect(maxAbsDiff(out.text_embeds!.data, pooledRef.data.subarray(0, p.cfg.projection))).toBeLessThanOrEqual(1e-4 * Math.max(1, maxAbs(pooledRef.data)));
    expect(maxAbsDiff(out.hidden_states_m2!.data.subarray(0, (eosAt + 3) * D), hiddenRef.data.subarray(0, (eosAt + 3) * D))).toBeLessThanOrEqual(1e-4 * Math.max(1, maxAbs(hiddenRef.data)));
    expect(maxAbsDiff(out.hidden_states_m2!.data.subarray((eosAt + 3) * D, (eosAt + 4) * D), hiddenRef.data.subarray((eosAt + 3) * D, (eosAt + 4) * D))).toBeGreaterThan(1e-2);
  });
});
