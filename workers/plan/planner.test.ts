import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseManifest } from '../pack/manifest';
import { GIB, MIB } from './attention';
import { formatPlan } from './format';
import { archFromManifest } from './fromManifest';
import { formatSize, planMemory, type MemoryPlan, type PlanRequest } from './planner';
import { PRESETS } from './presets';

const manifest = parseManifest(readFileSync(new URL('../../public/packs/test/manifest.json', import.meta.url), 'utf8'));
const testPack = archFromManifest(manifest);
/** A graph's weight bytes as the manifest lists them: its .onnx file and its external-data shards. */
const fileBytes = (file: string) => {
  const g = manifest.graphs.find((x) => x.file === file)!;
  return g.bytes + g.externalData.reduce((n, s) => n + s.bytes, 0);
};
const USED = ['text_encoder.onnx', 'vae_encoder.onnx', 'dit_reference.onnx', 'dit_step.onnx', 'vae_decoder.onnx'];
const usedWeights = USED.map(fileBytes).reduce((a, b) => a + b);
const DECODER_PEAK = 768 * 16384 * 4 + 4096 + 196608;
const LATENTS = (1 + 3) * 64 * 16 * 4;

const request = (over: Partial<PlanRequest> = {}): PlanRequest => ({
  width: 128,
  height: 128,
  subjects: 1,
  referencesPerSubject: 1,
  refMode: 'cached',
  budgetBytes: 8 * GIB,
  ...over,
});
const row = (p: MemoryPlan, role: string) => p.rows.find((r) => r.role === role)!;

describe('planMemory on the test pack, by hand', () => {
  // The manifest: D = 64, 4 heads, 2 layers, patch 2, latent 4 channels at /8, textDim = pooledDim = 64,
  // maxText M = 16, guidance.reference 2 (so 3 branches with a reference).
  // At 128 px: N = (128/16)^2 = 64 image tokens; one reference: R = 64; latent 4 x 16 x 16 = 64 tokens x 16.
  const plan = planMemory(testPack, request());

  it('weights are the bytes of the portable graph files and their shards', () => {
    expect(row(plan, 'text_encoder').weightsBytes).toBe(fileBytes('text_encoder.onnx'));
    expect(row(plan, 'dit_step').weightsBytes).toBe(fileBytes('dit_step.onnx'));
    expect(plan.rows.map((r) => r.role)).toEqual(['text_encoder', 'vae_encoder', 'dit_reference', 'dit_step', 'vae_decoder']);
  });

  it('dit_step: 3 branches, 80 queries, 144 keys, no chunking', () => {
    const r = row(plan, 'dit_step');
    expect([r.batch, r.queries, r.keys, r.queryChunk]).toEqual([3, 80, 144, 80]);
    // One head per piece: (2 * 1 + 1) * B * chunk * keys * 4 = 3 * 3 * 80 * 144 * 4
    const attention = 3 * 3 * 80 * 144 * 4;
    expect(r.attentionScoreBytesPerLayer).toBe(attention); // 414,720
    // Attention moment, per query token 2D + 2*3D + D = 576 floats, per cached key 4D = 256 floats:
    // 3 * (80 * 576 + 64 * 256) * 4 + scores = 749,568 + 414,720 (the MLP moment, 3 * 80 * (128 + 2*256) * 4, is smaller),
    // plus one layer's slice of the 2 reference sets (black, real) for K and V before the branches gather theirs: 2 * 2*64*64*4.
    const working = 3 * (80 * 576 + 64 * 256) * 4 + attention + 2 * 2 * 64 * 64 * 4;
    // Feeds: latents 3*64*16*4, timestep 3*4, the 2 text sets 2*16*64*4, pooled 2*64*4, text_set and ref_set 2 * 3*8,
    // ref_k and ref_v [2 layers, 2 sets, 64, 64] 2 * (2*2*64*64*4), attention_bias 3*80*144*4, ref_layer_bias 2*3*64*4;
    // output velocity 3*64*16*4.
    const feeds = 12288 + 12 + 8192 + 512 + 48 + 2 * 65536 + 138240 + 1536;
    expect(r.peakActivationBytes).toBe(feeds + 12288 + working);
    expect(r.peakActivationBytes).toBe(1_534_012);
  });

  it('dit_reference: one reference, 64 tokens attending to themselves, every layer K and V out', () => {
    const r = row(plan, 'dit_reference');
    // working 64 * 576 * 4 + 3 * 64 * 64 * 4; feeds 64*16*4 + 64*4; outputs 2 * (2 layers * 64 * 64 * 4).
    expect(r.peakActivationBytes).toBe(64 * 576 * 4 + 3 * 64 * 64 * 4 + (4096 + 256) + 2 * (2 * 64 * 64 * 4));
  });

  it('text encoder: one prompt of 16 tokens at width 64', () => {
    // working: the MLP moment 16 * (2 * 64 + 2 * 256) * 4, above the attention moment 16 * 576 * 4 + 3 * 16 * 16 * 4;
    // ids 16 * 8; outputs 16 * 64 * 4 + 64 * 4.
    expect(16 * 576 * 4 + 3 * 16 * 16 * 4).toBeLessThan(16 * 640 * 4);
    expect(row(plan, 'text_encoder').peakActivationBytes).toBe(16 * 640 * 4 + 128 + 4352);
  });

  it('VAE (assumed standard widths 128..512): the encoder peaks in its first ResNet, the decoder in its last', () => {
    // Encoder: (2*128 + 2*128) * 16384 px * 4, plus image in 3*16384*4 and latent out 4*256*4.
    expect(row(plan, 'vae_encoder').peakActivationBytes).toBe(512 * 16384 * 4 + 196608 + 4096);
    // Decoder: up block 3's first ResNet (256 -> 128) at 16384 px: (2*256 + 2*128) * 16384 * 4, plus latent in and image out.
    expect(row(plan, 'vae_decoder').peakActivationBytes).toBe(DECODER_PEAK);
  });

  it('the transformer graphs load in turn (they share weights); the rest stays resident under 8 GiB', () => {
    const reference = fileBytes('dit_reference.onnx');
    const step = fileBytes('dit_step.onnx');
    expect(plan.rows.map((r) => [r.role, r.residency])).toEqual([
      ['text_encoder', 'resident'],
      ['vae_encoder', 'resident'],
      ['dit_reference', 'load-and-release'],
      ['dit_step', 'load-and-release'],
      ['vae_decoder', 'resident'],
    ]);
    const phase = (name: string) => plan.phases.find((p) => p.phase === name)!;
    // Each phase holds the resident sessions, plus only the transformer graph it runs.
    for (const p of plan.phases) expect(p.residentWeightsBytes).toBe(usedWeights - reference - step);
    expect(phase('reference').loadedWeightsBytes).toBe(reference);
    expect(phase('sampling').loadedWeightsBytes).toBe(step);
    // Decode: the resident weights, the decoder's run and the sampling loop's latents (still alive for the decoder).
    expect(phase('decode').totalBytes).toBe(usedWeights - reference - step + DECODER_PEAK + LATENTS);
    expect(plan.peakBytes).toBe(Math.max(...plan.phases.map((p) => p.totalBytes)));
    expect(plan.fits).toBe(true);
    expect(plan.message).toBe(`needs ${formatSize(plan.peakBytes, 'up')} of GPU memory, your budget is 8 GiB`);
  });

  it('releases sessions in the stated order until it fits', () => {
    const text = fileBytes('text_encoder.onnx');
    // One byte short of the whole plan: the text encoder (first in the release order) goes.
    const tight = planMemory(testPack, request({ budgetBytes: plan.peakBytes - 1 }));
    expect(row(tight, 'text_encoder').residency).toBe('load-and-release');
    expect(row(tight, 'vae_decoder').residency).toBe('resident');
    const textPhase = tight.phases.find((p) => p.phase === 'text')!;
    expect(textPhase.loadedWeightsBytes).toBe(text);
    for (const p of tight.phases.filter((x) => x.phase !== 'text')) expect(p.loadedWeightsBytes).not.toBe(text);
    expect(tight.peakBytes).toBeLessThan(plan.peakBytes);
  });

  it('a plan that cannot fit says so, naming what it needs and the budget', () => {
    const p = planMemory(testPack, request({ budgetBytes: 40 * MIB }));
    expect(p.fits).toBe(false);
    expect(p.rows.every((r) => r.residency === 'load-and-release')).toBe(true);
    // With every session load-and-release, the decode phase holds the decoder, its run and the latents.
    const need = fileBytes('vae_decoder.onnx') + DECODER_PEAK + LATENTS;
    expect(p.peakBytes).toBe(need);
    expect(p.message.startsWith(`needs ${formatSize(need, 'up')} of GPU memory, your budget is 40 MiB: test-pack cannot run at 128 x 128 with 1 subject`)).toBe(true);
  });

  it('full mode runs the references as tokens: 144 queries and keys', () => {
    const p = planMemory(testPack, request({ refMode: 'full' }));
    expect(p.rows.map((r) => r.role)).toEqual(['text_encoder', 'vae_encoder', 'dit_step_full', 'vae_decoder']);
    expect(row(p, 'dit_step_full')).toMatchObject({ weightsBytes: fileBytes('dit_step_full.onnx'), queries: 144, keys: 144, batch: 3 });
  });
});

describe('planMemory on the real presets', () => {
  it('SD3 Medium at 1024 px with 2 subjects: one layer of attention stays within 512 MiB', () => {
    for (const refMode of ['cached', 'full'] as const) {
      const p = planMemory(PRESETS['sd3-medium']!, request({ width: 1024, height: 1024, subjects: 2, refMode }));
      for (const r of p.rows) expect(r.attentionScoreBytesPerLayer).toBeLessThanOrEqual(512 * MIB);
      const step = p.rows.find((r) => r.role.startsWith('dit_step'))!;
      expect(step.queryChunk).toBeLessThan(step.queries);
    }
    const cached = planMemory(PRESETS['sd3-medium']!, request({ width: 1024, height: 1024, subjects: 2 }));
    // 333 text + 4096 image queries; keys + 2 references x 4096; 3 branches, one head per piece:
    // 4 query chunks of at most 1108 rows, (2 + 1) * 3 * 1108 * 12621 * 4 bytes = 480.1 MiB.
    expect(row(cached, 'dit_step')).toMatchObject({ queries: 4429, keys: 12621, batch: 3, queryChunk: 1108, attentionScoreBytesPerLayer: 3 * 3 * 1108 * 12621 * 4 });
  });

  it('klein 4B (int4) at 512 px with 2 subjects fits 8 GiB, in its full mode and in cached mode', () => {
    const klein = PRESETS['flux2-klein-4b']!;
    expect(klein.defaultRefMode).toBe('full');
    for (const refMode of ['full', 'cached'] as const) {
      const p = planMemory(klein, request({ width: 512, height: 512, subjects: 2, refMode }));
      expect(p.fits).toBe(true);
      expect(p.peakBytes).toBeLessThanOrEqual(8 * GIB);
    }
  });

  it('klein 4B under a tighter budget releases the text encoder before the transformer runs', () => {
    const p = planMemory(PRESETS['flux2-klein-4b']!, request({ width: 512, height: 512, subjects: 2, refMode: 'full', budgetBytes: 6 * GIB }));
    expect(p.fits).toBe(true);
    expect(row(p, 'text_encoder').residency).toBe('load-and-release');
    expect(row(p, 'dit_step_full').residency).toBe('resident');
    const sampling = p.phases.find((ph) => ph.phase === 'sampling')!;
    expect(sampling.residentWeightsBytes + sampling.loadedWeightsBytes).toBe(p.rows.filter((r) => r.role !== 'text_encoder').reduce((n, r) => n + r.weightsBytes, 0));
  });

  it('klein 9B-kv says what it needs when it does not fit', () => {
    const p = planMemory(PRESETS['flux2-klein-9b-kv']!, request({ width: 512, height: 512, subjects: 1, budgetBytes: 4 * GIB }));
    expect(p.fits).toBe(false);
    expect(p.message).toContain(`needs ${formatSize(p.peakBytes, 'up')} of GPU memory, your budget is 4 GiB`);
    expect(p.peakBytes).toBeGreaterThan(4 * GIB);
  });

  it('rejects a size that is not a whole number of tokens', () => {
    expect(() => planMemory(PRESETS['sd3-medium']!, request({ width: 1000, height: 1000 }))).toThrow(/multiple of 16 px/);
  });
});

describe('formatSize and formatPlan', () => {
  it('rounds a need up and a budget to nearest, without ".0"', () => {
    expect(formatSize(6 * GIB)).toBe('6 GiB');
    expect(formatSize(3.01 * GIB, 'up')).toBe('3.1 GiB');
    expect(formatSize(512 * MIB)).toBe('512 MiB');
  });

  it('prints one named row per graph, the caches, the phases and the verdict', () => {
    const text = formatPlan(planMemory(testPack, request()));
    for (const name of ['text_encoder (text_encoder.onnx)', 'dit_step (dit_step.onnx)', 'reference K/V, every layer', 'sampling', 'fits: needs']) {
      expect(text).toContain(name);
    }
  });
});
