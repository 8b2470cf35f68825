/**
 * The one place that talks to the engine worker. The worker is created on
 * first use; its API type comes from the worker's own `api` object.
 *
 * A worker that dies never answers the comlink calls still waiting on it, so
 * every call is raced against the worker's end: a crash (its `error` event)
 * or terminateEngine() rejects them all with EngineCrashedError instead of
 * leaving the UI waiting forever.
 */
import { proxy, wrap, type Remote } from 'comlink';
import type { GenerateInput, GenerateOutput, GenerateProgress } from '../../workers/generation-types';
import type { EngineApi, EngineStatus } from '../../workers/engine.worker';
import type { PackLoadProgress, PackSummary } from '../../workers/pack/loader';
import type { BackendPreference } from '../../workers/runtime/backend-types';
import { usePackProgressStore } from '../state/pack-progress-store';

export type { EngineApi, EngineStatus } from '../../workers/engine.worker';
export type { PackSummary, PackGraphSummary, PackLoadProgress } from '../../workers/pack/loader';
export type { CachedPack } from '../../workers/engine-api';
export type { AdapterSummary, Backend, BackendPreference } from '../../workers/runtime/backend-types';
export type { PlainTensor } from '../../workers/runtime/dtypes';
export type * from '../../workers/generation-types';

type CrashListener = (message: string) => void;

/** A call that could not finish because the engine worker died or was replaced. */
export class EngineCrashedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EngineCrashedError';
  }
}

interface RunningWorker {
  worker: Worker;
  remote: Remote<EngineApi>;
  /** Rejects (never resolves) once this worker is gone. */
  gone: Promise<never>;
  end(reason: string): void;
}

let engine: RunningWorker | null = null;
const crashListeners = new Set<CrashListener>();

/** Wraps the comlink remote so that each method call also rejects when the worker ends. */
function guarded(remote: Remote<EngineApi>, gone: Promise<never>): Remote<EngineApi> {
  return new Proxy(remote, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      // `then` must stay undefined (the remote is not a promise); symbols are comlink's own handles.
      if (typeof prop !== 'string' || prop === 'then' || typeof value !== 'function') return value;
      return (...args: unknown[]) => Promise.race([(value as (...a: unknown[]) => Promise<unknown>)(...args), gone]);
    },
  });
}

function startWorker(): RunningWorker {
  const worker = new Worker(new URL('../../workers/engine.worker.ts', import.meta.url), { type: 'module', name: 'engine' });
  let end: (reason: string) => void = () => {};
  const gone = new Promise<never>((_, reject) => {
    end = (reason) => reject(new EngineCrashedError(reason));
  });
  // Nobody may be waiting on it when the worker ends: that must not count as an unhandled rejection.
  gone.catch(() => undefined);
  const running: RunningWorker = { worker, remote: guarded(wrap<EngineApi>(worker), gone), gone, end };
  // A worker that fails to load or throws at top level never answers comlink calls: say so instead of hanging.
  worker.addEventListener('error', (event) => {
    // Handled here (reported, and the studio restarts the engine): not an uncaught error of the page.
    event.preventDefault();
    const message = `the engine worker failed: ${event.message || 'it could not be loaded'}`;
    running.end(message);
    if (engine !== running) return;
    for (const listener of crashListeners) listener(message);
  });
  return running;
}

export function getEngine(): Remote<EngineApi> {
  engine ??= startWorker();
  return engine.remote;
}

/** Ends the worker (and every session and GPU resource it holds); the next getEngine() starts a fresh one. */
export function terminateEngine(reason = 'the engine was stopped'): void {
  const old = engine;
  engine = null;
  old?.worker.terminate();
  old?.end(reason);
}

export function onEngineCrash(listener: CrashListener): () => void {
  crashListeners.add(listener);
  return () => crashListeners.delete(listener);
}

/** The worker fetches from its own script URL, so hand it absolute URLs. */
export function absolutePackUrl(url: string, base: string = document.baseURI): string {
  return new URL(url, base).href.replace(/\/+$/, '');
}

let persistenceAsked = false;

/**
 * Asks the browser to keep this site's storage (the pack cache) under storage
 * pressure. Only pages may ask, not workers; asked once, before a download.
 */
function askPersistentStorage(): void {
  if (persistenceAsked) return;
  persistenceAsked = true;
  void navigator.storage?.persist?.().catch(() => false);
}

/** Runs a pack load in the engine with its progress in the pack-progress store. */
async function withPackProgress(source: string, load: (onProgress: ReturnType<typeof proxy<(p: PackLoadProgress) => void>>) => Promise<PackSummary>): Promise<PackSummary> {
  const { actions } = usePackProgressStore.getState();
  actions.started(source);
  try {
    return await load(proxy((p: PackLoadProgress) => actions.report(p)));
  } finally {
    actions.finished();
  }
}

/** Loads the pack at `url` (through the engine's persistent cache), showing its progress. */
export function loadPackInEngine(url: string): Promise<PackSummary> {
  askPersistentStorage();
  const abs = absolutePackUrl(url);
  return withPackProgress(abs, (onProgress) => getEngine().loadPack(abs, onProgress));
}

/** Loads a pack from picked files (verified in place), showing its progress. */
export function loadPackFilesInEngine(files: { path: string; blob: Blob }[]): Promise<PackSummary> {
  return withPackProgress('a folder on this computer', (onProgress) => getEngine().loadPackFiles(files, onProgress));
}

/** Packs loaded from a picked folder have no URL to fetch them from again (see features/models). */
const isLocalPack = (url: string) => url.startsWith('local-pack:');

/**
 * Replaces the engine worker with a fresh one on the same backend and pack:
 * what a crash or a lost GPU device needs. Whatever still waits on the old
 * worker rejects with EngineCrashedError.
 */
export async function restartEngine(backend: BackendPreference, packUrl: string): Promise<{ status: EngineStatus; pack: PackSummary }> {
  terminateEngine('the engine was restarted');
  if (isLocalPack(packUrl)) throw new Error('the pack was loaded from a folder on this computer: pick that folder again in the pack panel');
  const status = await getEngine().init({ backend });
  const pack = await loadPackInEngine(packUrl);
  return { status: await getEngine().status().catch(() => status), pack };
}

/**
 * The engine's status, or null when the worker does not answer within
 * `timeoutMs` (dead, or hung). Only for a worker that should be idle: a busy
 * WASM run does not answer until its current graph finishes.
 */
export async function probeEngine(timeoutMs: number): Promise<EngineStatus | null> {
  let timer = 0;
  const timeout = new Promise<null>((resolve) => (timer = window.setTimeout(() => resolve(null), timeoutMs)));
  try {
    return await Promise.race([getEngine().status(), timeout]);
  } catch {
    return null;
  } finally {
    window.clearTimeout(timer);
  }
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
