/**
 * Background fill of a reference before the VAE encoder (METHOD.md section 4,
 * item 2): outside the subject mask the reference is replaced, so the encoder
 * (and hence the reference tokens) carries no background. Black matches
 * AlignGen's dropped image and the black unconditional reference.
 */
import { checkPlane, gaussianBlurPlane } from './blur';

export type BackgroundFill = 'black' | 'gray' | 'blur';

/** Fill values in the encoder's [-1, 1] pixel range. */
const FLAT_FILL: Record<'black' | 'gray', number> = { black: -1, gray: 0 };

/**
 * rgb: planar [3, H, W] in [-1, 1]; mask: the processed mask [H * W] in [0, 1].
 * Returns rgb * m + fill * (1 - m) per pixel and channel, where fill is -1
 * (black), 0 (gray) or the image blurred with a Gaussian of blurSigmaPx.
 * A soft mask therefore blends, so a feathered edge stays a soft edge.
 */
export function applyBackgroundFill(
  rgb: Float32Array,
  mask: Float32Array,
  width: number,
  height: number,
  fill: BackgroundFill,
  blurSigmaPx = 8,
): Float32Array {
  checkPlane(mask, width, height, 'applyBackgroundFill (mask)');
  const plane = width * height;
  if (rgb.length !== 3 * plane) {
    throw new Error(`applyBackgroundFill: expected ${3 * plane} rgb values for 3x${height}x${width}, got ${rgb.length}`);
  }
  if (fill === 'blur' && !(blurSigmaPx >= 0 && Number.isFinite(blurSigmaPx))) {
    throw new Error(`applyBackgroundFill: blurSigmaPx must be a finite number >= 0, got ${blurSigmaPx}`);
  }

  const out = new Float32Array(rgb.length);
  for (let c = 0; c < 3; c++) {
    const off = c * plane;
    const channel = rgb.subarray(off, off + plane);
    const background = fill === 'blur' ? gaussianBlurPlane(channel, width, height, blurSigmaPx) : null;
    const flat = fill === 'blur' ? 0 : FLAT_FILL[fill];
    for (let i = 0; i < plane; i++) {
      const m = mask[i]!;
      const f = background === null ? flat : background[i]!;
      out[off + i] = channel[i]! * m + f * (1 - m);
    }
  }
  return out;
}
