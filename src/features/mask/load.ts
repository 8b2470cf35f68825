/**
 * Opening a photo in the editor: decode it (createImageBitmap works off the
 * main thread), read its saved mask (a mask saved at another size is
 * resampled; a missing or damaged one starts empty, with a warning), and
 * make the small copy the settings preview uses.
 */
import { getBlob } from '../../state/storage';
import type { SubjectImage } from '../../state/subjects-store';
import { thumbSize } from './preview';
import { MaskSession } from './session';

/** Nearest-neighbour resampling of a mask saved at another size (a photo re-imported at a new size). */
function resampleNearest(src: Uint8Array, sw: number, sh: number, dw: number, dh: number): Uint8Array {
  const out = new Uint8Array(dw * dh);
  for (let y = 0; y < dh; y++) {
    const row = Math.min(sh - 1, Math.floor(((y + 0.5) * sh) / dh)) * sw;
    for (let x = 0; x < dw; x++) out[y * dw + x] = src[row + Math.min(sw - 1, Math.floor(((x + 0.5) * sw) / dw))]!;
  }
  return out;
}

/** The photo at the preview's size; createImageBitmap resizes off the main thread. */
async function smallCopy(photo: ImageBitmap): Promise<ImageData> {
  const { width, height } = thumbSize(photo.width, photo.height);
  const small = await createImageBitmap(photo, { resizeWidth: width, resizeHeight: height, resizeQuality: 'high' });
  const ctx = new OffscreenCanvas(width, height).getContext('2d');
  if (!ctx) throw new Error('this browser gives no 2D canvas context');
  ctx.drawImage(small, 0, 0);
  small.close();
  return ctx.getImageData(0, 0, width, height);
}

/** Loads the photo and its saved mask and opens a session on them. */
export async function loadSession(subjectId: string, image: SubjectImage): Promise<MaskSession> {
  const blob = await getBlob(image.id);
  if (!blob) throw new Error(`The photo ${image.fileName} is missing from this browser's storage.`);
  let photo: ImageBitmap;
  try {
    photo = await createImageBitmap(blob);
  } catch (e) {
    throw new Error(`The photo ${image.fileName} could not be decoded: ${(e as Error).message}`, { cause: e });
  }
  const { width, height } = photo;
  let mask: Uint8Array = new Uint8Array(width * height);
  let warning: string | null = null;
  if (image.mask) {
    const saved = await getBlob(image.mask.id);
    const bytes = saved ? new Uint8Array(await saved.arrayBuffer()) : null;
    if (!bytes) warning = 'The saved mask of this photo is missing from storage: painting starts from an empty mask.';
    else if (bytes.length !== image.mask.width * image.mask.height) warning = 'The saved mask of this photo is damaged (wrong size): painting starts from an empty mask.';
    else if (image.mask.width === width && image.mask.height === height) mask = bytes;
    else mask = resampleNearest(bytes, image.mask.width, image.mask.height, width, height);
  }
  return new MaskSession(subjectId, image, photo, await smallCopy(photo), mask, warning);
}
