/**
 * The real models the studio plans for, from their published architectures
 * (diffusers configs). Storage is what a browser conversion uses: int4
 * MatMulNBits weights (block 32, fp16 scales) for every transformer linear,
 * fp16 tables (embeddings, positional tables, norms, biases) and the VAE in
 * fp32 (SD3's force_upcast: it overflows in fp16). formatVersion 1 packs store
 * scales and tables in fp32; a folder on disk is planned from its real file
 * sizes instead (fromManifest.ts).
 */
import type { GraphArch, ModelArch, StoragePlan } from './architecture';
import {
  clipBlock,
  clipText,
  flux2Blocks,
  flux2Transformer,
  qwen3Block,
  qwen3Text,
  sd3Block,
  sd3Transformer,
  vaeDecoder,
  vaeEncoder,
  type ClipConfig,
  type Flux2Config,
  type Qwen3Config,
  type Sd3Config,
  type VaeConfig,
} from './components';

/**
 * What the converters write at int4: MatMulNBits blocks of 32 with fp32 scales (its scales are of its
 * input's type, and the packs' graphs compute in fp32), fp16 tables.
 */
export const INT4_FP16: StoragePlan = { matmul: 'int4', conv: 'fp16', tables: 'fp16', int4BlockSize: 32, int4ScaleBytes: 4 };
export const FP32_ALL: StoragePlan = { matmul: 'fp32', conv: 'fp32', tables: 'fp32', int4BlockSize: 32, int4ScaleBytes: 4 };

export const CLIP_L: ClipConfig = { name: 'CLIP-L', hidden: 768, layers: 12, heads: 12, intermediate: 3072, projection: 768, vocab: 49408, positions: 77 };
export const CLIP_BIGG: ClipConfig = { name: 'OpenCLIP bigG', hidden: 1280, layers: 32, heads: 20, intermediate: 5120, projection: 1280, vocab: 49408, positions: 77 };

/** Qwen3-4B (FLUX.2 klein 4B's text encoder), layers 0..26 only. */
export const QWEN3_4B: Qwen3Config = { name: 'Qwen3-4B (layers 0..26)', hidden: 2560, heads: 32, kvHeads: 8, headDim: 128, intermediate: 9728, vocab: 151936, layers: 27 };
/** Qwen3-8B (klein 9B's text encoder), layers 0..26 only. */
export const QWEN3_8B: Qwen3Config = { name: 'Qwen3-8B (layers 0..26)', hidden: 4096, heads: 32, kvHeads: 8, headDim: 128, intermediate: 12288, vocab: 151936, layers: 27 };

/**
 * SD3 Medium's MM-DiT. Its positional table is SD3's own 192 x 192 buffer,
 * stored whole (a reference one width to the right still falls inside it up
 * to 1024 px).
 */
export const SD3_MEDIUM_DIT: Sd3Config = {
  name: 'SD3 Medium MM-DiT',
  layers: 24,
  hidden: 1536,
  heads: 24,
  headDim: 64,
  latentChannels: 16,
  patchSize: 2,
  jointDim: 4096,
  pooledDim: 2048,
  posTableEntries: 192 * 192,
  qkNorm: false,
  dualAttentionBlocks: 0,
};

/**
 * SD3.5 Medium (MMDiT-X): qk RMSNorm, dual attention in blocks 0..12. Its
 * 384 x 384 table is cropped at conversion to the centred 192 x 192 square,
 * which holds every entry the studio uses up to 1024 px (references included).
 */
export const SD35_MEDIUM_DIT: Sd3Config = { ...SD3_MEDIUM_DIT, name: 'SD3.5 Medium MMDiT-X', qkNorm: true, dualAttentionBlocks: 13 };

export const FLUX2_KLEIN_4B: Flux2Config = { name: 'FLUX.2 klein 4B', doubleBlocks: 5, singleBlocks: 20, heads: 24, headDim: 128, jointDim: 7680, mlpRatio: 3, inChannels: 128 };
export const FLUX2_KLEIN_9B: Flux2Config = { name: 'FLUX.2 klein 9B', doubleBlocks: 8, singleBlocks: 24, heads: 32, headDim: 128, jointDim: 12288, mlpRatio: 3, inChannels: 128 };

export const SD3_VAE: VaeConfig = { blockOut: [128, 256, 512, 512], layersPerBlock: 2, latentChannels: 16, quantConvs: false, latentStats: 0 };
export const FLUX2_VAE: VaeConfig = { blockOut: [128, 256, 512, 512], layersPerBlock: 2, latentChannels: 32, quantConvs: true, latentStats: 2 * 128 };

/** CLIP-only text for SD3 (no T5): 77 CLIP tokens, then SD3's 256 zero T5 positions, 333 rows of 4096. */
const SD3_TEXT_TOKENS = 77 + 256;

function vaeGraphs(vae: VaeConfig): GraphArch[] {
  return [
    { role: 'vae_encoder', name: 'vae_encoder', weights: { kind: 'params', components: [vaeEncoder(vae)], storage: FP32_ALL } },
    { role: 'vae_decoder', name: 'vae_decoder', weights: { kind: 'params', components: [vaeDecoder(vae)], storage: FP32_ALL } },
  ];
}

function sd3Family(name: string, description: string, dit: Sd3Config): ModelArch {
  const transformer = sd3Transformer(dit, 'full');
  return {
    name,
    description,
    textTokens: SD3_TEXT_TOKENS,
    textEncoders: [
      { name: CLIP_L.name, tokens: 77, block: clipBlock(CLIP_L) },
      { name: CLIP_BIGG.name, tokens: 77, block: clipBlock(CLIP_BIGG) },
    ],
    vae: { blockOut: SD3_VAE.blockOut, latentChannels: SD3_VAE.latentChannels },
    dit: {
      layers: dit.layers,
      hidden: dit.hidden,
      heads: dit.heads,
      blocks: [sd3Block(dit)],
      pixelsPerToken: 8 * dit.patchSize,
      latentPerToken: dit.latentChannels * dit.patchSize ** 2,
      textDim: dit.jointDim,
      pooledDim: dit.pooledDim,
    },
    branchesWithReferences: 3,
    branchesWithoutReferences: 2,
    defaultRefMode: 'cached',
    graphs: [
      {
        role: 'text_encoder',
        name: 'text_encoder (CLIP-L + bigG)',
        weights: { kind: 'params', components: [clipText(CLIP_L), clipText(CLIP_BIGG)], storage: INT4_FP16 },
      },
      ...vaeGraphs(SD3_VAE),
      { role: 'dit_reference', name: 'dit_reference (image stream)', weights: { kind: 'params', components: [sd3Transformer(dit, 'image-stream')], storage: INT4_FP16 } },
      { role: 'dit_step', name: 'dit_step (cached refs)', weights: { kind: 'params', components: [transformer], storage: INT4_FP16 } },
      { role: 'dit_step_full', name: 'dit_step_full (refs as tokens)', weights: { kind: 'params', components: [transformer], storage: INT4_FP16 } },
    ],
  };
}

function klein(name: string, description: string, dit: Flux2Config, text: Qwen3Config, distilledRefMode: 'cached' | 'full'): ModelArch {
  const transformer = flux2Transformer(dit, 'full');
  const D = dit.heads * dit.headDim;
  return {
    name,
    description,
    textTokens: 512,
    textEncoders: [{ name: text.name, tokens: 512, block: qwen3Block(text) }],
    vae: { blockOut: FLUX2_VAE.blockOut, latentChannels: FLUX2_VAE.latentChannels },
    dit: {
      layers: dit.doubleBlocks + dit.singleBlocks,
      hidden: D,
      heads: dit.heads,
      blocks: flux2Blocks(dit),
      pixelsPerToken: 16,
      latentPerToken: dit.inChannels,
      // Hidden states of three Qwen3 layers, concatenated.
      textDim: 3 * text.hidden,
      pooledDim: 0,
    },
    // Step-distilled: text guidance is baked in, no v0 branch (METHOD.md section 9).
    branchesWithReferences: 2,
    branchesWithoutReferences: 1,
    defaultRefMode: distilledRefMode,
    graphs: [
      { role: 'text_encoder', name: `text_encoder (${text.name})`, weights: { kind: 'params', components: [qwen3Text(text)], storage: INT4_FP16 } },
      ...vaeGraphs(FLUX2_VAE),
      { role: 'dit_reference', name: 'dit_reference (image stream)', weights: { kind: 'params', components: [flux2Transformer(dit, 'image-stream')], storage: INT4_FP16 } },
      { role: 'dit_step', name: 'dit_step (cached refs)', weights: { kind: 'params', components: [transformer], storage: INT4_FP16 } },
      { role: 'dit_step_full', name: 'dit_step_full (refs as tokens)', weights: { kind: 'params', components: [transformer], storage: INT4_FP16 } },
    ],
  };
}

export const PRESETS: Record<string, ModelArch> = {
  'sd3-medium': sd3Family('sd3-medium', 'Stable Diffusion 3 Medium, CLIP-L + bigG (no T5), int4', SD3_MEDIUM_DIT),
  'sd3.5-medium': sd3Family('sd3.5-medium', 'Stable Diffusion 3.5 Medium, CLIP-L + bigG (no T5), int4', SD35_MEDIUM_DIT),
  // klein 4B was trained with references as live tokens: full mode is its exact mode.
  'flux2-klein-4b': klein('flux2-klein-4b', 'FLUX.2 klein 4B (distilled, 4 steps), Qwen3-4B, int4', FLUX2_KLEIN_4B, QWEN3_4B, 'full'),
  // 9B-kv caches reference K/V after QK-norm and RoPE: cached mode is its exact mode.
  'flux2-klein-9b-kv': klein('flux2-klein-9b-kv', 'FLUX.2 klein 9B-kv (distilled, 4 steps), Qwen3-8B, int4', FLUX2_KLEIN_9B, QWEN3_8B, 'cached'),
};

export const PRESET_NAMES = Object.keys(PRESETS);
