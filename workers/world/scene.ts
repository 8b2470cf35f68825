/**
 * Scenes: what a picture of the world shows, as data. A scene is drawn from a
 * seed (sampleScene) or written by hand (the eval, the examples); the
 * renderer turns it into pixels and masks, the prompt grammar into words, and
 * the measures compare an image against it.
 */
import { Draw } from './random';
import {
  BACKGROUND_KINDS,
  COLOUR_WORDS,
  OBJECT_FRACTION,
  OBJECT_KINDS,
  POSITIONS,
  SIZES,
  SIZE_FRACTION,
  SLOT_X,
  type BackgroundKind,
  type ObjectKind,
  type Position,
  type SizeWord,
  type Style,
} from './vocabulary';

export interface Background {
  kind: BackgroundKind;
  /** Colour word (plain and striped only). */
  colour: string | null;
  /** Seed of the texture's details (stripe period and direction, clouds, noise). */
  detail: number;
}

export interface SceneSubject {
  identityId: number;
  position: Position;
  size: SizeWord;
  /** Box centre and height, as fractions of the image side (jittered around the slot). */
  cx: number;
  cy: number;
  h: number;
}

export interface SceneObject {
  kind: ObjectKind;
  colour: string;
  position: Position;
  cx: number;
  cy: number;
}

export interface Scene {
  background: Background;
  subjects: SceneSubject[];
  object: SceneObject | null;
  style: Style;
}

export interface SubjectRequest {
  identityId: number;
  position?: Position;
  size?: SizeWord;
}

export interface SceneOptions {
  subjects: SubjectRequest[];
  /** Probability of a second object (default 0.5; never with two subjects). */
  objectChance?: number;
  /** Probability of a non-plain style (default 0.3). */
  styleChance?: number;
  background?: Partial<Background>;
  style?: Style;
  object?: Pick<SceneObject, 'kind' | 'colour'> | null;
}

/** A subject placed in its slot with a little jitter (drawn from d). */
export function placeSubject(d: Draw, req: Required<SubjectRequest>): SceneSubject {
  return {
    identityId: req.identityId,
    position: req.position,
    size: req.size,
    cx: SLOT_X[req.size][req.position] + d.range(-0.03, 0.03),
    cy: 0.5 + d.range(-0.05, 0.05),
    h: SIZE_FRACTION[req.size] * d.range(0.94, 1.06),
  };
}

/**
 * A background drawn from d, with any of its fields fixed by the caller. The
 * colour is drawn whatever the kind (so fixing the kind does not shift the
 * other draws) and kept only for the kinds that have one.
 */
export function sampleBackground(d: Draw, fixed: Partial<Background> = {}): Background {
  const kind = d.pick(BACKGROUND_KINDS);
  const colour = d.pick(COLOUR_WORDS);
  const detail = d.int(0x7fffffff);
  const k = fixed.kind ?? kind;
  return { kind: k, colour: k === 'plain' || k === 'striped' ? (fixed.colour ?? colour) : null, detail: fixed.detail ?? detail };
}

/** The slot farthest from every subject (the second object stands there). */
function freeSlot(subjects: SceneSubject[], d: Draw): Position {
  const taken = new Set(subjects.map((s) => s.position));
  const free = POSITIONS.filter((p) => !taken.has(p) && p !== 'center');
  if (free.length > 0) return d.pick(free);
  return taken.has('left') ? 'right' : 'left';
}

export function sampleScene(seed: number, opts: SceneOptions): Scene {
  const d = new Draw(seed, 'scene');
  const two = opts.subjects.length > 1;
  const positions: Position[] = two ? (d.chance(0.5) ? ['left', 'right'] : ['right', 'left']) : [d.pick(POSITIONS)];
  const subjects = opts.subjects.map((req, i) =>
    placeSubject(d, {
      identityId: req.identityId,
      position: req.position ?? positions[i]!,
      // Two subjects side by side are small, so that they do not overlap.
      size: req.size ?? (two ? 'small' : d.pick(SIZES)),
    }),
  );
  const background = sampleBackground(d, opts.background);
  const wantsObject = opts.object !== undefined ? opts.object !== null : !two && d.chance(opts.objectChance ?? 0.5);
  let object: SceneObject | null = null;
  if (wantsObject) {
    const position = freeSlot(subjects, d);
    const kind = opts.object?.kind ?? d.pick(OBJECT_KINDS);
    const colour = opts.object?.colour ?? d.pick(COLOUR_WORDS);
    object = { kind, colour, position, cx: SLOT_X.small[position] + d.range(-0.02, 0.02), cy: 0.8 - OBJECT_FRACTION / 2 + d.range(-0.02, 0.02) };
  }
  const style = opts.style ?? (d.chance(opts.styleChance ?? 0.3) ? d.pick(['night', 'mono'] as const) : 'plain');
  return { background, subjects, object, style };
}
