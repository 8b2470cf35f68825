/** A tiny convolutional VAE (encoder mean and decoder), pixels in [-1, 1]. */
import { attr, GraphBuilder, type IrGraph } from '../ir';
import { emitConv, emitSilu, type PrecisionSpec } from '../nn';
import { conv2d, type Conv2d, type Rng } from '../params';
import { conv2dRef, silu, upsample2xRef } from '../reference/ops';

export interface VaeConfig {
  latentChannels: number;
  /** Encoder widths after the stem and each of its three stride-2 convs. */
  encoderChannels: [number, number, number];
  /** Decoder widths: after its stem, then after each of three 2x upsamplings. */
  decoderChannels: [number, number, number, number];
}

export interface VaeParams {
  cfg: VaeConfig;
  encoder: Conv2d[];
  decoder: Conv2d[];
}

/** The downsampling factor of this VAE: three stride-2 stages. */
export const VAE_DOWNSAMPLE = 8;

/** Init gain that keeps activations near unit scale through SiLU layers (untrained weights). */
const G = 1.5;

export function makeVaeParams(rng: Rng, cfg: VaeConfig): VaeParams {
  const [e0, e1, e2] = cfg.encoderChannels;
  const [d0, d1, d2, d3] = cfg.decoderChannels;
  const C = cfg.latentChannels;
  const r = rng.fork('vae');
  return {
    cfg,
    encoder: [
      conv2d(r.fork('enc0'), 3, e0, 3, 1, 1, G),
      conv2d(r.fork('enc1'), e0, e1, 3, 2, 1, G),
      conv2d(r.fork('enc2'), e1, e2, 3, 2, 1, G),
      conv2d(r.fork('enc3'), e2, e2, 3, 2, 1, G),
      conv2d(r.fork('enc_out'), e2, C, 1, 1, 0, G),
    ],
    decoder: [
      conv2d(r.fork('dec_in'), C, d0, 3, 1, 1, G),
      conv2d(r.fork('dec_up0'), d0, d1, 3, 1, 1, G),
      conv2d(r.fork('dec_up1'), d1, d2, 3, 1, 1, G),
      conv2d(r.fork('dec_up2'), d2, d3, 3, 1, 1, G),
      conv2d(r.fork('dec_out'), d3, 3, 3, 1, 1, G),
    ],
  };
}

export function buildVaeEncoder(p: VaeParams, prec: PrecisionSpec): IrGraph {
  const g = new GraphBuilder('vae_encoder');
  let x = g.input('image', 'float32', ['batch', 3, 'height', 'width']);
  p.encoder.forEach((c, i) => {
    x = emitConv(g, x, c, prec, `encoder.${i}`);
    if (i < p.encoder.length - 1) x = emitSilu(g, x);
  });
  g.output(x, 'latent', 'float32', ['batch', p.cfg.latentChannels, 'latent_height', 'latent_width']);
  return g.build();
}

export function buildVaeDecoder(p: VaeParams, prec: PrecisionSpec): IrGraph {
  const g = new GraphBuilder('vae_decoder');
  let x = g.input('latent', 'float32', ['batch', p.cfg.latentChannels, 'latent_height', 'latent_width']);
  const [stem, ...rest] = p.decoder;
  const out = rest.pop()!;
  x = emitSilu(g, emitConv(g, x, stem!, prec, 'decoder.in'));
  rest.forEach((c, i) => {
    x = g.op('Resize', [x, '', g.constF32([1, 1, 2, 2])], {
      mode: attr.string('nearest'),
      coordinate_transformation_mode: attr.string('asymmetric'),
      nearest_mode: attr.string('floor'),
    });
    x = emitSilu(g, emitConv(g, x, c, prec, `decoder.up${i}`));
  });
  x = g.op('Tanh', [emitConv(g, x, out, prec, 'decoder.out')]);
  g.output(x, 'image', 'float32', ['batch', 3, 'height', 'width']);
  return g.build();
}

/** One image [3, H, W] -> latent [C, H/8, W/8]. */
export function vaeEncodeRef(p: VaeParams, prec: PrecisionSpec, image: Float32Array, H: number, W: number): Float32Array {
  let cur = { y: image, H, W };
  p.encoder.forEach((c, i) => {
    cur = conv2dRef(cur.y, cur.H, cur.W, c, prec);
    if (i < p.encoder.length - 1) cur.y = cur.y.map(silu);
  });
  return cur.y;
}

/** One latent [C, h, w] -> image [3, 8h, 8w]. */
export function vaeDecodeRef(p: VaeParams, prec: PrecisionSpec, latent: Float32Array, h: number, w: number): Float32Array {
  const [stem, ...rest] = p.decoder;
  const out = rest.pop()!;
  let cur = conv2dRef(latent, h, w, stem!, prec);
  cur.y = cur.y.map(silu);
  for (const c of rest) {
    const up = upsample2xRef(cur.y, cur.y.length / (cur.H * cur.W), cur.H, cur.W);
    cur = conv2dRef(up, cur.H * 2, cur.W * 2, c, prec);
    cur.y = cur.y.map(silu);
  }
  return conv2dRef(cur.y, cur.H, cur.W, out, prec).y.map(Math.tanh);
}
