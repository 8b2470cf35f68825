/**
 * The reference stage: a prepared reference photo -> its VAE latents and,
 * for cached mode, every layer's reference K/V from the reference pass
 * (conditioned on the subject's reference prompt); both cached by content
 * (LRU, bounded in bytes). For a request it gathers the references of every
 * subject, real and black (the dropped reference), in plan order.
 */
import * as ort from 'onnxruntime-web';
import type { FamilyAdapter } from '../../families';
import type { PackManifest } from '../../pack/manifest';
import { ByteLru } from '../byte-lru';
import { GraphRunner } from './graph-runner';
import type { TextConditioner } from './text-conditioner';

/** One reference token set: an image (or one frequency band of it) prepared at the generation size. */
export interface PreparedReference {
  /** Content key: image hash, mask hash, mask settings, band, resolution. */
  key: string;
  /** [3, H, W] planar RGB in [-1, 1], background already filled. */
  rgb: Float32Array;
  /** The processed mask on the token grid, [R]; null = all ones. */
  tokenMask: Float32Array | null;
  /** Band weight (gamma_orig / gamma_low / gamma_high), multiplies the subject's gamma. */
  gammaScale: number;
}

export interface ReferenceKV {
  /** [layers, R, D]. */
  k: Float32Array;
  v: Float32Array;
  tokens: number;
}

/** What the step graph takes for the references: cached K/V, or latents and pooled vectors (full mode). */
export type RefInputs = { k: Float32Array; v: Float32Array } | { latents: Float32Array; pooled: Float32Array };

export interface ReferenceSubject {
  classWord: string;
  references: Pick<PreparedReference, 'key' | 'rgb'>[];
}

export class ReferenceEncoder {
  private readonly latentCache: ByteLru<Float32Array>;
  private readonly kvCache: ByteLru<ReferenceKV>;

  constructor(
    private readonly runner: GraphRunner,
    private readonly text: TextConditioner,
    private readonly family: FamilyAdapter,
    private readonly manifest: PackManifest,
    private readonly packId: string,
    limits: { latentBytes: number; referenceKVBytes: number },
  ) {
    this.latentCache = new ByteLru(limits.latentBytes, (l) => l.byteLength);
    this.kvCache = new ByteLru(limits.referenceKVBytes, (kv) => kv.k.byteLength + kv.v.byteLength);
  }

  get sizes(): { latents: number; referenceKV: number; bytes: number } {
    return { latents: this.latentCache.size, referenceKV: this.kvCache.size, bytes: this.latentCache.bytes + this.kvCache.bytes };
  }

  clear(): void {
    this.latentCache.clear();
    this.kvCache.clear();
  }

  /** [C, h, w] of the latents at a generation size. */
  latentDims(width: number, height: number): [number, number, number] {
    const { channels, downsample } = this.manifest.latent;
    return [channels, height / downsample, width / downsample];
  }

  /** VAE-encodes a prepared reference, cached by its key. */
  async latents(ref: Pick<PreparedReference, 'key' | 'rgb'>, width: number, height: number): Promise<Float32Array> {
    const key = `${this.packId}|${ref.key}|${width}x${height}`;
    const hit = this.latentCache.get(key);
    if (hit) return hit;
    const out = await this.runner.run('vae_encoder', { image: new ort.Tensor('float32', ref.rgb, [1, 3, height, width]) });
    const lat = await GraphRunner.read(out.latent!);
    this.latentCache.set(key, lat);
    return lat;
  }

  /**
   * Per-layer reference K/V of one reference (cached mode), keyed by content, reference prompt and
   * size, and by `index` (its place among the generation's references) for a family that places
   * each reference on its own coordinate (FLUX.2: time 10 + 10 index, baked into the cached keys).
   */
  async kv(ref: Pick<PreparedReference, 'key' | 'rgb'>, classWord: string, width: number, height: number, index = 0): Promise<ReferenceKV> {
    const refPrompt = this.family.referenceReadsText ? this.family.referencePrompt(classWord) : '';
    const placed = this.family.referencePositions !== undefined;
    const key = `${this.packId}|${ref.key}|${refPrompt}|${width}x${height}${placed ? `|#${index}` : ''}`;
    const hit = this.kvCache.get(key);
    if (hit) return hit;
    const lat = await this.latents(ref, width, height);
    const [C, h, w] = this.latentDims(width, height);
    const feeds: Record<string, ort.Tensor> = { ref_latents: new ort.Tensor('float32', lat, [1, C, h, w]) };
    if (this.family.referenceReadsText) {
      const pooled = (await this.text.encodeText(refPrompt)).pooled;
      feeds.ref_pooled = new ort.Tensor('float32', pooled, [1, pooled.length]);
    }
    const p = this.manifest.transformer.patchSize;
    for (const [name, t] of Object.entries(this.family.referencePositions?.(index, { height: h / p, width: w / p }) ?? {})) feeds[name] = new ort.Tensor('float32', t.data, t.dims);
    const out = await this.runner.run('dit_reference', feeds);
    const k = await GraphRunner.read(out.ref_k!);
    const kv = { k, v: await GraphRunner.read(out.ref_v!), tokens: out.ref_k!.dims[2]! };
    this.kvCache.set(key, kv);
    return kv;
  }

  /** The all-black reference used for dropping (AlignGen), cached like any reference. */
  black(width: number, height: number): Pick<PreparedReference, 'key' | 'rgb'> {
    return { key: `black:${width}x${height}`, rgb: new Float32Array(3 * width * height).fill(-1) };
  }

  /** Runs a subject's reference passes ahead of a generation; returns its reference token count. */
  async warm(subject: ReferenceSubject, width: number, height: number): Promise<number> {
    let tokens = 0;
    // Warmed at the indices a generation with this subject alone uses.
    for (const [i, r] of subject.references.entries()) {
      tokens += (await this.kv(r, subject.classWord, width, height, i)).tokens;
      await this.kv(this.black(width, height), subject.classWord, width, height, i);
    }
    return tokens;
  }

  /**
   * The step graph's reference inputs for a request, real and black, every
   * subject's references concatenated in plan order (`R` reference tokens,
   * `N` per reference). `onReference` is called after each one.
   */
  async gather(
    subjects: ReferenceSubject[],
    mode: 'cached' | 'full',
    size: { width: number; height: number; N: number; R: number },
    checkCancel: () => void,
    onReference: (done: number) => void,
  ): Promise<{ real: RefInputs; black: RefInputs; key: string }> {
    const { width, height, N, R } = size;
    // Names the gathered inputs by content: the references' keys, class words (their reference prompts), the size.
    const key = `${this.packId}|${width}x${height}|${R}|${subjects.map((s) => `${s.classWord}:${s.references.map((r) => r.key).join(',')}`).join(';')}`;
    const tf = this.manifest.transformer;
    const blackImg = this.black(width, height);
    let done = 0;
    if (mode === 'cached') {
      const L = tf.layers;
      const D = tf.hiddenSize;
      const real = { k: new Float32Array(L * R * D), v: new Float32Array(L * R * D) };
      const black = { k: new Float32Array(L * R * D), v: new Float32Array(L * R * D) };
      let off = 0;
      for (const s of subjects) {
        for (const r of s.references) {
          checkCancel();
          // The black reference stands in the same place as the real one (the same index).
          const kvBlack = await this.kv(blackImg, s.classWord, width, height, done);
          const kv = await this.kv(r, s.classWord, width, height, done);
          for (let l = 0; l < L; l++) {
            const layer = (x: Float32Array) => x.subarray(l * N * D, (l + 1) * N * D);
            real.k.set(layer(kv.k), (l * R + off) * D);
            real.v.set(layer(kv.v), (l * R + off) * D);
            black.k.set(layer(kvBlack.k), (l * R + off) * D);
            black.v.set(layer(kvBlack.v), (l * R + off) * D);
          }
          off += N;
          onReference(++done);
        }
      }
      return { real, black, key };
    }
    const [C, h, w] = this.latentDims(width, height);
    const per = C * h * w;
    const P = tf.pooledDim;
    const total = subjects.reduce((n, s) => n + s.references.length, 0);
    const realL = new Float32Array(total * per);
    const blackL = new Float32Array(total * per);
    const pooled = new Float32Array(total * P);
    const blackLat = await this.latents(blackImg, width, height);
    for (const s of subjects) {
      const refPooled = this.family.referenceReadsText ? (await this.text.encodeText(this.family.referencePrompt(s.classWord))).pooled : new Float32Array(0);
      for (const r of s.references) {
        checkCancel();
        realL.set(await this.latents(r, width, height), done * per);
        blackL.set(blackLat, done * per);
        pooled.set(refPooled, done * P);
        onReference(++done);
      }
    }
    return { real: { latents: realL, pooled }, black: { latents: blackL, pooled }, key };
  }
}
