/**
 * PNG in Node (pngjs): files to RGBA and back, and the Node counterparts of
 * the worker's reference decoding (runtime/decode.ts, which needs
 * createImageBitmap and OffscreenCanvas): a photo to planar RGB at the
 * generation size, and a mask image to the studio's MaskData.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { PNG } from 'pngjs';
import type { MaskData } from '../generation-types';
import type { ReferenceDecoder } from '../engine-api';
import { centerCropRect } from '../pipeline/image/crop';
import { maskToTokenGrid } from '../pipeline/image/mask';
import { ImageDecodeError } from '../runtime/decode';

export interface RgbaImage {
  width: number;
  height: number;
  /** RGBA bytes, row-major. */
  data: Uint8Array;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Decodes PNG bytes to RGBA (any bit depth or colour type; 16-bit is reduced to 8). `label` names the source in errors. */
export function decodePng(bytes: Uint8Array, label = 'the image'): RgbaImage {
  if (!PNG_SIGNATURE.every((b, i) => bytes[i] === b)) throw new ImageDecodeError(`${label} is not a PNG file (${bytes.length} bytes)`);
  let png: PNG;
  try {
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (e) {
    throw new ImageDecodeError(`${label} could not be decoded as a PNG: the file is corrupt (${(e as Error).message})`);
  }
  return { width: png.width, height: png.height, data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength) };
}

/** Encodes RGBA bytes (8-bit, row-major) as a PNG. */
export function encodePng(img: { width: number; height: number; data: Uint8Array | Uint8ClampedArray }): Uint8Array {
  if (img.data.length !== img.width * img.height * 4) throw new Error(`RGBA data of ${img.data.length} bytes for ${img.width}x${img.height}`);
  const png = new PNG({ width: img.width, height: img.height });
  png.data = Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength);
  return new Uint8Array(PNG.sync.write(png));
}

export async function readPng(path: string): Promise<RgbaImage> {
  return decodePng(await readImageFile(path), path);
}

export async function writePng(path: string, img: { width: number; height: number; data: Uint8Array | Uint8ClampedArray }): Promise<void> {
  await writeFile(path, encodePng(img));
}

/** The bytes of an image file, with a one-line error when it cannot be read. */
export async function readImageFile(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : (e as Error).message}`, { cause: e });
  }
}

/**
 * RGBA at any size -> planar RGB [3, H, W] in [-1, 1] at width x height:
 * centre-cropped to the aspect ratio like the worker does, then area-averaged
 * (exact box resampling). The browser's canvas resampler differs by a few
 * levels per pixel, so the same photo gives close, not identical, references.
 */
export function rgbaToReference(img: RgbaImage, width: number, height: number): Float32Array {
  const crop = centerCropRect(img.width, img.height, width, height);
  const plane = new Float32Array(crop.sw * crop.sh);
  const rgb = new Float32Array(3 * width * height);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < crop.sh; y++)
      for (let x = 0; x < crop.sw; x++) plane[y * crop.sw + x] = img.data[4 * ((crop.sy + y) * img.width + crop.sx + x) + c]!;
    const resized = maskToTokenGrid(plane, crop.sw, crop.sh, width, height);
    // Rounded to bytes first, as a canvas would hold them.
    for (let i = 0; i < resized.length; i++) rgb[c * width * height + i] = Math.round(resized[i]!) / 127.5 - 1;
  }
  return rgb;
}

/** The Node decoder for prepareSubject: PNG files only. */
export const decodeReferencePng: ReferenceDecoder = async (blob, width, height, label) =>
  rgbaToReference(decodePng(new Uint8Array(await blob.arrayBuffer()), label), width, height);

/**
 * A mask image -> MaskData (0 = background, 255 = subject): the grey level
 * (mean of R, G, B) times alpha, so white is the subject and black or
 * transparent is background.
 */
export function rgbaToMask(img: RgbaImage): MaskData {
  const n = img.width * img.height;
  const data = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const grey = (img.data[4 * i]! + img.data[4 * i + 1]! + img.data[4 * i + 2]!) / 3;
    data[i] = Math.round((grey * img.data[4 * i + 3]!) / 255);
  }
  return { width: img.width, height: img.height, data };
}
