/**
 * The SD3 family's conversion facts (conversion-facts.ts): its sizes are bounded by the positional
 * table (a reference sits one image width right of the image, so the largest size with subjects is
 * well under the table's), and int4 needs a block dividing every transformer linear's input width.
 */
import type { ConversionFacts } from '../conversion-facts';
import { int4BlockFor } from '../conversion-facts';
import { ConvertError } from '../errors';
import { getComponent, type ModelFolderDescription } from '../folder';
import { sd3PackBytesLowerBound } from '../pack-size';
import { sd3ReferenceGridLimit } from './convert';
import { sd3TransformerKeys } from './transformer';

/** What convertSd3Folder reads (a T5 encoder in the folder is not used). */
const COMPONENTS = ['transformer', 'vae', 'text_encoder', 'text_encoder_2'] as const;

const positiveInt = (v: unknown, what: string): number => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new ConvertError('bad-json', `transformer/config.json: ${what} is ${JSON.stringify(v)}, expected a positive whole number`, { file: 'transformer/config.json' });
  return v;
};

/** The int4 block for an SD3 transformer config (the text encoders need none: their misfits fall back to int8). */
export function sd3Int4BlockSize(transformerConfig: Record<string, unknown>): number | null {
  return int4BlockFor([...sd3TransformerKeys(transformerConfig)].filter(([key, shape]) => key.endsWith('.weight') && shape.length === 2).map(([, shape]) => shape[1]!));
}

export function sd3ConversionFacts(d: ModelFolderDescription): ConversionFacts {
  const config = getComponent(d, 'transformer').config;
  const patch = positiveInt(config.patch_size, 'patch_size');
  const table = positiveInt(config.pos_embed_max_size, 'pos_embed_max_size');
  const sizeStep = 8 * patch;
  const maxSize = sd3ReferenceGridLimit(table) * sizeStep;
  return {
    components: COMPONENTS,
    sizeStep,
    maxSize,
    // A table too small for any usual size is a toy's (test folders).
    offerSmallSizes: maxSize < 256,
    int4BlockSize: sd3Int4BlockSize(config),
    promptRows: null,
    planPreset: d.variant === 'medium' ? (d.family === 'sd3.5' ? 'sd3.5-medium' : 'sd3-medium') : null,
    packBytesLowerBound: (precision, blockSize) => sd3PackBytesLowerBound((n) => getComponent(d, n), precision, blockSize),
  };
}
