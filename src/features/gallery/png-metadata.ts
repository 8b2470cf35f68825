/**
 * The request that made an image travels inside its PNG, as JSON in a tEXt
 * chunk with the keyword "subject-studio", so a downloaded image can be
 * imported back (here or in another browser) and made again.
 *
 * Chunk parsing and CRCs come from png-chunks-extract / png-chunks-encode /
 * png-chunk-text. The new chunk is spliced in before IEND rather than
 * re-encoding the whole file: png-chunks-encode copies every chunk through a
 * plain array for its CRC, which for a large image's IDAT would be a long
 * task on the main thread.
 */
import extractChunks from 'png-chunks-extract';
import encodeChunks from 'png-chunks-encode';
import { decode as decodeText, encode as encodeText } from 'png-chunk-text';

export const PNG_KEYWORD = 'subject-studio';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && SIGNATURE.every((b, i) => bytes[i] === b);
}

/**
 * tEXt holds Latin-1 only: escape everything outside ASCII as JSON \u
 * sequences, which keeps the text valid JSON with the same meaning.
 */
export function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Offset of the IEND chunk (walking chunk headers only: no CRC work), or -1. */
function iendOffset(png: Uint8Array): number {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let at = 8;
  while (at + 8 <= png.length) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(png[at + 4]!, png[at + 5]!, png[at + 6]!, png[at + 7]!);
    if (type === 'IEND') return at;
    at += 12 + length;
  }
  return -1;
}

/** The PNG with a tEXt chunk `keyword` = `text` added before IEND. */
export function withTextChunk(png: Uint8Array, keyword: string, text: string): Uint8Array {
  if (!isPng(png)) throw new Error('not a PNG file');
  const end = iendOffset(png);
  if (end < 0) throw new Error('the PNG has no IEND chunk');
  // encodeChunks writes the signature and then the chunk with its CRC: keep the chunk.
  const chunk = encodeChunks([encodeText(keyword, text)]).subarray(SIGNATURE.length);
  const out = new Uint8Array(png.length + chunk.length);
  out.set(png.subarray(0, end), 0);
  out.set(chunk, end);
  out.set(png.subarray(end), end + chunk.length);
  return out;
}

/** The text of the first tEXt chunk named `keyword`, or null. Throws on a corrupt PNG (bad CRC, truncated). */
export function readTextChunk(png: Uint8Array, keyword: string): string | null {
  if (!isPng(png)) throw new Error('not a PNG file');
  for (const chunk of extractChunks(png)) {
    if (chunk.name !== 'tEXt') continue;
    const { keyword: k, text } = decodeText(chunk.data);
    if (k === keyword) return text;
  }
  return null;
}

/** Width and height from the IHDR chunk, which the PNG format puts first. */
export function pngSize(png: Uint8Array): { width: number; height: number } {
  if (!isPng(png) || png.length < 24) throw new Error('not a PNG file');
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

/** A PNG blob with `value` embedded as JSON under PNG_KEYWORD. */
export async function embedJson(png: Blob, value: unknown): Promise<Blob> {
  const bytes = new Uint8Array(await png.arrayBuffer());
  return new Blob([withTextChunk(bytes, PNG_KEYWORD, asciiJson(value)) as Uint8Array<ArrayBuffer>], { type: 'image/png' });
}
