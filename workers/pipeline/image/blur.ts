/**
 * Separable Gaussian blur of one single-channel plane, shared by the mask
 * feather (METHOD.md section 4) and the blurred background fill.
 *
 * Edges are clamped (replicate the border pixel) so that a uniform plane stays
 * exactly uniform and a mask touching the border is not darkened there.
 */

/** Normalised 1-D Gaussian taps for sigma > 0, radius ceil(3 sigma). */
export function gaussianKernel(sigma: number): Float32Array {
  if (!(sigma > 0) || !Number.isFinite(sigma)) {
    throw new Error(`gaussianKernel: sigma must be a finite number > 0, got ${sigma}`);
  }
  const radius = Math.ceil(3 * sigma);
  const taps = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) {
    const w = Math.exp(-(i * i) / (2 * sigma * sigma));
    taps[i + radius] = w;
    sum += w;
  }
  // Normalise in float64, then round once, so the float32 taps sum to 1 as
  // closely as float32 allows (a uniform plane must come back uniform).
  const out = new Float32Array(taps.length);
  for (let i = 0; i < taps.length; i++) out[i] = taps[i]! / sum;
  return out;
}

/**
 * Blur `src` (row-major, width*height) with a Gaussian of standard deviation
 * `sigma` px. sigma <= 0 returns a copy. Returns a new array.
 */
export function gaussianBlurPlane(
  src: Float32Array,
  width: number,
  height: number,
  sigma: number,
): Float32Array {
  checkPlane(src, width, height, 'gaussianBlurPlane');
  if (sigma <= 0) return new Float32Array(src);
  const kernel = gaussianKernel(sigma);
  const radius = (kernel.length - 1) >> 1;
  const centre = kernel[radius]!;

  // Horizontal pass: copy each row into a clamped, padded line so the inner
  // loop has no bounds checks.
  const tmp = new Float32Array(width * height);
  const line = new Float32Array(width + 2 * radius);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    const first = src[row]!;
    const last = src[row + width - 1]!;
    for (let i = 0; i < radius; i++) {
      line[i] = first;
      line[radius + width + i] = last;
    }
    line.set(src.subarray(row, row + width), radius);
    // The kernel is symmetric: pair taps k and -k to halve the multiplies.
    for (let x = 0; x < width; x++) {
      const c = x + radius;
      let acc = centre * line[c]!;
      for (let k = 1; k <= radius; k++) acc += kernel[radius + k]! * (line[c - k]! + line[c + k]!);
      tmp[row + x] = acc;
    }
  }

  // Vertical pass as weighted sums of whole rows: walking a column would be
  // strided and cache-hostile on large planes.
  const out = new Float32Array(width * height);
  const acc = new Float64Array(width);
  for (let y = 0; y < height; y++) {
    const mid = y * width;
    for (let x = 0; x < width; x++) acc[x] = centre * tmp[mid + x]!;
    for (let k = 1; k <= radius; k++) {
      const up = Math.max(0, y - k) * width;
      const down = Math.min(height - 1, y + k) * width;
      const w = kernel[radius + k]!;
      for (let x = 0; x < width; x++) acc[x]! += w * (tmp[up + x]! + tmp[down + x]!);
    }
    for (let x = 0; x < width; x++) out[mid + x] = acc[x]!;
  }
  return out;
}

export function checkPlane(plane: Float32Array, width: number, height: number, who: string): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`${who}: width and height must be positive integers, got ${width}x${height}`);
  }
  if (plane.length !== width * height) {
    throw new Error(`${who}: expected ${width * height} values for ${width}x${height}, got ${plane.length}`);
  }
}
