/** A memory plan as plain text tables, sizes in MiB: what `npm run plan` prints, and what the studio can show. */
import { MIB } from './attention';
import { formatSize, type MemoryPlan } from './planner';

/** MiB with one decimal; three below 1 MiB, so the test pack's small sizes stay readable. */
export const mib = (bytes: number): string => (bytes / MIB).toFixed(bytes < MIB ? 3 : 1);

/** Left-aligns the first column, right-aligns the rest. */
export function textTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function formatPlan(p: MemoryPlan): string {
  const subjects = `${p.subjects} subject${p.subjects === 1 ? '' : 's'} x ${p.referencesPerSubject} reference${p.referencesPerSubject === 1 ? '' : 's'}`;
  const header = [
    `${p.model}: ${p.width} x ${p.height} px, ${subjects}, ${p.refMode} mode, budget ${formatSize(p.budgetBytes)}`,
    `attention: queries chunked so that one layer holds at most ${mib(p.attentionLimitBytes)} MiB of scores`,
  ].join('\n');
  const graphs = textTable(
    ['graph', 'phase', 'weights MiB', 'peak act MiB', 'attn/layer MiB', 'batch', 'chunk / queries', 'keys', 'residency'],
    p.rows.map((r) => [r.name, r.phase, mib(r.weightsBytes), mib(r.peakActivationBytes), mib(r.attentionScoreBytesPerLayer), String(r.batch), `${r.queryChunk} / ${r.queries}`, String(r.keys), r.residency]),
  );
  const caches = textTable(
    ['cache', 'MiB', 'where', 'phases'],
    p.caches.map((c) => [c.name, mib(c.bytes), c.location, c.phases.join(', ')]),
  );
  const phases = textTable(
    ['phase', 'resident MiB', 'loaded MiB', 'activations MiB', 'GPU caches MiB', 'total MiB'],
    p.phases.map((ph) => [ph.phase, mib(ph.residentWeightsBytes), mib(ph.loadedWeightsBytes), mib(ph.activationBytes), mib(ph.gpuCacheBytes), mib(ph.totalBytes)]),
  );
  const verdict = `${p.fits ? 'fits' : 'DOES NOT FIT'}: ${p.message}`;
  const lines = [header, '', graphs, '', caches, '', phases, '', verdict];
  if (p.hostCacheBytes > 0) lines.push(`host memory for caches: ${formatSize(p.hostCacheBytes, 'up')}`);
  for (const w of p.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}

/** One line per plan: the overview the docs show for the presets. */
export function formatSummary(plans: MemoryPlan[]): string {
  return textTable(
    ['model', 'size', 'subjects', 'mode', 'weights MiB', 'step act MiB', 'step attn/layer MiB', 'step chunk', 'peak MiB', 'budget', 'verdict'],
    plans.map((p) => {
      const step = p.rows.find((r) => r.role === 'dit_step' || r.role === 'dit_step_full')!;
      const released = p.rows.filter((r) => r.residency === 'load-and-release').length;
      const verdict = p.fits ? (released ? `fits, ${released} released` : 'fits, all resident') : 'does not fit';
      return [
        p.model,
        `${p.width}x${p.height}`,
        String(p.subjects),
        p.refMode,
        mib(p.rows.reduce((n, r) => n + r.weightsBytes, 0)),
        mib(step.peakActivationBytes),
        mib(step.attentionScoreBytesPerLayer),
        `${step.queryChunk}/${step.queries}`,
        mib(p.peakBytes),
        formatSize(p.budgetBytes),
        verdict,
      ];
    }),
  );
}
