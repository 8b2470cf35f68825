/**
 * A small, valid model pack for tests: a manifest whose every graph follows
 * ROLE_CONTRACTS, and fake file bytes whose sizes and sha256 digests really
 * match the manifest. The bytes are not real ONNX models; they only exercise
 * the manifest and file checks.
 *
 * docs/pack-format.md (section 11) prints this manifest as its example, and a
 * test checks that the two are equal: change one, regenerate the other.
 */
import { sha256, type GraphRole, type GraphSpec, type PackManifest, type TensorSpec } from '../manifest';

/** Transformer and latent sizes of the fixture, so tests can refer to them by name. */
export const FIXTURE = {
  channels: 4,
  downsample: 8,
  patchSize: 2,
  hiddenSize: 64,
  heads: 4,
  layers: 2,
  textDim: 48,
  pooledDim: 32,
  maxText: 16,
} as const;

const { channels: C, hiddenSize: H, layers: L, textDim, pooledDim } = FIXTURE;

const t = (name: string, dtype: TensorSpec['dtype'], shape: (number | string)[]): TensorSpec => ({ name, dtype, shape });

const latentShape = ['batch', C, 'latent_height', 'latent_width'];
const refKv = [L, 'batch', 'ref_tokens', H];

/** Inputs and outputs per role, exactly as ROLE_CONTRACTS asks, with symbolic dims. */
const IO: Record<GraphRole, { inputs: TensorSpec[]; outputs: TensorSpec[] }> = {
  text_encoder: {
    inputs: [t('input_ids', 'int64', ['batch', 'text_tokens'])],
    outputs: [t('text_embeddings', 'float32', ['batch', 'text_tokens', textDim]), t('pooled', 'float32', ['batch', pooledDim])],
  },
  vae_encoder: {
    inputs: [t('image', 'float32', ['batch', 3, 'height', 'width'])],
    outputs: [t('latent', 'float32', latentShape)],
  },
  vae_decoder: {
    inputs: [t('latent', 'float32', latentShape)],
    outputs: [t('image', 'float32', ['batch', 3, 'height', 'width'])],
  },
  dit_reference: {
    inputs: [t('ref_latents', 'float32', latentShape), t('ref_pooled', 'float32', ['batch', pooledDim])],
    outputs: [t('ref_k', 'float32', refKv), t('ref_v', 'float32', refKv)],
  },
  dit_step: {
    inputs: [
      t('latents', 'float32', latentShape),
      t('timestep', 'float32', ['batch']),
      t('text_embeddings', 'float32', ['text_sets', 'text_tokens', textDim]),
      t('pooled', 'float32', ['text_sets', pooledDim]),
      t('text_set', 'int64', ['batch']),
      t('ref_set', 'int64', ['batch']),
      t('ref_k', 'float32', [L, 'ref_sets', 'ref_tokens', H]),
      t('ref_v', 'float32', [L, 'ref_sets', 'ref_tokens', H]),
      t('attention_bias', 'float32', ['batch', 1, 'query_tokens', 'key_tokens']),
      t('ref_layer_bias', 'float32', [L, 'batch', 'ref_tokens']),
    ],
    outputs: [t('velocity', 'float32', latentShape)],
  },
  dit_step_full: {
    inputs: [
      t('latents', 'float32', latentShape),
      t('timestep', 'float32', ['batch']),
      t('text_embeddings', 'float32', ['text_sets', 'text_tokens', textDim]),
      t('pooled', 'float32', ['text_sets', pooledDim]),
      t('text_set', 'int64', ['batch']),
      t('ref_set', 'int64', ['batch']),
      t('ref_latents', 'float32', ['ref_sets', 'refs', C, 'latent_height', 'latent_width']),
      t('ref_pooled', 'float32', ['ref_sets', 'refs', pooledDim]),
      t('attention_bias', 'float32', ['batch', 1, 'tokens', 'tokens']),
      t('ref_layer_bias', 'float32', [L, 'batch', 'ref_tokens']),
    ],
    outputs: [t('velocity', 'float32', latentShape)],
  },
  // Optional: the fixture pack has no preview_decoder graph (GRAPHS), so that both kinds of pack are tested.
  preview_decoder: {
    inputs: [t('latent', 'float32', latentShape)],
    outputs: [t('image', 'float32', ['batch', 3, 'height', 'width'])],
  },
};

type GraphPlan = Pick<GraphSpec, 'file' | 'role' | 'attention' | 'precision'>;

/** Every graph of the fixture: one portable graph per role, plus mha variants of the attention roles. */
const GRAPHS: GraphPlan[] = [
  { file: 'text_encoder.onnx', role: 'text_encoder', attention: 'decomposed', precision: { matmul: 'int4', conv: 'fp32', blockSize: 32 } },
  { file: 'text_encoder.mha.onnx', role: 'text_encoder', attention: 'mha', precision: { matmul: 'int4', conv: 'fp32', blockSize: 32 } },
  { file: 'vae_encoder.onnx', role: 'vae_encoder', attention: 'none', precision: { matmul: 'fp32', conv: 'fp32' } },
  { file: 'vae_decoder.onnx', role: 'vae_decoder', attention: 'none', precision: { matmul: 'fp32', conv: 'fp32' } },
  { file: 'dit_reference.onnx', role: 'dit_reference', attention: 'decomposed', precision: { matmul: 'int8', conv: 'int8' } },
  { file: 'dit_reference.mha.onnx', role: 'dit_reference', attention: 'mha', precision: { matmul: 'int8', conv: 'int8' } },
  { file: 'dit_step.onnx', role: 'dit_step', attention: 'decomposed', precision: { matmul: 'int8', conv: 'int8' } },
  { file: 'dit_step.mha.onnx', role: 'dit_step', attention: 'mha', precision: { matmul: 'int8', conv: 'int8' } },
  { file: 'dit_step_full.onnx', role: 'dit_step_full', attention: 'decomposed', precision: { matmul: 'int8', conv: 'int8' } },
  { file: 'dit_step_full.mha.onnx', role: 'dit_step_full', attention: 'mha', precision: { matmul: 'int8', conv: 'int8' } },
];

/** A tiny tokenizer.json in the Hugging Face tokenizers format (WordLevel, whitespace split). */
export const FIXTURE_TOKENIZER_JSON = JSON.stringify({
  version: '1.0',
  truncation: null,
  padding: null,
  added_tokens: ['<pad>', '<s>', '</s>', '<unk>', '<s1>', '<s2>'].map((content, id) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: id < 4,
  })),
  normalizer: { type: 'Lowercase' },
  pre_tokenizer: { type: 'Whitespace' },
  post_processor: null,
  decoder: null,
  model: {
    type: 'WordLevel',
    vocab: { '<pad>': 0, '<s>': 1, '</s>': 2, '<unk>': 3, '<s1>': 4, '<s2>': 5, a: 6, photo: 7, of: 8, cat: 9, dog: 10 },
    unk_token: '<unk>',
  },
});

/** Deterministic fake bytes for a file: a header naming it, then a pseudo-random tail of a size set by `index`. */
export function fakeGraphBytes(file: string, index: number): Uint8Array {
  const head = new TextEncoder().encode(`not really ONNX: ${file}\n`);
  const out = new Uint8Array(head.length + 97 + 41 * index);
  out.set(head);
  let s = 0x811c9dc5;
  for (let i = 0; i < file.length; i++) s = Math.imul(s ^ file.charCodeAt(i), 0x01000193) >>> 0;
  for (let i = head.length; i < out.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

export interface PackFixture {
  /** The manifest as a plain JSON value (what manifest.json holds); safe to mutate, each call builds a new one. */
  manifest: PackManifest;
  /** Every file the manifest lists, by file name. */
  files: Map<string, Uint8Array>;
}

/** Builds the valid fixture pack. The digests are computed with the module's own sha256. */
export async function validPack(): Promise<PackFixture> {
  const files = new Map<string, Uint8Array>();
  const ref = async (file: string, data: Uint8Array) => {
    files.set(file, data);
    return { file, bytes: data.byteLength, sha256: await sha256(data) };
  };

  const tokenizer = await ref('tokenizer.json', new TextEncoder().encode(FIXTURE_TOKENIZER_JSON));
  const graphs: GraphSpec[] = [];
  for (const [i, g] of GRAPHS.entries()) {
    graphs.push({
      ...(await ref(g.file, fakeGraphBytes(g.file, i))),
      role: g.role,
      attention: g.attention,
      opset: 17,
      precision: structuredClone(g.precision),
      inputs: structuredClone(IO[g.role].inputs),
      outputs: structuredClone(IO[g.role].outputs),
      externalData: [],
    });
  }

  const manifest: PackManifest = {
    format: 'subject-studio-pack',
    formatVersion: 1,
    name: 'tiny-mmdit-test',
    version: '0.1.0',
    description: 'A tiny random-weight MM-DiT pack for tests.',
    trained: false,
    family: 'mmdit',
    latent: { channels: FIXTURE.channels, downsample: FIXTURE.downsample },
    transformer: {
      hiddenSize: FIXTURE.hiddenSize,
      heads: FIXTURE.heads,
      layers: FIXTURE.layers,
      patchSize: FIXTURE.patchSize,
      textDim: FIXTURE.textDim,
      pooledDim: FIXTURE.pooledDim,
      maxGrid: { height: 8, width: 8 },
    },
    resolutions: [
      { width: 128, height: 128 },
      { width: 64, height: 64 },
    ],
    defaultResolution: { width: 128, height: 128 },
    tokens: { maxText: FIXTURE.maxText, maxReferencesPerSubject: 4, maxSubjects: 2 },
    scheduler: { type: 'flow-matching-euler', shift: 3, trainTimesteps: 1000 },
    guidance: { steps: 20, text: 4.5, reference: 1.5 },
    attentionBiasMin: -10000,
    tokenizer: { ...tokenizer, bos: '<s>', eos: '</s>', pad: '<pad>', placeholders: ['<s1>', '<s2>'] },
    graphs,
  };
  return { manifest, files };
}

/** A `read` callback for verifyPackFiles over an in-memory file map (undefined for a missing file). */
export function readerFor(files: Map<string, Uint8Array>): (file: string) => Promise<Uint8Array | undefined> {
  return async (file) => files.get(file);
}
