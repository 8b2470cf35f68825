/**
 * `npm run convert -- <diffusers folder> <pack folder> [--precision int4|int8|fp32] [--sizes 512,1024]`:
 * the converter core (workers/convert/sd3/convert.ts) on a folder on disk. The pack is written into
 * a temporary folder beside the output and renamed into place when complete, so a failed or
 * cancelled (Ctrl-C) conversion leaves no half pack.
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConvertError } from '../convert/errors';
import { folderFromDisk } from '../convert/node-source';
import type { ConvertProgress } from '../convert/progress';
import { convertSd3Folder, type ConvertPrecision } from '../convert/sd3/convert';
import { formatBytes } from '../pack/bytes';

export const CONVERT_USAGE = `usage: npm run convert -- <diffusers folder> <pack folder> [options]

  <diffusers folder>        a Stable Diffusion 3 / 3.5 folder as downloaded (model_index.json,
                            transformer/, vae/, text_encoder/, text_encoder_2/, tokenizer/, tokenizer_2/;
                            text_encoder_3/ (T5) is not used)
  <pack folder>             where the pack goes (created; replaced if it exists)
  --precision <p>           int4 | int8 | fp32 weights of the text encoders and the transformer  default int4
  --sizes <list>            square sizes in px the pack offers, comma-separated        default 512,768,1024
  --block-size <n>          int4 block size                                          default 32
  --help                    this text`;

const PRECISIONS: readonly ConvertPrecision[] = ['int4', 'int8', 'fp32'];

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

export async function convertMain(argv: string[], io: ConvertIo = {}): Promise<number> {
  const log = io.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const print = io.print ?? ((l: string) => process.stdout.write(`${l}\n`));
  let args;
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { precision: { type: 'string', default: 'int4' }, sizes: { type: 'string', default: '512,768,1024' }, 'block-size': { type: 'string', default: '32' }, help: { type: 'boolean' } },
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
  const tmp = join(dirname(out), `.${Date.now()}-${process.pid}.partial-pack`);
  const t0 = Date.now();
  try {
    const sizes = parseSizes(args.values.sizes);
    const blockSize = Number(args.values['block-size']);
    const { manifest, files, description } = await convertSd3Folder(await folderFromDisk(resolve(input)), {
      precision,
      sizes,
      blockSize,
      onProgress: progressPrinter(log),
      ...(io.signal ? { signal: io.signal } : {}),
    });
    for (const w of description.warnings) log(`note: ${w}`);
    for (const s of description.skipped) log(`note: ${s.name} (${s.role}) is not used: ${s.note}`);
    await mkdir(tmp, { recursive: true });
    let total = 0;
    for (const [name, bytes] of files) {
      await mkdir(dirname(join(tmp, name)), { recursive: true });
      await writeFile(join(tmp, name), bytes);
      total += bytes.byteLength;
    }
    await writeFile(join(tmp, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    await rm(out, { recursive: true, force: true });
    await rename(tmp, out);
    print(`${description.label} -> ${out}: ${files.size + 1} files, ${formatBytes(total)}, ${precision}, sizes ${sizes.join(', ')} px, in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return 0;
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    if (e instanceof ConvertError) {
      log(`convert: ${e.message}`);
      return e.code === 'cancelled' ? 130 : 1;
    }
    throw e;
  }
}
