/**
 * Inspects a diffusers model folder (model_index.json at its root, one folder per component) and
 * says which model it is, or why the studio cannot convert it. Works on any FolderSource: a dropped
 * folder in the browser, a folder on disk in Node.
 */
import { ConvertError, type ConvertErrorCode } from './errors';
import { findBflTransformer, loneBflFileAdvice } from './flux2/bfl-checkpoint';
import { openCheckpoint, openSafetensors, type TensorIndex } from './safetensors';
import { readJson, readText, type FolderSource } from './source';
import { readStudioHints, type StudioHints } from './studio-hints';

/** Which model the folder holds. */
export type ModelFamily = 'sd3' | 'sd3.5' | 'flux2-klein' | 'flux2-klein-kv';
/** Its size: SD3/SD3.5 Medium or Large, FLUX.2 klein 4B or 9B, or any other config ('custom': test configs). */
export type ModelVariant = 'medium' | 'large' | '4B' | '9B' | 'custom';

export type JsonObject = Record<string, unknown>;

/** A component with weights (transformer, vae, text encoders). */
export interface ModelComponent {
  /** Folder name: 'transformer', 'text_encoder_2', ... */
  readonly name: string;
  /** For people: 'OpenCLIP bigG text encoder'. */
  readonly role: string;
  /** The class model_index.json names for it ('SD3Transformer2DModel'), when it names one. */
  readonly className: string | undefined;
  /** Its config.json. */
  readonly config: JsonObject;
  /** Its weights (one file or a sharded checkpoint). */
  readonly weights: TensorIndex;
}

export interface TokenizerComponent {
  readonly name: string;
  readonly role: string;
  readonly className: string | undefined;
  /** tokenizer_config.json, when there is one. */
  readonly config: JsonObject | undefined;
  /** Its files, as paths inside the model folder. */
  readonly files: readonly string[];
}

export interface SchedulerComponent {
  readonly name: string;
  readonly className: string | undefined;
  /** scheduler_config.json. */
  readonly config: JsonObject;
}

export interface Licence {
  /** The README's `license:` field ('apache-2.0', 'other'). */
  readonly id?: string;
  /** The README's `license_name:` field. */
  readonly name?: string;
  /** The README's `license_link:` field. */
  readonly link?: string;
  /** The licence file's path (LICENSE, LICENSE.md, ...) and text. */
  readonly file?: string;
  readonly text?: string;
}

export interface ModelFolderDescription {
  readonly family: ModelFamily;
  readonly variant: ModelVariant;
  /** For people: 'Stable Diffusion 3.5 Medium', 'FLUX.2 klein 9B KV'. */
  readonly label: string;
  /** model_index.json's `_class_name`. */
  readonly pipelineClass: string;
  readonly diffusersVersion: string | undefined;
  /** FLUX.2 klein: model_index.json's `is_distilled` (true: the 4-step model; false: the base model). */
  readonly distilled: boolean | undefined;
  readonly modelIndex: JsonObject;
  readonly components: readonly ModelComponent[];
  readonly tokenizers: readonly TokenizerComponent[];
  readonly scheduler: SchedulerComponent;
  /** Optional components the folder does not have (SD3 without T5), with what that means. */
  readonly skipped: readonly { name: string; role: string; note: string }[];
  readonly licence: Licence | undefined;
  /** The folder's studio.json (the project's own trained models write one), or undefined. */
  readonly studio: StudioHints | undefined;
  /** Things worth telling the user that do not stop a conversion. */
  readonly warnings: readonly string[];
}

/** The component by name; throws 'missing-component' when the description has none. */
export function getComponent(description: ModelFolderDescription, name: string): ModelComponent {
  const found = description.components.find((c) => c.name === name);
  if (found === undefined) throw new ConvertError('missing-component', `${name}/ is not part of this ${description.label} folder`, { file: `${name}/` });
  return found;
}

const SUPPORTED = 'the studio converts SD3, SD3.5 and FLUX.2 klein';

interface ComponentSpec {
  readonly name: string;
  readonly role: string;
  readonly kind: 'model' | 'tokenizer' | 'scheduler';
  /** May be absent (SD3's T5). */
  readonly optional?: string;
  /** Needed only when this other component is present. */
  readonly neededWith?: string;
}

const SD3_SPECS: readonly ComponentSpec[] = [
  { name: 'transformer', role: 'MMDiT transformer', kind: 'model' },
  { name: 'vae', role: 'VAE', kind: 'model' },
  { name: 'text_encoder', role: 'CLIP-L text encoder', kind: 'model' },
  { name: 'text_encoder_2', role: 'OpenCLIP bigG text encoder', kind: 'model' },
  {
    name: 'text_encoder_3',
    role: 'T5-XXL text encoder',
    kind: 'model',
    optional: 'no T5 text encoder: prompts are encoded by the two CLIPs only (as the pipeline does without it); long or detailed prompts follow less closely',
  },
  { name: 'tokenizer', role: 'CLIP-L tokenizer', kind: 'tokenizer' },
  { name: 'tokenizer_2', role: 'OpenCLIP bigG tokenizer', kind: 'tokenizer' },
  { name: 'tokenizer_3', role: 'T5 tokenizer', kind: 'tokenizer', optional: 'no T5 tokenizer (not needed without the T5 text encoder)', neededWith: 'text_encoder_3' },
  { name: 'scheduler', role: 'flow-matching scheduler settings', kind: 'scheduler' },
];

const KLEIN_SPECS: readonly ComponentSpec[] = [
  { name: 'transformer', role: 'FLUX.2 transformer', kind: 'model' },
  { name: 'vae', role: 'FLUX.2 VAE', kind: 'model' },
  { name: 'text_encoder', role: 'Qwen3 text encoder', kind: 'model' },
  { name: 'tokenizer', role: 'Qwen tokenizer', kind: 'tokenizer' },
  { name: 'scheduler', role: 'flow-matching scheduler settings', kind: 'scheduler' },
];

/** Pipelines the studio does not convert, by model_index.json `_class_name`. */
const OTHER_MODELS: readonly [RegExp, string][] = [
  [/^StableDiffusionXL|^StableDiffusionXLControlNet|^Kolors/, 'this is an SDXL folder'],
  [/^Flux2Klein/, 'this is a FLUX.2 klein folder of a pipeline the studio does not know'],
  [/^Flux2/, 'this is a FLUX.2 dev folder, not supported: its 32B transformer does not fit a browser'],
  [/^Flux|^Chroma/, 'this is a FLUX.1 folder (a 12B transformer)'],
  [/^PixArt/, 'this is a PixArt folder'],
  [/^Sana/, 'this is a Sana folder'],
  [/^AuraFlow/, 'this is an AuraFlow folder'],
  [/^Lumina/, 'this is a Lumina folder'],
  [/^HunyuanDiT/, 'this is a Hunyuan-DiT folder'],
  [/^HunyuanVideo|^Wan|^LTX|^CogVideoX|^Mochi|^StableVideoDiffusion|^AnimateDiff|^TextToVideo|^I2VGenXL/, 'this is a video model folder'],
  [/^CogView/, 'this is a CogView folder'],
  [/^QwenImage/, 'this is a Qwen-Image folder'],
  [/^HiDream/, 'this is a HiDream folder'],
  [/^ZImage/, 'this is a Z-Image folder'],
  [/^Kandinsky/, 'this is a Kandinsky folder'],
  [/^StableCascade|^Wuerstchen/, 'this is a Stable Cascade folder'],
  [/^IF/, 'this is a DeepFloyd IF folder'],
  [/^StableDiffusionUpscale|^StableDiffusionLatentUpscale/, 'this is an upscaler folder'],
  [/^LatentConsistencyModel/, 'this is an LCM (Stable Diffusion 1.x-based) folder'],
];

function isRecord(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined;
}

async function readObject(folder: FolderSource, path: string): Promise<JsonObject | undefined> {
  const source = folder.open(path);
  if (source === undefined) return undefined;
  const value = await readJson(source);
  if (!isRecord(value)) throw new ConvertError('bad-json', `${path} is not a JSON object`, { file: path });
  return value;
}

/** Files directly inside `dir/` (names only). */
function childFiles(all: readonly string[], dir: string): string[] {
  const prefix = `${dir}/`;
  return all.filter((p) => p.startsWith(prefix) && !p.slice(prefix.length).includes('/')).map((p) => p.slice(prefix.length));
}

/**
 * The weights file of a component folder: non-variant names first (what diffusers loads by
 * default), then the fp16 / bf16 / fp32 variants, then any single .safetensors or index.
 */
export function findWeights(names: readonly string[]): { file: string; note?: string } | undefined {
  const has = new Set(names);
  for (const variant of ['', 'fp16', 'bf16', 'fp32']) {
    for (const base of ['diffusion_pytorch_model', 'model']) {
      const candidates =
        variant === ''
          ? [`${base}.safetensors`, `${base}.safetensors.index.json`]
          : [`${base}.${variant}.safetensors`, `${base}.safetensors.index.${variant}.json`, `${base}.${variant}.safetensors.index.json`];
      const found = candidates.find((c) => has.has(c));
      if (found !== undefined) return { file: found };
    }
  }
  const indexes = names.filter((n) => /\.safetensors\.index(\.[\w-]+)?\.json$/.test(n)).sort();
  const singles = names.filter((n) => n.endsWith('.safetensors') && !/-\d+-of-\d+\.safetensors$/.test(n)).sort();
  const all = [...indexes, ...singles];
  const first = all[0];
  if (first === undefined) return undefined;
  return all.length === 1 ? { file: first } : { file: first, note: `several weight files (${all.join(', ')}); using ${first}` };
}

interface Problem {
  code: ConvertErrorCode;
  message: string;
  file: string;
}

function throwProblems(problems: readonly Problem[]): void {
  const first = problems[0];
  if (first === undefined) return;
  throw new ConvertError(first.code, problems.map((p) => p.message).join('; '), { file: first.file });
}

/** Reads a README's YAML front matter fields (top-level `key: value` lines only). */
function frontMatter(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  const match = /^\uFEFF?---\r?\n([\s\S]*?)\r?\n---/.exec(text);
  if (match === null) return fields;
  for (const line of match[1]!.split(/\r?\n/)) {
    const kv = /^([A-Za-z_][\w-]*):\s*(.*?)\s*$/.exec(line);
    if (kv === null || kv[2] === '') continue;
    fields[kv[1]!] = kv[2]!.replace(/^(['"])(.*)\1$/, '$2');
  }
  return fields;
}

async function readLicence(folder: FolderSource): Promise<Licence | undefined> {
  const root = folder.list().filter((p) => !p.includes('/'));
  const licenceFile = root.filter((p) => /^licen[cs]e(\.md|\.txt)?$/i.test(p)).sort()[0];
  const readme = root.find((p) => p.toLowerCase() === 'readme.md');
  const licence: { -readonly [K in keyof Licence]: Licence[K] } = {};
  if (readme !== undefined) {
    const fields = frontMatter(await readText(folder.open(readme)!, 4 * 1024 * 1024));
    if (fields.license !== undefined) licence.id = fields.license;
    if (fields.license_name !== undefined) licence.name = fields.license_name;
    if (fields.license_link !== undefined) licence.link = fields.license_link;
  }
  if (licenceFile !== undefined) {
    licence.file = licenceFile;
    licence.text = await readText(folder.open(licenceFile)!, 4 * 1024 * 1024);
  }
  return Object.keys(licence).length === 0 ? undefined : licence;
}

/** What a lone safetensors file looks like, from its keys (best effort). */
async function guessSingleFile(folder: FolderSource, path: string): Promise<string | undefined> {
  let keys: string[];
  try {
    keys = (await openSafetensors(folder.open(path)!)).keys();
  } catch {
    return undefined;
  }
  const set = new Set(keys.map((k) => k.replace(/^model\.diffusion_model\./, '')));
  const any = (prefix: string): boolean => [...set].some((k) => k.startsWith(prefix));
  if (any('joint_blocks.')) return any('joint_blocks.0.x_block.attn.ln_q') ? 'an SD3.5 single-file checkpoint' : 'an SD3 single-file checkpoint';
  if (any('double_stream_modulation_img.')) return 'a FLUX.2 single-file checkpoint (BFL format)';
  if (any('double_blocks.')) return 'a FLUX.1 single-file checkpoint';
  if (any('conditioner.embedders.1.')) return 'an SDXL single-file checkpoint';
  if (any('input_blocks.')) return 'a Stable Diffusion 1.x/2.x single-file checkpoint';
  if (any('transformer_blocks.') || any('single_transformer_blocks.')) return 'the weights of one diffusers component (no model_index.json)';
  return undefined;
}

/** A folder without model_index.json: say what it looks like and what to do. */
async function noModelIndex(folder: FolderSource): Promise<never> {
  const files = folder.list();
  const nested = files.filter((p) => p.endsWith('/model_index.json')).sort((a, b) => a.length - b.length)[0];
  if (nested !== undefined) {
    const dir = nested.slice(0, -'/model_index.json'.length);
    throw new ConvertError('missing-file', `model_index.json is not at the top of this folder, but ${nested} is: open ${dir}/ instead`, { file: 'model_index.json' });
  }
  const rootConfig = files.includes('config.json') ? await readObject(folder, 'config.json').catch(() => undefined) : undefined;
  const componentClass = str(rootConfig?._class_name);
  if (componentClass !== undefined) {
    throw new ConvertError(
      'missing-file',
      `model_index.json is missing: this looks like one component folder (config.json says ${componentClass}); open the whole model folder, the one that holds model_index.json`,
      { file: 'model_index.json' },
    );
  }
  const singles = files.filter((p) => p.endsWith('.safetensors'));
  if (singles.length > 0) {
    const bflAdvice = singles.length === 1 ? await loneBflFileAdvice(folder, singles[0]!) : undefined;
    if (bflAdvice !== undefined) throw new ConvertError('single-file', `${bflAdvice}; ${SUPPORTED}`, { file: singles[0] });
    const guess = singles.length === 1 ? await guessSingleFile(folder, singles[0]!) : undefined;
    const what = singles.length === 1 ? `${singles[0]} looks like ${guess ?? 'a single-file checkpoint'}` : `${singles.join(', ')} look like single-file checkpoints`;
    throw new ConvertError(
      'single-file',
      `model_index.json is missing: ${what}. The studio needs the diffusers folder layout: download the model's diffusers repository (the one with model_index.json, e.g. stabilityai/stable-diffusion-3.5-medium or black-forest-labs/FLUX.2-klein-4B), or convert the file with diffusers (Pipeline.from_single_file(path).save_pretrained(folder)); ${SUPPORTED}`,
      { file: singles[0] },
    );
  }
  throw new ConvertError('missing-file', 'model_index.json is missing: this is not a diffusers model folder (open the folder that holds model_index.json)', {
    file: 'model_index.json',
  });
}

/** SD 1.x vs 2.x, from the unet config's cross_attention_dim. */
async function stableDiffusionName(folder: FolderSource): Promise<string> {
  const unet = await readObject(folder, 'unet/config.json').catch(() => undefined);
  const dim = num(unet?.cross_attention_dim);
  if (dim === 768) return 'this is a Stable Diffusion 1.x folder';
  if (dim === 1024) return 'this is a Stable Diffusion 2.x folder';
  return 'this is a Stable Diffusion 1.x/2.x folder';
}

function className(modelIndex: JsonObject, name: string): string | undefined {
  const entry = modelIndex[name];
  return Array.isArray(entry) ? str(entry[1]) : undefined;
}

/** model_index.json lists the component as [null, null]: saved without it on purpose. */
function listedAsNone(modelIndex: JsonObject, name: string): boolean {
  const entry = modelIndex[name];
  return Array.isArray(entry) && entry.every((x) => x === null);
}

interface Identified {
  family: ModelFamily;
  variant: ModelVariant;
  label: string;
  warnings: string[];
}

function identifySd3(config: JsonObject): Identified {
  const dual = config.dual_attention_layers;
  const is35 = (typeof config.qk_norm === 'string' && config.qk_norm !== '') || (Array.isArray(dual) && dual.length > 0);
  const layers = num(config.num_layers);
  const heads = num(config.num_attention_heads);
  const family: ModelFamily = is35 ? 'sd3.5' : 'sd3';
  const name = is35 ? 'Stable Diffusion 3.5' : 'Stable Diffusion 3';
  const warnings: string[] = [];
  if (layers === 24 && heads === 24) return { family, variant: 'medium', label: `${name} Medium`, warnings };
  if (layers === 38 && heads === 38) {
    warnings.push('Stable Diffusion 3.5 Large has an 8B transformer (16 GB in fp16): it needs 4-bit weights and a GPU with a lot of memory to run in a browser');
    return { family, variant: 'large', label: `${name} Large`, warnings };
  }
  return { family, variant: 'custom', label: `${name} (custom: ${layers ?? '?'} layers, ${heads ?? '?'} heads)`, warnings };
}

function identifyKlein(config: JsonObject, kv: boolean, distilled: boolean | undefined): Identified {
  const double = num(config.num_layers);
  const single = num(config.num_single_layers);
  const heads = num(config.num_attention_heads);
  const joint = num(config.joint_attention_dim);
  const family: ModelFamily = kv ? 'flux2-klein-kv' : 'flux2-klein';
  const name = `FLUX.2 klein${distilled === false ? ' base' : ''}`;
  const suffix = kv ? ' KV' : '';
  const warnings: string[] = [];
  let variant: ModelVariant = 'custom';
  if (double === 5 && single === 20 && heads === 24 && joint === 7680) variant = '4B';
  else if (double === 8 && single === 24 && heads === 32 && joint === 12288) variant = '9B';
  if (variant === 'custom') {
    return {
      family,
      variant,
      label: `${name}${suffix} (custom: ${double ?? '?'} double + ${single ?? '?'} single blocks, ${heads ?? '?'} heads, joint dim ${joint ?? '?'})`,
      warnings,
    };
  }
  if (variant === '9B') warnings.push('FLUX.2 klein 9B is under the FLUX Non-Commercial licence');
  return { family, variant, label: `${name} ${variant}${suffix}`, warnings };
}

/**
 * Inspects a diffusers folder: identifies the model, checks every component it needs (config and
 * weights present, every safetensors header valid) and opens the weights. Throws a ConvertError
 * ('wrong-model', 'single-file', 'missing-component', 'missing-file', or a reader error) otherwise.
 */
export async function inspectModelFolder(folder: FolderSource): Promise<ModelFolderDescription> {
  const modelIndex = await readObject(folder, 'model_index.json');
  if (modelIndex === undefined) return noModelIndex(folder);
  const pipelineClass = str(modelIndex._class_name);
  if (pipelineClass === undefined) {
    throw new ConvertError('bad-json', 'model_index.json has no _class_name: it does not say which pipeline this folder is for', { file: 'model_index.json' });
  }
  const isSd3 = /^StableDiffusion3\w*Pipeline$/.test(pipelineClass);
  const isKlein = pipelineClass === 'Flux2KleinPipeline' || pipelineClass === 'Flux2KleinKVPipeline';
  if (!isSd3 && !isKlein) {
    let what = OTHER_MODELS.find(([pattern]) => pattern.test(pipelineClass))?.[1];
    if (what === undefined && /^StableDiffusion/.test(pipelineClass)) what = await stableDiffusionName(folder);
    what ??= `this folder holds a ${pipelineClass}, not a model the studio knows`;
    throw new ConvertError('wrong-model', `${what}; ${SUPPORTED} (model_index.json says ${pipelineClass})`, { file: 'model_index.json' });
  }
  const specs = isSd3 ? SD3_SPECS : KLEIN_SPECS;
  const files = folder.list();
  const warnings: string[] = [];
  if (isSd3 && pipelineClass !== 'StableDiffusion3Pipeline') warnings.push(`model_index.json says ${pipelineClass}; its text-to-image components are used`);

  // A klein folder may hold BFL's single-file transformer instead of diffusers' (flux2/bfl-checkpoint.ts).
  const bfl = isKlein ? await findBflTransformer(folder) : undefined;
  if (bfl !== undefined) warnings.push(bfl.note);

  // Check every component's files before reading any weights, so one message names everything missing.
  const problems: Problem[] = [];
  const present = (name: string): boolean => files.some((p) => p.startsWith(`${name}/`));
  const skipped: { name: string; role: string; note: string }[] = [];
  const planned: { spec: ComponentSpec; weights?: string; tokenizerFiles?: string[] }[] = [];
  for (const spec of specs) {
    const dir = spec.name;
    if (bfl !== undefined && dir === 'transformer') {
      planned.push({ spec });
      continue;
    }
    if (!present(dir)) {
      const optional = spec.optional !== undefined && (spec.neededWith === undefined || !present(spec.neededWith));
      if (optional) {
        skipped.push({ name: spec.name, role: spec.role, note: spec.optional! });
        continue;
      }
      const why = listedAsNone(modelIndex, dir) ? ', and model_index.json lists it as none' : '';
      problems.push({ code: 'missing-component', message: `${dir}/ is missing (${spec.role})${why}`, file: `${dir}/` });
      continue;
    }
    const names = childFiles(files, dir);
    if (spec.kind === 'scheduler') {
      if (!names.includes('scheduler_config.json')) {
        problems.push({ code: 'missing-file', message: `${dir}/scheduler_config.json is missing (${spec.role})`, file: `${dir}/scheduler_config.json` });
      }
      planned.push({ spec });
    } else if (spec.kind === 'tokenizer') {
      const ok = names.includes('tokenizer.json') || (names.includes('vocab.json') && names.includes('merges.txt')) || names.includes('spiece.model');
      if (!ok) {
        problems.push({
          code: 'missing-file',
          message: `${dir}/ has no tokenizer files (${spec.role}): it needs tokenizer.json, or vocab.json and merges.txt, or spiece.model`,
          file: `${dir}/`,
        });
      }
      planned.push({ spec, tokenizerFiles: names.map((n) => `${dir}/${n}`) });
    } else {
      if (!names.includes('config.json')) {
        problems.push({ code: 'missing-file', message: `${dir}/config.json is missing (${spec.role})`, file: `${dir}/config.json` });
      }
      const weights = findWeights(names);
      if (weights === undefined) {
        const pickle = names.some((n) => n.endsWith('.bin') || n.endsWith('.pt') || n.endsWith('.ckpt'));
        problems.push({
          code: 'missing-file',
          message: pickle
            ? `${dir}/ has only PyTorch .bin weights, which the studio cannot read (${spec.role}): download the .safetensors files`
            : `${dir}/ has no .safetensors weights (${spec.role})`,
          file: `${dir}/`,
        });
        planned.push({ spec });
      } else {
        if (weights.note !== undefined) warnings.push(`${dir}/: ${weights.note}`);
        planned.push({ spec, weights: `${dir}/${weights.file}` });
      }
    }
  }
  throwProblems(problems);

  const transformerConfig = bfl?.config ?? (await readObject(folder, 'transformer/config.json'))!;
  const distilled = typeof modelIndex.is_distilled === 'boolean' ? modelIndex.is_distilled : undefined;
  const identified = isSd3 ? identifySd3(transformerConfig) : identifyKlein(transformerConfig, pipelineClass === 'Flux2KleinKVPipeline', distilled);
  warnings.push(...identified.warnings);

  const components: ModelComponent[] = [];
  const tokenizers: TokenizerComponent[] = [];
  let scheduler: SchedulerComponent | undefined;
  for (const { spec, weights, tokenizerFiles } of planned) {
    const cls = className(modelIndex, spec.name);
    if (spec.kind === 'scheduler') {
      scheduler = { name: spec.name, className: cls, config: (await readObject(folder, `${spec.name}/scheduler_config.json`))! };
    } else if (spec.kind === 'tokenizer') {
      tokenizers.push({ name: spec.name, role: spec.role, className: cls, config: await readObject(folder, `${spec.name}/tokenizer_config.json`), files: tokenizerFiles ?? [] });
    } else if (bfl !== undefined && spec.name === 'transformer') {
      components.push({ name: spec.name, role: spec.role, className: cls, config: bfl.config, weights: bfl.weights });
    } else {
      const config = (await readObject(folder, `${spec.name}/config.json`))!;
      components.push({ name: spec.name, role: spec.role, className: cls, config, weights: await openCheckpoint(folder, weights!) });
    }
  }

  return {
    family: identified.family,
    variant: identified.variant,
    label: identified.label,
    pipelineClass,
    diffusersVersion: str(modelIndex._diffusers_version),
    distilled: isKlein ? distilled : undefined,
    modelIndex,
    components,
    tokenizers,
    scheduler: scheduler!,
    skipped,
    licence: await readLicence(folder),
    studio: await readStudioHints(folder),
    warnings,
  };
}
