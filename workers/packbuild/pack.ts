/** Builds a whole model pack (manifest + files) from a config. No DOM, no Node APIs. */
import { CURRENT_FORMAT_VERSION, parseManifest, sha256, type GraphRole, type GraphSpec, type PackManifest, type PackManifestInput } from '../pack/manifest';
import type { IrGraph } from './ir';
import { buildDitReference, buildDitStep, makeDitParams, type DitConfig, type DitParams } from './models/dit';
import { buildTextEncoder, makeTextParams, type TextConfig, type TextParams } from './models/text';
import { buildVaeDecoder, buildVaeEncoder, makeVaeParams, VAE_DOWNSAMPLE, type VaeConfig, type VaeParams } from './models/vae';
import type { AttentionImpl, AttentionPieces, PrecisionSpec } from './nn';
import { Rng } from './params';
import { SharedWeights, serializeModelWithExternalData, type ExternalDataOptions } from './serialize';
import { buildTokenizerJson, SPECIAL_TOKENS } from './tokenizer';

export interface PackBuildConfig {
  name: string;
  version: string;
  description: string;
  trained: boolean;
  seed: number;
  precision: PrecisionSpec;
  /** Attention variants to build; the first must be 'decomposed'. */
  attention: AttentionImpl[];
  /**
   * How every graph's attention is cut into pieces (nn.ts emitAttention,
   * docs/pack-format.md section 8): heads per piece (a divisor of each
   * encoder's heads) and, per graph, the static number of query chunks. One
   * layer then holds at most (2 headsPerPiece + 1) B ceil(S / queryChunks) L 4
   * bytes of attention; choose the chunks for the largest case the pack is
   * meant to run (workers/plan/attention.ts chooseQueryChunk).
   */
  attentionPieces: { headsPerPiece: number; queryChunks: Record<AttentionRole, number> };
  dit: DitConfig;
  vae: VaeConfig;
  text: Omit<TextConfig, 'vocabSize'>;
  words: string[];
  placeholders: string[];
  resolutions: { width: number; height: number }[];
  defaultResolution: { width: number; height: number };
  scheduler: PackManifest['scheduler'];
  guidance: PackManifest['guidance'];
  tokens: PackManifest['tokens'];
  attentionBiasMin: number;
  /**
   * Weights of the graphs of these roles go to sharded external-data files
   * (pack format 2); other graphs stay self-contained.
   */
  externalData?: { roles: GraphRole[] } & Omit<ExternalDataOptions, 'baseName'>;
  referenceModes: NonNullable<PackManifest['referenceModes']>;
  source: NonNullable<PackManifest['source']>;
}

/** The roles whose graphs have attention. */
export type AttentionRole = 'text_encoder' | 'dit_reference' | 'dit_step' | 'dit_step_full';

/** The pieces of one role's graphs. */
export function piecesFor(cfg: Pick<PackBuildConfig, 'attentionPieces'>, role: AttentionRole): AttentionPieces {
  return { headsPerPiece: cfg.attentionPieces.headsPerPiece, queryChunks: cfg.attentionPieces.queryChunks[role] };
}

export interface ModelParams {
  dit: DitParams;
  vae: VaeParams;
  text: TextParams;
  tokenizerJson: string;
}

export function makeModelParams(cfg: PackBuildConfig): ModelParams {
  const rng = new Rng(cfg.seed);
  const tok = buildTokenizerJson({ words: cfg.words, placeholders: cfg.placeholders });
  return {
    dit: makeDitParams(rng, cfg.dit),
    vae: makeVaeParams(rng, cfg.vae),
    text: makeTextParams(rng, { ...cfg.text, vocabSize: tok.vocabSize }),
    tokenizerJson: tok.json,
  };
}

export interface BuiltGraph {
  role: GraphRole;
  attention: 'none' | AttentionImpl;
  graph: IrGraph;
}

/** Every graph of a pack at one precision, for each attention variant. */
export function buildPackGraphs(m: ModelParams, prec: PrecisionSpec, impls: AttentionImpl[], cfg: Pick<PackBuildConfig, 'attentionPieces'>): BuiltGraph[] {
  const at = (role: AttentionRole) => piecesFor(cfg, role);
  const out: BuiltGraph[] = [
    { role: 'vae_encoder', attention: 'none', graph: buildVaeEncoder(m.vae, prec) },
    { role: 'vae_decoder', attention: 'none', graph: buildVaeDecoder(m.vae, prec) },
  ];
  for (const impl of impls) {
    out.push(
      { role: 'text_encoder', attention: impl, graph: buildTextEncoder(m.text, prec, impl, at('text_encoder')) },
      { role: 'dit_reference', attention: impl, graph: buildDitReference(m.dit, prec, impl, at('dit_reference')) },
      { role: 'dit_step', attention: impl, graph: buildDitStep(m.dit, prec, impl, 'cached', at('dit_step')) },
      { role: 'dit_step_full', attention: impl, graph: buildDitStep(m.dit, prec, impl, 'full', at('dit_step_full')) },
    );
  }
  return out;
}

export function graphFileName(b: Pick<BuiltGraph, 'role' | 'attention'>): string {
  return b.attention === 'mha' ? `${b.role}.mha.onnx` : `${b.role}.onnx`;
}

const OPSET = 17;

/** One graph of a pack with the precision its weights are stored in. */
export interface PackGraph extends BuiltGraph {
  precision: GraphSpec['precision'];
}

/**
 * Everything of a pack but its graphs' files: the manifest fields that
 * describe the model (family, widths, tokens, defaults, source) and its
 * tokenizer. The converter and the generated packs share it.
 */
export type PackDescription = Omit<PackManifestInput, 'format' | 'formatVersion' | 'graphs' | 'tokenizer' | 'licence'>;

export interface PackAssembly {
  description: PackDescription;
  graphs: PackGraph[];
  /** `template`: a chat template around the prompt (manifest tokenizer.template). */
  tokenizer: { json: string; bos: string; eos: string; pad: string; placeholders: string[]; template?: { prefix: string; suffix: string } };
  /** Weights of these roles go to sharded external-data files (format 2); other graphs stay self-contained. */
  externalData?: { roles: GraphRole[] } & Omit<ExternalDataOptions, 'baseName'>;
  /**
   * Of those roles, the ones that share weights (the DiT's reference, step and full-step graphs):
   * their external data is one set of shards named `${name}.data`, ... in which each weight is
   * stored once, and each of the graphs lists the shards it reads.
   */
  sharedExternalData?: { roles: GraphRole[]; name: string };
  /** The licence the weights come with (its text becomes LICENCE.txt in the pack). */
  licence?: { name: string; text?: string };
}

export const LICENCE_FILE = 'LICENCE.txt';

/** How a pack's files are laid out: everything of a PackAssembly but its graphs and what the manifest says of the model. */
export type PackLayout = Pick<PackAssembly, 'tokenizer' | 'externalData' | 'sharedExternalData'>;

type GraphEntry = PackManifestInput['graphs'][number];

/**
 * Serializes a pack's graphs one at a time, in the order they are added, then writes the manifest.
 * A converter adds each graph as soon as it is built, so that graph's weights in IR form (and the
 * parameters they came from) can be freed while the next component is read: only serialized bytes
 * accumulate. Adding the graphs of a PackAssembly in order gives assemblePack's bytes exactly.
 */
export class PackAssembler {
  private readonly files = new Map<string, Uint8Array>();
  private readonly graphs: GraphEntry[] = [];
  private readonly sharing: { roles: GraphRole[]; name: string } | null;
  private readonly shared: SharedWeights | null;
  private readonly sharedUse = new Map<number, string[]>();
  private readonly tokenizerBytes: Uint8Array;

  constructor(private readonly layout: PackLayout) {
    this.tokenizerBytes = new TextEncoder().encode(layout.tokenizer.json);
    this.files.set('tokenizer.json', this.tokenizerBytes);
    this.sharing = layout.sharedExternalData && layout.externalData ? layout.sharedExternalData : null;
    this.shared = this.sharing ? new SharedWeights({ ...layout.externalData!, baseName: this.sharing.name }) : null;
  }

  async add(b: PackGraph): Promise<void> {
    const { externalData: extOptions } = this.layout;
    const file = graphFileName(b);
    const inGroup = this.shared !== null && this.sharing!.roles.includes(b.role);
    const ext = inGroup ? this.shared! : extOptions?.roles.includes(b.role) ? { ...extOptions, baseName: file } : undefined;
    const { model: bytes, shards, largestTensorBytes, sharedFiles } = serializeModelWithExternalData(b.graph, ext);
    this.files.set(file, bytes);
    const externalData = [];
    for (const shard of shards) {
      this.files.set(shard.file, shard.bytes);
      externalData.push({ file: shard.file, bytes: shard.bytes.byteLength, sha256: await sha256(shard.bytes) });
    }
    if (inGroup) this.sharedUse.set(this.graphs.length, sharedFiles);
    this.graphs.push({
      role: b.role,
      attention: b.attention,
      file,
      bytes: bytes.byteLength,
      sha256: await sha256(bytes),
      opset: OPSET,
      precision: b.precision,
      inputs: b.graph.inputs.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape })),
      outputs: b.graph.outputs.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape })),
      externalData,
      largestTensorBytes,
    });
  }

  /** The shared shards, the licence and the manifest; the pack's files by name. */
  async finish(a: Pick<PackAssembly, 'description' | 'licence'>): Promise<{ manifest: PackManifest; files: Map<string, Uint8Array> }> {
    const { files, graphs } = this;
    if (this.shared) {
      const refs = new Map<string, { file: string; bytes: number; sha256: string }>();
      for (const shard of this.shared.shards()) {
        files.set(shard.file, shard.bytes);
        refs.set(shard.file, { file: shard.file, bytes: shard.bytes.byteLength, sha256: await sha256(shard.bytes) });
      }
      for (const [gi, used] of this.sharedUse) graphs[gi]!.externalData!.push(...used.map((f) => refs.get(f)!));
    }
    let licence: PackManifestInput['licence'];
    if (a.licence) {
      licence = { name: a.licence.name };
      if (a.licence.text) {
        const bytes = new TextEncoder().encode(a.licence.text);
        files.set(LICENCE_FILE, bytes);
        licence.text = { file: LICENCE_FILE, bytes: bytes.byteLength, sha256: await sha256(bytes) };
      }
    }
    const { tokenizer } = this.layout;
    const manifest = parseManifest({
      format: 'subject-studio-pack',
      formatVersion: CURRENT_FORMAT_VERSION,
      ...a.description,
      tokenizer: {
        file: 'tokenizer.json',
        bytes: this.tokenizerBytes.byteLength,
        sha256: await sha256(this.tokenizerBytes),
        bos: tokenizer.bos,
        eos: tokenizer.eos,
        pad: tokenizer.pad,
        placeholders: tokenizer.placeholders,
        ...(tokenizer.template ? { template: tokenizer.template } : {}),
      },
      graphs,
      ...(licence ? { licence } : {}),
    });
    return { manifest, files };
  }
}

/** Serializes the graphs (with their external data), hashes every file and writes the manifest. */
export async function assemblePack(a: PackAssembly): Promise<{ manifest: PackManifest; files: Map<string, Uint8Array> }> {
  const pack = new PackAssembler(a);
  for (const b of a.graphs) await pack.add(b);
  return pack.finish(a);
}

/** The precision a generated pack stores a role's weights in (the VAE keeps fp32 linears). */
function generatedPrecision(role: GraphRole, p: PrecisionSpec): GraphSpec['precision'] {
  const hasConv = role === 'vae_encoder' || role === 'vae_decoder' || role.startsWith('dit');
  return {
    matmul: role.startsWith('vae') ? 'fp32' : p.matmul,
    conv: hasConv ? p.conv : 'fp32',
    ...(p.matmul === 'int4' && !role.startsWith('vae') ? { blockSize: p.blockSize } : {}),
  };
}

/** What a generated pack (random weights from the config's seed) is made of, before its files are written. */
export function generatedPackAssembly(cfg: PackBuildConfig): PackAssembly {
  if (cfg.attention[0] !== 'decomposed') throw new Error('the first attention variant must be decomposed');
  const params = makeModelParams(cfg);
  return {
    description: {
      name: cfg.name,
      version: cfg.version,
      description: cfg.description,
      trained: cfg.trained,
      family: 'mmdit',
      latent: { channels: cfg.dit.latentChannels, downsample: VAE_DOWNSAMPLE },
      transformer: {
        hiddenSize: cfg.dit.dim,
        heads: cfg.dit.heads,
        layers: cfg.dit.layers,
        patchSize: cfg.dit.patchSize,
        textDim: cfg.dit.textDim,
        pooledDim: cfg.dit.pooledDim,
        maxGrid: cfg.dit.maxGrid,
      },
      resolutions: cfg.resolutions,
      defaultResolution: cfg.defaultResolution,
      tokens: cfg.tokens,
      scheduler: cfg.scheduler,
      guidance: cfg.guidance,
      attentionBiasMin: cfg.attentionBiasMin,
      source: cfg.source,
      referenceModes: cfg.referenceModes,
    },
    graphs: buildPackGraphs(params, cfg.precision, cfg.attention, cfg).map((b) => ({ ...b, precision: generatedPrecision(b.role, cfg.precision) })),
    tokenizer: { json: params.tokenizerJson, bos: SPECIAL_TOKENS.bos, eos: SPECIAL_TOKENS.eos, pad: SPECIAL_TOKENS.pad, placeholders: cfg.placeholders },
    ...(cfg.externalData ? { externalData: cfg.externalData } : {}),
  };
}

/** A generated pack: the test pack and the stand-in. */
export async function buildPack(cfg: PackBuildConfig): Promise<{ manifest: PackManifest; files: Map<string, Uint8Array> }> {
  return assemblePack(generatedPackAssembly(cfg));
}
