import { describe, expect, it } from 'vitest';
import { componentParams, groupBytes, groupParams, linearWeightBytes, type Component } from './architecture';
import { clipText, flux2Transformer, qwen3Text, sd3Transformer, vaeDecoder, vaeEncoder } from './components';
import { CLIP_BIGG, CLIP_L, FLUX2_KLEIN_4B, FLUX2_KLEIN_9B, INT4_FP16, QWEN3_4B, SD35_MEDIUM_DIT, SD3_MEDIUM_DIT, SD3_VAE } from './presets';

/** Parameters without the positional table (a stored buffer in diffusers, not a parameter). */
const withoutPosTable = (c: Component) => componentParams(c) - c.groups.filter((g) => g.name.startsWith('pos_embed (')).reduce((n, g) => n + groupParams(g), 0);

describe('parameter counts of the real architectures', () => {
  it('SD3 Medium transformer: 2.03 B parameters, plus the 192 x 192 x 1536 positional buffer', () => {
    const t = sd3Transformer(SD3_MEDIUM_DIT, 'full');
    // Per full block: norm1 + norm1_context (1536 -> 9216), 8 attention linears, ff + ff_context (1536 -> 6144 -> 1536),
    // all with biases: 2 * 14,164,992 + 8 * 2,360,832 + 2 * 18,882,048 = 84,980,736; the last block 54,294,528;
    // embedders 14,656,512; norm_out + proj_out 4,820,032.
    expect(withoutPosTable(t)).toBe(23 * 84_980_736 + 54_294_528 + 14_656_512 + 4_820_032);
    expect(withoutPosTable(t)).toBe(2_028_328_000);
    // With the buffer: 2.085 B, 4.17 GB in fp16 (the diffusers safetensors).
    expect(componentParams(t) - withoutPosTable(t)).toBe(192 * 192 * 1536);
  });

  it('SD3.5 Medium: 2.24 B parameters (2.47 B with its 384 x 384 buffer, which the preset crops to 192 x 192)', () => {
    const t = sd3Transformer(SD35_MEDIUM_DIT, 'full');
    expect(withoutPosTable(t) / 1e9).toBeCloseTo(2.243, 3);
    expect((withoutPosTable(t) + 384 * 384 * 1536) / 1e9).toBeCloseTo(2.47, 2);
  });

  it('CLIP-L text: 123.65 M; OpenCLIP bigG text: 694.66 M', () => {
    expect(componentParams(clipText(CLIP_L))).toBe(123_650_304);
    expect(componentParams(clipText(CLIP_BIGG))).toBe(694_659_840);
  });

  it('FLUX.2 klein transformers: 4B has 3.88 B parameters (7.75 GB in bf16), 9B 9.08 B', () => {
    expect(componentParams(flux2Transformer(FLUX2_KLEIN_4B, 'full'))).toBe(3_875_544_576);
    expect(componentParams(flux2Transformer(FLUX2_KLEIN_9B, 'full')) / 1e9).toBeCloseTo(9.08, 2);
  });

  it('Qwen3-4B: 4.02 B with all 36 layers and the final norm; layers 0..26 and the embedding only: 3.11 B', () => {
    // Per layer: q 2560x4096, k and v 2560x1024, o 4096x2560, gate/up/down 3 x 2560x9728, norms 2x2560 + 2x128.
    const perLayer = 2560 * 4096 + 2 * 2560 * 1024 + 4096 * 2560 + 3 * 2560 * 9728 + 2 * 2560 + 2 * 128;
    const embedding = 151936 * 2560;
    expect(componentParams(qwen3Text(QWEN3_4B))).toBe(27 * perLayer + embedding);
    expect(componentParams(qwen3Text({ ...QWEN3_4B, layers: 36 })) + 2560).toBe(4_022_468_096);
  });

  it('AutoencoderKL: with 4 latent channels and quant convs it is the SD VAE (83,653,863 parameters)', () => {
    const sd = { ...SD3_VAE, latentChannels: 4, quantConvs: true };
    expect(componentParams(vaeEncoder(sd)) + componentParams(vaeDecoder(sd))).toBe(83_653_863);
  });

  it('the reference pass holds the image stream only, about half of the step graph', () => {
    const ref = componentParams(sd3Transformer(SD3_MEDIUM_DIT, 'image-stream'));
    const full = componentParams(sd3Transformer(SD3_MEDIUM_DIT, 'full'));
    expect(ref / full).toBeGreaterThan(0.45);
    expect(ref / full).toBeLessThan(0.55);
  });
});

describe('weight bytes by storage', () => {
  it('int4 is MatMulNBits: N*K/2 packed bytes plus N*ceil(K/32) scales', () => {
    // The packs' int4: fp32 scales (MatMulNBits' scales are of its fp32 input's type).
    expect(linearWeightBytes(1536, 6144, INT4_FP16)).toBe((6144 * 1536) / 2 + 6144 * (1536 / 32) * 4);
    expect(linearWeightBytes(1536, 6144, { ...INT4_FP16, int4ScaleBytes: 2 })).toBe((6144 * 1536) / 2 + 6144 * (1536 / 32) * 2);
    // A K that is not a multiple of the block: the last block is padded in B.
    expect(linearWeightBytes(40, 8, INT4_FP16)).toBe(8 * 2 * 16 + 8 * 2 * 4);
  });

  it('FLUX.2 fragile linears are counted at fp16 in an int4 plan, as the packs store them', () => {
    const t = flux2Transformer(FLUX2_KLEIN_4B, 'full');
    const mod = t.groups.find((g) => g.name === 'double_stream_modulation_img.linear')!;
    const D = FLUX2_KLEIN_4B.heads * FLUX2_KLEIN_4B.headDim;
    expect(groupBytes(mod, INT4_FP16)).toBe(2 * D * 6 * D);
    const block = t.groups.find((g) => g.name === 'double ff.linear_out')!;
    expect(groupBytes(block, INT4_FP16)).toBeLessThan(groupBytes(block, { ...INT4_FP16, matmul: 'fp16' }) / 3);
  });

  it('int8 is one byte a weight plus an fp32 scale per output channel; fp16 and fp32 two and four bytes', () => {
    expect(linearWeightBytes(64, 128, { ...INT4_FP16, matmul: 'int8' })).toBe(64 * 128 + 128 * 4);
    expect(linearWeightBytes(64, 128, { ...INT4_FP16, matmul: 'fp16' })).toBe(64 * 128 * 2);
    expect(linearWeightBytes(64, 128, { ...INT4_FP16, matmul: 'fp32' })).toBe(64 * 128 * 4);
  });
});
