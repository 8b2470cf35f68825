/**
 * Gallery requests: reading one back from untrusted JSON (an imported PNG
 * may come from anywhere, or an older studio) and putting one back into the
 * prompt, subjects and settings ("Reuse", import).
 */
import { DEFAULT_FREQUENCY, DEFAULT_MASK_SETTINGS } from '../../../workers/generation-types';
import type { GalleryRequest } from '../../state/gallery-store';
import { usePromptStore } from '../../state/prompt-store';
import { DEFAULT_SETTINGS, MAX_SEED, sanitizeSettings, useSettingsStore } from '../../state/settings-store';
import { getBlob } from '../../state/storage';
import { nameProblem, useSubjectsStore, type Subject, type SubjectImage } from '../../state/subjects-store';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown, fallback = '') => (typeof v === 'string' ? v : fallback);
const num = (v: unknown, fallback: number) => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);

function parseImage(v: unknown): SubjectImage | null {
  if (!isObject(v) || typeof v.id !== 'string') return null;
  const m = v.mask;
  const mask = isObject(m) && typeof m.id === 'string' ? { id: m.id, width: num(m.width, 0), height: num(m.height, 0) } : null;
  return { id: v.id, fileName: str(v.fileName, 'photo'), width: num(v.width, 0), height: num(v.height, 0), mask };
}

function parseSubject(v: unknown, index: number): Subject | null {
  if (!isObject(v) || typeof v.name !== 'string' || nameProblem(v.name, []) !== null) return null;
  const window = Array.isArray(v.stepWindow) && v.stepWindow.length === 2 ? v.stepWindow : [0, 1];
  return {
    id: str(v.id, `imported-${index}`),
    name: v.name,
    classWord: str(v.classWord),
    strength: Math.max(0, num(v.strength, 1)),
    images: (Array.isArray(v.images) ? v.images : []).map(parseImage).filter((i): i is SubjectImage => i !== null),
    maskSettings: { ...DEFAULT_MASK_SETTINGS, ...(isObject(v.maskSettings) ? v.maskSettings : {}) },
    fill: v.fill === 'gray' || v.fill === 'blur' ? v.fill : 'black',
    frequency: { ...DEFAULT_FREQUENCY, ...(isObject(v.frequency) ? v.frequency : {}) },
    layerStart: num(v.layerStart, 0),
    stepWindow: [num(window[0], 0), num(window[1], 1)],
  };
}

/** A request from parsed JSON, or a sentence saying why it is not one. */
export function parseGalleryRequest(value: unknown): GalleryRequest | string {
  if (!isObject(value)) return 'its Subject Studio data is not an object';
  if (value.version !== 1) return `its Subject Studio data has version ${String(value.version)}, which this studio does not read`;
  if (typeof value.prompt !== 'string') return 'its Subject Studio data has no prompt';
  const settings = { ...DEFAULT_SETTINGS, ...sanitizeSettings(isObject(value.settings) ? value.settings : {}) };
  const pack = isObject(value.pack) ? value.pack : {};
  return {
    version: 1,
    prompt: value.prompt,
    negativePrompt: str(value.negativePrompt),
    subjects: (Array.isArray(value.subjects) ? value.subjects : []).map(parseSubject).filter((s): s is Subject => s !== null),
    settings,
    seed: Math.min(MAX_SEED, Math.max(0, Math.round(num(value.seed, settings.seed)))),
    pack: { name: str(pack.name, 'unknown'), version: str(pack.version, '?') },
  };
}

export interface ReuseReport {
  /** Photos (or masks) the request refers to that this browser does not have. */
  missingPhotos: string[];
}

/** The subject without the photos (and masks) missing from storage. */
async function keepStoredPhotos(s: Subject, missing: string[]): Promise<Subject> {
  const images: SubjectImage[] = [];
  for (const img of s.images) {
    if (!(await getBlob(img.id))) {
      missing.push(`${img.fileName} of @${s.name}`);
      continue;
    }
    const maskOk = !img.mask || (await getBlob(img.mask.id)) !== undefined;
    if (!maskOk) missing.push(`the mask of ${img.fileName} of @${s.name}`);
    images.push(maskOk ? img : { ...img, mask: null });
  }
  return { ...s, images };
}

/**
 * Puts a request's prompt, subjects and settings back. The request's subjects
 * replace those of the same name; other subjects stay (as room allows), so
 * reusing an image never throws away unrelated work. The seed becomes the one
 * used, with random seeds off, so Generate makes the same image again.
 */
export async function reuseRequest(req: GalleryRequest): Promise<ReuseReport> {
  const missingPhotos: string[] = [];
  const restored: Subject[] = [];
  for (const s of req.subjects) restored.push(await keepStoredPhotos(s, missingPhotos));
  const names = new Set(restored.map((s) => s.name.toLowerCase()));
  const ids = new Set(restored.map((s) => s.id));
  const others = useSubjectsStore.getState().subjects.filter((s) => !names.has(s.name.toLowerCase()) && !ids.has(s.id));
  useSubjectsStore.getState().actions.replaceAll([...restored, ...others].slice(0, Math.max(useSubjectsStore.getState().limits.maxSubjects, restored.length)));
  const prompt = usePromptStore.getState().actions;
  prompt.setPrompt(req.prompt);
  prompt.setNegativePrompt(req.negativePrompt);
  useSettingsStore.getState().actions.patch({ ...req.settings, seed: req.seed, randomSeed: false });
  return { missingPhotos };
}
