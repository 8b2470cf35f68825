/**
 * The engine's API: owns the onnxruntime-web runtime, the GPU device and every
 * session. engine.worker.ts exposes one engine per worker; unit tests make
 * their own in Node.
 */
import { transfer } from 'comlink';
import type { AttentionKind, GraphRole } from './pack/manifest';
import { loadPack, type FetchLike, type LoadedPack, type PackSummary } from './pack/loader';
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
}

export interface EngineApiDeps {
  /** Sets onnxruntime-web's global options (where its .wasm lives, threads); runs before the first session. */
  configureRuntime: () => void;
  /** How pack files are fetched; the global fetch by default. */
  fetch?: FetchLike;
}

export function createEngineApi(deps: EngineApiDeps) {
  const queue = new SerialQueue();
  let requested: BackendPreference | null = null;
  let choosing: Promise<BackendChoice> | null = null;
  let choice: BackendChoice | null = null;
  let current: { pack: LoadedPack; sessions: GraphSessions } | null = null;

  const requireBackend = (): BackendChoice => {
    if (!choice) throw new Error('the engine is not initialised: call init() first');
    return choice;
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
  });

  const releaseCurrent = async (): Promise<void> => {
    const old = current;
    current = null;
    await old?.sessions.releaseAll();
  };

  return {
    /** Picks the backend once per engine; a different choice needs a fresh worker. */
    async init(opts: { backend?: BackendPreference } = {}): Promise<EngineStatus> {
      const want = opts.backend ?? 'auto';
      if (requested !== null && requested !== want) {
        throw new Error(`the engine was initialised with backend=${requested}; start a new worker to use backend=${want}`);
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

    /** Fetches and verifies the pack at `url` (its manifest is `${url}/manifest.json`), replacing any loaded pack. */
    async loadPack(url: string): Promise<PackSummary> {
      const { backend } = requireBackend();
      const pack = await loadPack(url, deps.fetch);
      await queue.run(releaseCurrent);
      current = { pack, sessions: new GraphSessions(pack, backend) };
      return pack.summary;
    },

    /** Releases every session of the loaded pack. */
    async unloadPack(): Promise<void> {
      await queue.run(releaseCurrent);
    },

    /** Runs one graph of the loaded pack (a debug and test entry point). Outputs are transferred, not copied. */
    async runGraph(role: GraphRole, attention: AttentionKind, feeds: Record<string, PlainTensor>): Promise<Record<string, PlainTensor>> {
      requireBackend();
      const loaded = current;
      if (!loaded) throw new Error('no model pack is loaded');
      const spec = loaded.sessions.spec(role, attention);
      const missing = spec.inputs.filter((t) => !(t.name in feeds)).map((t) => t.name);
      const unknown = Object.keys(feeds).filter((n) => !spec.inputs.some((t) => t.name === n));
      if (missing.length || unknown.length) {
        const problems = [missing.length ? `missing inputs ${missing.join(', ')}` : '', unknown.length ? `unknown inputs ${unknown.join(', ')}` : ''];
        throw new Error(`graph ${role}/${attention}: ${problems.filter(Boolean).join('; ')}`);
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
