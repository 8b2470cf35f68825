/** Words for a pack load's progress: bytes done of total, the rate, and time left. */
import { formatBytes } from '../../app/format';
import type { PackLoadProgress } from '../../engine-client/engine';

export function formatDuration(seconds: number): string {
  if (seconds < 1) return 'under a second';
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m} min ${Math.round(seconds - m * 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function packProgressText(p: PackLoadProgress): string {
  switch (p.kind) {
    case 'manifest':
      return 'Reading the pack manifest…';
    case 'ready':
      return 'Starting the pack…';
    case 'files': {
      const done = `${formatBytes(p.doneBytes)} of ${formatBytes(p.totalBytes)}`;
      if (p.phase === 'verify') return `Checking cached files: ${done} (${p.file})`;
      const rate = p.rate ? ` · ${formatBytes(p.rate)}/s` : '';
      const eta = p.etaSeconds !== null ? ` · ${formatDuration(p.etaSeconds)} left` : '';
      return `Downloading ${done}${rate}${eta} (${p.file})`;
    }
  }
}
