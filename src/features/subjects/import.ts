/**
 * Importing photos into subjects, from a drop, a paste or a file picker. The
 * heavy part (decode with createImageBitmap, downscale to MAX_PHOTO_PIXELS,
 * re-encode, sha256) runs in the photo worker (photo-pipeline.ts); this side
 * picks the subject, stores each photo with putBlob, adds it with
 * actions.addImages and reports every outcome in the panel's live regions.
 * Each file succeeds or fails on its own: a bad file never stops the others.
 */
import { putBlob } from '../../state/storage';
import { useSubjectsStore, type Subject, type SubjectLimits } from '../../state/subjects-store';
import { whenHydrated } from '../../state/hydration';
import { preparePhoto } from './photo-client';
import { useSubjectsUi } from './ui-store';

/** Files bigger than this are refused before decoding: no photo is, and decoding one could exhaust the tab's memory. */
export const MAX_FILE_BYTES = 200 * 1024 * 1024;

/** How long an import waits for the saved subjects to load before it goes on without them. */
const HYDRATION_WAIT_MS = 5000;

const IMAGE_NAME = /\.(jpe?g|jfif|pjpeg|pjp|png|apng|webp|gif|avif|bmp|ico)$/i;

export function fileLabel(file: File): string {
  return `"${file.name || 'pasted image'}"`;
}

/** Why a file is refused without decoding it, or null when it may be an image. */
export function notAnImage(file: File): string | null {
  const label = fileLabel(file);
  const typeOk = file.type ? file.type.startsWith('image/') : IMAGE_NAME.test(file.name);
  if (!typeOk) return `${label} is not an image${file.type ? ` (${file.type})` : ''}: add JPEG, PNG, WebP, GIF or AVIF photos.`;
  if (file.size === 0) return `${label} is empty (0 bytes).`;
  if (file.size > MAX_FILE_BYTES) return `${label} is too large (${Math.round(file.size / 1048576)} MB; the limit is ${MAX_FILE_BYTES / 1048576} MB).`;
  return null;
}

export type ImportTarget = { kind: 'existing'; subjectId: string } | { kind: 'new' } | { kind: 'refuse'; reason: string };

/**
 * Where dropped or pasted photos go: the subject they were dropped on, else
 * the selected subject while it has room, else a new subject.
 */
export function chooseTarget(
  subjects: readonly Subject[],
  selectedId: string | null,
  explicitId: string | null = null,
  { maxSubjects, maxImagesPerSubject }: SubjectLimits = useSubjectsStore.getState().limits,
): ImportTarget {
  const full = (s: Subject) => s.images.length >= maxImagesPerSubject;
  if (explicitId) {
    const s = subjects.find((x) => x.id === explicitId);
    if (!s) return { kind: 'refuse', reason: 'That subject was deleted.' };
    if (full(s)) return { kind: 'refuse', reason: `@${s.name} already has ${maxImagesPerSubject} photos, the most a subject holds: remove one first.` };
    return { kind: 'existing', subjectId: s.id };
  }
  const selected = subjects.find((x) => x.id === selectedId);
  if (selected && !full(selected)) return { kind: 'existing', subjectId: selected.id };
  if (subjects.length < maxSubjects) return { kind: 'new' };
  return {
    kind: 'refuse',
    reason: `${selected ? `@${selected.name} is full and the` : 'The'} studio holds at most ${maxSubjects} subjects: select a subject with room, or remove a photo or a subject first.`,
  };
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The summary line of an import that kept `kept` of `offered` photos on one subject. */
export function summaryText(
  name: string,
  kept: number,
  offered: number,
  refusedForRoom: number,
  maxImagesPerSubject = useSubjectsStore.getState().limits.maxImagesPerSubject,
): string | null {
  if (refusedForRoom > 0) {
    return `Kept ${kept} of ${plural(offered, 'photo')} for @${name}: a subject holds at most ${maxImagesPerSubject} reference photos, so ${plural(refusedForRoom, 'photo was', 'photos were')} not added.`;
  }
  if (kept > 0) return `Added ${plural(kept, 'photo')} to @${name}.`;
  return null;
}

export interface ImportOptions {
  /** The subject the files were dropped on or picked for; otherwise chooseTarget decides. */
  subjectId?: string | null;
}

export interface ImportReport {
  subjectId: string | null;
  kept: number;
  failed: number;
  refusedForRoom: number;
}

const subjectById = (id: string | null) => useSubjectsStore.getState().subjects.find((s) => s.id === id);

/**
 * Ends the current task. Each store update re-renders this panel and every
 * other panel that shows subjects; giving each its own task (with a chance
 * to paint and handle input between) keeps every task short.
 */
const nextTask = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

function problemText(file: File, e: unknown): string {
  const err = e as Error;
  if (err?.name === 'PhotoRejected') return err.message;
  return `${fileLabel(file)} could not be added: ${err?.message ?? String(e)}`;
}

async function runImport(files: readonly File[], options: ImportOptions): Promise<ImportReport> {
  const ui = useSubjectsUi.getState().actions;
  const report: ImportReport = { subjectId: null, kept: 0, failed: 0, refusedForRoom: 0 };
  ui.clearMessages();
  // Appending before the saved subjects have loaded would be overwritten by them. When they cannot load at
  // all (storage broken), zustand never reports hydration: go on after a while and work in memory.
  await Promise.race([whenHydrated(useSubjectsStore), new Promise((resolve) => setTimeout(resolve, HYDRATION_WAIT_MS))]);

  const candidates: File[] = [];
  for (const file of files) {
    const problem = notAnImage(file);
    if (problem) {
      ui.say('error', problem);
      report.failed++;
    } else candidates.push(file);
  }
  if (candidates.length === 0) return report;

  const { subjects, selection, actions } = useSubjectsStore.getState();
  const target = chooseTarget(subjects, selection?.subjectId ?? null, options.subjectId ?? null);
  if (target.kind === 'refuse') {
    ui.say('error', target.reason);
    report.refusedForRoom = candidates.length;
    return report;
  }
  // A new subject is made with the first photo that works, so a batch of bad files leaves no empty subject behind.
  let subjectId = target.kind === 'existing' ? target.subjectId : null;
  ui.setBusy(`Importing ${plural(candidates.length, 'photo')}…`);
  try {
    const deletedMeanwhile = (i: number) => {
      if (!subjectId || subjectById(subjectId)) return false;
      ui.say('error', `Stopped importing: the subject was deleted. ${plural(candidates.length - i, 'photo was', 'photos were')} not added.`);
      return true;
    };
    for (const [i, file] of candidates.entries()) {
      if (deletedMeanwhile(i)) break;
      if ((subjectById(subjectId)?.images.length ?? 0) >= useSubjectsStore.getState().limits.maxImagesPerSubject) {
        report.refusedForRoom = candidates.length - i;
        break;
      }
      ui.setBusy(`Importing ${candidates.length > 1 ? `${i + 1} of ${candidates.length}: ` : ''}${file.name || 'pasted image'}…`);
      try {
        const photo = await preparePhoto(file, fileLabel(file));
        await putBlob(photo.id, photo.blob);
        // The person may have deleted the subject while this photo was decoding.
        if (deletedMeanwhile(i)) break;
        if (!subjectId) {
          subjectId = actions.addSubject().id;
          await nextTask();
        }
        if (subjectById(subjectId)!.images.some((img) => img.id === photo.id)) {
          ui.say('info', `${fileLabel(file)} is already a photo of @${subjectById(subjectId)!.name}.`);
          continue;
        }
        actions.addImages(subjectId, [{ id: photo.id, fileName: file.name || 'pasted image', width: photo.width, height: photo.height, mask: null }]);
        report.kept++;
        await nextTask();
        if (photo.downscaled) {
          const mp = (w: number, h: number) => `${w}×${h} (${((w * h) / 1e6).toFixed(1)} MP)`;
          ui.say('info', `${fileLabel(file)} was downscaled from ${mp(photo.sourceWidth, photo.sourceHeight)} to ${mp(photo.width, photo.height)}.`);
        }
      } catch (e) {
        report.failed++;
        ui.say('error', problemText(file, e));
      }
    }
  } finally {
    ui.setBusy(null);
  }
  report.subjectId = subjectId;
  const subject = subjectById(subjectId);
  const summary = subject && summaryText(subject.name, report.kept, candidates.length, report.refusedForRoom);
  if (summary) ui.say(report.refusedForRoom > 0 ? 'error' : 'info', summary);
  return report;
}

let queue: Promise<unknown> = Promise.resolve();

/**
 * Imports files as reference photos. Imports run one after another, so two
 * quick drops never both fill the same last free slot, and only one huge
 * photo is decoded at a time.
 */
export function importPhotos(files: readonly File[], options: ImportOptions = {}): Promise<ImportReport> {
  const run = queue.then(() => runImport(files, options));
  queue = run.catch(() => undefined);
  return run;
}
