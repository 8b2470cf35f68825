/**
 * The stroke rasteriser: brush segments into a coverage buffer, and the
 * coverage composited into the mask when a stroke ends. Pure functions on
 * byte planes (row-major, one byte per pixel) so they run in unit tests.
 *
 * A stroke first accumulates coverage as the max of its segments, so a soft
 * brush passing twice over the same spot within one stroke does not build up
 * (the edge stays as soft as the brush says); only the finished stroke is
 * composited into the mask, which also gives one undo step per stroke.
 */

/** A half-open pixel rectangle [x0, x1) x [y0, y1). */
export interface Rect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export type PaintMode = 'paint' | 'erase';

/** A point of a stroke in image pixels, with the brush radius there (pressure already applied). */
export interface StrokePoint {
  x: number;
  y: number;
  radius: number;
}

export function rectArea(r: Rect): number {
  return Math.max(0, r.x1 - r.x0) * Math.max(0, r.y1 - r.y0);
}

/** r clipped to [0, width) x [0, height), or null when nothing is left. */
export function clipRect(r: Rect, width: number, height: number): Rect | null {
  const out = { x0: Math.max(0, r.x0), y0: Math.max(0, r.y0), x1: Math.min(width, r.x1), y1: Math.min(height, r.y1) };
  return out.x1 > out.x0 && out.y1 > out.y0 ? out : null;
}

export function unionRect(a: Rect | null, b: Rect | null): Rect | null {
  if (!a) return b;
  if (!b) return a;
  return { x0: Math.min(a.x0, b.x0), y0: Math.min(a.y0, b.y0), x1: Math.max(a.x1, b.x1), y1: Math.max(a.y1, b.y1) };
}

/**
 * Coverage in [0, 1] of a brush of `radius` at distance d from its centre.
 * Hardness 1 is a disc with a one-pixel anti-aliased rim; lower hardness
 * widens the rim inwards (hardness 0: the whole radius is a smooth ramp).
 * The ramp is a smoothstep, so a soft edge has no visible kink where it
 * meets the solid core.
 */
export function brushFalloff(d: number, radius: number, hardness: number): number {
  const r = Math.max(radius, 0.5);
  const h = Math.min(1, Math.max(0, hardness));
  const fall = Math.max(r * (1 - h), Math.min(1, r));
  if (d >= r) return 0;
  const inner = r - fall;
  if (d <= inner) return 1;
  const v = (r - d) / fall;
  return v * v * (3 - 2 * v);
}

/** The pixels a segment from a to b can touch (unclipped). */
export function segmentBounds(a: StrokePoint, b: StrokePoint): Rect {
  const r = Math.max(a.radius, b.radius, 0.5);
  return {
    x0: Math.floor(Math.min(a.x, b.x) - r),
    y0: Math.floor(Math.min(a.y, b.y) - r),
    x1: Math.ceil(Math.max(a.x, b.x) + r),
    y1: Math.ceil(Math.max(a.y, b.y) + r),
  };
}

/** Rows per band reported to `onBand`: tiles are marked per band, not per row. */
const BAND = 16;

/**
 * The x interval [lo, hi] where row centre py meets the capsule of radius r
 * around segment a-b (two discs and the band between them). The capsule is
 * convex, so the row meets it in one interval: the hull of the three parts.
 */
function rowSpan(py: number, a: StrokePoint, b: StrokePoint, r: number): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const c of [a, b]) {
    const dy = py - c.y;
    if (Math.abs(dy) <= r) {
      const half = Math.sqrt(r * r - dy * dy);
      lo = Math.min(lo, c.x - half);
      hi = Math.max(hi, c.x + half);
    }
  }
  const len = Math.hypot(b.x - a.x, b.y - a.y);
  if (len > 0) {
    const [ux, uy] = [(b.x - a.x) / len, (b.y - a.y) / len];
    const dy = py - a.y;
    // |(x - ax) uy - dy ux| <= r  and  0 <= (x - ax) ux + dy uy <= len, solved for x.
    let [l, h] = [-Infinity, Infinity];
    if (uy !== 0) {
      const [p, q] = [(dy * ux - r) / uy, (dy * ux + r) / uy];
      [l, h] = [Math.max(l, Math.min(p, q)), Math.min(h, Math.max(p, q))];
    } else if (Math.abs(dy * ux) > r) [l, h] = [1, 0];
    if (ux !== 0) {
      const [p, q] = [-(dy * uy) / ux, (len - dy * uy) / ux];
      [l, h] = [Math.max(l, Math.min(p, q)), Math.min(h, Math.max(p, q))];
    } else if (dy * uy < 0 || dy * uy > len) [l, h] = [1, 0];
    if (l <= h) {
      lo = Math.min(lo, a.x + l);
      hi = Math.max(hi, a.x + h);
    }
  }
  return lo <= hi ? [lo, hi] : null;
}

/**
 * Raises `cov` to the coverage of a brush swept from a to b (a capsule whose
 * radius is interpolated along the segment; a === b stamps one dab). Pixel
 * centres sit at +0.5. Returns the clipped rectangle it may have changed, or
 * null when the segment lies outside the plane; `onBand` gets the tighter
 * rectangles of each band of rows, for dirty tiles.
 *
 * A swept capsule instead of dabs at a spacing: the edge is exactly smooth
 * however fast the pointer moves, and each pixel is visited once per
 * segment; only the row spans the capsule covers are visited at all.
 */
export function stampSegment(
  cov: Uint8Array,
  width: number,
  height: number,
  a: StrokePoint,
  b: StrokePoint,
  hardness: number,
  onBand?: (r: Rect) => void,
): Rect | null {
  const rect = clipRect(segmentBounds(a, b), width, height);
  if (!rect) return null;
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const len2 = dx * dx + dy * dy;
  const dr = b.radius - a.radius;
  const rMax = Math.max(a.radius, b.radius, 0.5);
  const rMax2 = rMax * rMax;
  let band: Rect | null = null;
  for (let y = rect.y0; y < rect.y1; y++) {
    const span = rowSpan(y + 0.5, a, b, rMax);
    if (span) {
      const x0 = Math.max(rect.x0, Math.floor(span[0] - 0.5));
      const x1 = Math.min(rect.x1, Math.ceil(span[1] + 0.5));
      const py = y + 0.5 - a.y;
      let i = y * width + x0;
      for (let x = x0; x < x1; x++, i++) {
        const px = x + 0.5 - a.x;
        let t = len2 > 0 ? (px * dx + py * dy) / len2 : 0;
        t = t < 0 ? 0 : t > 1 ? 1 : t;
        const qx = px - t * dx;
        const qy = py - t * dy;
        const d2 = qx * qx + qy * qy;
        if (d2 >= rMax2) continue;
        const v = Math.round(255 * brushFalloff(Math.sqrt(d2), a.radius + t * dr, hardness));
        if (v > cov[i]!) cov[i] = v;
      }
      if (x1 > x0) band = unionRect(band, { x0, y0: y, x1, y1: y + 1 });
    }
    if (band && onBand && ((y + 1) % BAND === 0 || y + 1 === rect.y1)) {
      onBand(band);
      band = null;
    }
  }
  return rect;
}

/** The mask value after compositing coverage c (0..255) onto m: "over" for paint, its mirror for erase. */
export function compositeValue(m: number, c: number, mode: PaintMode): number {
  // floor((q + 127) / 255) is round(q / 255) for integers q >= 0, without floating point.
  return mode === 'paint' ? 255 - (((255 - m) * (255 - c) + 127) / 255 | 0) : ((m * (255 - c) + 127) / 255) | 0;
}

/**
 * Composites the coverage inside `rect` into the mask, clears that coverage,
 * and writes before XOR after (row-major over the rect) into `xor`, the
 * undo diff. Returns whether any mask byte changed.
 */
export function commitCoverage(mask: Uint8Array, cov: Uint8Array, width: number, rect: Rect, mode: PaintMode, xor: Uint8Array): boolean {
  let changed = false;
  let j = 0;
  for (let y = rect.y0; y < rect.y1; y++) {
    let i = y * width + rect.x0;
    for (let x = rect.x0; x < rect.x1; x++, i++, j++) {
      const c = cov[i]!;
      if (c === 0) {
        xor[j] = 0;
        continue;
      }
      const before = mask[i]!;
      const after = compositeValue(before, c, mode);
      mask[i] = after;
      cov[i] = 0;
      xor[j] = before ^ after;
      if (before !== after) changed = true;
    }
  }
  return changed;
}
