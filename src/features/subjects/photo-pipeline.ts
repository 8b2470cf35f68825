/**
 * Photo work that runs in the photo worker (photo.worker.ts), never on the
 * main thread: decoding, downscaling, re-encoding, hashing and thumbnails.
 * Uses only APIs that workers have (createImageBitmap, OffscreenCanvas,
 * crypto.subtle), so a 50-megapixel camera photo cannot freeze the page.
 */
import { fitWithin } from '../../../workers/pipeline/image/crop';
import { contentId } from '../../state/storage';

/** A stored photo has at most this many pixels: 4000x3000 (12 MP) stays intact, 50 MP is downscaled. */
export const MAX_PHOTO_PIXELS = 12_500_000;
/** JPEG quality of downscaled photos: visually lossless for references, about a tenth of a PNG's size. */
export const JPEG_QUALITY = 0.92;

export interface PreparedPhoto {
  /** Content id (sha256) of `blob`. */
  id: string;
  /** What to store: the file itself when it fits the budget, else a downscaled JPEG (PNG when it has transparency). */
  blob: Blob;
  width: number;
  height: number;
  /** The decoded size of the file (after EXIF orientation). */
  sourceWidth: number;
  sourceHeight: number;
  downscaled: boolean;
}

/** The reason a file cannot be used, worded for the person who dropped it. */
export class PhotoRejected extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PhotoRejected';
  }
}

/** Types that can carry an alpha channel; JPEG cannot, so it skips the transparency scan. */
const MAY_HAVE_ALPHA = /^image\/(png|webp|gif|avif|apng|x-icon|vnd\.microsoft\.icon|bmp|svg\+xml)$/;

function context2d(canvas: OffscreenCanvas): OffscreenCanvasRenderingContext2D {
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('this browser gives no 2D canvas in workers');
  return ctx;
}

/** Whether any pixel is not fully opaque, read in bands so a big photo never needs one huge ImageData. */
function hasTransparency(ctx: OffscreenCanvasRenderingContext2D, width: number, height: number): boolean {
  const band = Math.max(1, Math.floor(4_000_000 / width));
  for (let y = 0; y < height; y += band) {
    const { data } = ctx.getImageData(0, y, width, Math.min(band, height - y));
    for (let i = 3; i < data.length; i += 4) if (data[i]! < 255) return true;
  }
  return false;
}

async function decode(file: Blob, label: string): Promise<ImageBitmap> {
  try {
    return await createImageBitmap(file);
  } catch {
    throw new PhotoRejected(`${label} could not be read as an image: the file is damaged or in a format this browser cannot open.`);
  }
}

/**
 * Decodes `file` and returns what to store. A photo within `maxPixels` is
 * kept byte for byte (no generation loss, and its content id is the file's);
 * a bigger one is resized from the decoded bitmap (one decode, high-quality
 * filter) and re-encoded.
 */
export async function preparePhoto(file: Blob, label: string, maxPixels = MAX_PHOTO_PIXELS): Promise<PreparedPhoto> {
  const bitmap = await decode(file, label);
  const sourceWidth = bitmap.width;
  const sourceHeight = bitmap.height;
  try {
    const fit = fitWithin(sourceWidth, sourceHeight, maxPixels);
    if (fit.width === sourceWidth && fit.height === sourceHeight) {
      const blob = file.slice(0, file.size, file.type);
      return { id: await contentId(blob), blob, width: sourceWidth, height: sourceHeight, sourceWidth, sourceHeight, downscaled: false };
    }
    const resized = await createImageBitmap(bitmap, { resizeWidth: fit.width, resizeHeight: fit.height, resizeQuality: 'high' });
    const canvas = new OffscreenCanvas(fit.width, fit.height);
    const ctx = context2d(canvas);
    ctx.drawImage(resized, 0, 0);
    resized.close();
    const alpha = MAY_HAVE_ALPHA.test(file.type) && hasTransparency(ctx, fit.width, fit.height);
    const blob = await canvas.convertToBlob(alpha ? { type: 'image/png' } : { type: 'image/jpeg', quality: JPEG_QUALITY });
    return { id: await contentId(blob), blob, width: fit.width, height: fit.height, sourceWidth, sourceHeight, downscaled: true };
  } finally {
    bitmap.close();
  }
}

export interface ThumbnailMask {
  /** Raw mask bytes, one per pixel (MaskRef). */
  bytes: Blob;
  width: number;
  height: number;
}

/** Background (mask 0) is darkened and tinted by this much; the subject (255) shows as is. */
const OVERLAY_RGB = [24, 20, 60] as const;
const OVERLAY_ALPHA = 0.7;

/**
 * A square thumbnail (centre crop, like the engine's reference crop) of the
 * photo with its mask over it, as a small JPEG for an <img>.
 */
export async function renderThumbnail(photo: Blob, mask: ThumbnailMask | null, side: number): Promise<Blob> {
  const full = await createImageBitmap(photo);
  const { width, height } = full;
  const crop = Math.min(width, height);
  const sx = Math.floor((width - crop) / 2);
  const sy = Math.floor((height - crop) / 2);
  const canvas = new OffscreenCanvas(side, side);
  const ctx = context2d(canvas);
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(full, sx, sy, crop, crop, 0, 0, side, side);
  full.close();
  if (mask) {
    const bytes = new Uint8Array(await mask.bytes.arrayBuffer());
    if (bytes.length !== mask.width * mask.height) throw new Error(`the mask has ${bytes.length} bytes for ${mask.width}x${mask.height}`);
    const rgba = new Uint8ClampedArray(bytes.length * 4);
    for (let i = 0; i < bytes.length; i++) {
      rgba[4 * i] = OVERLAY_RGB[0];
      rgba[4 * i + 1] = OVERLAY_RGB[1];
      rgba[4 * i + 2] = OVERLAY_RGB[2];
      rgba[4 * i + 3] = (255 - bytes[i]!) * OVERLAY_ALPHA;
    }
    const overlay = await createImageBitmap(new ImageData(rgba, mask.width, mask.height));
    // The mask covers the whole photo at its own resolution: crop it the same way.
    const k = mask.width / width;
    ctx.drawImage(overlay, sx * k, sy * (mask.height / height), crop * k, crop * (mask.height / height), 0, 0, side, side);
    overlay.close();
  }
  return canvas.convertToBlob({ type: 'image/jpeg', quality: 0.85 });
}
