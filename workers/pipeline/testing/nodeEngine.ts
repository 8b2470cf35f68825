/** Node-only: the engine on the built-in test pack (read from disk), WASM backend. */
import { Tokenizer } from '@huggingface/tokenizers';
import * as ort from 'onnxruntime-web';
import type { AttentionKind } from '../../pack/manifest';
import { loadPack, portableGraphs } from '../../pack/loader';
import { GraphSessions } from '../../runtime/sessions';
import { diskFetch, TEST_PACK_URL } from '../../test-support/disk-fetch';
import { Engine, type EngineContext, type PreparedReference } from '../engine';
import { compilePrompt } from '../text/prompt';

ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';

export async function nodeEngine(attention: AttentionKind = 'decomposed', cacheLimits?: EngineContext['cacheLimits']): Promise<{ engine: Engine; sessions: GraphSessions }> {
  const pack = await loadPack(TEST_PACK_URL, {
    fetch: diskFetch(),
    choose: (m) => {
      const graphs = portableGraphs(m);
      for (const g of m.graphs) if (g.attention === attention) graphs.set(g.role, g);
      return graphs;
    },
  });
  const tokenizer = new Tokenizer(JSON.parse(await (await pack.files.blob(pack.manifest.tokenizer.file)).text()), {});
  const sessions = new GraphSessions(pack, 'wasm');
  const engine = new Engine({
    packId: `${pack.manifest.name}@${pack.manifest.version}`,
    manifest: pack.manifest,
    sessions,
    attention: (role) => (role.startsWith('vae') ? 'none' : attention),
    tokenize: (prompt, subjects) => compilePrompt(tokenizer, pack.manifest, prompt, subjects),
    createSession: (_name, model) => ort.InferenceSession.create(model, { executionProviders: ['wasm'] }),
    cacheLimits,
  });
  return { engine, sessions };
}

/** A deterministic synthetic reference image: smooth colour bands plus a bright disk. */
export function syntheticReference(key: string, width: number, height: number, seed: number, tokenMask: Float32Array | null = null, gammaScale = 1): PreparedReference {
  const rgb = new Float32Array(3 * width * height);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const inDisk = (x - width / 2) ** 2 + (y - height / 2) ** 2 < (width / 4) ** 2;
      for (let c = 0; c < 3; c++) rgb[c * width * height + i] = inDisk ? 0.8 - 0.3 * c : Math.sin((x * (c + 1) + y * seed) / 9);
    }
  return { key, rgb, tokenMask, gammaScale };
}
