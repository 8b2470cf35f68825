/** The loaded model pack (what it is, its size and precision, whether it is trained) and loading another. */
import { isConvertedPackUrl, type PackSummary } from '../../engine-client/engine';
import { ConvertFolder } from '../convert/ConvertFolder';
import { formatBytes } from '../../app/format';
import { isLocalPackUrl } from './pack-hooks';
import { precisionSummary } from './pack-load';
import { CachedPacks } from './CachedPacks';
import { LoadPack } from './LoadPack';
import { MemoryPlan } from './MemoryPlan';
import './packs.css';

function Source({ url }: { url: string }) {
  if (isLocalPackUrl(url)) return <>a folder on this computer</>;
  if (isConvertedPackUrl(url)) return <>converted in this browser</>;
  return <code className="pack-url">{url}</code>;
}

export function PackPanel({ pack }: { pack: PackSummary }) {
  const caps = pack.capabilities;
  return (
    <section className="panel pack-panel" data-testid="pack.panel" aria-labelledby="pack-title">
      <h2 id="pack-title">Model pack</h2>
      <p className="pack-name">
        <strong data-testid="pack.name">{pack.name}</strong> <span className="muted">v{pack.version}</span>{' '}
        {pack.trained ? (
          <span className="badge pack-trained">trained</span>
        ) : (
          <span className="badge pack-untrained" data-testid="pack.untrained" title="Random weights: its images look like structured noise; it exists to run every code path.">
            UNTRAINED
          </span>
        )}
      </p>
      {pack.description && <p className="muted pack-description">{pack.description}</p>}
      <dl className="pack-facts">
        <dt>Size</dt>
        <dd data-testid="pack.size">
          {formatBytes(pack.totalBytes)} in {pack.fileCount} files
        </dd>
        <dt>Precision</dt>
        <dd data-testid="pack.precision">{precisionSummary(pack.graphs)}</dd>
        <dt>Sizes</dt>
        <dd>{caps.resolutions.map((r) => `${r.width}×${r.height}`).join(', ')}</dd>
        <dt>Limits</dt>
        <dd data-testid="pack.limits">
          {caps.maxTextTokens} tokens · {caps.maxSubjects} subjects · {caps.maxReferencesPerSubject} photos each
        </dd>
        <dt>From</dt>
        <dd data-testid="pack.source">
          <Source url={pack.url} />
        </dd>
        {pack.source && (
          <>
            <dt>Made</dt>
            <dd data-testid="pack.made">
              {pack.source.kind} from {pack.source.model} <span className="muted">({pack.source.tool})</span>
            </dd>
          </>
        )}
        {pack.licence && (
          <>
            <dt>Licence</dt>
            <dd data-testid="pack.licence">{pack.licence}</dd>
          </>
        )}
        <dt>Stored</dt>
        <dd data-testid="pack.storage">
          {pack.storage === 'opfs' ? `in this browser (${formatBytes(pack.loadedBytes)} loaded)` : pack.storage === 'folder' ? 'read from the folder' : 'in memory only (not kept after a reload)'}
        </dd>
      </dl>
      <details className="pack-graphs">
        <summary>{pack.graphs.length} graphs</summary>
        <table className="graphs" data-testid="pack.graphs">
          <thead>
            <tr>
              <th>Graph</th>
              <th title="Weight precision: linear layers / convolutions">Precision</th>
              <th className="num">Size</th>
            </tr>
          </thead>
          <tbody>
            {pack.graphs.map((g) => (
              <tr key={g.file}>
                <td>
                  {g.role}
                  <span className="muted"> · {g.attention}</span>
                </td>
                <td title={`linear layers ${g.precision.matmul}${g.precision.blockSize ? ` in blocks of ${g.precision.blockSize}` : ''}, convolutions ${g.precision.conv}`}>
                  {g.precision.matmul}
                  {g.precision.blockSize ? `·${g.precision.blockSize}` : ''}/{g.precision.conv}
                </td>
                <td className="num">{formatBytes(g.bytes)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
      <MemoryPlan key={pack.url} initial={pack.memoryPlan} />
      <CachedPacks loadedUrl={pack.url} />
      <h3 className="pack-subtitle">Load another pack</h3>
      <LoadPack />
      <h3 className="pack-subtitle">Convert a model folder</h3>
      <ConvertFolder />
    </section>
  );
}
