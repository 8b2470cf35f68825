/**
 * The one place that talks to the engine worker. The worker is created on
 * first use; its API type comes from the worker's own `api` object.
 *
 * A worker that dies never answers the comlink calls still waiting on it, so
 * every call is raced against the worker's end (app/worker-client.ts): a crash
 * (its `error` event) or terminateEngine() rejects them all with
 * EngineCrashedError instead of leaving the UI waiting forever. Every other
 * failure is an EngineError with a code (workers/errors.ts).
 */
import { proxy, type Remote } from 'comlink';
import { connectWorker, type WorkerClient } from '../app/worker-client';
import type { GenerateInput, GenerateOutput, GenerateProgress } from '../../workers/generation-types';
import type { EngineApi, EngineStatus } from '../../workers/engine.worker';
import type { PackLoadProgress, PackSummary } from '../../workers/pack/loader';
import { isLocalPackUrl } from '../../workers/pack/local-pack';
import type { BackendPreference } from '../../workers/runtime/backend-types';
import type { ConvertFolderOptions, DroppedFile } from '../../workers/convert/browser/convert-into-cache';
import type { ConvertFolderInfo } from '../../workers/convert/browser/inspect';
import type { ConvertFolderProgress } from '../../workers/convert/browser/progress';
import { gibToBytes, storedBudgetGiB } from '../state/memory-budget';
import { usePackProgressStore } from '../state/pack-progress-store';

export type { EngineApi, EngineStatus } from '../../workers/engine.worker';
export type { PackSummary, PackGraphSummary, PackLoadProgress } from '../../workers/pack/loader';
export type { PackCapabilities, ReferenceMode } from '../../workers/pack/capabilities';
export type { CachedPack } from '../../workers/engine-api';
export type { AdapterSummary, Backend, BackendPreference } from '../../workers/runtime/backend-types';
export type { PlainTensor } from '../../workers/runtime/dtypes';
export type * from '../../workers/generation-types';
export { EngineError, engineErrorOf, errorCode, type EngineErrorCode, type EngineErrorDetails } from '../../workers/errors';
export { isLocalPackUrl, localPackUrl } from '../../workers/pack/local-pack';
export type { ConvertFolderOptions, DroppedFile } from '../../workers/convert/browser/convert-into-cache';
export type { ConvertFolderInfo } from '../../workers/convert/browser/inspect';
export type { ConvertFolderProgress } from '../../workers/convert/browser/progress';
export type { ConvertPrecision } from '../../workers/convert/sd3/convert';
export { isConvertedPackUrl } from '../../workers/convert/browser/converted-pack';

type CrashListener = (message: string) => void;

/** A call that could not finish because the engine worker died or was replaced. */
export class EngineCrashedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EngineCrashedError';
  }
}

let engine: WorkerClient<EngineApi> | null = null;
const crashListeners = new Set<CrashListener>();

function startWorker(): WorkerClient<EngineApi> {
  const worker = new Worker(new URL('../../workers/engine.worker.ts', import.meta.url), { type: 'module', name: 'engine' });
  const running = connectWorker<EngineApi>(
    worker,
    (message) => new EngineCrashedError(`the engine worker failed: ${message || 'it could not be loaded'}`),
    (error) => {
      if (engine !== running) return;
      for (const listener of crashListeners) listener(error.message);
    },
  );
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
  old?.end(new EngineCrashedError(reason));
}

export function onEngineCrash(listener: CrashListener): () => void {
  crashListeners.add(listener);
  return () => crashListeners.delete(listener);
}

/** The worker fetches from its own script URL, so hand it absolute URLs. */
export function absolutePackUrl(url: string, base: string = document.baseURI): string {
  return new URL(url, base).href.replace(/\/+$/, '');
}

/** Starts the engine on `backend` with the user's memory budget (if set) in force before any pack loads. */
export async function initEngine(backend: BackendPreference): Promise<EngineStatus> {
  const status = await getEngine().init({ backend });
  const gib = storedBudgetGiB();
  if (gib !== null) await getEngine().setMemoryBudget(gibToBytes(gib));
  return status;
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

/** What a dropped model folder holds and what converting it offers (the worker reads its configs and headers). */
export function inspectFolderInEngine(files: DroppedFile[]): Promise<ConvertFolderInfo> {
  return getEngine().inspectFolder(files);
}

/** Converts a model folder in the worker into the persistent pack cache and switches to it; cancelLoad() stops it. */
export function convertFolderInEngine(files: DroppedFile[], opts: ConvertFolderOptions, onProgress: (p: ConvertFolderProgress) => void): Promise<PackSummary> {
  askPersistentStorage();
  return getEngine().convertFolder(files, opts, proxy(onProgress));
}

/**
 * Replaces the engine worker with a fresh one on the same backend and pack:
 * what a crash or a lost GPU device needs. Whatever still waits on the old
 * worker rejects with EngineCrashedError.
 */
export async function restartEngine(backend: BackendPreference, packUrl: string): Promise<{ status: EngineStatus; pack: PackSummary }> {
  terminateEngine('the engine was restarted');
  if (isLocalPackUrl(packUrl)) throw new Error('the pack was loaded from a folder on this computer: pick that folder again in the pack panel');
  const status = await initEngine(backend);
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
