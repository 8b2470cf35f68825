/** Node-only: the engine on the built-in test pack (read from disk), WASM backend, as the scripts make it. */
import type { AttentionKind } from '../../pack/manifest';
import { createNodeEngine, loadPackFromDir } from '../../node/engine';
import type { GraphSessions } from '../../runtime/sessions';
import { TEST_PACK_DIR } from '../../test-support/disk-fetch';
import type { Engine, EngineContext, GenerateRequest, PreparedReference, SubjectSpec } from '../engine';

export async function nodeEngine(attention: AttentionKind = 'decomposed', cacheLimits?: EngineContext['cacheLimits']): Promise<{ engine: Engine; sessions: GraphSessions }> {
  const { engine, sessions } = await createNodeEngine(await loadPackFromDir(TEST_PACK_DIR, { attention }), { cacheLimits });
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

/** A subject "@mochi" (a cat) with one synthetic reference at 128 px. */
export function mochiSubject(referenceKey = 'mochi-1', over: Partial<SubjectSpec> = {}): SubjectSpec {
  return { name: 'mochi', classWord: 'cat', placeholder: '<s1>', gamma: 1, references: [syntheticReference(referenceKey, 128, 128, 3)], ...over };
}

/** A generation request on the test pack at 128 px with every knob at its default, changed by `over`. */
export function testRequest(over: Partial<GenerateRequest> = {}): GenerateRequest {
  return {
    prompt: '@mochi on a table',
    negativePrompt: '',
    subjects: [mochiSubject()],
    width: 128,
    height: 128,
    steps: 2,
    seed: 1,
    textGuidance: 4,
    refGuidance: 2,
    dropRatio: 0,
    dropSchedule: 'random',
    refMode: 'cached',
    previewEvery: 0,
    ...over,
  };
}
