/**
 * The klein-4B-width stand-in of `npm run bench`: the three FLUX.2 transformer graphs
 * (dit_reference, dit_step, dit_step_full) of the real-width folder that
 * workers/convert/flux2/realwidth.test.ts checks against diffusers (klein 4B's widths, 1 double +
 * 1 single block, random weights), converted as `npm run convert -- --precision int4 --sizes 512`
 * converts a klein 4B transformer: block linears int4 (blocks of 32), the fragile layers fp16, the
 * attention pieces the converter picks for 512 px. Built once into
 * node_modules/.cache/subject-studio/standin-klein4b/ (a stamp holds a hash of the folder's bytes
 * and of the reader and graph builders) and reused: the fp16 rounding of the fragile layers alone
 * takes minutes (2 to 3 on a 2-core machine). The three graphs share one set of weight shards, as in a pack.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ensureFlux2RealwidthFolder, type Flux2RealwidthFolder, type RealwidthManifest } from '../workers/convert/flux2/testing/realwidth-folder';
import { loadFlux2Transformer } from '../workers/convert/flux2/transformer';
import type { JsonObject } from '../workers/convert/folder';
import { folderFromDisk } from '../workers/convert/node-source';
import { openCheckpoint } from '../workers/convert/safetensors';
import { ensureStamped, sourcesHash } from '../workers/node/stamped-cache';
import { buildFlux2Reference, buildFlux2Step, flux2LinearPrecision, type Flux2Config } from '../workers/packbuild/models/flux2';
import type { AttentionPieces, PrecisionSpec } from '../workers/packbuild/nn';
import { SharedWeights, serializeModelWithExternalData } from '../workers/packbuild/serialize';
import { compactLinear } from '../workers/packbuild/stored-linear';
import { chooseQueryChunk } from '../workers/plan/attention';

const ROOT = resolve(import.meta.dirname, '..');
export const KLEIN_STANDIN_DIR = join(ROOT, 'node_modules', '.cache', 'subject-studio', 'standin-klein4b');
export const KLEIN_STANDIN_PRECISION: PrecisionSpec = { matmul: 'int4', conv: 'fp32', blockSize: 32 };
export const KLEIN_STANDIN_ROLES = ['dit_reference', 'dit_step', 'dit_step_full'] as const;
export type KleinRole = (typeof KLEIN_STANDIN_ROLES)[number];
/** The size the stand-in is converted for (its attention pieces), and the prompt rows every klein pipeline passes. */
export const KLEIN_STANDIN_SIZE = 512;
export const KLEIN_TEXT_ROWS = 512;
const MiB = 2 ** 20;

/**
 * The attention pieces of convertFlux2Folder's ditPieces for sizes [512] (workers/convert/flux2/convert.ts:
 * one head a piece, query chunks within 512 MiB for 3 branches, the cached step sized for 4 subjects
 * x 2 references, the full step for 2 references).
 */
function ditPieces(heads: number): Record<KleinRole, AttentionPieces> {
  const N = (KLEIN_STANDIN_SIZE / 16) ** 2;
  const T = KLEIN_TEXT_ROWS;
  const pick = (queries: number, keys: number, batch: number): AttentionPieces => ({ headsPerPiece: 1, queryChunks: chooseQueryChunk(batch, heads, queries, keys, 512 * MiB, { headsPerPiece: 1 }).queryChunks });
  return { dit_reference: pick(N, N, 1), dit_step: pick(T + N, T + N + 8 * N, 3), dit_step_full: pick(T + 3 * N, T + 3 * N, 3) };
}

export interface KleinStandinInfo {
  cfg: Flux2Config;
  /** Graph file and the shards it reads, per role. */
  graphs: Record<KleinRole, { file: string; shards: string[] }>;
  weightBytes: number;
}

async function build(tmp: string, folder: Flux2RealwidthFolder): Promise<void> {
  const config = JSON.parse(await readFile(join(folder.dir, 'transformer/config.json'), 'utf8')) as JsonObject;
  const prec = KLEIN_STANDIN_PRECISION;
  const dit = await loadFlux2Transformer(await openCheckpoint(await folderFromDisk(folder.dir), 'transformer/diffusion_pytorch_model.safetensors'), config, {
    compact: (lin, fragile) => compactLinear(lin, flux2LinearPrecision(prec, fragile)),
  });
  const pieces = ditPieces(dit.cfg.heads);
  const shared = new SharedWeights({ baseName: 'weights', maxShardBytes: 512 * MiB, minTensorBytes: 1024, align: 64 });
  await mkdir(tmp, { recursive: true });
  const graphs = {} as KleinStandinInfo['graphs'];
  for (const role of KLEIN_STANDIN_ROLES) {
    const graph = role === 'dit_reference' ? buildFlux2Reference(dit, prec, 'decomposed', pieces[role]) : buildFlux2Step(dit, prec, 'decomposed', role === 'dit_step' ? 'cached' : 'full', pieces[role]);
    const { model, sharedFiles } = serializeModelWithExternalData(graph, shared);
    await writeFile(join(tmp, `${role}.onnx`), model);
    graphs[role] = { file: `${role}.onnx`, shards: sharedFiles };
  }
  for (const s of shared.shards()) await writeFile(join(tmp, s.file), s.bytes);
  const info: KleinStandinInfo = { cfg: dit.cfg, graphs, weightBytes: shared.bytes };
  await writeFile(join(tmp, 'info.json'), `${JSON.stringify(info, null, 2)}\n`);
}

/** What the graphs depend on: the folder's bytes (its manifest's sha256s), the converter's reader, the graph builders and the lock file. */
async function standinHash(folder: RealwidthManifest): Promise<string> {
  const files = ['scripts/klein-standin.ts', 'workers/convert/flux2/transformer.ts', 'workers/convert/safetensors.ts', 'workers/plan/attention.ts', 'package-lock.json'];
  for (const d of ['workers/packbuild', 'workers/packbuild/models']) {
    for (const f of (await readdir(join(ROOT, d))).sort()) if (f.endsWith('.ts') && !f.endsWith('.test.ts')) files.push(`${d}/${f}`);
  }
  return sourcesHash(ROOT, files, JSON.stringify(folder.files));
}

/** The stand-in's folder and description, built first when missing or out of date. */
export async function ensureKleinStandin(log: (line: string) => void = () => {}): Promise<{ dir: string; info: KleinStandinInfo; built: boolean; ms: number }> {
  const t0 = performance.now();
  const folder = await ensureFlux2RealwidthFolder();
  const built = await ensureStamped(KLEIN_STANDIN_DIR, await standinHash(folder.manifest), async (tmp) => {
    log(`building the klein-4B-width stand-in into ${KLEIN_STANDIN_DIR} (minutes: the fp16 layers are rounded in JS) ...`);
    await build(tmp, folder);
  });
  const info = JSON.parse(await readFile(join(KLEIN_STANDIN_DIR, 'info.json'), 'utf8')) as KleinStandinInfo;
  return { dir: KLEIN_STANDIN_DIR, info, built, ms: performance.now() - t0 };
}
