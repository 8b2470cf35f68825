/**
 * The one place that talks to the engine worker. The worker is created on
 * first use; its API type comes from the worker's own `api` object.
 */
import { proxy, wrap, type Remote } from 'comlink';
import type { GenerateInput, GenerateOutput, GenerateProgress } from '../../workers/generation-types';
import type { EngineApi } from '../../workers/engine.worker';

export type { EngineApi, EngineStatus } from '../../workers/engine.worker';
export type { PackSummary, PackGraphSummary } from '../../workers/pack/loader';
export type { AdapterSummary, Backend, BackendPreference } from '../../workers/runtime/backend-types';
export type { PlainTensor } from '../../workers/runtime/dtypes';
export type * from '../../workers/generation-types';

type CrashListener = (message: string) => void;

let engine: { worker: Worker; remote: Remote<EngineApi> } | null = null;
const crashListeners = new Set<CrashListener>();

export function getEngine(): Remote<EngineApi> {
  if (!engine) {
    const worker = new Worker(new URL('../../workers/engine.worker.ts', import.meta.url), { type: 'module', name: 'engine' });
    // A worker that fails to load or throws at top level never answers comlink calls: say so instead of hanging.
    worker.addEventListener('error', (event) => {
      const message = `the engine worker failed: ${event.message || 'it could not be loaded'}`;
      for (const listener of crashListeners) listener(message);
    });
    engine = { worker, remote: wrap<EngineApi>(worker) };
  }
  return engine.remote;
}

/** Ends the worker (and every session and GPU resource it holds); the next getEngine() starts a fresh one. */
export function terminateEngine(): void {
  engine?.worker.terminate();
  engine = null;
}

export function onEngineCrash(listener: CrashListener): () => void {
  crashListeners.add(listener);
  return () => crashListeners.delete(listener);
}

/** The worker fetches from its own script URL, so hand it absolute URLs. */
export function absolutePackUrl(url: string, base: string = document.baseURI): string {
  return new URL(url, base).href.replace(/\/+$/, '');
}

/**
 * Starts a generation in the worker. Progress events arrive through a comlink
 * proxy of `onProgress`; the promise settles with the image or the error.
 */
export function generate(input: GenerateInput, onProgress: (p: GenerateProgress) => void): Promise<GenerateOutput> {
  return getEngine().generate(input, proxy(onProgress));
}

/** Asks the worker to stop the running generation before its next step. */
export function cancelGeneration(): Promise<boolean> {
  return getEngine().cancel();
}
