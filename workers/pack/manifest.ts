/**
 * The model pack manifest: its schema, and the checks that tie a manifest to
 * the files it lists. Pure TypeScript (WebCrypto for sha256), so the worker,
 * the pack builder and Node tests share it.
 */
import { z } from 'zod';

export const PACK_FORMAT = 'subject-studio-pack';
/**
 * 1: every graph is one self-contained .onnx file.
 * 2: graphs may keep their weights in sharded ONNX external-data files; packs
 *    say where they came from, their licence, and which reference modes are exact.
 * Version 1 manifests still load: they read as version 2 without the new fields.
 */
export const SUPPORTED_FORMAT_VERSIONS = [1, 2] as const;
export const CURRENT_FORMAT_VERSION = 2;
/** No external-data shard may pass this: protobuf and Chrome's ArrayBuffer both stop near 2 GiB. */
export const MAX_SHARD_BYTES = 2 ** 31 - 1;

export const DTYPES = ['float32', 'float16', 'int64', 'int32', 'int8', 'uint8', 'bool'] as const;
export type DType = (typeof DTYPES)[number];

/** Graph roles the engine knows, and what it feeds them / reads from them. */
export const GRAPH_ROLES = [
  'text_encoder',
  'vae_encoder',
  'vae_decoder',
  'dit_reference',
  'dit_step',
  'dit_step_full',
  'preview_decoder',
] as const;
export type GraphRole = (typeof GRAPH_ROLES)[number];

/**
 * Roles a pack may leave out: the engine runs without them (preview_decoder:
 * no per-step previews). Every other role is required.
 */
export const OPTIONAL_ROLES: readonly GraphRole[] = ['preview_decoder'];

/**
 * Roles whose graphs carry the same weights (the transformer's): onnxruntime-web
 * cannot share initializers between sessions, so at most one session of a group
 * is alive at a time and GPU memory holds those weights once.
 */
export const SHARED_WEIGHT_GROUPS: readonly (readonly GraphRole[])[] = [['dit_reference', 'dit_step', 'dit_step_full']];

export const ATTENTION_KINDS = ['none', 'decomposed', 'mha'] as const;
export type AttentionKind = (typeof ATTENTION_KINDS)[number];

interface IoContract {
  readonly name: string;
  readonly dtype: DType;
  readonly rank: number;
  /** Said when a pack lacks it because an older builder made the pack. */
  readonly addedLater?: string;
}

/** The step graphs' branch indices: packs built before the guidance branches shared their inputs lack them. */
const BRANCH_SETS_ADDED = 'the pack was built before the guidance branches shared their inputs: rebuild it with its script, or convert its model folder again';

type RoleContract = { inputs: IoContract[]; outputs: IoContract[] };

/**
 * The inputs the engine feeds and the outputs it reads, per role (the MM-DiT and SD3 families;
 * FLUX.2's differ where its model does: FLUX2_ROLE_CONTRACTS). A graph may
 * have these and no other inputs; its shapes may use any symbolic names.
 */
export const ROLE_CONTRACTS: Record<GraphRole, RoleContract> = {
  text_encoder: {
    inputs: [{ name: 'input_ids', dtype: 'int64', rank: 2 }],
    outputs: [
      { name: 'text_embeddings', dtype: 'float32', rank: 3 },
      { name: 'pooled', dtype: 'float32', rank: 2 },
    ],
  },
  vae_encoder: {
    inputs: [{ name: 'image', dtype: 'float32', rank: 4 }],
    outputs: [{ name: 'latent', dtype: 'float32', rank: 4 }],
  },
  vae_decoder: {
    inputs: [{ name: 'latent', dtype: 'float32', rank: 4 }],
    outputs: [{ name: 'image', dtype: 'float32', rank: 4 }],
  },
  dit_reference: {
    inputs: [
      { name: 'ref_latents', dtype: 'float32', rank: 4 },
      { name: 'ref_pooled', dtype: 'float32', rank: 2 },
    ],
    outputs: [
      { name: 'ref_k', dtype: 'float32', rank: 4 },
      { name: 'ref_v', dtype: 'float32', rank: 4 },
    ],
  },
  dit_step: {
    inputs: [
      { name: 'latents', dtype: 'float32', rank: 4 },
      { name: 'timestep', dtype: 'float32', rank: 1 },
      { name: 'text_embeddings', dtype: 'float32', rank: 3 },
      { name: 'pooled', dtype: 'float32', rank: 2 },
      { name: 'text_set', dtype: 'int64', rank: 1, addedLater: BRANCH_SETS_ADDED },
      { name: 'ref_set', dtype: 'int64', rank: 1, addedLater: BRANCH_SETS_ADDED },
      { name: 'ref_k', dtype: 'float32', rank: 4 },
      { name: 'ref_v', dtype: 'float32', rank: 4 },
      { name: 'attention_bias', dtype: 'float32', rank: 4 },
      { name: 'ref_layer_bias', dtype: 'float32', rank: 3 },
    ],
    outputs: [{ name: 'velocity', dtype: 'float32', rank: 4 }],
  },
  dit_step_full: {
    inputs: [
      { name: 'latents', dtype: 'float32', rank: 4 },
      { name: 'timestep', dtype: 'float32', rank: 1 },
      { name: 'text_embeddings', dtype: 'float32', rank: 3 },
      { name: 'pooled', dtype: 'float32', rank: 2 },
      { name: 'text_set', dtype: 'int64', rank: 1, addedLater: BRANCH_SETS_ADDED },
      { name: 'ref_set', dtype: 'int64', rank: 1, addedLater: BRANCH_SETS_ADDED },
      { name: 'ref_latents', dtype: 'float32', rank: 5 },
      { name: 'ref_pooled', dtype: 'float32', rank: 3 },
      { name: 'attention_bias', dtype: 'float32', rank: 4 },
      { name: 'ref_layer_bias', dtype: 'float32', rank: 3 },
    ],
    outputs: [{ name: 'velocity', dtype: 'float32', rank: 4 }],
  },
  /** A small decoder (TAESD) for previews during sampling: the same contract as vae_decoder. */
  preview_decoder: {
    inputs: [{ name: 'latent', dtype: 'float32', rank: 4 }],
    outputs: [{ name: 'image', dtype: 'float32', rank: 4 }],
  },
};

const without = (c: RoleContract, ...names: string[]): IoContract[] => c.inputs.filter((t) => !names.includes(t.name));
const ROPE: IoContract[] = [
  { name: 'rope_cos', dtype: 'float32', rank: 2 },
  { name: 'rope_sin', dtype: 'float32', rank: 2 },
];

/**
 * FLUX.2: no pooled text vector anywhere; the text encoder takes the attention mask of the padded
 * prompt; the transformer graphs take RoPE tables for [text; image (; live references)] (the
 * family places the tokens: workers/families/flux2.ts), the reference pass its own per reference
 * (each on its own time coordinate) and no text.
 */
export const FLUX2_ROLE_CONTRACTS: Record<GraphRole, RoleContract> = {
  ...ROLE_CONTRACTS,
  text_encoder: {
    inputs: [
      { name: 'input_ids', dtype: 'int64', rank: 2 },
      { name: 'attention_mask', dtype: 'int64', rank: 2 },
    ],
    outputs: [{ name: 'text_embeddings', dtype: 'float32', rank: 3 }],
  },
  dit_reference: {
    inputs: [
      { name: 'ref_latents', dtype: 'float32', rank: 4 },
      { name: 'ref_rope_cos', dtype: 'float32', rank: 3 },
      { name: 'ref_rope_sin', dtype: 'float32', rank: 3 },
    ],
    outputs: ROLE_CONTRACTS.dit_reference.outputs,
  },
  dit_step: { inputs: [...without(ROLE_CONTRACTS.dit_step, 'pooled'), ...ROPE], outputs: ROLE_CONTRACTS.dit_step.outputs },
  dit_step_full: { inputs: [...without(ROLE_CONTRACTS.dit_step_full, 'pooled', 'ref_pooled'), ...ROPE], outputs: ROLE_CONTRACTS.dit_step_full.outputs },
};

/** The role contracts of a family. */
export function roleContracts(family: PackManifest['family']): Record<GraphRole, RoleContract> {
  return family === 'flux2' ? FLUX2_ROLE_CONTRACTS : ROLE_CONTRACTS;
}

const sha256Hex = z
  .string()
  .regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters (a sha256 digest)');

const fileName = z
  .string()
  .min(1)
  .regex(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/, 'must be a relative path of plain names (no "..", no leading "/")')
  .refine((p) => !p.split('/').some((seg) => seg === '.' || seg === '..'), 'must not contain "." or ".." segments');

const fileRef = z.object({
  file: fileName,
  bytes: z.number().int().positive(),
  sha256: sha256Hex,
});

const dim = z.union([z.number().int().nonnegative(), z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a symbolic dimension must be an identifier')]);

const tensorSpec = z.object({
  name: z.string().min(1),
  dtype: z.enum(DTYPES, { error: (iss) => `unknown dtype ${JSON.stringify(iss.input)}; expected one of ${DTYPES.join(', ')}` }),
  shape: z.array(dim),
});
export type TensorSpec = z.infer<typeof tensorSpec>;

const precision = z.object({
  /** Linear layers: fp32, fp16, int8 (per output channel, DequantizeLinear) or int4 (block-wise, com.microsoft.MatMulNBits). */
  matmul: z.enum(['fp32', 'fp16', 'int8', 'int4']),
  /** Convolutions: fp32 or int8 per output channel. */
  conv: z.enum(['fp32', 'int8']),
  /** Block size of int4 weights. */
  blockSize: z
    .number()
    .int()
    .min(16)
    .refine((n) => (n & (n - 1)) === 0, 'must be a power of two')
    .optional(),
  /** Dtype of the int4 block scales (MatMulNBits takes them in the activation dtype). */
  scaleDtype: z.enum(['float32', 'float16']).optional(),
});
export type Precision = z.infer<typeof precision>;

/**
 * One shard of a graph's ONNX external data. `file` is also the `location`
 * its TensorProtos name (ORT matches them by that path); a tensor lies whole
 * inside one shard.
 */
const externalShard = fileRef.extend({
  bytes: fileRef.shape.bytes.max(MAX_SHARD_BYTES, `an external-data shard must be under 2 GiB (${MAX_SHARD_BYTES} bytes)`),
});
export type ExternalShard = z.infer<typeof externalShard>;

const graphSpec = fileRef.extend({
  role: z.enum(GRAPH_ROLES, { error: (iss) => `unknown graph role ${JSON.stringify(iss.input)}; expected one of ${GRAPH_ROLES.join(', ')}` }),
  attention: z.enum(ATTENTION_KINDS),
  opset: z.number().int().min(17),
  precision,
  inputs: z.array(tensorSpec).min(1),
  outputs: z.array(tensorSpec).min(1),
  /** Format 2: the graph's weights outside the .onnx file (empty or absent: all inside). */
  externalData: z.array(externalShard).default([]),
  /** Format 2: bytes of the largest single weight tensor; it must fit one GPU buffer (the adapter's maxBufferSize). */
  largestTensorBytes: z.number().int().nonnegative().optional(),
});
export type GraphSpec = z.infer<typeof graphSpec>;

const resolution = z.object({ width: z.number().int().positive(), height: z.number().int().positive() });

const manifestBase = z.object({
  format: z.literal(PACK_FORMAT, { error: `"format" must be "${PACK_FORMAT}"` }),
  formatVersion: z.number().int(),
  name: z.string().min(1),
  version: z.string().min(1),
  description: z.string().default(''),
  /** False for packs whose weights are random (the built-in test pack). */
  trained: z.boolean(),
  /**
   * The model family (docs/pack-format.md section 7): "mmdit" = the project's own
   * MM-DiT (generated and trained packs), "sd3" = Stable Diffusion 3 / 3.5
   * converted from a diffusers folder (both run the same graph contracts), "flux2" = FLUX.2
   * klein converted from a diffusers folder (FLUX2_ROLE_CONTRACTS).
   */
  family: z.enum(['mmdit', 'sd3', 'flux2']),
  latent: z.object({
    channels: z.number().int().positive(),
    downsample: z.number().int().positive(),
  }),
  transformer: z.object({
    hiddenSize: z.number().int().positive(),
    heads: z.number().int().positive(),
    layers: z.number().int().positive(),
    patchSize: z.number().int().positive(),
    textDim: z.number().int().positive(),
    /** 0 for a family without a pooled text vector (FLUX.2). */
    pooledDim: z.number().int().nonnegative(),
    /** FLUX.2: the RoPE axes (t, h, w, l) dims and theta of its attention (its config's axes_dims_rope, rope_theta). */
    rope: z.object({ axesDims: z.array(z.number().int().positive()).length(4), theta: z.number().positive() }).optional(),
    /** Largest latent grid (in patches) the positional table covers; references use x in [gridW, 2*gridW). */
    maxGrid: z.object({ height: z.number().int().positive(), width: z.number().int().positive() }),
    /**
     * Format 2: the largest grid (in patches) at which references can be used,
     * when smaller than maxGrid (SD3: the reference must fit one image width
     * right of the centred crop in the positional table). Absent: maxGrid.
     */
    maxReferenceGrid: z.object({ height: z.number().int().positive(), width: z.number().int().positive() }).optional(),
  }),
  resolutions: z.array(resolution).min(1),
  defaultResolution: resolution,
  tokens: z.object({
    /** Text tokens the encoder takes, specials included; longer prompts are cut. */
    maxText: z.number().int().positive(),
    maxReferencesPerSubject: z.number().int().positive(),
    maxSubjects: z.number().int().positive(),
  }),
  scheduler: z.object({
    /**
     * "flow-matching-euler": t uniform from 1 to 0, sigma = shift t / (1 + (shift - 1) t).
     * "flow-match-euler-discrete": diffusers' FlowMatchEulerDiscreteScheduler as SD3
     * uses it (t uniform from 1 to shift(1 / trainTimesteps), then a final 0).
     * "flow-match-empirical-mu": FLUX.2 klein's (linspace(1, 1/n, n) shifted by a mu fitted to the
     * image size and the step count; workers/families/flux2-schedule.ts; shift is unused).
     */
    type: z.enum(['flow-matching-euler', 'flow-match-euler-discrete', 'flow-match-empirical-mu']),
    shift: z.number().positive(),
    trainTimesteps: z.number().int().positive(),
  }),
  guidance: z.object({
    steps: z.number().int().positive(),
    text: z.number().nonnegative(),
    reference: z.number().nonnegative(),
  }),
  attentionBiasMin: z.number().negative(),
  tokenizer: fileRef.extend({
    bos: z.string().min(1),
    eos: z.string().min(1),
    pad: z.string().min(1),
    placeholders: z.array(z.string().min(1)).min(1),
    /**
     * A chat template around the prompt (FLUX.2's Qwen3: "<|im_start|>user\n" ... "<|im_end|>\n
     * <|im_start|>assistant\n<think>\n\n</think>\n\n"), encoded with the pack's tokenizer; the
     * ids are then cut at maxText from the end, as transformers truncates the rendered template.
     * Absent: bos, the prompt, eos (CLIP).
     */
    template: z.object({ prefix: z.string(), suffix: z.string() }).optional(),
  }),
  graphs: z.array(graphSpec).min(1),
  /** Format 2: what the pack was made from (a converter records the source folder and model). */
  source: z
    .object({
      kind: z.enum(['generated', 'converted', 'trained']),
      /** E.g. "stabilityai/stable-diffusion-3-medium-diffusers", or the generator's name. */
      model: z.string().min(1),
      tool: z.string().min(1),
    })
    .optional(),
  /** Format 2: the licence the weights come with, as the source folder gives it. */
  licence: z.object({ name: z.string().min(1), text: fileRef.optional() }).optional(),
  /**
   * Format 2: which reference modes reproduce what the model was trained for.
   * "exact" = the mode computes the model's own forward; "approximate" = a
   * training-free approximation (the method still runs).
   */
  referenceModes: z
    .object({ cached: z.enum(['exact', 'approximate']), full: z.enum(['exact', 'approximate']) })
    .optional(),
  /**
   * Format 2: the words a small model knows (the toy world's): the prompt editor
   * suggests them and gently notes a word outside them. Absent: any text.
   */
  vocabulary: z.array(z.string().min(1)).optional(),
});
export type PackManifest = z.infer<typeof manifestBase>;
/** A manifest as written (defaults not yet applied): what manifest.json holds. */
export type PackManifestInput = z.input<typeof manifestBase>;

const rankOf = (t: TensorSpec) => t.shape.length;

function checkContracts(m: PackManifest, ctx: z.RefinementCtx): void {
  const tf = m.transformer;
  m.resolutions.forEach((r, i) => {
    const cell = m.latent.downsample * tf.patchSize;
    if (r.width % cell !== 0 || r.height % cell !== 0) {
      ctx.addIssue({ code: 'custom', path: ['resolutions', i], message: `resolution ${r.width}x${r.height} is not a multiple of downsample*patchSize = ${cell}` });
    } else if (r.width / cell > tf.maxGrid.width || r.height / cell > tf.maxGrid.height) {
      ctx.addIssue({ code: 'custom', path: ['resolutions', i], message: `resolution ${r.width}x${r.height} exceeds the positional table (maxGrid ${tf.maxGrid.width}x${tf.maxGrid.height} patches)` });
    }
  });
  if (!m.resolutions.some((r) => r.width === m.defaultResolution.width && r.height === m.defaultResolution.height)) {
    ctx.addIssue({ code: 'custom', path: ['defaultResolution'], message: 'defaultResolution must be one of resolutions' });
  }
  if (m.family === 'flux2' && !tf.rope) {
    ctx.addIssue({ code: 'custom', path: ['transformer', 'rope'], message: 'a FLUX.2 pack needs transformer.rope (axesDims, theta)' });
  }
  if (tf.hiddenSize % tf.heads !== 0) {
    ctx.addIssue({ code: 'custom', path: ['transformer', 'heads'], message: `hiddenSize ${tf.hiddenSize} is not divisible by heads ${tf.heads}` });
  }
  const files = new Set<string>([m.tokenizer.file, ...(m.licence?.text ? [m.licence.text.file] : [])]);
  // Graphs that share weights (the DiT's) may list the same external-data shard, with the same size and digest.
  const sharedShards = new Map<string, { bytes: number; sha256: string }>();
  m.graphs.forEach((g, gi) => {
    const where = `graph ${g.role} (${g.file})`;
    if (files.has(g.file) || sharedShards.has(g.file)) ctx.addIssue({ code: 'custom', path: ['graphs', gi, 'file'], message: `${where}: file ${g.file} listed twice` });
    files.add(g.file);
    const own = new Set<string>();
    for (const s of g.externalData) {
      const earlier = sharedShards.get(s.file);
      const clash = own.has(s.file) || files.has(s.file) || (earlier !== undefined && (earlier.bytes !== s.bytes || earlier.sha256 !== s.sha256));
      if (clash) ctx.addIssue({ code: 'custom', path: ['graphs', gi, 'externalData'], message: `${where}: file ${s.file} listed twice${earlier && !own.has(s.file) ? ' with a different size or digest' : ''}` });
      own.add(s.file);
      sharedShards.set(s.file, { bytes: s.bytes, sha256: s.sha256 });
    }
    if (m.formatVersion < 2 && g.externalData.length > 0) {
      ctx.addIssue({ code: 'custom', path: ['graphs', gi, 'externalData'], message: `${where}: external data needs formatVersion 2` });
    }
    const contract = roleContracts(m.family)[g.role];
    for (const side of ['inputs', 'outputs'] as const) {
      const seen = new Set<string>();
      for (const t of g[side]) {
        if (seen.has(t.name)) ctx.addIssue({ code: 'custom', path: ['graphs', gi, side], message: `${where}: ${side === 'inputs' ? 'input' : 'output'} "${t.name}" listed twice` });
        seen.add(t.name);
      }
      const have = new Map(g[side].map((t) => [t.name, t]));
      for (const need of contract[side]) {
        const t = have.get(need.name);
        const noun = side === 'inputs' ? 'input' : 'output';
        if (!t) {
          ctx.addIssue({ code: 'custom', path: ['graphs', gi, side], message: `${where} lacks ${noun} "${need.name}" that the engine needs${need.addedLater ? ` (${need.addedLater})` : ''}` });
        } else if (t.dtype !== need.dtype) {
          ctx.addIssue({ code: 'custom', path: ['graphs', gi, side], message: `${where}: ${noun} "${need.name}" must be ${need.dtype}, not ${t.dtype}` });
        } else if (rankOf(t) !== need.rank) {
          ctx.addIssue({ code: 'custom', path: ['graphs', gi, side], message: `${where}: ${noun} "${need.name}" must have rank ${need.rank}, not ${rankOf(t)}` });
        }
      }
      if (side === 'inputs') {
        for (const t of g.inputs) {
          if (!contract.inputs.some((c) => c.name === t.name)) {
            ctx.addIssue({ code: 'custom', path: ['graphs', gi, 'inputs'], message: `${where} has input "${t.name}" that the engine cannot feed` });
          }
        }
      }
    }
    const needsAttention = g.role !== 'vae_encoder' && g.role !== 'vae_decoder' && g.role !== 'preview_decoder';
    if (needsAttention && g.attention === 'none') {
      ctx.addIssue({ code: 'custom', path: ['graphs', gi, 'attention'], message: `${where} has attention; say "decomposed" or "mha"` });
    }
    if (g.precision.scaleDtype && g.precision.matmul !== 'int4') {
      ctx.addIssue({ code: 'custom', path: ['graphs', gi, 'precision'], message: `${where}: scaleDtype applies to int4 weights only` });
    }
    if (g.precision.matmul === 'int4' && !g.precision.blockSize) {
      ctx.addIssue({ code: 'custom', path: ['graphs', gi, 'precision'], message: `${where}: int4 weights need a blockSize` });
    }
  });
  for (const role of GRAPH_ROLES) {
    const variants = m.graphs.filter((g) => g.role === role);
    const decomposedOrNone = variants.filter((g) => g.attention !== 'mha');
    if (variants.length === 0) {
      if (!OPTIONAL_ROLES.includes(role)) ctx.addIssue({ code: 'custom', path: ['graphs'], message: `the pack has no ${role} graph` });
    } else if (decomposedOrNone.length !== 1) {
      ctx.addIssue({ code: 'custom', path: ['graphs'], message: `the pack must have exactly one ${role} graph with portable (non-mha) attention, it has ${decomposedOrNone.length}` });
    }
    if (variants.filter((g) => g.attention === 'mha').length > 1) {
      ctx.addIssue({ code: 'custom', path: ['graphs'], message: `the pack has more than one mha ${role} graph` });
    }
  }
}

const manifestSchema = manifestBase.superRefine(checkContracts);

export class ManifestError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid model pack manifest:\n- ${problems.join('\n- ')}`);
    this.name = 'ManifestError';
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)), '');
}

/** Parses and validates a manifest (as JSON text or a parsed value). Throws ManifestError listing every problem. */
export function parseManifest(input: unknown): PackManifest {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (e) {
      throw new ManifestError([`manifest.json is not valid JSON: ${(e as Error).message}`]);
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ManifestError(['manifest.json must hold a JSON object']);
  }
  const v = value as Record<string, unknown>;
  if (v.format !== PACK_FORMAT) {
    throw new ManifestError([`"format" must be "${PACK_FORMAT}" (got ${JSON.stringify(v.format)}): this is not a Subject Studio model pack`]);
  }
  if (v.formatVersion === undefined) {
    throw new ManifestError([`manifest.json has no "formatVersion"; this studio reads version ${SUPPORTED_FORMAT_VERSIONS.join(', ')}`]);
  }
  if (!(SUPPORTED_FORMAT_VERSIONS as readonly unknown[]).includes(v.formatVersion)) {
    throw new ManifestError([
      `unsupported formatVersion ${JSON.stringify(v.formatVersion)}: this studio reads version ${SUPPORTED_FORMAT_VERSIONS.join(', ')}`,
    ]);
  }
  const r = manifestSchema.safeParse(value);
  if (!r.success) {
    throw new ManifestError(r.error.issues.map((i) => (i.path.length ? `${formatPath(i.path)}: ${i.message}` : i.message)));
  }
  return r.data;
}

export interface PackFileRef {
  file: string;
  bytes: number;
  sha256: string;
}

/** Every file a pack needs (graphs with their external-data shards), with its expected size and digest. */
export function packFiles(m: PackManifest): PackFileRef[] {
  const all = [m.tokenizer, ...(m.licence?.text ? [m.licence.text] : []), ...m.graphs.flatMap((g) => [g, ...g.externalData])];
  // A shard shared by several graphs is one file.
  const byFile = new Map(all.map(({ file, bytes, sha256 }) => [file, { file, bytes, sha256 }]));
  return [...byFile.values()];
}

/** The files one graph needs: its .onnx file and its external-data shards. */
export function graphFiles(g: GraphSpec): PackFileRef[] {
  return [g, ...g.externalData].map(({ file, bytes, sha256 }) => ({ file, bytes, sha256 }));
}

/**
 * The bytes of a set of graphs with each weight counted once: graphs of one
 * SHARED_WEIGHT_GROUPS group hold the same weights, so only the largest counts.
 */
export function weightBytesOnce(graphs: readonly GraphSpec[]): number {
  let total = 0;
  const groupMax = new Map<number, number>();
  for (const g of graphs) {
    const group = SHARED_WEIGHT_GROUPS.findIndex((members) => members.includes(g.role));
    if (group < 0) total += graphBytes(g);
    else groupMax.set(group, Math.max(groupMax.get(group) ?? 0, graphBytes(g)));
  }
  return total + [...groupMax.values()].reduce((a, b) => a + b, 0);
}

/** Bytes of a graph's weights and structure: its .onnx file plus its shards. */
export function graphBytes(g: GraphSpec): number {
  return graphFiles(g).reduce((n, f) => n + f.bytes, 0);
}

export async function sha256(data: Uint8Array): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', data as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

export class PackFileError extends Error {
  constructor(readonly problems: string[]) {
    super(`The model pack's files do not match its manifest:\n- ${problems.join('\n- ')}`);
    this.name = 'PackFileError';
  }
}

/**
 * Reads every file the manifest lists through `read` (undefined for a missing
 * file) and checks its size and sha256. Returns the bytes by file name.
 */
export async function verifyPackFiles(
  m: PackManifest,
  read: (file: string) => Promise<Uint8Array | undefined>,
): Promise<Map<string, Uint8Array>> {
  const problems: string[] = [];
  const out = new Map<string, Uint8Array>();
  for (const f of packFiles(m)) {
    const data = await read(f.file);
    if (!data) {
      problems.push(`missing file "${f.file}"`);
      continue;
    }
    if (data.byteLength !== f.bytes) {
      problems.push(`"${f.file}" has ${data.byteLength} bytes, the manifest says ${f.bytes}`);
      continue;
    }
    const digest = await sha256(data);
    if (digest !== f.sha256) {
      problems.push(`"${f.file}" has sha256 ${digest}, the manifest says ${f.sha256} (corrupt or wrong file)`);
      continue;
    }
    out.set(f.file, data);
  }
  if (problems.length) throw new PackFileError(problems);
  return out;
}

/** The graph of a role, preferring the given attention kind when the pack has it. */
export function graphFor(m: PackManifest, role: GraphRole, prefer: AttentionKind = 'decomposed'): GraphSpec {
  const variants = m.graphs.filter((g) => g.role === role);
  const g = variants.find((v) => v.attention === prefer) ?? variants.find((v) => v.attention !== 'mha');
  if (!g) throw new Error(`pack ${m.name} has no ${role} graph`);
  return g;
}
