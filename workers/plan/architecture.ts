/**
 * A family-neutral description of a model, as the memory planner sees it: for
 * each graph the engine runs, where its weight bytes come from, and the shapes
 * that set the size of its activations. The same description is built from
 * the real architectures (presets.ts) or from a pack manifest (fromManifest.ts),
 * so the planner itself never knows which family it plans for.
 */

/** The graphs of a pack (docs/pack-format.md section 7), as the planner names them. */
export type PlanRole = 'text_encoder' | 'vae_encoder' | 'vae_decoder' | 'dit_reference' | 'dit_step' | 'dit_step_full' | 'preview_decoder';

/** Reference modes (METHOD.md section 2): cached K/V from a reference pass, or references through every step. */
export type RefMode = 'cached' | 'full';

/** How the weights of a linear layer (a MatMul) are stored. */
export type MatmulStorage = 'int4' | 'int8' | 'fp16' | 'fp32';
/** How convolution weights are stored. */
export type ConvStorage = 'int8' | 'fp16' | 'fp32';
/** How the small tensors are stored: biases, norm weights, embedding and positional tables. */
export type TableStorage = 'fp16' | 'fp32';

export interface StoragePlan {
  matmul: MatmulStorage;
  conv: ConvStorage;
  tables: TableStorage;
  /** int4 only: MatMulNBits block size along the input axis (32 in the studio's builder). */
  int4BlockSize: number;
  /** int4 only: bytes per block scale, 2 for fp16 scales (q4f16), 4 for fp32 (formatVersion 1 packs). */
  int4ScaleBytes: 2 | 4;
}

/**
 * One kind of weight tensor, repeated `count` times. Linears follow the
 * matmul storage, convolutions the conv storage, tables the table storage;
 * biases of linears and convolutions are tables.
 */
export type ParamGroup =
  /** `atLeastHalf`: stored at fp16 when the plan says int8 or int4 (FLUX.2's fragile layers: flux2LinearPrecision). */
  | { kind: 'linear'; name: string; inF: number; outF: number; bias: boolean; count: number; atLeastHalf?: boolean }
  | { kind: 'conv'; name: string; inC: number; outC: number; kernel: number; bias: boolean; count: number }
  | { kind: 'table'; name: string; elements: number; count: number };

/** A named set of weights (an encoder, a transformer, one half of a VAE). */
export interface Component {
  name: string;
  groups: ParamGroup[];
}

/**
 * Where a graph's resident weight bytes come from: counted from its
 * components and storage, or (a real pack on disk) the bytes of its file.
 */
export type WeightSource = { kind: 'params'; components: Component[]; storage: StoragePlan } | { kind: 'file'; file: string; bytes: number };

export interface GraphArch {
  role: PlanRole;
  /** The row name: the role and what it holds, e.g. "text_encoder (CLIP-L + bigG)". */
  name: string;
  weights: WeightSource;
  /** The largest single weight tensor, where known (it must fit one GPU buffer). */
  largestWeightTensorBytes?: number;
}

/**
 * The widths of one transformer block kind that set its activation size.
 * `qkvWidth` is the width of the projection that feeds attention (q, k and v
 * fused; for a FLUX single-stream block also the MLP input, fused with them).
 */
export interface BlockShape {
  width: number;
  heads: number;
  qkvWidth: number;
  /** Width of the attention output before the output projection (heads x head width). */
  attnOutWidth: number;
  /** Hidden width of the MLP (0 where the MLP is fused into qkvWidth). */
  mlpHidden: number;
  /** SwiGLU (gate and up projections fused: 2 x mlpHidden wide) rather than GELU. */
  gatedMlp: boolean;
}

export interface TextEncoderShape {
  name: string;
  /** Tokens one run of this encoder sees (77 for CLIP, 512 for Qwen3 in FLUX.2). */
  tokens: number;
  block: BlockShape;
}

export interface VaeShape {
  /** Channels of each resolution level, full resolution first (diffusers block_out_channels). */
  blockOut: number[];
  /** Channels of the VAE latent (before any patchify). */
  latentChannels: number;
}

export interface DitShape {
  /** Joint attention layers: the first axis of ref_k / ref_v (double + single blocks for FLUX). */
  layers: number;
  /** D, the width of a token (and the last axis of ref_k / ref_v). */
  hidden: number;
  heads: number;
  /** The block kinds of the transformer (one for SD3, double and single for FLUX). */
  blocks: BlockShape[];
  /** Pixels per token side: latent downsample x patch size (16 for SD3 and FLUX.2). */
  pixelsPerToken: number;
  /** Latent the DiT reads, in elements per token (C x p x p: 64 for SD3, 128 for FLUX.2). */
  latentPerToken: number;
  textDim: number;
  pooledDim: number;
}

export interface ModelArch {
  name: string;
  description: string;
  /** Text tokens M the transformer sees (maxText). */
  textTokens: number;
  textEncoders: TextEncoderShape[];
  vae: VaeShape;
  dit: DitShape;
  /**
   * Predictions batched into one step run (METHOD.md section 3): 3 with
   * references and CFG (v0, v_t, v_tr), 2 for a distilled model (v_t, v_tr).
   */
  branchesWithReferences: number;
  branchesWithoutReferences: number;
  /** The mode the studio offers by default for this family (METHOD.md section 9). */
  defaultRefMode: RefMode;
  graphs: GraphArch[];
}

const B_FP32 = 4;

const tableBytes = (s: TableStorage) => (s === 'fp16' ? 2 : 4);

/** Parameters of one group, all its copies (weights and biases). */
export function groupParams(g: ParamGroup): number {
  switch (g.kind) {
    case 'linear':
      return g.count * (g.inF * g.outF + (g.bias ? g.outF : 0));
    case 'conv':
      return g.count * (g.inC * g.outC * g.kernel * g.kernel + (g.bias ? g.outC : 0));
    case 'table':
      return g.count * g.elements;
  }
}

export function componentParams(c: Component): number {
  return c.groups.reduce((n, g) => n + groupParams(g), 0);
}

/**
 * Stored bytes of one linear weight [K = inF, N = outF]:
 * - int4: MatMulNBits layout, B uint8 [N, ceil(K/bs), bs/2] plus scales
 *   [N, ceil(K/bs)] (N*K/2 + N*ceil(K/32)*scaleBytes when K is a multiple of 32);
 * - int8: N*K bytes plus one fp32 scale per output channel;
 * - fp16 / fp32: 2 / 4 bytes a weight.
 */
export function linearWeightBytes(inF: number, outF: number, s: StoragePlan): number {
  switch (s.matmul) {
    case 'int4': {
      const blocks = Math.ceil(inF / s.int4BlockSize);
      return outF * blocks * (s.int4BlockSize / 2) + outF * blocks * s.int4ScaleBytes;
    }
    case 'int8':
      return outF * inF + outF * B_FP32;
    case 'fp16':
      return 2 * inF * outF;
    case 'fp32':
      return 4 * inF * outF;
  }
}

/** Stored bytes of one conv weight [outC, inC, k, k]; int8 carries one fp32 scale per output channel. */
export function convWeightBytes(inC: number, outC: number, kernel: number, s: StoragePlan): number {
  const n = inC * outC * kernel * kernel;
  if (s.conv === 'int8') return n + outC * B_FP32;
  return n * (s.conv === 'fp16' ? 2 : 4);
}

export function groupBytes(g: ParamGroup, s: StoragePlan): number {
  const t = tableBytes(s.tables);
  switch (g.kind) {
    case 'linear':
      return g.count * (linearWeightBytes(g.inF, g.outF, g.atLeastHalf && (s.matmul === 'int4' || s.matmul === 'int8') ? { ...s, matmul: 'fp16' } : s) + (g.bias ? g.outF * t : 0));
    case 'conv':
      return g.count * (convWeightBytes(g.inC, g.outC, g.kernel, s) + (g.bias ? g.outC * t : 0));
    case 'table':
      return g.count * g.elements * t;
  }
}

/** The weight bytes a session of this graph holds. */
export function graphWeightBytes(g: GraphArch): number {
  const w = g.weights;
  if (w.kind === 'file') return w.bytes;
  return w.components.reduce((n, c) => n + c.groups.reduce((m, grp) => m + groupBytes(grp, w.storage), 0), 0);
}

/** The graph of a role, or undefined when the model has none. */
export function graphOf(arch: ModelArch, role: PlanRole): GraphArch | undefined {
  return arch.graphs.find((g) => g.role === role);
}
