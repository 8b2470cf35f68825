/**
 * The toy world's quality measures (docs/toy-world.md gives the formulas): computed from the
 * generator's truth and plain pixel analysis of a generated picture, never by a learned judge.
 *
 * - segment: background pixels are those near the asked background's own palette (the
 *   background rendered with the asked style from several texture seeds); the rest splits into
 *   4-connected components; the second object is the component of its colour and size.
 * - CP (concept preservation): silhouette IoU x colour agreement between the found subject and the
 *   identity's own rendering fitted to the found box (same height and centre).
 * - PF (prompt following): the share of the prompt's attributes that hold (background, each
 *   subject's position and size, the second object and its kind, the style).
 * - leak: the share of background pixels nearer the reference photo's background than the asked one.
 * - mixing: the share of a subject's pixels nearer the other subject's palette than its own.
 */
import { identityFromId } from './identity';
import { applyStyle, renderScene } from './render';
import type { Background, Scene, SceneSubject } from './scene';
import { BACKGROUND_KINDS, COLOURS, COLOUR_WORDS, SIZES, SLOT_X, type Position, type Rgb, type SizeWord, type Style } from './vocabulary';

/** RGB distance under which a pixel counts as one of a palette's colours. */
const NEAR = 48;
/** Components smaller than this (pixels) are noise. */
const MIN_COMPONENT = 8;
/** Colour agreement: a block whose mean is this far (RGB) from the truth scores 0. */
const COLOUR_SPAN = 120;

export interface Picture {
  size: number;
  /** [size * size * 3] RGB bytes. */
  rgb: Uint8Array;
}

export interface Component {
  /** Pixel indices. */
  pixels: Int32Array;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  mean: Rgb;
}

const dist2 = (a: Rgb, r: number, g: number, b: number) => (a[0] - r) ** 2 + (a[1] - g) ** 2 + (a[2] - b) ** 2;

/** The distinct colours (quantized to 8 levels per channel, centroids kept) covering >= 0.3 % of some pictures. */
export function paletteOf(pictures: Picture[]): Rgb[] {
  const bins = new Map<number, { n: number; r: number; g: number; b: number }>();
  let total = 0;
  for (const pic of pictures) {
    for (let p = 0; p < pic.size * pic.size; p++) {
      const r = pic.rgb[p * 3]!, g = pic.rgb[p * 3 + 1]!, b = pic.rgb[p * 3 + 2]!;
      const key = ((r >> 5) << 6) | ((g >> 5) << 3) | (b >> 5);
      const bin = bins.get(key) ?? { n: 0, r: 0, g: 0, b: 0 };
      bin.n++;
      bin.r += r;
      bin.g += g;
      bin.b += b;
      bins.set(key, bin);
      total++;
    }
  }
  return [...bins.values()].filter((b) => b.n >= 0.003 * total).map((b) => [b.r / b.n, b.g / b.n, b.b / b.n] as const);
}

function nearestDist2(palette: Rgb[], r: number, g: number, b: number): number {
  let best = Infinity;
  for (const c of palette) best = Math.min(best, dist2(c, r, g, b));
  return best;
}

const backgroundCache = new Map<string, Rgb[]>();

/** The palette of a background as the world paints it in a style (4 texture seeds). */
export function backgroundPalette(kind: Background['kind'], colour: string | null, style: Style): Rgb[] {
  const key = `${kind}|${colour}|${style}`;
  const hit = backgroundCache.get(key);
  if (hit) return hit;
  const pics = [1, 2, 3, 4].map((detail) => renderScene({ background: { kind, colour, detail }, subjects: [], object: null, style }, 64));
  const palette = paletteOf(pics);
  backgroundCache.set(key, palette);
  return palette;
}

/** Foreground (1) where a pixel is far from every colour of a background palette. */
export function foregroundMask(pic: Picture, palette: Rgb[]): Uint8Array {
  const fg = new Uint8Array(pic.size * pic.size);
  for (let p = 0; p < fg.length; p++) fg[p] = nearestDist2(palette, pic.rgb[p * 3]!, pic.rgb[p * 3 + 1]!, pic.rgb[p * 3 + 2]!) > NEAR * NEAR ? 1 : 0;
  return fg;
}

/** The 4-connected components of a mask (at least MIN_COMPONENT pixels), largest first. */
export function components(pic: Picture, fg: Uint8Array): Component[] {
  const { size, rgb } = pic;
  const seen = new Uint8Array(size * size);
  const out: Component[] = [];
  const stack: number[] = [];
  for (let start = 0; start < size * size; start++) {
    if (!fg[start] || seen[start]) continue;
    const pixels: number[] = [];
    stack.push(start);
    seen[start] = 1;
    while (stack.length) {
      const p = stack.pop()!;
      pixels.push(p);
      const x = p % size, y = (p / size) | 0;
      for (const [nx, ny] of [[x - 1, y], [x + 1, y], [x, y - 1], [x, y + 1]] as const) {
        if (nx < 0 || ny < 0 || nx >= size || ny >= size) continue;
        const q = ny * size + nx;
        if (fg[q] && !seen[q]) {
          seen[q] = 1;
          stack.push(q);
        }
      }
    }
    if (pixels.length < MIN_COMPONENT) continue;
    let x0 = size, y0 = size, x1 = -1, y1 = -1, r = 0, g = 0, b = 0;
    for (const p of pixels) {
      const x = p % size, y = (p / size) | 0;
      x0 = Math.min(x0, x);
      x1 = Math.max(x1, x);
      y0 = Math.min(y0, y);
      y1 = Math.max(y1, y);
      r += rgb[p * 3]!;
      g += rgb[p * 3 + 1]!;
      b += rgb[p * 3 + 2]!;
    }
    const n = pixels.length;
    out.push({ pixels: Int32Array.from(pixels), x0, y0, x1, y1, mean: [r / n, g / n, b / n] });
  }
  return out.sort((a, b) => b.pixels.length - a.pixels.length);
}

/** A pixel is the object's colour (or its lit top's) within this distance. */
const OBJECT_NEAR = 36;

/**
 * The second object: the component of pixels of its colour (in the style) whose area is
 * plausible, nearest the asked place. Found by colour, not against the background, so an object
 * whose colour is close to the background's still shows where it differs.
 */
function findObject(pic: Picture, scene: Scene): Component | null {
  if (!scene.object) return null;
  const base = COLOURS[scene.object.colour]!;
  // A cube's top is lit: 0.3 of the way to white.
  const lit: Rgb = [base[0] + (255 - base[0]) * 0.3, base[1] + (255 - base[1]) * 0.3, base[2] + (255 - base[2]) * 0.3];
  const want = [applyStyle(base, scene.style), applyStyle(lit, scene.style)];
  const truth = renderScene({ ...scene, subjects: [], background: { kind: 'plain', colour: 'gray', detail: 0 } }, pic.size).objectMask!;
  const expectedArea = truth.reduce((n, v) => n + v / 255, 0);
  const mask = new Uint8Array(pic.size * pic.size);
  for (let p = 0; p < mask.length; p++) mask[p] = nearestDist2(want, pic.rgb[p * 3]!, pic.rgb[p * 3 + 1]!, pic.rgb[p * 3 + 2]!) <= OBJECT_NEAR * OBJECT_NEAR ? 1 : 0;
  const cx = scene.object.cx * pic.size;
  const cy = scene.object.cy * pic.size;
  let best: Component | null = null;
  let bestD = Infinity;
  for (const c of components(pic, mask)) {
    const area = c.pixels.length;
    if (area < 0.35 * expectedArea || area > 2.5 * expectedArea) continue;
    const d = Math.hypot((c.x0 + c.x1) / 2 - cx, (c.y0 + c.y1) / 2 - cy);
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return best;
}

export interface Segmentation {
  subjects: (Component | null)[];
  object: Component | null;
  /** 1 where the pixel is background (no component). */
  background: Uint8Array;
  /** The world's background the picture's border looks most like. */
  backgroundFound: { kind: Background['kind']; colour: string | null };
  /** The style the picture is in (classifyStyle): the palettes are read in it. */
  style: Style;
}

/** One component made of several (a subject whose thin parts or pattern split it). */
function merged(parts: Component[]): Component | null {
  if (parts.length === 0) return null;
  const pixels = Int32Array.from(parts.flatMap((c) => [...c.pixels]));
  const n = pixels.length;
  const mean = [0, 1, 2].map((ch) => parts.reduce((a, c) => a + c.mean[ch]! * c.pixels.length, 0) / n) as unknown as Rgb;
  return {
    pixels,
    x0: Math.min(...parts.map((c) => c.x0)),
    y0: Math.min(...parts.map((c) => c.y0)),
    x1: Math.max(...parts.map((c) => c.x1)),
    y1: Math.max(...parts.map((c) => c.y1)),
    mean,
  };
}

/**
 * The foreground (object removed) as one subject, or split in two by 2-means on the components'
 * centres (weighted by size), left one first: a subject is all that was drawn there, not only its
 * largest piece.
 */
function groupBySubject(pic: Picture, comps: Component[], count: number): (Component | null)[] {
  if (count === 1) return [merged(comps)];
  const cx = (c: Component) => (c.x0 + c.x1) / 2;
  let centres = [0.3 * pic.size, 0.7 * pic.size];
  let groups: Component[][] = [[], []];
  for (let iter = 0; iter < 8; iter++) {
    groups = [[], []];
    for (const c of comps) groups[Math.abs(cx(c) - centres[0]!) <= Math.abs(cx(c) - centres[1]!) ? 0 : 1]!.push(c);
    centres = groups.map((g, k) => (g.length ? g.reduce((a, c) => a + cx(c) * c.pixels.length, 0) / g.reduce((a, c) => a + c.pixels.length, 0) : centres[k]!));
  }
  return groups.map((g) => merged(g));
}

/** Subjects and objects never reach the outer pixels: the border shows the background alone. */
const BORDER = 3;
const onBorder = (p: number, size: number) => {
  const x = p % size, y = (p / size) | 0;
  return x < BORDER || y < BORDER || x >= size - BORDER || y >= size - BORDER;
};

/**
 * The style, then the background from the picture's border (classified among the world's
 * backgrounds in that style: a subject touching the border hardly moves the mean distance), then the subjects (the largest other components, matched to the asked subjects by
 * left-to-right order) and the asked object (its colour and size).
 */
export function segment(pic: Picture, scene: Scene): Segmentation {
  const border = new Uint8Array(pic.size * pic.size);
  for (let p = 0; p < border.length; p++) border[p] = onBorder(p, pic.size) ? 1 : 0;
  const style = classifyStyle(pic);
  const backgroundFound = classifyBackground(pic, border, style);
  // The classified background's own palette: a subject may touch the border, so the border's
  // colours are not all background.
  const fg = foregroundMask(pic, backgroundPalette(backgroundFound.kind, backgroundFound.colour, style));
  const object = findObject(pic, { ...scene, style });
  // The object and a 2 px ring (its anti-aliased edge) are not part of any subject.
  if (object) {
    for (const p of object.pixels) {
      const x = p % pic.size, y = (p / pic.size) | 0;
      for (let dy = -2; dy <= 2; dy++) for (let dx = -2; dx <= 2; dx++) {
        const nx = x + dx, ny = y + dy;
        if (nx >= 0 && ny >= 0 && nx < pic.size && ny < pic.size) fg[ny * pic.size + nx] = 0;
      }
    }
  }
  const comps = components(pic, fg);
  const found = groupBySubject(pic, comps, scene.subjects.length);
  // Found groups run left to right; asked subjects are matched in the same order.
  const askedOrder = scene.subjects.map((s, i) => ({ i, cx: s.cx })).sort((a, b) => a.cx - b.cx);
  const subjects: (Component | null)[] = scene.subjects.map(() => null);
  askedOrder.forEach((a, k) => (subjects[a.i] = found[k] ?? null));
  const background = new Uint8Array(pic.size * pic.size).fill(1);
  for (const c of [...comps, ...(object ? [object] : [])]) for (const p of c.pixels) background[p] = 0;
  return { subjects, object, background, backgroundFound, style };
}

/** The identity rendered alone (no background: mask and colours) with its drawn box fitted to a found box. */
export function fittedTruth(identityId: number, found: Pick<Component, 'x0' | 'y0' | 'x1' | 'y1'>, size: number, style: Style) {
  const render = (s: Pick<SceneSubject, 'cx' | 'cy' | 'h'>) =>
    renderScene({ background: { kind: 'plain', colour: 'gray', detail: 0 }, subjects: [{ identityId, position: 'center', size: 'large', ...s }], object: null, style }, size);
  const bbox = (mask: Uint8Array) => {
    let x0 = size, y0 = size, x1 = -1, y1 = -1;
    for (let p = 0; p < size * size; p++) {
      if (mask[p]! < 128) continue;
      const x = p % size, y = (p / size) | 0;
      x0 = Math.min(x0, x);
      x1 = Math.max(x1, x);
      y0 = Math.min(y0, y);
      y1 = Math.max(y1, y);
    }
    return { x0, y0, x1, y1 };
  };
  // Render once at a nominal height, then scale and move so the silhouette's box matches.
  const nominal = { cx: 0.5, cy: 0.5, h: 0.5 };
  const b = bbox(render(nominal).subjectMasks[0]!);
  const k = (found.y1 - found.y0 + 1) / Math.max(1, b.y1 - b.y0 + 1);
  const fitted = {
    h: nominal.h * k,
    cx: 0.5 + ((found.x0 + found.x1) / 2 - (0.5 * size + ((b.x0 + b.x1) / 2 - 0.5 * size) * k)) / size,
    cy: 0.5 + ((found.y0 + found.y1) / 2 - (0.5 * size + ((b.y0 + b.y1) / 2 - 0.5 * size) * k)) / size,
  };
  const r = render(fitted);
  return { mask: r.subjectMasks[0]!, rgb: r.rgb, placement: fitted };
}

export interface ConceptScore {
  cp: number;
  iou: number;
  colour: number;
}

/** CP of a found component against an identity: silhouette IoU x colour agreement (4x4 px blocks). */
export function conceptPreservation(pic: Picture, found: Component | null, identityId: number, style: Style): ConceptScore {
  if (!found) return { cp: 0, iou: 0, colour: 0 };
  const { size, rgb } = pic;
  const truth = fittedTruth(identityId, found, size, style);
  const inFound = new Uint8Array(size * size);
  for (const p of found.pixels) inFound[p] = 1;
  let inter = 0, union = 0;
  for (let p = 0; p < size * size; p++) {
    const t = truth.mask[p]! >= 128 ? 1 : 0;
    inter += t & inFound[p]!;
    union += t | inFound[p]!;
  }
  const iou = union > 0 ? inter / union : 0;
  const B = 4;
  let score = 0, blocks = 0;
  for (let by = 0; by < size; by += B) {
    for (let bx = 0; bx < size; bx += B) {
      let cover = 0;
      const g = [0, 0, 0], t = [0, 0, 0];
      for (let y = by; y < by + B; y++) {
        for (let x = bx; x < bx + B; x++) {
          const p = y * size + x;
          cover += truth.mask[p]! / 255;
          for (let c = 0; c < 3; c++) {
            g[c]! += rgb[p * 3 + c]!;
            t[c]! += truth.rgb[p * 3 + c]!;
          }
        }
      }
      if (cover < 0.75 * B * B) continue;
      const d = Math.hypot(g[0]! - t[0]!, g[1]! - t[1]!, g[2]! - t[2]!) / (B * B);
      score += Math.max(0, 1 - d / COLOUR_SPAN);
      blocks++;
    }
  }
  const colour = blocks > 0 ? score / blocks : 0;
  return { cp: iou * colour, iou, colour };
}

/** Which of the world's backgrounds the background pixels look most like. */
export function classifyBackground(pic: Picture, backgroundMask: Uint8Array, style: Style): { kind: Background['kind']; colour: string | null } {
  const candidates = BACKGROUND_KINDS.flatMap((kind): { kind: Background['kind']; colour: string | null }[] =>
    kind === 'plain' || kind === 'striped' ? COLOUR_WORDS.map((colour) => ({ kind, colour })) : [{ kind, colour: null }],
  );
  let best = candidates[0]!;
  let bestScore = Infinity;
  for (const c of candidates) {
    const pal = backgroundPalette(c.kind, c.colour, style);
    let sum = 0, n = 0;
    for (let p = 0; p < pic.size * pic.size; p += 3) {
      if (!backgroundMask[p]) continue;
      sum += Math.sqrt(nearestDist2(pal, pic.rgb[p * 3]!, pic.rgb[p * 3 + 1]!, pic.rgb[p * 3 + 2]!));
      n++;
    }
    const score = n > 0 ? sum / n : Infinity;
    if (score < bestScore) {
      bestScore = score;
      best = c;
    }
  }
  return best;
}

/**
 * The style from the picture alone. Black and white: nearly every pixel gray (a plain gray
 * background still has its coloured subject, 4 % of the picture or more). Night: nearly every
 * pixel inside what the night transform can make (r <= 0.35 * 255, g <= 0.4 * 255, 24 <= b <=
 * 0.55 * 255 + 24, with a little slack); no plain background is (blue and water are too blue).
 */
export function classifyStyle(pic: Picture): Style {
  const n = pic.size * pic.size;
  let gray = 0, night = 0;
  for (let p = 0; p < n; p++) {
    const r = pic.rgb[p * 3]!, g = pic.rgb[p * 3 + 1]!, b = pic.rgb[p * 3 + 2]!;
    if (Math.max(r, g, b) - Math.min(r, g, b) <= 12) gray++;
    if (r <= 95 && g <= 108 && b >= 16 && b <= 170) night++;
  }
  if (gray >= 0.97 * n) return 'mono';
  return night >= 0.9 * n ? 'night' : 'plain';
}

function nearestPosition(cx: number, size: SizeWord): Position {
  const slots = SLOT_X[size];
  return (Object.keys(slots) as Position[]).reduce((a, b) => (Math.abs(slots[a] - cx) <= Math.abs(slots[b] - cx) ? a : b));
}

/** Height of the identity's silhouette (fraction of the side) at each size word. */
function nearestSize(identityId: number, heightFraction: number): SizeWord {
  const heights = SIZES.map((s) => {
    const r = renderScene({ background: { kind: 'plain', colour: 'gray', detail: 0 }, subjects: [{ identityId, position: 'center', size: s, cx: 0.5, cy: 0.5, h: { small: 0.34, large: 0.54 }[s] }], object: null, style: 'plain' }, 64);
    let y0 = 64, y1 = -1;
    r.subjectMasks[0]!.forEach((v, p) => {
      if (v < 128) return;
      y0 = Math.min(y0, (p / 64) | 0);
      y1 = Math.max(y1, (p / 64) | 0);
    });
    return (y1 - y0 + 1) / 64;
  });
  const d = heights.map((h) => Math.abs(Math.log(heightFraction / h)));
  return d[0]! <= d[1]! ? 'small' : 'large';
}

const OBJECT_FILL: Record<string, number> = { ball: Math.PI / 4, cube: 1, cone: 0.5 };

export interface PromptScore {
  pf: number;
  attributes: { name: string; ok: boolean }[];
}

export function promptFollowing(pic: Picture, scene: Scene, seg: Segmentation = segment(pic, scene)): PromptScore {
  const attributes: { name: string; ok: boolean }[] = [];
  const bg = seg.backgroundFound;
  attributes.push({ name: 'background', ok: bg.kind === scene.background.kind && bg.colour === scene.background.colour });
  scene.subjects.forEach((s, i) => {
    const c = seg.subjects[i];
    if (!c) {
      attributes.push({ name: `subject ${i + 1} position`, ok: false }, { name: `subject ${i + 1} size`, ok: false });
      return;
    }
    const size = nearestSize(s.identityId, (c.y1 - c.y0 + 1) / pic.size);
    attributes.push({ name: `subject ${i + 1} position`, ok: nearestPosition((c.x0 + c.x1 + 1) / 2 / pic.size, size) === s.position });
    attributes.push({ name: `subject ${i + 1} size`, ok: size === s.size });
  });
  if (scene.object) {
    const o = seg.object;
    let ok = false;
    if (o) {
      const fill = o.pixels.length / ((o.x1 - o.x0 + 1) * (o.y1 - o.y0 + 1));
      const kind = Object.entries(OBJECT_FILL).reduce((a, b) => (Math.abs(b[1] - fill) < Math.abs(a[1] - fill) ? b : a))[0];
      ok = kind === scene.object.kind;
    }
    attributes.push({ name: 'object', ok });
  }
  attributes.push({ name: 'style', ok: seg.style === scene.style });
  return { pf: attributes.filter((a) => a.ok).length / attributes.length, attributes };
}

/**
 * Share of the picture outside the found subjects and object that is nearer the reference photo's
 * background palette than the asked one's (and near the former: not some third colour).
 */
export function backgroundLeak(pic: Picture, seg: Segmentation, asked: Background, reference: Background, style: Style): number {
  const want = backgroundPalette(asked.kind, asked.colour, style);
  const ref = backgroundPalette(reference.kind, reference.colour, style);
  const taken = new Uint8Array(pic.size * pic.size);
  for (const c of [...seg.subjects, seg.object]) if (c) for (const p of c.pixels) taken[p] = 1;
  let leak = 0, n = 0;
  for (let p = 0; p < pic.size * pic.size; p++) {
    if (taken[p]) continue;
    const r = pic.rgb[p * 3]!, g = pic.rgb[p * 3 + 1]!, b = pic.rgb[p * 3 + 2]!;
    const dRef = nearestDist2(ref, r, g, b);
    n++;
    if (dRef <= NEAR * NEAR && dRef < nearestDist2(want, r, g, b)) leak++;
  }
  return n > 0 ? leak / n : 0;
}

/** Colours of different parts closer than this (RGB) make a scene illegible to the measures. */
const LEGIBLE = 60;

/**
 * Whether the measures can read a scene: every subject colour and the object's stand out from
 * the background (in the style) and the object from the subjects. The world also makes scenes
 * where they do not (a blue cone on water, anything gray in black and white); the eval asks
 * only for legible ones, and the measures are tested on them.
 */
export function legible(scene: Scene): boolean {
  const bg = backgroundPalette(scene.background.kind, scene.background.colour, scene.style);
  const far = (c: Rgb, pal: readonly Rgb[]) => pal.every((q) => Math.sqrt(dist2(q, ...c)) >= LEGIBLE);
  const subjectColours = scene.subjects.flatMap((s) => [identityFromId(s.identityId).body, identityFromId(s.identityId).accent].map((c) => applyStyle(c, scene.style)));
  if (!subjectColours.every((c) => far(c, bg))) return false;
  if (!scene.object) return true;
  const o = applyStyle(COLOURS[scene.object.colour]!, scene.style);
  return far(o, bg) && far(o, subjectColours);
}

/** The smallest distance between two identities' colours in a style (pairs for mixing need distinct ones). */
export function paletteDistance(identityA: number, identityB: number, style: Style): number {
  const pal = (id: number) => [identityFromId(id).body, identityFromId(id).accent].map((c) => applyStyle(c, style));
  let best = Infinity;
  for (const a of pal(identityA)) for (const b of pal(identityB)) best = Math.min(best, Math.sqrt(dist2(a, ...b)));
  return best;
}

/** Of subject b's pixels near either palette, the share nearer subject a's palette than b's own. */
export function mixing(pic: Picture, foundB: Component | null, identityA: number, identityB: number, style: Style): number {
  if (!foundB) return 0;
  const pal = (id: number) => {
    const i = identityFromId(id);
    return [applyStyle(i.body, style), applyStyle(i.accent, style)];
  };
  const a = pal(identityA), b = pal(identityB);
  let mixed = 0, counted = 0;
  for (const p of foundB.pixels) {
    const r = pic.rgb[p * 3]!, g = pic.rgb[p * 3 + 1]!, bl = pic.rgb[p * 3 + 2]!;
    const dA = nearestDist2(a, r, g, bl);
    const dB = nearestDist2(b, r, g, bl);
    // Pixels like neither palette (edges blended with the background) say nothing.
    if (Math.min(dA, dB) > NEAR * NEAR) continue;
    counted++;
    if (dA < dB) mixed++;
  }
  return counted > 0 ? mixed / counted : 0;
}
