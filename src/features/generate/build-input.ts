/**
 * From the studio's stores to the engine's GenerateInput: which subjects the
 * prompt uses, their photos and masks out of the blob store, and the checks
 * that deserve a clear sentence before any run starts.
 */
import type { GenerateInput, SubjectInput } from '../../engine-client/engine';
import { findSubjectIndex, parseMentions } from '../../../workers/pipeline/text/prompt';
import type { GalleryRequest } from '../../state/gallery-store';
import type { StudioSettings } from '../../state/settings-store';
import { getBlob } from '../../state/storage';
import type { Subject } from '../../state/subjects-store';

/** One preview per step: the test pack's previews are tiny (latent size), and steps are what people wait on. */
const PREVIEW_EVERY = 1;

export type Plan = { subjects: Subject[] } | { problem: string };

/** The subjects a prompt uses (in order of first mention), or what stops it from running. */
export function planRequest(prompt: string, subjects: readonly Subject[]): Plan {
  if (!prompt.trim()) return { problem: 'Write a prompt first: describe the image, and use @name for a subject.' };
  const used: Subject[] = [];
  const unknown: string[] = [];
  for (const m of parseMentions(prompt)) {
    const s = subjects[findSubjectIndex(m.name, subjects)];
    if (!s) unknown.push(`@${m.name}`);
    else if (!used.includes(s)) used.push(s);
  }
  if (unknown.length > 0) {
    const names = [...new Set(unknown)].join(', ');
    const known = subjects.length ? ` Your subjects: ${subjects.map((s) => `@${s.name}`).join(', ')}.` : ' You have no subjects yet.';
    return { problem: `The prompt names ${names}, but there is no such subject: add it in Subjects or fix the name.${known}` };
  }
  const bare = used.filter((s) => s.images.length === 0);
  if (bare.length > 0) return { problem: `${bare.map((s) => `@${s.name}`).join(', ')} has no photos yet: add at least one photo of it.` };
  return { subjects: used };
}

async function requireBlob(id: string, what: string): Promise<Blob> {
  const blob = await getBlob(id);
  if (!blob) throw new Error(`${what} is missing from this browser's storage: add it again`);
  return blob;
}

async function subjectInput(s: Subject): Promise<SubjectInput> {
  const images = await Promise.all(
    s.images.map(async (img) => ({
      id: img.id,
      blob: await requireBlob(img.id, `the photo ${img.fileName} of @${s.name}`),
      mask: img.mask
        ? {
            width: img.mask.width,
            height: img.mask.height,
            data: new Uint8Array(await (await requireBlob(img.mask.id, `the mask of ${img.fileName} of @${s.name}`)).arrayBuffer()),
          }
        : null,
    })),
  );
  const { name, classWord, strength, maskSettings, fill, frequency, layerStart, stepWindow } = s;
  return { name, classWord, strength, images, maskSettings, fill, frequency, layerStart, stepWindow };
}

export interface BuiltRequest {
  input: GenerateInput;
  /** What goes into the gallery with the image. */
  request: GalleryRequest;
}

/** The engine input and the gallery request for one run, with `seed` as the seed used. */
export async function buildRequest(
  text: { prompt: string; negativePrompt: string },
  subjects: Subject[],
  settings: StudioSettings,
  seed: number,
  pack: { name: string; version: string },
): Promise<BuiltRequest> {
  const { randomSeed: _random, ...engineSettings } = settings;
  const input: GenerateInput = {
    ...engineSettings,
    seed,
    previewEvery: PREVIEW_EVERY,
    prompt: text.prompt,
    negativePrompt: text.negativePrompt,
    subjects: await Promise.all(subjects.map(subjectInput)),
  };
  const request: GalleryRequest = { version: 1, prompt: text.prompt, negativePrompt: text.negativePrompt, subjects, settings: { ...settings }, seed, pack };
  return { input, request };
}
