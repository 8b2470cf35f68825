/**
 * The engine in Node (onnxruntime-web, WASM, one thread): a pack folder on
 * disk, loaded and verified by the studio's loader, with the sessions,
 * tokenizer and Engine the worker makes. For scripts (generate, eval, bench).
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Tokenizer } from '@huggingface/tokenizers';
import { readPackTokenizer } from '../pipeline/text/pack-tokenizer';
import * as ort from 'onnxruntime-web';
import { loadPack, portableGraphs, type LoadedPack } from '../pack/loader';
import type { AttentionKind, GraphRole, GraphSpec, PackManifest } from '../pack/manifest';
import { Engine, type EngineContext } from '../pipeline/engine';
import { compilePrompt } from '../pipeline/text/prompt';
import { GraphSessions } from '../runtime/sessions';
import { folderFetch } from './folder-fetch';

/** The graph per role: `prefer` where the pack has it, else the portable (decomposed or no-attention) one. */
export function chooseGraphs(m: PackManifest, prefer: AttentionKind = 'decomposed'): Map<GraphRole, GraphSpec> {
  const out = portableGraphs(m);
  for (const g of m.graphs) if (g.attention === prefer) out.set(g.role, g);
  return out;
}

/**
 * Loads and verifies the pack in `dir` (its manifest.json, the tokenizer and
 * the chosen graphs), by the studio's loader through a fetch that serves the folder.
 */
export async function loadPackFromDir(dir: string, opts: { attention?: AttentionKind } = {}): Promise<LoadedPack> {
  const root = resolve(dir);
  const info = await stat(root).catch(() => null);
  if (!info?.isDirectory()) throw new Error(`no pack folder at ${dir}: ${info ? 'it is a file' : 'no such folder'}`);
  if (!(await stat(resolve(root, 'manifest.json')).catch(() => null))?.isFile()) throw new Error(`no pack in ${dir}: it has no manifest.json`);
  // A file: URL, so that the loader's messages name the files on disk.
  const base = pathToFileURL(root).href;
  return loadPack(base, { fetch: folderFetch(root, base), choose: (m) => chooseGraphs(m, opts.attention) });
}

export interface NodeEngine {
  pack: LoadedPack;
  engine: Engine;
  sessions: GraphSessions;
  tokenizer: Tokenizer;
  /** Releases the engine's own sessions and every pack session. */
  dispose(): Promise<void>;
}

let configured = false;

function configureNodeOrt(): void {
  if (configured) return;
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = 'error';
  configured = true;
}

/** An Engine on a loaded pack (the graphs it chose), WASM backend. */
export async function createNodeEngine(pack: LoadedPack, opts: Pick<EngineContext, 'cacheLimits'> = {}): Promise<NodeEngine> {
  configureNodeOrt();
  const m = pack.manifest;
  const tokenizer = await readPackTokenizer(pack);
  const sessions = new GraphSessions(pack, 'wasm');
  const engine = new Engine({
    packId: `${m.name}@${m.version}`,
    manifest: m,
    sessions,
    attention: (role) => pack.graphs.get(role)?.attention ?? 'none',
    tokenize: (prompt, subjects) => compilePrompt(tokenizer, m, prompt, subjects),
    createSession: (_name, model) => ort.InferenceSession.create(model, { executionProviders: ['wasm'] }),
    cacheLimits: opts.cacheLimits,
  });
  return {
    pack,
    engine,
    sessions,
    tokenizer,
    async dispose() {
      await engine.dispose();
      await sessions.releaseAll();
    },
  };
}
