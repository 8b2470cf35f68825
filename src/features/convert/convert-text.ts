/** Words for a folder conversion: the model found, the progress (bytes, tensors, rate, time left), and what a failure means. */
import { errorText, formatBytes } from '../../app/format';
import { engineErrorOf, type ConvertFolderInfo, type ConvertFolderProgress } from '../../engine-client/engine';
import { formatDuration, packProgressText } from '../models/pack-progress-text';

export function folderSummary(info: ConvertFolderInfo): string {
  return `${info.label} · ${formatBytes(info.weightBytes)} of weights in ${info.tensors} tensors (${info.fileCount} files)`;
}

export function convertProgressText(p: ConvertFolderProgress): string {
  switch (p.kind) {
    case 'convert': {
      const phase = p.phase.charAt(0).toUpperCase() + p.phase.slice(1);
      const tensors = `${p.tensorsDone}/${p.tensorsTotal} tensors`;
      if (p.bytesDone >= p.bytesTotal) return `${phase}… · ${formatBytes(p.bytesTotal)} read, ${tensors} · ${formatDuration(p.elapsedSeconds)} so far`;
      const rate = p.rate !== null ? ` · ${formatBytes(p.rate)}/s` : '';
      const eta = p.etaSeconds !== null ? ` · ${formatDuration(p.etaSeconds)} left` : '';
      return `${phase}: ${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)} · ${tensors}${rate}${eta}`;
    }
    case 'store':
      return `Storing the pack in this browser: ${formatBytes(p.doneBytes)} of ${formatBytes(p.totalBytes)} (${p.file})`;
    default:
      return packProgressText(p);
  }
}

/** How far the current stage is (reading the weights, then storing the pack), or null where it cannot be told. */
export function convertProgressFraction(p: ConvertFolderProgress): number | null {
  if (p.kind === 'convert') return p.bytesTotal > 0 ? p.bytesDone / p.bytesTotal : null;
  if (p.kind === 'store') return p.totalBytes > 0 ? p.doneBytes / p.totalBytes : null;
  return null;
}

const HELP: Record<string, string> = {
  'wrong-model': 'This folder cannot be converted.',
  'single-file': 'This folder cannot be converted: the studio needs the diffusers folder layout.',
  'missing-file': 'The folder is incomplete.',
  'missing-component': 'The folder is incomplete.',
  truncated: 'A weights file is damaged or incomplete: download it again.',
  'header-size': 'A weights file is damaged or incomplete: download it again.',
  offsets: 'A weights file is damaged or incomplete: download it again.',
  'read-failed': 'A file could not be read (did it change while it was read?).',
  'bad-json': "The model's files are not what the converter expects.",
  'missing-key': "The model's files are not what the converter expects.",
  'duplicate-key': "The model's files are not what the converter expects.",
  'bad-shape': "The model's files are not what the converter expects.",
  'unsupported-dtype': "The model's files are not what the converter expects.",
  'bad-option': 'These options do not fit this model.',
};

/** A failed inspection or conversion for people: what it means, then the engine's words (which name the file and key). */
export function convertErrorText(e: unknown): { title: string; detail: string } {
  const err = engineErrorOf(e);
  const details = err.details ?? {};
  const where = [typeof details.file === 'string' && !err.message.includes(details.file) ? `file ${details.file}` : '', typeof details.key === 'string' && !err.message.includes(details.key) ? `key ${details.key}` : '']
    .filter(Boolean)
    .join(', ');
  const detail = where ? `${errorText(err)} (${where})` : errorText(err);
  if (err.code === 'cancelled') return { title: 'The conversion was cancelled: nothing was saved, and the studio stays on the current pack.', detail: '' };
  if (err.code === 'pack-quota') return { title: 'Not enough storage for the converted pack.', detail };
  if (err.code === 'pack-plan-refused') return { title: 'The converted pack does not fit the memory budget; nothing was saved.', detail };
  const help = typeof details.convertCode === 'string' ? HELP[details.convertCode] : undefined;
  return { title: `${help ?? 'The conversion failed.'} The studio stays on the current pack.`, detail };
}
