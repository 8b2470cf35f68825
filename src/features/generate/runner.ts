/**
 * The generation runner: one run per request id, one at a time. A newer
 * request cancels the running one and starts once it has stopped (live mode
 * asks often); requests that were overtaken while waiting never start.
 *
 * Plain module state rather than a component's: React may mount the panel
 * twice (StrictMode), and a run outlives any one render.
 */
import { errorText } from '../../app/format';
import { cancelGeneration, errorCode, generate, type GenerateProgress } from '../../engine-client/engine';
import { useGenerationStore } from '../../state/generation-store';
import { usePromptStore } from '../../state/prompt-store';
import { useSettingsStore } from '../../state/settings-store';
import { useSubjectsStore } from '../../state/subjects-store';
import { saveResult } from '../gallery/gallery-io';
import { buildRequest, planRequest } from './build-input';
import { crashReason, deadEngineReason, recoverEngine, recoveryInFlight } from './recovery';
import { frameThrottle } from './timing';

export interface RunnerContext {
  /** The loaded pack, or null while none is. */
  pack: { name: string; version: string } | null;
}

let context: RunnerContext = { pack: null };
let chain: Promise<void> = Promise.resolve();
/** The request whose run is under way (0: none). */
let activeId = 0;
/** The run Cancel was pressed for: it may not have reached the worker yet (still reading photos). */
let cancelledId = 0;

export function setRunnerContext(c: RunnerContext): void {
  context = c;
}

const gen = () => useGenerationStore.getState().actions;
const isLatest = (id: number) => useGenerationStore.getState().requestId === id;

/** Starts (or queues) the run for request `id`, cancelling a run still going. */
export function handleRequest(id: number): void {
  if (activeId !== 0) void cancelGeneration().catch(() => false);
  chain = chain.then(() => runRequest(id)).catch(() => undefined);
}

/** Stops the running generation before its next step. */
export function cancelRun(): void {
  if (activeId === 0) return;
  cancelledId = activeId;
  void cancelGeneration().catch(() => false);
}

async function runRequest(id: number): Promise<void> {
  if (!isLatest(id)) return;
  const pending = recoveryInFlight();
  if (pending) await pending;
  const { prompt, negativePrompt } = usePromptStore.getState();
  const plan = planRequest(prompt, useSubjectsStore.getState().subjects);
  gen().setNotice(null);
  if ('problem' in plan) return gen().setError(plan.problem);
  const pack = context.pack;
  if (!pack) return gen().setError('The model pack is not loaded yet: wait until the status line shows it, then generate.');

  const settingsStore = useSettingsStore.getState();
  // A random seed is rolled into the settings, so the seed field shows the one used.
  const seed = settingsStore.settings.randomSeed ? settingsStore.actions.rollSeed() : settingsStore.settings.seed;
  const settings = useSettingsStore.getState().settings;
  activeId = id;
  gen().setError(null);
  gen().setRunning(true);
  gen().setProgress({ kind: 'loading', what: 'your photos' });
  const started = performance.now();
  // Progress comes through its own message port and may trail the result: once the run settled, it is ignored.
  let live = true;
  let lastStep: { step: number; steps: number } | null = null;
  const frames = frameThrottle<GenerateProgress>((p) => {
    if (live && activeId === id) gen().setProgress(p);
  });
  try {
    const { input, request } = await buildRequest({ prompt, negativePrompt }, plan.subjects, settings, seed, pack);
    // Overtaken or cancelled while the photos were read: the worker never hears of this run.
    if (!isLatest(id)) return;
    if (cancelledId === id) return gen().setNotice('Cancelled.');
    const out = await generate(input, (p) => {
      if (!live) return;
      if (p.kind === 'step') lastStep = { step: p.step, steps: p.steps };
      frames.push(p);
    });
    live = false;
    frames.cancel();
    const ms = performance.now() - started;
    gen().setProgress({ kind: 'done', elapsedMs: ms });
    gen().setResult({ width: out.width, height: out.height, rgba: out.rgba, seed, ms, galleryId: null });
    if (out.truncatedText) gen().setNotice(`The prompt was too long for the model: “${out.truncatedText}” was left out.`);
    try {
      const entry = await saveResult(out, request, ms);
      gen().setResultSaved(out.rgba, entry.id);
    } catch (e) {
      gen().setError(`The image could not be saved to the gallery: ${errorText(e)}`);
    }
  } catch (e) {
    live = false;
    frames.cancel();
    await reportFailure(e, id, lastStep);
  } finally {
    if (activeId === id) {
      activeId = 0;
      gen().setRunning(false);
    }
  }
}

async function reportFailure(e: unknown, id: number, lastStep: { step: number; steps: number } | null): Promise<void> {
  if (errorCode(e) === 'cancelled') {
    // A run cancelled for a newer request says nothing: the newer one takes over the panel.
    if (isLatest(id)) {
      gen().setNotice(lastStep ? `Cancelled after step ${lastStep.step} of ${lastStep.steps}.` : 'Cancelled.');
      gen().setProgress({ kind: 'cancelled', atStep: lastStep?.step ?? 0 });
    }
    return;
  }
  const reason = crashReason(e) ?? (await deadEngineReason());
  if (reason) {
    gen().setProgress(null);
    gen().setNotice('The generation that was running is lost: press Generate to run it again.');
    await recoverEngine(reason);
    return;
  }
  gen().setProgress({ kind: 'error', message: errorText(e) });
  gen().setError(`Generation failed: ${errorText(e)}`);
}
