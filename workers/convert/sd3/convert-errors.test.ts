/**
 * Bad input to the SD3 converter: the real convertSd3Folder on mutated in-memory copies of the
 * committed fixture folders (and on minimal folders of other pipelines). Each case checks the
 * error's code and its whole message, which is what a person reads.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConvertError } from '../errors';
import type { ConvertProgress } from '../progress';
import { bytesSource, folderFromSources, type FolderSource } from '../source';
import { kleinFolder } from '../testing/model-folders';
import { memoryFolder, writeSafetensors, type TensorSpec } from '../testing/safetensors-writer';
import { convertSd3Folder, type ConvertOptions } from './convert';
import { SD3_FIXTURES, type FixtureModel } from './testing/fixture-packs';

type Files = Map<string, Uint8Array>;

const TRANSFORMER = 'transformer/diffusion_pytorch_model.safetensors';
const CHECKPOINTS = [TRANSFORMER, 'vae/diffusion_pytorch_model.safetensors', 'text_encoder/model.safetensors', 'text_encoder_2/model.safetensors'];

/** The fixture folder's files (its reference/ outputs left out), read once per model. */
const fixtureFiles = (() => {
  const cache = new Map<FixtureModel, Files>();
  return (model: FixtureModel): Files => {
    if (!cache.has(model)) {
      const root = join(SD3_FIXTURES, model);
      const files: Files = new Map();
      for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
        const path = join(entry.parentPath, entry.name).slice(root.length + 1);
        if (entry.isFile() && !path.startsWith('reference/')) files.set(path, new Uint8Array(readFileSync(join(root, path))));
      }
      cache.set(model, files);
    }
    return new Map(cache.get(model));
  };
})();

const folderOf = (files: Files): FolderSource => folderFromSources([...files].map(([path, bytes]) => bytesSource(path, bytes)));

/** A safetensors file's header and tensors, parsed here (not by the reader under test) so they can be written back changed. */
function parseSafetensors(bytes: Uint8Array): { metadata: Record<string, string>; tensors: Record<string, TensorSpec>; headerLength: number } {
  const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const { __metadata__: metadata, ...entries } = header as Record<string, unknown>;
  const tensors: Record<string, TensorSpec> = {};
  for (const [key, e] of Object.entries(entries as typeof header)) {
    tensors[key] = { dtype: e.dtype, shape: e.shape, raw: bytes.slice(8 + headerLength + e.data_offsets[0], 8 + headerLength + e.data_offsets[1]) };
  }
  return { metadata: (metadata ?? {}) as Record<string, string>, tensors, headerLength };
}

/** The fixture with its transformer file rewritten: `edit` changes the tensors, `editHeader` only what the header says. */
function withTransformer(edit: (tensors: Record<string, TensorSpec>) => void, editHeader?: (header: Record<string, { data_offsets: number[]; shape: number[]; dtype: string }>) => void): Files {
  const files = fixtureFiles('sd3');
  const { metadata, tensors } = parseSafetensors(files.get(TRANSFORMER)!);
  edit(tensors);
  files.set(TRANSFORMER, writeSafetensors(tensors, { metadata, ...(editHeader ? { editHeader: editHeader as (h: Record<string, unknown>) => void } : {}) }));
  return files;
}

function without(files: Files, dir: string): Files {
  for (const path of [...files.keys()]) if (path.startsWith(`${dir}/`)) files.delete(path);
  return files;
}

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const OPTIONS: ConvertOptions = { precision: 'fp32', sizes: [128] };

async function failure(folder: FolderSource | Files, opts: Partial<ConvertOptions> = {}): Promise<ConvertError> {
  try {
    await convertSd3Folder(folder instanceof Map ? folderOf(folder) : folder, { ...OPTIONS, ...opts });
  } catch (error) {
    expect(error).toBeInstanceOf(ConvertError);
    return error as ConvertError;
  }
  throw new Error('expected a ConvertError');
}

describe('a folder that is not SD3', () => {
  it('SDXL', async () => {
    const e = await failure(
      memoryFolder({
        'model_index.json': {
          _class_name: 'StableDiffusionXLPipeline',
          _diffusers_version: '0.19.0.dev0',
          scheduler: ['diffusers', 'EulerDiscreteScheduler'],
          text_encoder: ['transformers', 'CLIPTextModel'],
          text_encoder_2: ['transformers', 'CLIPTextModelWithProjection'],
          tokenizer: ['transformers', 'CLIPTokenizer'],
          tokenizer_2: ['transformers', 'CLIPTokenizer'],
          unet: ['diffusers', 'UNet2DConditionModel'],
          vae: ['diffusers', 'AutoencoderKL'],
        },
        'unet/config.json': { _class_name: 'UNet2DConditionModel', cross_attention_dim: 2048, addition_embed_type: 'text_time' },
      }),
    );
    expect(e.code).toBe('wrong-model');
    expect(e.message).toBe('this is an SDXL folder; the studio converts SD3, SD3.5 and FLUX.2 klein (model_index.json says StableDiffusionXLPipeline)');
  });

  it('FLUX.1 dev', async () => {
    const e = await failure(
      memoryFolder({
        'model_index.json': {
          _class_name: 'FluxPipeline',
          scheduler: ['diffusers', 'FlowMatchEulerDiscreteScheduler'],
          text_encoder: ['transformers', 'CLIPTextModel'],
          text_encoder_2: ['transformers', 'T5EncoderModel'],
          tokenizer: ['transformers', 'CLIPTokenizer'],
          tokenizer_2: ['transformers', 'T5TokenizerFast'],
          transformer: ['diffusers', 'FluxTransformer2DModel'],
          vae: ['diffusers', 'AutoencoderKL'],
        },
        'transformer/config.json': { _class_name: 'FluxTransformer2DModel', num_layers: 19, num_single_layers: 38, guidance_embeds: true },
      }),
    );
    expect(e.code).toBe('wrong-model');
    expect(e.message).toBe('this is a FLUX.1 folder (a 12B transformer); the studio converts SD3, SD3.5 and FLUX.2 klein (model_index.json says FluxPipeline)');
  });

  it('FLUX.2 dev', async () => {
    const e = await failure(
      memoryFolder({
        'model_index.json': {
          _class_name: 'Flux2Pipeline',
          scheduler: ['diffusers', 'FlowMatchEulerDiscreteScheduler'],
          text_encoder: ['transformers', 'Mistral3ForConditionalGeneration'],
          tokenizer: ['transformers', 'PixtralProcessor'],
          transformer: ['diffusers', 'Flux2Transformer2DModel'],
          vae: ['diffusers', 'AutoencoderKLFlux2'],
        },
        'transformer/config.json': { _class_name: 'Flux2Transformer2DModel', num_layers: 8, num_single_layers: 48 },
      }),
    );
    expect(e.code).toBe('wrong-model');
    expect(e.message).toBe(
      'this is a FLUX.2 dev folder, not supported: its 32B transformer does not fit a browser; the studio converts SD3, SD3.5 and FLUX.2 klein (model_index.json says Flux2Pipeline)',
    );
  });

  it('FLUX.2 klein: recognised, and left to its own converter', async () => {
    const e = await failure(memoryFolder(kleinFolder()));
    expect(e.code).toBe('wrong-model');
    expect(e.message).toBe('this folder holds FLUX.2 klein 4B; this converter makes packs of Stable Diffusion 3 and 3.5 (convertModelFolder picks the converter of each family)');
    expect(e.file).toBe('model_index.json');
  });
});

describe('a missing or broken component', () => {
  it('no vae/, no text_encoder_2/, or neither', async () => {
    const noVae = await failure(without(fixtureFiles('sd3'), 'vae'));
    expect([noVae.code, noVae.message]).toEqual(['missing-component', 'vae/ is missing (VAE)']);
    const noClipG = await failure(without(fixtureFiles('sd3'), 'text_encoder_2'));
    expect([noClipG.code, noClipG.message]).toEqual(['missing-component', 'text_encoder_2/ is missing (OpenCLIP bigG text encoder)']);
    const both = await failure(without(without(fixtureFiles('sd3'), 'vae'), 'text_encoder_2'));
    expect(both.message).toBe('vae/ is missing (VAE); text_encoder_2/ is missing (OpenCLIP bigG text encoder)');
  });

  it('a text encoder config without hidden_act names the file (it was a plain Error)', async () => {
    const files = fixtureFiles('sd3');
    const config = JSON.parse(new TextDecoder().decode(files.get('text_encoder_2/config.json'))) as Record<string, unknown>;
    delete config.hidden_act;
    files.set('text_encoder_2/config.json', json(config));
    const e = await failure(files);
    expect(e.code).toBe('bad-json');
    expect(e.message).toBe('text_encoder_2/config.json: hidden_act undefined is not quick_gelu or gelu');
  });

  it('a vocab.json that is not JSON names the tokenizer (it was a raw SyntaxError)', async () => {
    const files = fixtureFiles('sd3');
    files.set('tokenizer/vocab.json', new TextEncoder().encode('{"a": 1,'));
    const e = await failure(files);
    expect(e.code).toBe('bad-json');
    expect(e.message).toBe('tokenizer/ is not a CLIP tokenizer: vocab.json is not valid JSON (Expected double-quoted property name in JSON at position 8)');
  });
});

describe('a damaged safetensors file', () => {
  it('the transformer cut in half: truncated, download it again', async () => {
    const files = fixtureFiles('sd3');
    const whole = files.get(TRANSFORMER)!;
    files.set(TRANSFORMER, whole.slice(0, whole.byteLength >> 1));
    const e = await failure(files);
    expect(e.code).toBe('truncated');
    expect(e.file).toBe(TRANSFORMER);
    expect(e.message).toBe(
      'transformer/diffusion_pytorch_model.safetensors is truncated: the header says the data is 472,576 bytes, the file has 232,828, so 47 tensors from key transformer_blocks.0.attn.add_q_proj.weight on lie past its end. It was probably cut off while downloading: download it again',
    );
  });

  it('cut inside its header', async () => {
    const files = fixtureFiles('sd3');
    files.set(TRANSFORMER, files.get(TRANSFORMER)!.slice(0, 100));
    const e = await failure(files);
    expect(e.code).toBe('header-size');
    expect(e.message).toBe(
      'transformer/diffusion_pytorch_model.safetensors: the header length says 6,912 bytes, but the file has only 92 bytes after it (it is not a safetensors file, or it is cut off inside its header)',
    );
  });

  it('data_offsets beyond the end of the file: names the key', async () => {
    const e = await failure(
      withTransformer(
        () => {},
        (h) => {
          const [begin, end] = h['proj_out.bias']!.data_offsets as [number, number];
          h['proj_out.bias']!.data_offsets = [10_000_000, 10_000_000 + end - begin];
        },
      ),
    );
    expect([e.code, e.key]).toEqual(['truncated', 'proj_out.bias']);
    expect(e.message).toBe(
      'transformer/diffusion_pytorch_model.safetensors is truncated: the header says the data is 10,000,256 bytes, the file has 472,576, so key proj_out.bias lies past its end. It was probably cut off while downloading: download it again',
    );
  });

  it('a shape or dtype that disagrees with data_offsets', async () => {
    const shape = await failure(withTransformer(() => {}, (h) => void (h['context_embedder.bias']!.shape = [33])));
    expect([shape.code, shape.key]).toEqual(['offsets', 'context_embedder.bias']);
    expect(shape.message).toBe('transformer/diffusion_pytorch_model.safetensors: key context_embedder.bias has data_offsets [0, 128) holding 128 bytes, but F32 [33] needs 132');
    const dtype = await failure(withTransformer(() => {}, (h) => void (h['context_embedder.bias']!.dtype = 'F16')));
    expect(dtype.message).toBe('transformer/diffusion_pytorch_model.safetensors: key context_embedder.bias has data_offsets [0, 128) holding 128 bytes, but F16 [32] needs 64');
  });
});

describe('keys the transformer needs', () => {
  it('a missing key', async () => {
    const e = await failure(withTransformer((t) => delete t['transformer_blocks.1.attn.to_q.weight']));
    expect([e.code, e.key, e.file]).toEqual(['missing-key', 'transformer_blocks.1.attn.to_q.weight', TRANSFORMER]);
    expect(e.message).toBe('key transformer_blocks.1.attn.to_q.weight is missing from transformer/diffusion_pytorch_model.safetensors');
  });

  it('a misshapen key: the expected and the actual shape', async () => {
    const e = await failure(
      withTransformer((t) => {
        const w = t['context_embedder.weight']!;
        t['context_embedder.weight'] = { dtype: w.dtype, shape: [32, 64], raw: w.raw!.slice(0, w.raw!.byteLength / 2) };
      }),
    );
    expect([e.code, e.key]).toEqual(['bad-shape', 'context_embedder.weight']);
    expect(e.message).toBe('key context_embedder.weight has shape [32, 64], expected [32, 128] (in transformer/diffusion_pytorch_model.safetensors)');
  });

  it('a key the config does not describe', async () => {
    const e = await failure(withTransformer((t) => void (t['transformer_blocks.1.attn2.to_q.weight'] = { dtype: 'F32', shape: [32, 32] })));
    expect(e.code).toBe('wrong-model');
    expect(e.message).toBe('key transformer_blocks.1.attn2.to_q.weight in transformer/diffusion_pytorch_model.safetensors is not part of the transformer its config describes');
  });
});

describe('dtypes', () => {
  it('F64 and F8_E4M3: which, and what to download instead', async () => {
    const f64 = await failure(withTransformer((t) => void (t['context_embedder.bias'] = { dtype: 'F64', shape: [32] })));
    expect([f64.code, f64.key]).toEqual(['unsupported-dtype', 'context_embedder.bias']);
    expect(f64.message).toBe(
      'unsupported dtype F64 for key context_embedder.bias in transformer/diffusion_pytorch_model.safetensors: the studio reads F32, F16 and BF16 weights (fp64 weights: use an fp32, fp16 or bf16 download)',
    );
    const fp8 = await failure(withTransformer((t) => void (t['context_embedder.bias'] = { dtype: 'F8_E4M3', shape: [32] })));
    expect(fp8.message).toBe(
      'unsupported dtype F8_E4M3 for key context_embedder.bias in transformer/diffusion_pytorch_model.safetensors: the studio reads F32, F16 and BF16 weights (an fp8 checkpoint: use the fp16 or bf16 download)',
    );
  });

  it('an integer tensor where a weight should be', async () => {
    const e = await failure(withTransformer((t) => void (t['context_embedder.bias'] = { dtype: 'I32', shape: [32] })));
    expect(e.code).toBe('unsupported-dtype');
    expect(e.message).toBe('key context_embedder.bias in transformer/diffusion_pytorch_model.safetensors has dtype I32, expected F32 or F16 or BF16');
  });
});

describe('options', () => {
  // The fixture: patch 2 (16 px cells), a 32 x 32 positional table (512 px), references up to 11 cells (176 px).
  const base = () => fixtureFiles('sd3');

  it('sizes that do not fit', async () => {
    const cases: [number[], string][] = [
      [[100], 'size 100 px is not a positive multiple of 16 px (VAE 8 x patch 2)'],
      [[0], 'size 0 px is not a positive multiple of 16 px (VAE 8 x patch 2)'],
      [[-16], 'size -16 px is not a positive multiple of 16 px (VAE 8 x patch 2)'],
      [[528], 'size 528 px is larger than the 512 px the positional table covers'],
      [[192, 256], 'at every size asked for (192, 256 px) a reference beside the image would leave the 32x32 positional table; subjects need a size of at most 176 px'],
      [[], 'no sizes asked for'],
    ];
    for (const [sizes, message] of cases) {
      const e = await failure(base(), { sizes });
      expect([e.code, e.message]).toEqual(['bad-option', message]);
    }
  });

  it('an int4 block size MatMulNBits cannot take, or one the transformer widths do not divide', async () => {
    const notPow2 = await failure(base(), { precision: 'int4', blockSize: 24 });
    expect([notPow2.code, notPow2.message]).toEqual(['bad-option', 'int4 block size 24 is not a power of two of at least 16 (e.g. 32)']);
    // The fixture's pooled projection is 80 wide: blocks of 32 do not divide it (the default; real SD3 widths are multiples of 256).
    const misfit = await failure(base(), { precision: 'int4' });
    expect([misfit.code, misfit.message]).toEqual([
      'bad-option',
      'int4 block size 32 does not divide the input width 80 of time_text_embed.text_embedder.linear_1.weight (transformer/config.json); use block size 16, or int8 or fp32 weights',
    ]);
  });

  it('an unknown precision', async () => {
    const e = await failure(base(), { precision: 'fp8' as ConvertOptions['precision'] });
    expect([e.code, e.message]).toEqual(['bad-option', 'precision "fp8": expected one of fp32, fp16, int8, int4']);
  });
});

describe('cancel and progress', () => {
  it('aborting the signal during reading stops at the next tensor read: cancelled', async () => {
    const controller = new AbortController();
    const seen: ConvertProgress[] = [];
    const e = await failure(fixtureFiles('sd3'), {
      signal: controller.signal,
      onProgress: (p) => {
        seen.push(p);
        if (p.tensorsDone === 20) controller.abort();
      },
    });
    expect([e.code, e.message]).toEqual(['cancelled', 'the conversion was cancelled; nothing was saved']);
    expect(Math.max(...seen.map((p) => p.tensorsDone))).toBe(20);
  });

  it('a signal aborted before the start reads no weights', async () => {
    const seen: ConvertProgress[] = [];
    const e = await failure(fixtureFiles('sd3'), { signal: AbortSignal.abort(), onProgress: (p) => seen.push(p) });
    expect(e.code).toBe('cancelled');
    expect(seen).toEqual([]);
  });

  it.each<FixtureModel>(['sd3', 'sd3.5'])('%s: bytesDone and tensorsDone rise, one tensor a read, to the totals of the four checkpoints', async (model) => {
    const files = fixtureFiles(model);
    // The totals from the files themselves: every data byte and every key of the four checkpoints.
    let bytes = 0;
    let tensors = 0;
    for (const path of CHECKPOINTS) {
      const file = files.get(path)!;
      const parsed = parseSafetensors(file);
      bytes += file.byteLength - 8 - parsed.headerLength;
      tensors += Object.keys(parsed.tensors).length;
    }
    const seen: ConvertProgress[] = [];
    await convertSd3Folder(folderOf(files), { ...OPTIONS, onProgress: (p) => seen.push(p) });
    expect(seen.every((p) => p.bytesTotal === bytes && p.tensorsTotal === tensors)).toBe(true);
    for (let i = 1; i < seen.length; i++) {
      const step = seen[i]!.tensorsDone - seen[i - 1]!.tensorsDone;
      expect(step === 0 || step === 1).toBe(true);
      expect(seen[i]!.bytesDone).toBeGreaterThanOrEqual(seen[i - 1]!.bytesDone);
      if (step === 1) expect(seen[i]!.bytesDone).toBeGreaterThan(seen[i - 1]!.bytesDone);
    }
    expect(seen.at(-1)).toMatchObject({ phase: 'done', bytesDone: bytes, tensorsDone: tensors });
  });
});
