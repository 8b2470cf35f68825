/**
 * FLUX.2 klein's conversion facts (conversion-facts.ts). No positional table bounds its sizes (RoPE
 * positions are computed): what bounds them is memory, so the studio offers the usual sizes up to
 * 1536 px (npm run plan says which fit a GPU). int4 needs a block dividing the input width of every
 * quantized linear (the fragile ones stay fp16, flux2LinearPrecision). The text encoder's bytes are
 * those of the Qwen3 layers the taps read: later layers, the final norm and lm_head are skipped.
 */
import type { ConversionFacts } from '../conversion-facts';
import { int4BlockFor } from '../conversion-facts';
import { getComponent, type JsonObject, type ModelFolderDescription } from '../folder';
import { packBytesLowerBound } from '../pack-size';
import { qwen3Config, qwen3LayersFor, qwen3TextEncoderKeys } from './qwen3';
import { flux2TransformerKeys, isFlux2FragileLinear } from './transformer';

const COMPONENTS = ['transformer', 'vae', 'text_encoder'] as const;
/** The VAE downsamples 8x and patchifies 2x2: one token per 16 x 16 pixels. */
export const FLUX2_CELL = 16;
const LARGEST_OFFERED = 1536;
/**
 * Prompt rows: the pipelines' max_sequence_length (512 by default, any value allowed). Every prompt
 * is padded to it and every row enters the transformer's attention, so fewer rows make each step
 * cheaper (at 512 px, 512 rows are a third of the tokens) and cut longer prompts.
 */
export const FLUX2_PROMPT_ROWS = [512, 256, 128, 64] as const;

/** [key, input width] of every transformer linear stored at the pack's precision. */
export function flux2QuantizedLinears(transformerConfig: JsonObject): [string, number][] {
  return [...flux2TransformerKeys(transformerConfig)].filter(([key, shape]) => shape.length === 2 && !isFlux2FragileLinear(key)).map(([key, shape]) => [key, shape[1]!]);
}

/**
 * The hidden-state taps whose concatenation is the prompt embedding. They are an argument of the
 * pipelines' encode_prompt (text_encoder_out_layers, in no config file): (9, 18, 27) for Qwen3's 36
 * layers, i.e. at a quarter, half and three quarters of the depth, which is the rule used here for
 * any depth (the fixtures' 4-layer encoders: 1, 2, 3). Null when the encoder is too shallow.
 */
export function flux2TapsFor(layers: number): number[] | null {
  const taps = [1, 2, 3].map((k) => Math.round((layers * k) / 4));
  return new Set(taps).size !== 3 || taps[0]! < 1 ? null : taps;
}

export function flux2ConversionFacts(d: ModelFolderDescription): ConversionFacts {
  const tcfg = getComponent(d, 'transformer').config;
  const text = getComponent(d, 'text_encoder');
  const taps = flux2TapsFor(qwen3Config(text.config).layers);
  const read = taps ? new Set(qwen3TextEncoderKeys(text.config, qwen3LayersFor(taps)).keys()) : undefined;
  return {
    components: COMPONENTS,
    sizeStep: FLUX2_CELL,
    maxSize: LARGEST_OFFERED,
    offerSmallSizes: d.variant === 'custom',
    int4BlockSize: int4BlockFor(flux2QuantizedLinears(tcfg).map(([, w]) => w)),
    promptRows: FLUX2_PROMPT_ROWS,
    // klein 9B and 9B-kv share the transformer and the Qwen3-8B encoder: one preset.
    planPreset: d.variant === '4B' ? 'flux2-klein-4b' : d.variant === '9B' ? 'flux2-klein-9b-kv' : null,
    packBytesLowerBound: (precision, blockSize) =>
      packBytesLowerBound(
        {
          quantized: [
            { index: getComponent(d, 'transformer').weights, atLeastHalf: isFlux2FragileLinear },
            { index: text.weights, atLeastHalf: (k) => k === 'model.embed_tokens.weight', ...(read ? { include: (k: string) => read.has(k) } : {}) },
          ],
          fullPrecision: [{ index: getComponent(d, 'vae').weights }],
        },
        precision,
        blockSize,
      ),
  };
}
