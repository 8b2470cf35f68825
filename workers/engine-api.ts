/**
 * The engine's API: owns the onnxruntime-web runtime, the GPU device and every
 * session. engine.worker.ts exposes one engine per worker; unit tests make
 * their own in Node.
 */
import type { Tokenizer } from '@huggingface/tokenizers';
import { readPackTokenizer } from './pipeline/text/pack-tokenizer';
import { transfer } from 'comlink';
import * as ort from 'onnxruntime-web';
import { EngineError } from './errors';
import type { GenerateInput, GenerateOutput, PromptReport, SubjectInput } from './generation-types';
import { sha256 } from './pack/manifest';
import { CancelledError, Engine, type EngineCacheSizes, type SubjectSpec } from './pipeline/engine';
import type { GenerateProgress } from './pipeline/progress';
import { prepareReferences } from './pipeline/references';
import { compilePrompt } from './pipeline/text/prompt';
import { decodeReference, resampleMask } from './runtime/decode';
import { probeAttention, type AttentionProbe } from './runtime/probe';
import { graphBytes, type AttentionKind, type GraphRole, type GraphSpec, type PackManifest } from './pack/manifest';
import {
  listCachedPacks,
  loadPack,
  loadPackFromBlobs,
  PackLoadError,
  type FetchLike,
  type LoadedPack,
  type PackLoadHooks,
  type PackLoadProgress,
  type PackSummary,
} from './pack/loader';
import { localPackUrl } from './pack/local-pack';
import { folderConversion, inspectDroppedFolder, type ConvertFolderOptions, type DroppedFile } from './convert/browser/convert-into-cache';
import { convertedPackFetch, isConvertedPackUrl } from './convert/browser/converted-pack';
import type { ConvertFolderInfo } from './convert/browser/inspect';
import type { ConvertFolderProgress } from './convert/browser/progress';
import { deleteCachedPack, MemoryBlobStore, type BlobStore } from './pack/store/blob-store';
import { OpfsBlobStore } from './pack/store/opfs-store';
import { defaultBudgetBytes, planPack, type PackPlanSummary } from './plan/pack-plan';
import { chooseBackend, type BackendChoice } from './runtime/backend';
import type { AdapterSummary, Backend, BackendPreference } from './runtime/backend-types';
import type { PlainTensor } from './runtime/dtypes';
import { ortVersion } from './runtime/ort-version';
import { SerialQueue } from './runtime/serial';
import { GraphSessions } from './runtime/sessions';
import { fromOrtTensor, toOrtTensor } from './runtime/tensors';

export interface EngineStatus {
  ready: boolean;
  backend: Backend | null;
  requested: BackendPreference | null;
  fallbackReason: string | null;
  adapter: AdapterSummary | null;
  ortVersion: string;
  pack: PackSummary | null;
  /** role/attention of the graphs whose sessions exist. */
  sessions: string[];
  /** The attention conformance probe on this backend, and what it chose per role. */
  attentionProbe: AttentionProbe | null;
  attentionChoice: Record<string, AttentionKind> | null;
  /** Set once the GPU device is lost: the engine must be restarted. */
  deviceLost: string | null;
  /** Entries and bytes in the engine's caches (text encodings, reference latents, reference K/V). */
  caches: EngineCacheSizes | null;
  /** Bytes of the loaded pack's graphs (what its sessions hold as weights). */
  modelBytes: number | null;
  /** Approximate bytes held by the JS heap of the worker, where the browser reports it. */
  heapBytes: number | null;
}

/** The attention bias of one branch, row-major [rows, cols], and its token layout. */
export interface AttentionPlanView {
  rows: number;
  cols: number;
  textTokens: number;
  imageTokens: number;
  refTokens: number;
  /** Each subject's reference columns. */
  subjects: { name: string; start: number; count: number }[];
  biasMin: number;
  bias: Float32Array;
}

export interface EngineApiDeps {
  /** Sets onnxruntime-web's global options (where its .wasm lives, threads); runs before the first session. */
  configureRuntime: () => void;
  /** How pack files are fetched; the global fetch by default. */
  fetch?: FetchLike;
  /** The pack cache; default: OPFS where the browser has it, else memory. */
  store?: BlobStore;
  /** Free storage for the pack cache; default: navigator.storage.estimate(). */
  storageEstimate?: () => Promise<{ quota: number; usage: number } | undefined>;
  /** Refuses a pack whose memory plan cannot fit (throws a PackLoadError 'plan-refused'), before any file is fetched. */
  checkPlan?: (m: PackManifest, graphs: Map<GraphRole, GraphSpec>) => void | Promise<void>;
}

/** A pack in the persistent cache, as the pack panel lists it. */
export interface CachedPack {
  url: string;
  name: string;
  version: string;
  bytes: number;
  cachedAt: number;
  /** The engine's current pack. */
  loaded: boolean;
  storage: BlobStore['kind'];
}

async function browserStorageEstimate(): Promise<{ quota: number; usage: number } | undefined> {
  const storage = (globalThis.navigator as (Navigator & { storage?: StorageManager }) | undefined)?.storage;
  if (!storage?.estimate) return undefined;
  const e = await storage.estimate();
  return e.quota === undefined ? undefined : { quota: e.quota, usage: e.usage ?? 0 };
}

/** Calls a progress callback that may fail (the page went away) without breaking the work it reports on. */
function safeCall<T>(fn: ((p: T) => unknown) | undefined, p: T): void {
  try {
    void Promise.resolve(fn?.(p)).catch(() => undefined);
  } catch {
    /* ignored */
  }
}

/** Decodes an image file to planar RGB [3, H, W] in [-1, 1] at the generation size (decodeReference in the worker). */
export type ReferenceDecoder = (blob: Blob, width: number, height: number, label: string) => Promise<Float32Array>;

/**
 * Decodes and prepares a subject's reference images for the engine (cached by
 * content in the engine). The worker decodes with its canvas APIs; Node tools
 * pass their own decoder.
 */
export async function prepareSubject(
  m: PackManifest,
  s: SubjectInput,
  index: number,
  W: number,
  H: number,
  decode: ReferenceDecoder = decodeReference,
): Promise<SubjectSpec> {
  const placeholder = m.tokenizer.placeholders[index];
  if (!placeholder) {
    throw new EngineError('bad-input', `this pack supports at most ${m.tokenizer.placeholders.length} subjects`, { details: { maxSubjects: m.tokenizer.placeholders.length } });
  }
  const grid = m.latent.downsample * m.transformer.patchSize;
  const references = [];
  for (const [i, img] of s.images.entries()) {
    const rgb = await decode(img.blob, W, H, `image ${i + 1} of @${s.name}`);
    const mask = img.mask ? resampleMask(img.mask, W, H) : null;
    const maskKey = img.mask ? await sha256(img.mask.data) : null;
    references.push(
      ...prepareReferences(
        { imageKey: img.id, maskKey, rgb, mask, width: W, height: H },
        { maskSettings: s.maskSettings, fill: s.fill, frequency: s.frequency, gridW: W / grid, gridH: H / grid },
      ),
    );
  }
  return { name: s.name, classWord: s.classWord, placeholder, gamma: s.strength, references, layerStart: s.layerStart, stepWindow: s.stepWindow };
}

export function createEngineApi(deps: EngineApiDeps) {
  const queue = new SerialQueue();
  let requested: BackendPreference | null = null;
  let choosing: Promise<BackendChoice> | null = null;
  let choice: BackendChoice | null = null;
  let current: {
    pack: LoadedPack;
    sessions: GraphSessions;
    engine: Engine;
    tokenizer: Tokenizer;
    probe: AttentionProbe;
    choice: Record<string, AttentionKind>;
  } | null = null;
  let running: AbortController | null = null;
  let loading: AbortController | null = null;
  let deviceLost: string | null = null;
  let store: Promise<BlobStore> | null = null;
  /** The user's memory budget in bytes; null: the backend's default. */
  let userBudget: number | null = null;
  const budgetBytes = (): number =>
    userBudget ?? defaultBudgetBytes(choice?.backend ?? 'wasm', (globalThis.navigator as { deviceMemory?: number } | undefined)?.deviceMemory);
  const packStore = (): Promise<BlobStore> =>
    (store ??= deps.store ? Promise.resolve(deps.store) : OpfsBlobStore.open().then((s) => s ?? new MemoryBlobStore()));

  const requireLive = () => {
    if (deviceLost) throw new EngineError('device-lost', `GPU device lost (${deviceLost}): the engine must be restarted`, { details: { reason: deviceLost } });
  };

  const requireBackend = (): BackendChoice => {
    if (!choice) throw new EngineError('not-initialised', 'the engine is not initialised: call init() first');
    return choice;
  };

  const requirePack = (): NonNullable<typeof current> => {
    if (!current) throw new EngineError('no-pack', 'no model pack is loaded');
    return current;
  };

  const snapshot = (): EngineStatus => ({
    ready: choice !== null,
    backend: choice?.backend ?? null,
    requested,
    fallbackReason: choice?.fallbackReason ?? null,
    adapter: choice?.adapter ?? null,
    ortVersion: ortVersion(),
    pack: current?.pack.summary ?? null,
    sessions: current?.sessions.created() ?? [],
    attentionProbe: current?.probe ?? null,
    attentionChoice: current?.choice ?? null,
    deviceLost,
    caches: current?.engine.cacheSizes() ?? null,
    modelBytes: current ? current.sessions.createdSpecs().reduce((n, g) => n + graphBytes(g), 0) : null,
    heapBytes: (globalThis.performance as { memory?: { usedJSHeapSize: number } } | undefined)?.memory?.usedJSHeapSize ?? null,
  });

  /** On WebGPU: inputs uploaded once, so those fed at every step stay in GPU buffers. */
  const gpuTensorMaker = async (): Promise<((data: Float32Array, dims: number[]) => ort.Tensor) | undefined> => {
    if (choice?.backend !== 'webgpu') return undefined;
    const device = (await ort.env.webgpu.device) as GPUDevice;
    void device.lost.then((info) => {
      deviceLost = info.message || info.reason || 'unknown reason';
    });
    return (data, dims) => {
      const buffer = device.createBuffer({
        size: Math.ceil(data.byteLength / 16) * 16,
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      });
      device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
      return ort.Tensor.fromGpuBuffer(buffer, { dataType: 'float32', dims, dispose: () => buffer.destroy() });
    };
  };

  const packId = (m: LoadedPack['manifest']) => `${m.name}@${m.version}`;

  const subjectSpec = (s: SubjectInput, index: number, W: number, H: number): Promise<SubjectSpec> => prepareSubject(current!.pack.manifest, s, index, W, H);

  const releaseCurrent = async (): Promise<void> => {
    const old = current;
    current = null;
    running?.abort();
    await old?.engine.dispose();
    await old?.sessions.releaseAll();
  };

  /** The fused-attention choice per role on this backend (the conformance probe, run before any weight is fetched). */
  async function chooseAttention(m: PackManifest): Promise<{ probe: AttentionProbe; choice: Record<string, AttentionKind> }> {
    const { backend } = requireBackend();
    const probe = await queue.run(() => probeAttention(backend, m.transformer.heads, m.transformer.hiddenSize, m.attentionBiasMin));
    const fusedOk = (withBias: boolean) => probe.cases.find((c) => c.withBias === withBias)?.fusedMatches ?? false;
    const choice: Record<string, AttentionKind> = {};
    for (const g of m.graphs) {
      if (g.attention === 'none') choice[g.role] = 'none';
      else if (!(g.role in choice)) choice[g.role] = 'decomposed';
      if (g.attention === 'mha' && fusedOk(g.role !== 'text_encoder')) choice[g.role] = 'mha';
    }
    return { probe, choice };
  }

  /** Refuses, before any file is fetched, a graph whose largest weight cannot be one GPU buffer. */
  const checkGpuLimits = (m: PackManifest, graphs: Map<GraphRole, GraphSpec>): void => {
    const max = choice?.adapter?.maxBufferSize;
    if (!max || choice?.backend !== 'webgpu') return;
    for (const g of graphs.values()) {
      if ((g.largestTensorBytes ?? 0) > max) {
        throw new PackLoadError('too-large-for-gpu', `pack ${m.name}: a weight of ${g.role} has ${g.largestTensorBytes} bytes, more than this GPU's largest buffer (${max} bytes)`);
      }
    }
  };

  /**
   * Loads a pack and makes it current, transactionally: the manifest, the
   * attention choice, the checks and every file come first; the old pack is
   * released only once all of that worked, so a failed switch changes nothing.
   */
  async function switchTo(load: (opts: PackLoadHooks) => Promise<LoadedPack>, onProgress?: (p: PackLoadProgress) => void): Promise<PackSummary> {
    const { backend } = requireBackend();
    requireLive();
    loading?.abort();
    const ctrl = new AbortController();
    loading = ctrl;
    try {
      let attention: Awaited<ReturnType<typeof chooseAttention>> | undefined;
      let plan: PackPlanSummary | undefined;
      const pack = await load({
        signal: ctrl.signal,
        onProgress: (p) => safeCall(onProgress, p),
        choose: async (m) => {
          attention = await chooseAttention(m);
          const graphs = new Map<GraphRole, GraphSpec>();
          for (const g of m.graphs) if (g.attention === (attention.choice[g.role] ?? 'decomposed')) graphs.set(g.role, g);
          return graphs;
        },
        check: async (m, graphs) => {
          checkGpuLimits(m, graphs);
          plan = planPack(m, budgetBytes(), choice?.adapter?.maxBufferSize).summary;
          if (!plan.fits) throw new PackLoadError('plan-refused', `pack ${m.name} cannot be loaded: it ${plan.message}. Raise the memory budget if this device has more.`);
          await deps.checkPlan?.(m, graphs);
        },
      });
      ctrl.signal.throwIfAborted();
      return await activate({ ...pack, summary: { ...pack.summary, memoryPlan: plan ?? null } }, backend, attention!.probe, attention!.choice);
    } catch (e) {
      if (ctrl.signal.aborted && !(e instanceof PackLoadError)) throw new PackLoadError('cancelled', 'loading the pack was cancelled; the studio stays on the current pack', { cause: e });
      throw e;
    } finally {
      if (loading === ctrl) loading = null;
    }
  }

  /** Makes a loaded, verified pack the current one: tokenizer, sessions, engine. Only here is the old pack released. */
  async function activate(pack: LoadedPack, backend: Backend, probe: AttentionProbe, choiceByRole: Record<string, AttentionKind>): Promise<PackSummary> {
      const m = pack.manifest;
      const tokenizer = await readPackTokenizer(pack);
      await queue.run(releaseCurrent);
      const sessions = new GraphSessions(pack, backend);
      const makeTensor = await gpuTensorMaker();
      const engine = new Engine({
        packId: packId(m),
        manifest: m,
        sessions: { get: (role, attention) => queue.run(() => sessions.get(role, attention)) },
        attention: (role) => choiceByRole[role] ?? 'decomposed',
        tokenize: (prompt, subjects) => compilePrompt(tokenizer, m, prompt, subjects),
        createSession: (_name, model) =>
          ort.InferenceSession.create(model, { executionProviders: [backend], preferredOutputLocation: backend === 'webgpu' ? 'gpu-buffer' : 'cpu' }),
        makeTensor,
      });
      current = { pack, sessions, engine, tokenizer, probe, choice: choiceByRole };
      return pack.summary;
  }

  return {
    /** Picks the backend once per engine; a different choice needs a fresh worker. */
    async init(opts: { backend?: BackendPreference } = {}): Promise<EngineStatus> {
      const want = opts.backend ?? 'auto';
      if (requested !== null && requested !== want) {
        throw new EngineError('bad-input', `the engine was initialised with backend=${requested}; start a new worker to use backend=${want}`);
      }
      if (!choosing) {
        requested = want;
        deps.configureRuntime();
        choosing = queue.run(() => chooseBackend(want));
        void choosing.then(
          (c) => (choice = c),
          () => {
            // Let a later init() try again.
            choosing = null;
            requested = null;
          },
        );
      }
      choice = await choosing;
      return snapshot();
    },

    async status(): Promise<EngineStatus> {
      return snapshot();
    },

    /**
     * Fetches the pack at `url` (its manifest is `${url}/manifest.json`) into
     * the persistent cache, only the graphs this engine will run, and switches
     * to it once every file checked out. `onProgress` gets bytes, rate and time
     * left; cancelLoad() stops it, keeping what was downloaded for next time.
     */
    async loadPack(url: string, onProgress?: (p: PackLoadProgress) => void): Promise<PackSummary> {
      const store = await packStore();
      // A pack converted in this browser has nothing to fetch: only its cached copy is read.
      const fetchFn = isConvertedPackUrl(url) ? convertedPackFetch : deps.fetch;
      return switchTo((hooks) => loadPack(url, { ...hooks, fetch: fetchFn, store, storageEstimate: deps.storageEstimate ?? browserStorageEstimate }), onProgress);
    },

    /** Which model a dropped folder holds and what converting it offers (sizes, precisions); a ConvertError says why not. */
    async inspectFolder(files: DroppedFile[]): Promise<ConvertFolderInfo> {
      return inspectDroppedFolder(files);
    },

    /**
     * Converts a Stable Diffusion 3 / 3.5 diffusers folder (paths relative to
     * the dropped folder) here, in the worker, into the persistent pack cache,
     * and switches to it like any pack load. cancelLoad() stops it; a cancelled
     * or failed conversion leaves the cache and the current pack as they were.
     */
    async convertFolder(files: DroppedFile[], opts: ConvertFolderOptions, onProgress?: (p: ConvertFolderProgress) => void): Promise<PackSummary> {
      const report = (p: ConvertFolderProgress) => safeCall(onProgress, p);
      const conversion = folderConversion(files, opts, { store: await packStore(), storageEstimate: deps.storageEstimate ?? browserStorageEstimate, onProgress: report, budgetBytes: budgetBytes() });
      try {
        return await switchTo(conversion.load, report);
      } catch (e) {
        await conversion.rollback().catch(() => undefined);
        throw e;
      }
    },

    /**
     * Loads a pack from files the user picked (a folder: manifest.json and the
     * files it lists, paths relative to the folder or under one top folder).
     * The files are verified and used in place, not copied.
     */
    async loadPackFiles(files: { path: string; blob: Blob }[], onProgress?: (p: PackLoadProgress) => void): Promise<PackSummary> {
      const paths = files.map((f) => f.path.replace(/^\/+/, ''));
      const manifestPath = paths.find((p) => p === 'manifest.json' || /^[^/]+\/manifest\.json$/.test(p));
      if (!manifestPath) throw new EngineError('pack-not-found', 'the chosen folder has no manifest.json: pick the pack folder itself');
      const prefix = manifestPath.slice(0, -'manifest.json'.length);
      const byName = new Map(files.map((f, i) => [paths[i]!.slice(prefix.length), f.blob]));
      return switchTo((hooks) => loadPackFromBlobs(localPackUrl(prefix.replace(/\/$/, '')), byName, hooks), onProgress);
    },

    /**
     * Sets the memory budget the plan must fit (bytes; null for the default) and
     * returns the current pack's plan under it. It applies to the next pack load.
     */
    async setMemoryBudget(bytes: number | null): Promise<{ budgetBytes: number; plan: PackPlanSummary | null }> {
      if (bytes !== null && !(Number.isFinite(bytes) && bytes > 0)) throw new EngineError('bad-input', `a memory budget must be a positive number of bytes, got ${bytes}`);
      userBudget = bytes;
      const plan = current ? planPack(current.pack.manifest, budgetBytes(), choice?.adapter?.maxBufferSize).summary : null;
      if (current && plan) current.pack.summary.memoryPlan = plan;
      return { budgetBytes: budgetBytes(), plan };
    },

    /** Stops a pack load (or a folder conversion) in progress; the current pack stays. */
    async cancelLoad(): Promise<boolean> {
      const had = loading !== null;
      loading?.abort();
      return had;
    },

    /** Packs in the persistent cache, with the bytes each holds. */
    async cachedPacks(): Promise<CachedPack[]> {
      const store = await packStore();
      const loadedUrl = current?.pack.url ?? null;
      return (await listCachedPacks(store)).map((p) => ({ ...p, loaded: p.url === loadedUrl, storage: store.kind }));
    },

    /** Deletes a cached pack (not the loaded one) and every file no other cached pack uses. Returns the bytes freed. */
    async deleteCachedPack(url: string): Promise<number> {
      if (current?.pack.url === url) throw new EngineError('bad-input', 'this pack is in use: switch to another pack before deleting it');
      return deleteCachedPack(await packStore(), url);
    },

    /** Releases every session of the loaded pack. */
    async unloadPack(): Promise<void> {
      await queue.run(releaseCurrent);
    },

    /**
     * Generates one image. `onProgress` gets the typed progress events
     * (comlink proxies it); exactly one of done / error / cancelled ends them.
     * A newer generate() cancels one still running.
     */
    async generate(input: GenerateInput, onProgress: (p: GenerateProgress) => void = () => {}): Promise<GenerateOutput> {
      requireBackend();
      requireLive();
      const loaded = requirePack();
      running?.abort();
      const ctrl = new AbortController();
      running = ctrl;
      const report = (p: GenerateProgress) => {
        // A progress callback that fails (the page went away) must not break the run.
        try {
          void Promise.resolve(onProgress(p)).catch(() => undefined);
        } catch {
          /* ignored */
        }
      };
      // The engine ends the progress stream itself once it runs; before that (decoding, validation) this does.
      let engineStarted = false;
      try {
        const { maxSubjects } = loaded.pack.manifest.tokens;
        if (input.subjects.length > maxSubjects) {
          throw new EngineError('bad-input', `at most ${maxSubjects} subjects per image, got ${input.subjects.length}`, { details: { maxSubjects, got: input.subjects.length } });
        }
        report({ kind: 'loading', what: 'reference images' });
        const subjects = [];
        for (const [i, s] of input.subjects.entries()) subjects.push(await subjectSpec(s, i, input.width, input.height));
        if (ctrl.signal.aborted) throw new CancelledError(0);
        const compiled = compilePrompt(loaded.tokenizer, loaded.pack.manifest, input.prompt, subjects);
        engineStarted = true;
        const result = await loaded.engine.generate({ ...input, subjects }, report, ctrl.signal);
        const out: GenerateOutput = {
          width: result.width,
          height: result.height,
          rgba: result.rgba,
          timings: { totalMs: result.timings.totalMs, sessionMs: result.timings.sessionMs, stepMs: result.timings.stepMs },
          graphRuns: result.graphRuns,
          truncatedText: compiled.truncation?.droppedText ?? null,
          unknownNames: compiled.unknownNames.map((u) => u.name),
        };
        return transfer(out, [out.rgba.buffer as ArrayBuffer]);
      } catch (e) {
        if (!engineStarted) report(e instanceof CancelledError ? { kind: 'cancelled', atStep: 0 } : { kind: 'error', message: (e as Error).message });
        throw e;
      } finally {
        if (running === ctrl) running = null;
      }
    },

    /**
     * Decodes a subject's photos and runs their reference pass now (cached
     * mode), so that the next generation starts with them ready. Returns the
     * reference token count.
     */
    async encodeSubject(subject: SubjectInput, width: number, height: number): Promise<{ referenceTokens: number }> {
      requireBackend();
      requireLive();
      const loaded = requirePack();
      const spec = await subjectSpec(subject, 0, width, height);
      return { referenceTokens: await loaded.engine.encodeSubject(spec, width, height) };
    },

    /**
     * The attention bias B of a request's conditional branch at the first
     * step (METHOD.md section 8: inspectable for debugging), with the token
     * layout to label it.
     */
    async attentionPlan(input: GenerateInput): Promise<AttentionPlanView> {
      requireBackend();
      const loaded = requirePack();
      const subjects: SubjectSpec[] = [];
      for (const [i, s] of input.subjects.entries()) subjects.push(await subjectSpec(s, i, input.width, input.height));
      const { plan, textTokens, imageTokens } = await queue.run(() => loaded.engine.attentionPlanPreview({ ...input, subjects }));
      const view: AttentionPlanView = {
        rows: plan.rows,
        cols: plan.cols,
        textTokens,
        imageTokens,
        refTokens: plan.dummyReference ? 0 : plan.refTokens,
        subjects: subjects.map((s, i) => ({ name: s.name, ...plan.subjectColumns[i]! })),
        biasMin: loaded.pack.manifest.attentionBiasMin,
        bias: plan.bias,
      };
      return transfer(view, [view.bias.buffer as ArrayBuffer]);
    },

    /** Cancels the running generation; it stops before its next step. */
    async cancel(): Promise<boolean> {
      const had = running !== null;
      running?.abort();
      return had;
    },

    /** Token use of a prompt with the pack's tokenizer, for the prompt editor. */
    async promptReport(prompt: string, subjects: { name: string; classWord: string }[]): Promise<PromptReport> {
      const loaded = requirePack();
      const m = loaded.pack.manifest;
      const withPlaceholders = subjects.slice(0, m.tokenizer.placeholders.length).map((s, i) => ({ ...s, placeholder: m.tokenizer.placeholders[i]! }));
      const c = compilePrompt(loaded.tokenizer, m, prompt, withPlaceholders);
      return {
        tokenCount: c.tokenCount,
        maxTokens: m.tokens.maxText,
        unknownNames: c.unknownNames.map((u) => u.name),
        truncatedText: c.truncation?.droppedText ?? null,
        concepts: c.concepts,
      };
    },

    /** Runs one graph of the loaded pack (a debug and test entry point). Outputs are transferred, not copied. */
    async runGraph(role: GraphRole, attention: AttentionKind, feeds: Record<string, PlainTensor>): Promise<Record<string, PlainTensor>> {
      requireBackend();
      const loaded = requirePack();
      const spec = loaded.sessions.spec(role, attention);
      const missing = spec.inputs.filter((t) => !(t.name in feeds)).map((t) => t.name);
      const unknown = Object.keys(feeds).filter((n) => !spec.inputs.some((t) => t.name === n));
      if (missing.length || unknown.length) {
        const problems = [missing.length ? `missing inputs ${missing.join(', ')}` : '', unknown.length ? `unknown inputs ${unknown.join(', ')}` : ''];
        throw new EngineError('bad-input', `graph ${role}/${attention}: ${problems.filter(Boolean).join('; ')}`, { details: { missing, unknown } });
      }
      const ortFeeds = Object.fromEntries(Object.entries(feeds).map(([name, t]) => [name, toOrtTensor(name, t)]));
      const outputs = await queue.run(async () => {
        const session = await loaded.sessions.get(role, attention);
        const results = await session.run(ortFeeds);
        const plain: Record<string, PlainTensor> = {};
        for (const [name, tensor] of Object.entries(results)) plain[name] = await fromOrtTensor(name, tensor);
        return plain;
      });
      return transfer(outputs, [...new Set(Object.values(outputs).map((t) => t.data.buffer as ArrayBuffer))]);
    },
  };
}
