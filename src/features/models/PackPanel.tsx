import type { PackSummary } from '../../engine-client/engine';
import { formatBytes } from '../../app/format';

export function PackPanel({ pack }: { pack: PackSummary }) {
  return (
    <section className="panel" data-testid="pack.panel">
      <h2>Model pack</h2>
      {pack.description && <p className="muted">{pack.description}</p>}
      <p>
        Default resolution {pack.defaultResolution.width}×{pack.defaultResolution.height} · loaded from <code>{pack.url}</code>
      </p>
      <table className="graphs" data-testid="pack.graphs">
        <thead>
          <tr>
            <th>Graph</th>
            <th>Attention</th>
            <th>Weights</th>
            <th className="num">Size</th>
          </tr>
        </thead>
        <tbody>
          {pack.graphs.map((g) => (
            <tr key={g.file}>
              <td>{g.role}</td>
              <td>{g.attention}</td>
              <td>
                {g.precision.matmul}
                {g.precision.blockSize ? ` (block ${g.precision.blockSize})` : ''} / conv {g.precision.conv}
              </td>
              <td className="num">{formatBytes(g.bytes)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
