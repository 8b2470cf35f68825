import type { EngineStatus, PackSummary } from '../engine-client/engine';
import { useEngineStatus, useStorageUse } from '../engine-client/queries';
import { useGenerationStore } from '../state/generation-store';
import { errorText, formatBytes } from './format';
import './StatusBar.css';

interface Props {
  engine: { status: 'pending' | 'error' | 'success'; data?: EngineStatus; error: unknown };
  pack: { status: 'pending' | 'error' | 'success'; fetchStatus: 'fetching' | 'paused' | 'idle'; data?: PackSummary; error: unknown };
}

function BackendItem({ engine }: Pick<Props, 'engine'>) {
  if (engine.status === 'pending') return <span className="status-value muted">starting…</span>;
  if (engine.status === 'error' || !engine.data?.backend) return <span className="status-value bad">none</span>;
  const { backend, adapter, fallbackReason } = engine.data;
  return (
    <>
      <span className="status-value" data-testid="status.backend" data-backend={backend}>
        {backend}
      </span>
      <span className="status-detail" data-testid="status.adapter">
        {adapter ? `${adapter.vendor || 'unknown vendor'} · ${adapter.architecture || 'unknown architecture'}` : 'no GPU adapter'}
      </span>
      {fallbackReason && (
        <span className="status-detail warn" data-testid="status.fallback" title={fallbackReason}>
          WebGPU unavailable: {fallbackReason}
        </span>
      )}
    </>
  );
}

function PackItem({ pack }: Pick<Props, 'pack'>) {
  if (pack.status === 'error') return <span className="status-value bad">not loaded</span>;
  if (!pack.data) {
    return <span className="status-value muted">{pack.fetchStatus === 'fetching' ? 'loading…' : 'waiting for the engine'}</span>;
  }
  const p = pack.data;
  return (
    <>
      <span className="status-value" data-testid="status.pack" data-pack-name={p.name} data-pack-version={p.version}>
        {p.name} <span className="muted">v{p.version}</span>
      </span>
      <span className="status-detail" data-testid="status.pack-size">
        {formatBytes(p.totalBytes)} in {p.fileCount} files
      </span>
      {p.vocabulary && (
        <span className="status-detail" data-testid="status.pack-about" title={p.description}>
          {p.description.split(/[:.]/)[0]}; it knows {p.vocabulary.length} words
        </span>
      )}
      {!p.trained && (
        <span className="untrained" data-testid="status.untrained" title="Random weights: its images look like structured noise; it exists to run every code path.">
          <span className="badge">UNTRAINED</span>
          <span className="untrained-note">random weights: its images look like structured noise; it exists to run every code path</span>
        </span>
      )}
    </>
  );
}

/** The DiT's attention kernel decides speed: fused (one MultiHeadAttention op) or decomposed (MatMul, Softmax). */
function AttentionItem({ choice }: { choice: Record<string, string> | null | undefined }) {
  if (!choice) return null;
  const dit = choice.dit_step ?? choice.dit_reference;
  const words = (kind: string) => (kind === 'mha' ? 'fused' : kind);
  const detail = Object.entries(choice)
    .filter(([, kind]) => kind !== 'none')
    .map(([role, kind]) => `${role}: ${words(kind)}`)
    .join(', ');
  return (
    <div className="status-item">
      <span className="status-label">Attention</span>
      <span className="status-value" data-testid="status.attention" data-attention={dit ?? ''} title={`Attention per graph (from the conformance probe on this backend): ${detail}`}>
        {dit ? words(dit) : 'n/a'}
      </span>
    </div>
  );
}

function MemoryItem({ status }: { status: EngineStatus | undefined }) {
  const storage = useStorageUse();
  const heap = status?.heapBytes ?? null;
  // Where the browser does not report the worker's heap, what the engine itself holds: model graphs and caches.
  // (Sessions are created on first use: right after a start there is nothing to show yet.)
  const engineBytes = status?.modelBytes ? status.modelBytes + (status.caches?.bytes ?? 0) : null;
  const used = storage.data?.usedBytes ?? null;
  const quota = storage.data?.quotaBytes ?? null;
  const parts = [
    heap !== null ? `heap ${formatBytes(heap)}` : engineBytes !== null ? `engine ${formatBytes(engineBytes)}` : null,
    used !== null ? `disk ${formatBytes(used)}${quota !== null ? ` of ${formatBytes(quota)}` : ''}` : null,
  ].filter(Boolean);
  const title = [
    heap !== null ? `Engine worker JS heap: ${formatBytes(heap)}` : 'The browser does not report the engine worker heap',
    status?.modelBytes != null ? `Model graphs in use: ${formatBytes(status.modelBytes)}` : null,
    status?.caches ? `Engine caches: ${formatBytes(status.caches.bytes)} (${status.caches.text} prompts, ${status.caches.latents} reference latents, ${status.caches.referenceKV} reference K/V${status.caches.residentReferenceBytes > 0 ? `; ${formatBytes(status.caches.residentReferenceBytes)} of the current references kept on the ${status.backend === 'webgpu' ? 'GPU' : 'device'}` : ''})` : null,
    used !== null ? `Site storage: ${formatBytes(used)}${quota !== null ? ` of ${formatBytes(quota)} allowed` : ''}, ${storage.data?.blobs ?? 0} stored images and masks` : null,
  ]
    .filter(Boolean)
    .join('\n');
  if (parts.length === 0) return null;
  return (
    <div className="status-item">
      <span className="status-label">Memory</span>
      <span className="status-detail status-memory" data-testid="status.memory" title={title}>
        {parts.join(' · ')}
      </span>
    </div>
  );
}

export function StatusBar({ engine, pack }: Props) {
  const live = useEngineStatus(pack.status === 'success');
  const restarting = useGenerationStore((s) => s.recovery?.phase === 'restarting');
  const errors = [engine.status === 'error' ? engine.error : null, pack.status === 'error' ? pack.error : null].filter((e) => e !== null);
  return (
    <div className="status-bar" data-testid="status">
      <div className="status-item">
        <span className="status-label">Backend</span>
        <BackendItem engine={engine} />
      </div>
      <div className="status-item">
        <span className="status-label">Pack</span>
        <PackItem pack={pack} />
      </div>
      {restarting && (
        <div className="status-item">
          <span className="status-value warn" data-testid="status.restarting">
            engine restarting…
          </span>
        </div>
      )}
      <AttentionItem choice={live.data?.attentionChoice} />
      <MemoryItem status={live.data} />
      {engine.data && (
        <div className="status-item">
          <span className="status-label">Runtime</span>
          <span className="status-detail" data-testid="status.ort">onnxruntime-web {engine.data.ortVersion}</span>
        </div>
      )}
      {errors.length > 0 && (
        <div className="status-errors" role="alert" data-testid="status.error">
          {errors.map((e, i) => (
            <pre key={i}>{errorText(e)}</pre>
          ))}
        </div>
      )}
    </div>
  );
}
