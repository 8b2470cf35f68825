/**
 * Reference images in the worker: Blob -> pixels at the generation size
 * (centre-cropped to its aspect ratio), and painted masks resampled the same
 * way. Uses createImageBitmap and OffscreenCanvas (worker APIs).
 */
import type { MaskData } from '../generation-types';
import { centerCropRect } from '../pipeline/image/crop';
import { maskToTokenGrid } from '../pipeline/image/mask';

export class ImageDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageDecodeError';
  }
}

/** Decodes an image file and returns planar RGB [3, H, W] in [-1, 1] at width x height. */
export async function decodeReference(blob: Blob, width: number, height: number, label: string): Promise<Float32Array> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob);
  } catch (e) {
    throw new ImageDecodeError(
      `${label} could not be decoded as an image (${blob.type || 'unknown type'}, ${blob.size} bytes): the file is corrupt or not an image (${(e as Error).message})`,
    );
  }
  try {
    const crop = centerCropRect(bitmap.width, bitmap.height, width, height);
    const canvas = new OffscreenCanvas(width, height);
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) throw new Error('no 2D canvas context in this worker');
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(bitmap, crop.sx, crop.sy, crop.sw, crop.sh, 0, 0, width, height);
    const { data } = ctx.getImageData(0, 0, width, height);
    const n = width * height;
    const rgb = new Float32Array(3 * n);
    for (let i = 0; i < n; i++) {
      rgb[i] = data[4 * i]! / 127.5 - 1;
      rgb[n + i] = data[4 * i + 1]! / 127.5 - 1;
      rgb[2 * n + i] = data[4 * i + 2]! / 127.5 - 1;
    }
    return rgb;
  } finally {
    bitmap.close();
  }
}

/** A painted mask, centre-cropped like its image and area-averaged to width x height, values in [0, 1]. */
export function resampleMask(mask: MaskData, width: number, height: number): Float32Array {
  if (mask.data.length !== mask.width * mask.height) throw new Error(`mask of ${mask.data.length} bytes for ${mask.width}x${mask.height}`);
  const crop = centerCropRect(mask.width, mask.height, width, height);
  const cropped = new Float32Array(crop.sw * crop.sh);
  for (let y = 0; y < crop.sh; y++)
    for (let x = 0; x < crop.sw; x++) cropped[y * crop.sw + x] = mask.data[(crop.sy + y) * mask.width + crop.sx + x]! / 255;
  return maskToTokenGrid(cropped, crop.sw, crop.sh, width, height);
}
