/**
 * Frequency-aware reference split (EqDiff, METHOD.md section 5): a 2-D FFT
 * separates a reference into a low band (content) and a high band (detail
 * and style), each of which can be encoded as its own reference token set.
 *
 * 1-D transforms come from fft.js (radix-4, power-of-two sizes only). Other
 * lengths use Bluestein's chirp-z algorithm on top of it, which is an exact
 * DFT of the true length. Zero-padding to a power of two and cropping back
 * would not be: the padded image has a different spectrum (a padded constant
 * image is a box with energy at every frequency, not a lone DC bin), so the
 * split would depend on the padding.
 */
import FFT from 'fft.js';

export type FrequencyShape = 'square' | 'disk';

/** One complex 1-D DFT of a fixed length, in place on interleaved [re, im] pairs. */
interface Dft1d {
  readonly n: number;
  forward(buf: Float64Array): void;
  /** Inverse, normalised by 1/n, so inverse(forward(x)) == x. */
  inverse(buf: Float64Array): void;
}

/** fft.js ships `any`-typed declarations; this is the part used here. */
interface Radix4 {
  transform(out: Float64Array, data: Float64Array): void;
  inverseTransform(out: Float64Array, data: Float64Array): void;
}

function radix4(size: number): Radix4 {
  return new FFT(size) as Radix4;
}

const isPowerOfTwo = (n: number): boolean => (n & (n - 1)) === 0;

function makeDft(n: number): Dft1d {
  if (n === 1) return { n, forward: () => {}, inverse: () => {} };
  if (isPowerOfTwo(n)) return powerOfTwoDft(n);
  return bluesteinDft(n);
}

function powerOfTwoDft(n: number): Dft1d {
  const fft = radix4(n);
  // fft.js refuses to work in place.
  const scratch = new Float64Array(2 * n);
  return {
    n,
    forward(buf) {
      fft.transform(scratch, buf);
      buf.set(scratch);
    },
    inverse(buf) {
      fft.inverseTransform(scratch, buf);
      buf.set(scratch);
    },
  };
}

/**
 * Bluestein: with c[k] = exp(-i pi k^2 / n) and jk = (j^2 + k^2 - (k - j)^2) / 2,
 * X[k] = c[k] * sum_j (x[j] c[j]) * conj(c[k - j]), a convolution that is
 * done circularly at a power-of-two length m >= 2n - 1 (no wrap-around).
 */
function bluesteinDft(n: number): Dft1d {
  let m = 1;
  while (m < 2 * n - 1) m *= 2;
  const fft = radix4(m);

  // k^2 mod 2n keeps the chirp angle small, so it stays accurate for large n.
  const chirp = new Float64Array(2 * n);
  for (let k = 0; k < n; k++) {
    const angle = (Math.PI * ((k * k) % (2 * n))) / n;
    chirp[2 * k] = Math.cos(angle);
    chirp[2 * k + 1] = -Math.sin(angle);
  }
  const b = new Float64Array(2 * m);
  for (let k = 0; k < n; k++) {
    const re = chirp[2 * k]!;
    const im = -chirp[2 * k + 1]!;
    b[2 * k] = re;
    b[2 * k + 1] = im;
    if (k > 0) {
      b[2 * (m - k)] = re;
      b[2 * (m - k) + 1] = im;
    }
  }
  const bSpectrum = new Float64Array(2 * m);
  fft.transform(bSpectrum, b);

  const a = new Float64Array(2 * m);
  const spectrum = new Float64Array(2 * m);

  const forward = (buf: Float64Array): void => {
    a.fill(0);
    for (let k = 0; k < n; k++) {
      const xr = buf[2 * k]!;
      const xi = buf[2 * k + 1]!;
      const cr = chirp[2 * k]!;
      const ci = chirp[2 * k + 1]!;
      a[2 * k] = xr * cr - xi * ci;
      a[2 * k + 1] = xr * ci + xi * cr;
    }
    fft.transform(spectrum, a);
    for (let k = 0; k < m; k++) {
      const ar = spectrum[2 * k]!;
      const ai = spectrum[2 * k + 1]!;
      const br = bSpectrum[2 * k]!;
      const bi = bSpectrum[2 * k + 1]!;
      spectrum[2 * k] = ar * br - ai * bi;
      spectrum[2 * k + 1] = ar * bi + ai * br;
    }
    fft.inverseTransform(a, spectrum);
    for (let k = 0; k < n; k++) {
      const yr = a[2 * k]!;
      const yi = a[2 * k + 1]!;
      const cr = chirp[2 * k]!;
      const ci = chirp[2 * k + 1]!;
      buf[2 * k] = yr * cr - yi * ci;
      buf[2 * k + 1] = yr * ci + yi * cr;
    }
  };

  return {
    n,
    forward,
    // IDFT(x) = conj(DFT(conj(x))) / n.
    inverse(buf) {
      for (let k = 0; k < n; k++) buf[2 * k + 1] = -buf[2 * k + 1]!;
      forward(buf);
      for (let k = 0; k < n; k++) {
        buf[2 * k] = buf[2 * k]! / n;
        buf[2 * k + 1] = -buf[2 * k + 1]! / n;
      }
    },
  };
}

/** Signed frequency of DFT bin k of length n, as numpy.fft.fftfreq(n) * n orders it. */
export function signedFrequency(k: number, n: number): number {
  return k < n - Math.floor(n / 2) ? k : k - n;
}

/**
 * Split planar rgb [3, H, W] into low + high bands. low keeps the spectrum
 * bins whose signed frequencies (fy, fx), i.e. positions relative to the
 * centre of the fftshifted spectrum, satisfy max(|fy|, |fx|) <= cutoff
 * ('square', half-width cutoff bins) or fy^2 + fx^2 <= cutoff^2 ('disk');
 * high = rgb - low, so low + high reproduces rgb up to float rounding.
 * The kept set is symmetric under (fy, fx) -> (-fy, -fx), so low is real.
 * cutoff 0 keeps only DC (low is each channel's mean); a cutoff of at least
 * max(H, W) / 2 (square) or hypot(H, W) / 2 (disk) keeps everything.
 */
export function frequencySplit(
  rgb: Float32Array,
  width: number,
  height: number,
  cutoff: number,
  shape: FrequencyShape,
): { low: Float32Array; high: Float32Array } {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`frequencySplit: width and height must be positive integers, got ${width}x${height}`);
  }
  const plane = width * height;
  if (rgb.length !== 3 * plane) {
    throw new Error(`frequencySplit: expected ${3 * plane} values for 3x${height}x${width}, got ${rgb.length}`);
  }
  if (!(cutoff >= 0) || !Number.isFinite(cutoff)) {
    throw new Error(`frequencySplit: cutoff must be a finite number >= 0, got ${cutoff}`);
  }

  const keep = (fy: number, fx: number): boolean =>
    shape === 'square' ? Math.abs(fy) <= cutoff && Math.abs(fx) <= cutoff : fy * fy + fx * fx <= cutoff * cutoff;

  const rowDft = makeDft(width);
  const colDft = height === width ? rowDft : makeDft(height);
  const data = new Float64Array(2 * plane);
  const col = new Float64Array(2 * height);
  const low = new Float32Array(3 * plane);
  const high = new Float32Array(3 * plane);

  for (let c = 0; c < 3; c++) {
    const off = c * plane;
    data.fill(0);
    for (let i = 0; i < plane; i++) data[2 * i] = rgb[off + i]!;

    for (let y = 0; y < height; y++) rowDft.forward(data.subarray(2 * y * width, 2 * (y + 1) * width));

    // Columns: transform, drop the bins outside the pass band, transform back.
    // A column whose fx is already outside the band is zero whatever fy is.
    for (let x = 0; x < width; x++) {
      const fx = signedFrequency(x, width);
      const columnKept = keep(0, fx);
      if (columnKept) {
        for (let y = 0; y < height; y++) {
          col[2 * y] = data[2 * (y * width + x)]!;
          col[2 * y + 1] = data[2 * (y * width + x) + 1]!;
        }
        colDft.forward(col);
        for (let y = 0; y < height; y++) {
          if (!keep(signedFrequency(y, height), fx)) {
            col[2 * y] = 0;
            col[2 * y + 1] = 0;
          }
        }
        colDft.inverse(col);
      }
      for (let y = 0; y < height; y++) {
        data[2 * (y * width + x)] = columnKept ? col[2 * y]! : 0;
        data[2 * (y * width + x) + 1] = columnKept ? col[2 * y + 1]! : 0;
      }
    }

    for (let y = 0; y < height; y++) rowDft.inverse(data.subarray(2 * y * width, 2 * (y + 1) * width));

    for (let i = 0; i < plane; i++) {
      const v = rgb[off + i]!;
      const l = data[2 * i]!;
      low[off + i] = l;
      // From the float64 low band, so the float32 sum low + high rounds to rgb.
      high[off + i] = v - l;
    }
  }
  return { low, high };
}
