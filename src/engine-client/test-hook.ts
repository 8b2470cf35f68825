/**
 * A typed hook on `window` for end-to-end tests and the console: runs engine
 * calls with JSON-friendly tensors (plain number arrays), since typed arrays
 * do not survive Playwright's page.evaluate serialisation. Only test builds
 * (and the dev server) load it: see src/test-hooks.ts.
 */
import type { AttentionKind, DType, GraphRole } from '../../workers/pack/manifest';
import { numbersOf, typedArrayFrom } from '../../workers/runtime/dtypes';
import { DEFAULT_FREQUENCY, DEFAULT_MASK_SETTINGS } from '../../workers/generation-types';
import { useGalleryStore } from '../state/gallery-store';
import { useGenerationStore } from '../state/generation-store';
import { usePromptStore } from '../state/prompt-store';
import { DEFAULT_SETTINGS, useSettingsStore } from '../state/settings-store';
import { getBlob } from '../state/storage';
import { useSubjectsStore } from '../state/subjects-store';
import { cancelGeneration, errorCode, generate, getEngine, type EngineErrorCode, type EngineStatus, type GenerateInput, type GenerateProgress, type PlainTensor } from './engine';

export interface JsonTensor {
  dtype: DType;
  dims: number[];
  data: number[];
}

/** A generation request in JSON: subjects get synthetic PNG photos made in the page. */
export interface TestGenerateRequest {
  prompt: string;
  subjects: { name: string; classWord: string; strength?: number; imageSeeds: number[]; maskHalf?: boolean; corrupt?: boolean }[];
  steps: number;
  seed: number;
  /** Default: the mode the pack's model was trained with (FLUX.2 klein 4B: full), else cached. */
  refMode?: 'cached' | 'full';
  /** Calls cancel() when this step's progress event arrives. */
  cancelAtStep?: number;
}

export interface TestGenerateResult {
  /** Progress events without preview pixels. */
  events: ({ kind: string } & Record<string, unknown>)[];
  error: string | null;
  /** The engine's code for the error (as it crossed the worker boundary). */
  errorCode: EngineErrorCode | null;
  width: number;
  height: number;
  /** Mean and standard deviation of the RGB bytes (0 when there is no image). */
  mean: number;
  std: number;
  /** Milliseconds of each step. */
  stepMs: number[];
  /** The pack graphs the generation ran, by role (empty when it failed). */
  graphRuns: Partial<Record<GraphRole, number>>;
  /** The reference mode it ran in. */
  refMode: 'cached' | 'full';
}

export interface StudioTestHook {
  status(): Promise<EngineStatus>;
  /** The zustand stores, for tests that check what the UI stored. */
  stores: typeof stores;
  /** Bytes of a stored blob (photo, mask, gallery PNG) as numbers, or null. */
  readBlob(id: string): Promise<number[] | null>;
  generate(request: TestGenerateRequest): Promise<TestGenerateResult>;
  runGraph(role: GraphRole, attention: AttentionKind, feeds: Record<string, JsonTensor>): Promise<Record<string, JsonTensor>>;
}

declare global {
  interface Window {
    __subjectStudio?: StudioTestHook;
  }
}

/** A deterministic test photo: a gradient background and a coloured disk whose place depends on the seed. */
async function testPhoto(seed: number, width = 160, height = 120): Promise<Blob> {
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d')!;
  const grad = ctx.createLinearGradient(0, 0, width, height);
  grad.addColorStop(0, `hsl(${(seed * 47) % 360} 60% 70%)`);
  grad.addColorStop(1, `hsl(${(seed * 91) % 360} 50% 30%)`);
  ctx.fillStyle = grad;
  ctx.fillRect(0, 0, width, height);
  ctx.fillStyle = `hsl(${(seed * 131) % 360} 80% 50%)`;
  ctx.beginPath();
  ctx.arc(width * (0.3 + (seed % 5) * 0.1), height / 2, height / 3, 0, Math.PI * 2);
  ctx.fill();
  return canvas.convertToBlob({ type: 'image/png' });
}

function halfMask(width = 160, height = 120) {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width / 2; x++) data[y * width + x] = 255;
  return { width, height, data };
}

const stores = { subjects: useSubjectsStore, prompt: usePromptStore, settings: useSettingsStore, gallery: useGalleryStore, generation: useGenerationStore };

export const testHook: StudioTestHook = {
  status: () => getEngine().status(),
  stores,
  async readBlob(id) {
    const blob = await getBlob(id);
    return blob ? Array.from(new Uint8Array(await blob.arrayBuffer())) : null;
  },
  async generate(req) {
    const subjects = await Promise.all(
      req.subjects.map(async (s) => ({
        name: s.name,
        classWord: s.classWord,
        strength: s.strength ?? 1,
        images: await Promise.all(
          s.imageSeeds.map(async (seed) => {
            const photo = await testPhoto(seed);
            // A truncated PNG: what a half-downloaded file looks like.
            const blob = s.corrupt ? new Blob([(await photo.arrayBuffer()).slice(0, 64)], { type: 'image/png' }) : photo;
            return { id: `test-photo-${seed}${s.corrupt ? '-corrupt' : ''}`, blob, mask: s.maskHalf ? halfMask() : null };
          }),
        ),
        maskSettings: { ...DEFAULT_MASK_SETTINGS },
        fill: 'black' as const,
        frequency: { ...DEFAULT_FREQUENCY },
        layerStart: 0,
        stepWindow: [0, 1] as [number, number],
      })),
    );
    // The loaded pack's default size and guidance (the studio's defaults while none is loaded: the engine then refuses).
    const caps = (await getEngine().status()).pack?.capabilities;
    const refMode = req.refMode ?? caps?.trainedMode ?? 'cached';
    const input: GenerateInput = {
      prompt: req.prompt,
      negativePrompt: '',
      subjects,
      width: caps?.defaultResolution.width ?? DEFAULT_SETTINGS.width,
      height: caps?.defaultResolution.height ?? DEFAULT_SETTINGS.height,
      steps: req.steps,
      seed: req.seed,
      textGuidance: caps?.defaults.textGuidance ?? DEFAULT_SETTINGS.textGuidance,
      refGuidance: caps?.defaults.refGuidance ?? DEFAULT_SETTINGS.refGuidance,
      dropRatio: 0,
      dropSchedule: 'random',
      refMode,
      previewEvery: 1,
    };
    const events: TestGenerateResult['events'] = [];
    const started = performance.now();
    const onProgress = (p: GenerateProgress) => {
      // `atMs`: when it arrived (ms since the request), to see where a slow backend spends its time.
      const atMs = Math.round(performance.now() - started);
      events.push(p.kind === 'step' ? { ...p, preview: p.preview ? { width: p.preview.width, height: p.preview.height } : null, atMs } : { ...p, atMs });
      if (p.kind === 'step' && p.step === req.cancelAtStep) void cancelGeneration();
    };
    // Progress comes through its own message port: the terminal event may land after the result.
    const settled = async () => {
      for (let i = 0; i < 100 && !events.some((e) => ['done', 'error', 'cancelled'].includes(e.kind)); i++) await new Promise((r) => setTimeout(r, 20));
    };
    try {
      const out = await generate(input, onProgress);
      await settled();
      let sum = 0;
      let sq = 0;
      let n = 0;
      out.rgba.forEach((v, i) => {
        if (i % 4 === 3) return;
        sum += v;
        sq += v * v;
        n++;
      });
      const mean = sum / n;
      return { events, error: null, errorCode: null, width: out.width, height: out.height, mean, std: Math.sqrt(sq / n - mean * mean), stepMs: out.timings.stepMs, graphRuns: out.graphRuns, refMode };
    } catch (e) {
      await settled();
      return { events, error: (e as Error).message, errorCode: errorCode(e), width: 0, height: 0, mean: 0, std: 0, stepMs: [], graphRuns: {}, refMode };
    }
  },
  async runGraph(role, attention, feeds) {
    const plain = Object.fromEntries(
      Object.entries(feeds).map(([name, t]) => [name, { dtype: t.dtype, dims: t.dims, data: typedArrayFrom(t.dtype, t.data) } as PlainTensor]),
    );
    const outputs = await getEngine().runGraph(role, attention, plain);
    return Object.fromEntries(
      Object.entries(outputs).map(([name, t]) => [name, { dtype: t.dtype, dims: t.dims, data: numbersOf(t.data) }]),
    );
  },
};

export function installTestHook(target: Window): void {
  target.__subjectStudio = testHook;
}
