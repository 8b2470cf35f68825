/**
 * The world's renderer: a scene -> RGB pixels and the true mask of each
 * subject (its visible coverage, 0..255), with 2x2 supersampling at the edges.
 * Pure arithmetic on numbers (no canvas), so Node and the browser render the
 * same bytes from the same scene.
 */
import { identityFromId, type Identity } from './identity';
import { fmix32, streamSeed } from './random';
import type { Background, Scene, SceneObject, SceneSubject } from './scene';
import { insideSilhouette, surfaceColour } from './silhouette';
import { COLOURS, OBJECT_FRACTION, type Rgb } from './vocabulary';

export interface Rendered {
  size: number;
  /** [size * size * 3], row-major RGB. */
  rgb: Uint8Array;
  /** Per subject: [size * size] visible coverage 0..255. */
  subjectMasks: Uint8Array[];
  /** The second object's visible coverage, or null. */
  objectMask: Uint8Array | null;
}

/** A subject's box in pixels. */
export interface PixelBox {
  cx: number;
  cy: number;
  halfW: number;
  halfH: number;
}

export function subjectBox(s: Pick<SceneSubject, 'cx' | 'cy' | 'h'>, id: Identity, size: number): PixelBox {
  const halfH = (s.h * size) / 2;
  return { cx: s.cx * size, cy: s.cy * size, halfH, halfW: Math.min(halfH * id.aspect, 0.32 * size) };
}

/** A hash of integer lattice coordinates to [0, 1). */
function lattice(seed: number, ix: number, iy: number): number {
  return fmix32(Math.imul(ix, 0x27d4eb2d) ^ Math.imul(iy, 0x165667b1) ^ seed) / 4294967296;
}

/** Smooth value noise in [0, 1) with cells of `cell` pixels. */
function valueNoise(seed: number, x: number, y: number, cell: number): number {
  const gx = x / cell;
  const gy = y / cell;
  const ix = Math.floor(gx);
  const iy = Math.floor(gy);
  const fx = gx - ix;
  const fy = gy - iy;
  const sx = fx * fx * (3 - 2 * fx);
  const sy = fy * fy * (3 - 2 * fy);
  const a = lattice(seed, ix, iy) + (lattice(seed, ix + 1, iy) - lattice(seed, ix, iy)) * sx;
  const b = lattice(seed, ix, iy + 1) + (lattice(seed, ix + 1, iy + 1) - lattice(seed, ix, iy + 1)) * sx;
  return a + (b - a) * sy;
}

const mix = (a: Rgb, b: Rgb, t: number): Rgb => [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
const scale = (a: Rgb, k: number): Rgb => [a[0] * k, a[1] * k, a[2] * k];

/** The background as a function of pixel coordinates, with its per-scene constants worked out once. */
export function backgroundSampler(b: Background, size: number): (x: number, y: number) => Rgb {
  const seed = streamSeed(b.detail, b.kind);
  switch (b.kind) {
    case 'plain': {
      const c = COLOURS[b.colour!]!;
      return (_x, y) => scale(c, 1.06 - 0.12 * (y / size));
    }
    case 'striped': {
      const period = size * (0.1 + 0.06 * lattice(seed, 1, 0));
      const dir = Math.floor(lattice(seed, 2, 0) * 3);
      const c = COLOURS[b.colour!]!;
      const light = mix(c, [255, 255, 255], 0.45);
      return (x, y) => {
        const t = dir === 0 ? x : dir === 1 ? y : (x + y) * Math.SQRT1_2;
        return Math.floor(t / (period / 2)) % 2 === 1 ? light : c;
      };
    }
    case 'sky': {
      const clouds = [0, 1, 2].map((k) => ({
        cx: size * lattice(seed, 10, k),
        cy: size * (0.1 + 0.8 * lattice(seed, 11, k)),
        rx: size * (0.12 + 0.08 * lattice(seed, 12, k)),
      }));
      return (x, y) => {
        let c = mix([84, 148, 232], [204, 226, 250], y / size);
        for (const cl of clouds) {
          const dx = (x - cl.cx) / cl.rx;
          const dy = (y - cl.cy) / (cl.rx * 0.45);
          if (dx * dx + dy * dy <= 1) c = mix(c, [250, 250, 252], 0.85);
        }
        return c;
      };
    }
    case 'grass':
      return (x, y) => {
        const n = valueNoise(seed, x, y, size / 16) * 0.6 + valueNoise(seed ^ 0x55, x, y, size / 48) * 0.4;
        return scale([72, 152, 60], 0.8 + 0.4 * n);
      };
    case 'water': {
      const phase = 2 * Math.PI * lattice(seed, 20, 0);
      return (x, y) => {
        const wave = Math.sin((2 * Math.PI * y) / (size * 0.09) + 1.2 * Math.sin((2 * Math.PI * x) / (size * 0.35) + phase));
        return mix([36, 104, 184], [120, 184, 232], 0.5 + 0.35 * wave * (0.4 + 0.6 * (y / size)));
      };
    }
  }
}

function objectAt(o: SceneObject, x: number, y: number, size: number): Rgb | null {
  const r = (OBJECT_FRACTION * size) / 2;
  const dx = (x - o.cx * size) / r;
  const dy = (y - o.cy * size) / r;
  const c = COLOURS[o.colour]!;
  switch (o.kind) {
    case 'ball':
      return dx * dx + dy * dy <= 1 ? c : null;
    case 'cube':
      return Math.abs(dx) <= 0.85 && Math.abs(dy) <= 0.85 ? (dy < -0.45 ? mix(c, [255, 255, 255], 0.3) : c) : null;
    case 'cone':
      return dy <= 1 && dy >= -1 && Math.abs(dx) <= (dy + 1) / 2 ? c : null;
  }
}

/** The style's colour transform (night, black and white), also used by the measures. */
export function applyStyle(c: Rgb, style: Scene['style']): Rgb {
  if (style === 'night') return [c[0] * 0.35, c[1] * 0.4, c[2] * 0.55 + 24];
  if (style === 'mono') {
    const l = 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];
    return [l, l, l];
  }
  return c;
}

const SUB = [0.25, 0.75];

export function renderScene(scene: Scene, size = 128): Rendered {
  const rgb = new Uint8Array(size * size * 3);
  const subjects = scene.subjects.map((s) => {
    const id = identityFromId(s.identityId);
    return { id, box: subjectBox(s, id, size) };
  });
  const subjectMasks = subjects.map(() => new Uint8Array(size * size));
  const objectMask = scene.object ? new Uint8Array(size * size) : null;
  const cover = new Int32Array(subjects.length + 1);
  const background = backgroundSampler(scene.background, size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      cover.fill(0);
      for (const oy of SUB) {
        for (const ox of SUB) {
          const px = x + ox;
          const py = y + oy;
          let c: Rgb = background(px, py);
          let top = -1;
          const oc = scene.object ? objectAt(scene.object, px, py, size) : null;
          if (oc) {
            c = oc;
            top = subjects.length;
          }
          for (let i = 0; i < subjects.length; i++) {
            const { id, box } = subjects[i]!;
            const u = (px - box.cx) / box.halfW;
            const v = (py - box.cy) / box.halfH;
            if (u < -1 || u > 1 || v < -1 || v > 1 || !insideSilhouette(id, u, v)) continue;
            c = surfaceColour(id, u, v);
            top = i;
          }
          if (top >= 0) cover[top]!++;
          c = applyStyle(c, scene.style);
          r += c[0];
          g += c[1];
          b += c[2];
        }
      }
      const p = y * size + x;
      rgb[p * 3] = Math.min(255, Math.max(0, Math.round(r / 4)));
      rgb[p * 3 + 1] = Math.min(255, Math.max(0, Math.round(g / 4)));
      rgb[p * 3 + 2] = Math.min(255, Math.max(0, Math.round(b / 4)));
      for (let i = 0; i < subjects.length; i++) subjectMasks[i]![p] = Math.round((cover[i]! * 255) / 4);
      if (objectMask) objectMask[p] = Math.round((cover[subjects.length]! * 255) / 4);
    }
  }
  return { size, rgb, subjectMasks, objectMask };
}
