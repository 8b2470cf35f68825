/**
 * The decode stage: final latents -> RGBA through the VAE decoder, and the
 * per-step previews: through the pack's tiny preview decoder when it has one
 * (SD3 with TAESD3), otherwise a decoder-free view of the latents.
 */
import type * as ort from 'onnxruntime-web';
import type { PreviewImage } from '../progress';
import { GraphRunner } from './graph-runner';

export class Decoder {
  constructor(
    private readonly runner: GraphRunner,
    private readonly hasPreviewDecoder: boolean,
  ) {}

  /** The image and the latents it came from ([C, h, w]). */
  async decode(x: ort.Tensor, width: number, height: number): Promise<{ rgba: Uint8ClampedArray; latents: Float32Array }> {
    const out = await this.runner.run('vae_decoder', { latent: x });
    const img = await GraphRunner.read(out.image!, true);
    const latents = (await GraphRunner.read(x)).slice();
    return { rgba: planarToRgba(img, width, height), latents };
  }

  /** A step preview; reads the latents (or the preview decoder's image) back: the only reason a step does. */
  async preview(x: ort.Tensor): Promise<PreviewImage> {
    const [, C, h, w] = x.dims as number[];
    if (!this.hasPreviewDecoder) return latentPreview(await GraphRunner.read(x), C!, h!, w!);
    const out = await this.runner.run('preview_decoder', { latent: x });
    const image = out.image!;
    const [, , H, W] = image.dims as number[];
    return { width: W!, height: H!, rgba: planarToRgba(await GraphRunner.read(image, true), W!, H!) };
  }
}

/** [3, H, W] in [-1, 1] -> RGBA bytes (clamped, rounded). */
export function planarToRgba(img: Float32Array, width: number, height: number): Uint8ClampedArray {
  const n = width * height;
  const out = new Uint8ClampedArray(n * 4);
  for (let i = 0; i < n; i++) {
    out[i * 4] = Math.round((img[i]! + 1) * 127.5);
    out[i * 4 + 1] = Math.round((img[n + i]! + 1) * 127.5);
    out[i * 4 + 2] = Math.round((img[2 * n + i]! + 1) * 127.5);
    out[i * 4 + 3] = 255;
  }
  return out;
}

/**
 * A low-cost preview: the first three latent channels (or fewer) as RGB,
 * each normalised to its own range. No decoder run.
 */
export function latentPreview(x: Float32Array, C: number, h: number, w: number): PreviewImage {
  const n = h * w;
  const rgba = new Uint8ClampedArray(n * 4);
  for (let c = 0; c < 3; c++) {
    const ch = Math.min(c, C - 1);
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < n; i++) {
      const v = x[ch * n + i]!;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    const span = hi - lo || 1;
    for (let i = 0; i < n; i++) rgba[i * 4 + c] = Math.round(((x[ch * n + i]! - lo) / span) * 255);
  }
  for (let i = 0; i < n; i++) rgba[i * 4 + 3] = 255;
  return { width: w, height: h, rgba };
}
