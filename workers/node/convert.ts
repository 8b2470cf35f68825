/**
 * `npm run convert -- <diffusers folder> <pack folder> [--precision int4|int8|fp16|fp32] [--sizes 512,1024]`:
 * the converter core (workers/convert/sd3/convert.ts) on a folder on disk. The pack is written into
 * a temporary folder beside the output and renamed into place when complete, so a failed or
 * cancelled (Ctrl-C) conversion leaves no half pack, and a pack already at the output stays as it was.
 */
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConvertError } from '../convert/errors';
import { fileSource, folderFromDisk } from '../convert/node-source';
import type { ConvertProgress } from '../convert/progress';
import { folderFromSources, type ByteSource, type FolderSource } from '../convert/source';
import { type ConvertPrecision } from '../convert/sd3/convert';
import { convertModelFolder } from '../convert/convert-folder';
import { formatBytes } from '../pack/bytes';

export const CONVERT_USAGE = `usage: npm run convert -- <diffusers folder> <pack folder> [options]

  <diffusers folder>        a Stable Diffusion 3 / 3.5 folder as downloaded (model_index.json,
                            transformer/, vae/, text_encoder/, text_encoder_2/, tokenizer/, tokenizer_2/;
                            text_encoder_3/ (T5) is not used)
  <pack folder>             where the pack goes (created; a pack already there is replaced, any other folder is left alone)
  --precision <p>           int4 | int8 | fp16 | fp32 weights of the text encoders and the transformer  default int4
                            (fp16 halves the download and storage of fp32; it is computed in fp32)
  --sizes <list>            square sizes in px the pack offers, comma-separated        default 512,768,1024
  --block-size <n>          int4 block size                                          default 32
  --prompt-rows <n>         FLUX.2: rows every prompt is padded to (the pipelines' max_sequence_length;
                            fewer make steps faster and cut longer prompts)                 default 512
  --transformer <file>      the transformer's weights from this .safetensors instead of the folder's
                            transformer/ weights: e.g. Black Forest Labs' single file flux-2-klein-4b.safetensors
                            beside a FLUX.2 klein folder that has the text encoder, VAE and tokenizer
  --preview <folder>        a TAESD3 folder (madebyollin/taesd3: config.json, diffusion_pytorch_model.safetensors):
                            adds a small preview decoder for previews during sampling
  --help                    this text`;

const PRECISIONS: readonly ConvertPrecision[] = ['int4', 'int8', 'fp16', 'fp32'];

export interface ConvertIo {
  log?: (line: string) => void;
  print?: (line: string) => void;
  signal?: AbortSignal;
}

function parseSizes(raw: string): number[] {
  const sizes = raw.split(',').map((s) => Number(s.trim()));
  if (sizes.some((s) => !Number.isInteger(s) || s <= 0)) throw new ConvertError('bad-option', `--sizes ${raw}: expected whole numbers of pixels, e.g. 512,1024`);
  return sizes;
}

const cancelled = () => new ConvertError('cancelled', 'the conversion was cancelled; nothing was saved');

/**
 * Whether `out` holds something to replace. Only a pack (a folder with manifest.json) or an empty
 * folder is replaced: a typo must not delete a folder of the user's.
 */
async function existingOutput(out: string): Promise<boolean> {
  const info = await stat(out).catch((e: NodeJS.ErrnoException) => {
    // Nothing there (or a parent that is not a folder: making the temporary folder says so).
    if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return undefined;
    throw e;
  });
  if (info === undefined) return false;
  if (!info.isDirectory()) throw new ConvertError('bad-option', `${out} is a file, not a pack folder: it is left alone; choose another output folder`);
  const entries = await readdir(out);
  if (entries.length > 0 && !entries.includes('manifest.json')) {
    throw new ConvertError('bad-option', `${out} exists and is not a pack (it has no manifest.json): it is left alone; choose another output folder, or remove it first`);
  }
  return true;
}

/** Moves the new pack into place. The old one is moved aside first and back if that fails, so it is removed only once the new one is there. */
async function replaceFolder(tmp: string, out: string, aside: string, replacing: boolean): Promise<void> {
  if (replacing) await rename(out, aside);
  try {
    await rename(tmp, out);
  } catch (e) {
    if (replacing) await rename(aside, out);
    throw e;
  }
  if (replacing) await rm(aside, { recursive: true, force: true });
}

const FS_REASONS: Readonly<Record<string, string>> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'no such file or folder',
  ENOTDIR: 'not a folder (or a part of the path is a file)',
  EISDIR: 'a folder where a file was expected',
};

/** A file-system error for people ("the disk is full (ENOSPC, write /out/x.onnx)"), or undefined for other errors. */
function fileSystemProblem(e: unknown): string | undefined {
  if (!(e instanceof Error)) return undefined;
  const { code, syscall, path } = e as NodeJS.ErrnoException;
  if (typeof code !== 'string') return undefined;
  return `${FS_REASONS[code] ?? e.message} (${code}${syscall ? `, ${syscall}` : ''}${path ? ` ${path}` : ''})`;
}

/** Progress lines at most every 2 s (and the phase changes). */
function progressPrinter(log: (line: string) => void): (p: ConvertProgress) => void {
  let last = 0;
  let phase = '';
  const t0 = Date.now();
  return (p) => {
    const now = Date.now();
    if (p.phase === phase && now - last < 2000) return;
    phase = p.phase;
    last = now;
    const pct = p.bytesTotal > 0 ? ((100 * p.bytesDone) / p.bytesTotal).toFixed(0) : '0';
    log(`${((now - t0) / 1000).toFixed(1).padStart(6)} s  ${pct.padStart(3)}%  ${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)}, ${p.tensorsDone}/${p.tensorsTotal} tensors  ${p.phase}`);
  };
}

/**
 * The model folder with `file` as its transformer's weights (--transformer): transformer/'s own
 * weight files are hidden, its config.json (if any) stays. A BFL FLUX.2 file is then read as
 * workers/convert/flux2/bfl-checkpoint.ts maps it.
 */
async function withTransformerFile(folder: FolderSource, path: string): Promise<FolderSource> {
  if (!path.endsWith('.safetensors')) throw new ConvertError('bad-option', `--transformer ${path}: expected a .safetensors file`);
  let file: ByteSource;
  const name = `transformer/${basename(path)}`;
  try {
    file = await fileSource(resolve(path), name);
  } catch (e) {
    throw new ConvertError('bad-option', `--transformer ${path}: ${fileSystemProblem(e) ?? (e as Error).message}`, { cause: e });
  }
  const kept = folder.list().filter((p) => !(p.startsWith('transformer/') && /\.safetensors$|\.safetensors\.index(\.[\w-]+)?\.json$/.test(p)));
  return folderFromSources([...kept.map((p) => Object.assign(folder.open(p)!, { path: p })), Object.assign(file, { path: name })]);
}

/** The --preview folder; a folder that cannot be read is named as the preview's, not the model's. */
async function previewFolder(path: string): Promise<FolderSource> {
  try {
    return await folderFromDisk(resolve(path));
  } catch (e) {
    throw new ConvertError('bad-option', `--preview ${path}: ${fileSystemProblem(e) ?? (e as Error).message}`, { cause: e });
  }
}

export async function convertMain(argv: string[], io: ConvertIo = {}): Promise<number> {
  const log = io.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const print = io.print ?? ((l: string) => process.stdout.write(`${l}\n`));
  let args;
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { precision: { type: 'string', default: 'int4' }, sizes: { type: 'string', default: '512,768,1024' }, 'block-size': { type: 'string', default: '32' }, 'prompt-rows': { type: 'string' }, preview: { type: 'string' }, transformer: { type: 'string' }, help: { type: 'boolean' } },
    });
  } catch (e) {
    log(`${(e as Error).message}\n\n${CONVERT_USAGE}`);
    return 2;
  }
  if (args.values.help) {
    print(CONVERT_USAGE);
    return 0;
  }
  const [input, output] = args.positionals;
  if (!input || !output || args.positionals.length > 2) {
    log(CONVERT_USAGE);
    return 2;
  }
  const precision = args.values.precision as ConvertPrecision;
  if (!PRECISIONS.includes(precision)) {
    log(`--precision ${precision}: expected one of ${PRECISIONS.join(', ')}`);
    return 2;
  }
  const out = resolve(output);
  const stamp = `${Date.now()}-${process.pid}`;
  const tmp = join(dirname(out), `.${stamp}.partial-pack`);
  const aside = join(dirname(out), `.${stamp}.previous-pack`);
  const t0 = Date.now();
  let writing = true;
  let replacing = false;
  try {
    const sizes = parseSizes(args.values.sizes);
    const blockSize = Number(args.values['block-size']);
    const promptRows = args.values['prompt-rows'];
    if (promptRows !== undefined && !/^[1-9]\d*$/.test(promptRows)) throw new ConvertError('bad-option', `--prompt-rows ${promptRows}: expected a positive whole number (512, the pipelines' default, or fewer)`);
    replacing = await existingOutput(out);
    // Made first, so an output that cannot be written fails before the conversion, not after it.
    await mkdir(tmp, { recursive: true });
    writing = false;
    const folder = await folderFromDisk(resolve(input));
    const { manifest, files, description } = await convertModelFolder(args.values.transformer ? await withTransformerFile(folder, args.values.transformer) : folder, {
      precision,
      sizes,
      blockSize,
      // SD3's prompt length is CLIP's 77: the SD3 converter does not read this option.
      ...(promptRows !== undefined ? { maxTextTokens: Number(promptRows) } : {}),
      ...(args.values.preview ? { preview: await previewFolder(args.values.preview) } : {}),
      onProgress: progressPrinter(log),
      ...(io.signal ? { signal: io.signal } : {}),
    });
    for (const w of description.warnings) log(`note: ${w}`);
    for (const s of description.skipped) log(`note: ${s.name} (${s.role}) is not used: ${s.note}`);
    writing = true;
    let total = 0;
    for (const [name, bytes] of files) {
      if (io.signal?.aborted) throw cancelled();
      await mkdir(dirname(join(tmp, name)), { recursive: true });
      await writeFile(join(tmp, name), bytes);
      total += bytes.byteLength;
    }
    await writeFile(join(tmp, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    if (io.signal?.aborted) throw cancelled();
    await replaceFolder(tmp, out, aside, replacing);
    print(`${description.label} -> ${out}: ${files.size + 1} files, ${formatBytes(total)}, ${precision}, sizes ${sizes.join(', ')} px, in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return 0;
  } catch (e) {
    await rm(tmp, { recursive: true, force: true }).catch((failure: NodeJS.ErrnoException) => {
      // ENOTDIR: the output's parent is a file, so there is no temporary folder to remove.
      if (failure.code !== 'ENOTDIR') log(`note: could not remove the temporary folder ${tmp}: ${failure.message}`);
    });
    if (e instanceof ConvertError) {
      log(`convert: ${e.message}`);
      return e.code === 'cancelled' ? 130 : 1;
    }
    const problem = fileSystemProblem(e);
    if (problem === undefined) throw e;
    const kept = replacing ? `; the pack at ${out} is unchanged` : '';
    log(writing ? `convert: cannot write the pack: ${problem}; nothing was saved${kept}` : `convert: cannot read the model folder: ${problem}`);
    return 1;
  }
}
