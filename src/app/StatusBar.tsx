import type { EngineStatus, PackSummary } from '../engine-client/engine';
import { errorText, formatBytes } from './format';

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
      {!p.trained && (
        <span className="untrained" data-testid="status.untrained">
          <span className="badge">UNTRAINED</span>
          <span className="untrained-note">random weights: its images look like structured noise; it exists to run every code path</span>
        </span>
      )}
    </>
  );
}

export function StatusBar({ engine, pack }: Props) {
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
