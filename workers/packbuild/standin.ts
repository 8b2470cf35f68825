/**
 * The real-width stand-in: a random-weight (UNTRAINED) pack with SD3 Medium's
 * widths (hidden 1536, 24 heads, 16 latent channels, 4096-wide joint context,
 * 2048-wide pooled vector, a positional table 192 patches wide) but only 2
 * transformer layers, int4 matmuls with sharded external data. It measures
 * what the widths cost (speed, memory, loading) without a multi-gigabyte
 * download. It is not committed: scripts/build-standin.ts builds it on demand
 * into a cache folder (`npm run pack:standin`).
 *
 * What differs from SD3 Medium besides the layer count:
 * - Text: one encoder at CLIP-G's width (1280, 20 heads, 5120 MLP), one block
 *   (the builder's text encoder has one), pooled to 2048 (CLIP-L 768 + CLIP-G
 *   1280 in SD3). Its per-token output is zero-padded from 1280 to 4096 wide,
 *   as SD3 pads its CLIP embeddings to T5's width, so the DiT sees a 4096-wide
 *   context and its context embedder is SD3's 4096 -> 1536. SD3's two CLIP
 *   encoders plus T5 (the two- or three-encoder conditioner) are separate work.
 * - VAE: SD3's 16 latent channels and 8x downsampling, but the builder's small
 *   convolutional VAE at narrow widths (not SD3's 128-512 channel ResNet VAE).
 * - Positional table: 96 rows x 192 columns of patches (SD3: 192 x 192). The
 *   studio puts references one image width right of the image, so the table
 *   must be two image widths wide: 1024 px is 64 patches, 2 x 64 <= 192.
 */
import onnxProto from 'onnx-proto';
import { graphBytes, sha256, type GraphSpec, type PackManifest } from '../pack/manifest';
import type { IrGraph } from './ir';
import { assemblePack, generatedPackAssembly, type PackBuildConfig } from './pack';
import { TEST_WORDS } from './tokenizer';

const { onnx } = onnxProto;

/** SD3 Medium's joint_attention_dim (T5-XXL's width); the CLIP embeddings are zero-padded to it. */
export const SD3_JOINT_DIM = 4096;

const MiB = 1024 * 1024;

export const STANDIN_CONFIG: PackBuildConfig = {
  name: 'standin-sd3m',
  version: '1.0.0',
  description:
    "Real-width stand-in, UNTRAINED (random weights from a fixed seed): SD3 Medium's widths (hidden 1536, 24 heads, 16 latent channels, 4096-wide context, 2048 pooled) with 2 transformer layers, one CLIP-G-wide text block and a small VAE. For measuring speed and memory at real widths; its images are noise.",
  trained: false,
  seed: 20270315,
  precision: { matmul: 'int4', conv: 'int8', blockSize: 32 },
  attention: ['decomposed'],
  // One head per piece; query chunks from workers/plan/attention.ts chooseQueryChunk (512 MiB a layer,
  // 3 branches, 77 text tokens) at 1024 px: cached mode for the largest case the pack allows (4 subjects
  // x 4 references: 4173 queries, 69709 keys, 209-query chunks), full mode for 2 references (12365
  // tokens, 1125-query chunks; more references exceed the bound, and their bias alone is B T^2 4 bytes).
  attentionPieces: { headsPerPiece: 1, queryChunks: { text_encoder: 1, dit_reference: 1, dit_step: 20, dit_step_full: 11 } },
  dit: {
    latentChannels: 16,
    patchSize: 2,
    dim: 1536,
    heads: 24,
    layers: 2,
    mlpHidden: 6144,
    textDim: SD3_JOINT_DIM,
    pooledDim: 2048,
    timeFreqDim: 256,
    maxGrid: { height: 96, width: 96 },
  },
  vae: { latentChannels: 16, encoderChannels: [32, 64, 64], decoderChannels: [64, 64, 32, 32] },
  // CLIP-G's width; buildStandinPack pads its per-token output to SD3_JOINT_DIM.
  text: { maxTokens: 77, dim: 1280, heads: 20, mlpHidden: 5120, pooledDim: 2048 },
  words: TEST_WORDS,
  placeholders: ['<s1>', '<s2>', '<s3>', '<s4>'],
  resolutions: [
    { width: 512, height: 512 },
    { width: 1024, height: 1024 },
  ],
  defaultResolution: { width: 512, height: 512 },
  scheduler: { type: 'flow-matching-euler', shift: 3, trainTimesteps: 1000 },
  guidance: { steps: 28, text: 4.5, reference: 2 },
  tokens: { maxText: 77, maxReferencesPerSubject: 4, maxSubjects: 4 },
  attentionBiasMin: -10000,
  externalData: { roles: ['text_encoder', 'dit_reference', 'dit_step', 'dit_step_full'], maxShardBytes: 512 * MiB, minTensorBytes: 1024, align: 64 },
  referenceModes: { cached: 'approximate', full: 'exact' },
  source: { kind: 'generated', model: 'random weights from a fixed seed (untrained), SD3 Medium widths, 2 layers', tool: 'npm run pack:standin' },
};

/**
 * The text encoder graph with its `text_embeddings` output zero-padded on the
 * last axis from the encoder's width to `width` (SD3 pads CLIP to T5's width).
 */
export function padTextEmbeddings(g: IrGraph, width: number): IrGraph {
  const out = g.outputs.find((o) => o.name === 'text_embeddings');
  const dim = out?.shape[2];
  if (!out || typeof dim !== 'number') throw new Error('text encoder graph has no [batch, tokens, D] text_embeddings output');
  if (dim === width) return g;
  if (dim > width) throw new Error(`text encoder is ${dim} wide, more than ${width}`);
  const inner = 'text_embeddings/unpadded';
  const pads = 'text_embeddings/pads';
  const nodes = g.nodes.map((n) => (n.outputs.includes('text_embeddings') ? { ...n, outputs: n.outputs.map((o) => (o === 'text_embeddings' ? inner : o)) } : n));
  nodes.push({ name: 'text_embeddings/pad', opType: 'Pad', domain: '', inputs: [inner, pads], outputs: ['text_embeddings'], attrs: {} });
  const padValues = BigInt64Array.from([0, 0, 0, 0, 0, width - dim].map(BigInt));
  return {
    ...g,
    nodes,
    initializers: [...g.initializers, { name: pads, dtype: 'int64', dims: [6], raw: new Uint8Array(padValues.buffer) }],
    outputs: g.outputs.map((o) => (o === out ? { ...o, shape: [o.shape[0]!, o.shape[1]!, width] } : o)),
  };
}

/**
 * Builds the stand-in pack: the generated pack with its text encoder's output
 * padded to the DiT's context width (as SD3 pads CLIP to T5's).
 */
export async function buildStandinPack(cfg: PackBuildConfig = STANDIN_CONFIG): Promise<{ manifest: PackManifest; files: Map<string, Uint8Array> }> {
  const assembly = generatedPackAssembly(cfg);
  const graphs = assembly.graphs.map((g) => (g.role === 'text_encoder' ? { ...g, graph: padTextEmbeddings(g.graph, cfg.dit.textDim) } : g));
  return assemblePack({ ...assembly, graphs });
}

/** What weightBytesOfLiveSessions needs of GraphSessions (workers/runtime/sessions.ts). */
export interface LiveSessions {
  /** The graphs whose sessions exist now. */
  createdSpecs(): GraphSpec[];
}

/**
 * The weight bytes the live sessions hold, each session counted in full (a
 * weight held by two sessions counts twice): the graph file plus its
 * external-data shards of every session that exists now. Compare it with
 * weightBytesOnce(sessions.loadedGraphs()) or with distinctWeightBytes.
 */
export function weightBytesOfLiveSessions(sessions: LiveSessions): number {
  return sessions.createdSpecs().reduce((n, g) => n + graphBytes(g), 0);
}

/**
 * The tensors of one graph (initializers, inline or in its external-data
 * shards) as [content key, bytes]: `read` returns a file of the pack.
 */
export async function graphTensors(spec: GraphSpec, read: (file: string) => Promise<Uint8Array>): Promise<{ key: string; bytes: number }[]> {
  const model = onnx.ModelProto.decode(await read(spec.file));
  const shards = new Map<string, Uint8Array>();
  for (const s of spec.externalData) shards.set(s.file, await read(s.file));
  const out: { key: string; bytes: number }[] = [];
  for (const t of model.graph?.initializer ?? []) {
    let raw: Uint8Array;
    if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
      const kv = new Map((t.externalData ?? []).map((e) => [e.key, e.value]));
      const shard = shards.get(kv.get('location') ?? '');
      if (!shard) throw new Error(`${spec.file}: tensor ${t.name} is in ${kv.get('location')}, which the manifest does not list`);
      const offset = Number(kv.get('offset') ?? 0);
      raw = shard.subarray(offset, offset + Number(kv.get('length')));
    } else {
      raw = t.rawData ?? new Uint8Array(0);
    }
    out.push({ key: `${t.dataType}:${(t.dims ?? []).join('x')}:${await sha256(raw)}`, bytes: raw.byteLength });
  }
  return out;
}

/**
 * Bytes of the distinct weights of `graphs` (by content): what GPU memory
 * must hold at least once, however the graphs share them. Also the bytes of
 * each graph's tensors with repeats inside that graph counted again (what its
 * session holds, as onnxruntime does not merge equal initializers).
 */
export async function distinctWeightBytes(graphs: GraphSpec[], read: (file: string) => Promise<Uint8Array>): Promise<{ distinct: number; perGraph: Map<string, number> }> {
  const seen = new Map<string, number>();
  const perGraph = new Map<string, number>();
  for (const g of graphs) {
    const tensors = await graphTensors(g, read);
    perGraph.set(g.file, tensors.reduce((n, t) => n + t.bytes, 0));
    for (const t of tensors) seen.set(t.key, t.bytes);
  }
  return { distinct: [...seen.values()].reduce((a, b) => a + b, 0), perGraph };
}
