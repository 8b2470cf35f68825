/**
 * The toy world's words: everything a prompt of the world can say, and the
 * values the generator draws for each. One table per attribute, so the prompt
 * grammar, the renderer and the measures read the same facts.
 */

export type Rgb = readonly [number, number, number];

export const CLASS_WORDS = ['toy', 'vase', 'bird', 'box', 'mug'] as const;
export type ClassWord = (typeof CLASS_WORDS)[number];

/** Colour words with the colour the world paints for each (backgrounds and the second object). */
export const COLOURS: Record<string, Rgb> = {
  red: [200, 56, 48],
  orange: [232, 140, 36],
  yellow: [232, 208, 56],
  green: [64, 160, 72],
  blue: [56, 100, 212],
  purple: [132, 68, 184],
  pink: [236, 140, 184],
  gray: [136, 136, 136],
};
export const COLOUR_WORDS = Object.keys(COLOURS);

/** Background kinds: plain and striped take a colour word; the textures have their own. */
export const BACKGROUND_KINDS = ['plain', 'striped', 'sky', 'grass', 'water'] as const;
export type BackgroundKind = (typeof BACKGROUND_KINDS)[number];

/** Horizontal slots: where a subject or the second object stands (fraction of the width, for each size). */
export const POSITIONS = ['left', 'center', 'right'] as const;
export type Position = (typeof POSITIONS)[number];

export const SIZES = ['small', 'large'] as const;
export type SizeWord = (typeof SIZES)[number];
/** Height of a subject's box as a fraction of the image side. */
export const SIZE_FRACTION: Record<SizeWord, number> = { small: 0.34, large: 0.54 };
/** Centre x of each slot (fraction of the width); large subjects stand a little further in. */
export const SLOT_X: Record<SizeWord, Record<Position, number>> = {
  small: { left: 0.26, center: 0.5, right: 0.74 },
  large: { left: 0.33, center: 0.5, right: 0.67 },
};

export const OBJECT_KINDS = ['ball', 'cube', 'cone'] as const;
export type ObjectKind = (typeof OBJECT_KINDS)[number];
/** The second object's size as a fraction of the image side. */
export const OBJECT_FRACTION = 0.2;

export const STYLES = ['plain', 'night', 'mono'] as const;
export type Style = (typeof STYLES)[number];
/** How a prompt says the style ("plain" says nothing). */
export const STYLE_PHRASE: Record<Style, string> = { plain: '', night: 'at night', mono: 'in black and white' };

/** Words (and punctuation) a prompt of the world uses, for the tokenizer and the prompt editor. */
export function worldWords(): string[] {
  const fixed = ['a', 'an', 'of', 'photo', 'on', 'the', 'in', 'background', 'striped', 'sky', 'grass', 'water', 'next', 'to', 'at', 'night', 'black', 'and', 'white', ','];
  const words = new Set<string>([...CLASS_WORDS, ...COLOUR_WORDS, ...POSITIONS, ...SIZES, ...OBJECT_KINDS, ...fixed]);
  return [...words];
}
