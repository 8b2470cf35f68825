/**
 * `npm run convert` (convertMain) on copies of the SD3 fixture folder on disk: what a failed,
 * cancelled or unwritable conversion leaves behind (no pack, no temporary folder, an existing pack
 * untouched) and what it says. Disk-full is simulated: node:fs/promises' writeFile is wrapped so a
 * test can make one write fail half-way.
 */
import { cp, mkdtemp, readdir, readFile, rm, truncate } from 'node:fs/promises';
import * as fsPromises from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SD3_FIXTURES } from '../convert/sd3/testing/fixture-packs';
import { convertMain } from './convert';

const writeHook = vi.hoisted(() => ({
  before: undefined as ((path: string, data: unknown) => Promise<void> | void) | undefined,
  beforeRename: undefined as ((from: string, to: string) => void) | undefined,
}));

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const writeFile: typeof real.writeFile = async (path, data, options) => {
    await writeHook.before?.(String(path), data);
    return real.writeFile(path, data, options);
  };
  const rename: typeof real.rename = async (from, to) => {
    writeHook.beforeRename?.(String(from), String(to));
    return real.rename(from, to);
  };
  return { ...real, writeFile, rename, default: { ...real, writeFile, rename } };
});

const FAST = ['--precision', 'fp32', '--sizes', '128'];

let dir: string;
let input: string;
let lines: string[];
const io = (signal?: AbortSignal) => ({ log: (l: string) => void lines.push(l), print: (l: string) => void lines.push(l), ...(signal ? { signal } : {}) });
const convertLine = () => lines.find((l) => l.startsWith('convert: '));

/** Every file under a folder with its bytes, to compare before and after. */
async function snapshot(folder: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(folder, { recursive: true, withFileTypes: true })).filter((e) => e.isFile())) {
    const path = join(name.parentPath, name.name);
    out[path.slice(folder.length + 1)] = (await readFile(path)).toString('base64');
  }
  return out;
}

/** What the output's parent holds besides the input folder (a temporary or set-aside pack would show here). */
const leftovers = async () => (await readdir(dir)).filter((n) => n !== 'in').sort();

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'convert-cli-'));
  input = join(dir, 'in');
  await cp(join(SD3_FIXTURES, 'sd3'), input, { recursive: true, filter: (src) => !src.includes('/reference') });
  lines = [];
  writeHook.before = undefined;
  writeHook.beforeRename = undefined;
});
afterEach(async () => {
  writeHook.before = undefined;
  writeHook.beforeRename = undefined;
  await rm(dir, { recursive: true, force: true });
});

/** A pack at dir/pack from the fixture, as a user would already have. */
async function existingPack(): Promise<Record<string, string>> {
  expect(await convertMain([input, join(dir, 'pack'), ...FAST], io())).toBe(0);
  lines = [];
  return snapshot(join(dir, 'pack'));
}

describe('convertMain: what a conversion leaves behind', () => {
  it('converts into place, replacing an existing pack, with nothing set aside left over', async () => {
    const before = await existingPack();
    expect(Object.keys(before)).toContain('manifest.json');
    expect(await convertMain([input, join(dir, 'pack'), '--precision', 'int8', '--sizes', '128'], io())).toBe(0);
    expect(JSON.parse(await readFile(join(dir, 'pack', 'manifest.json'), 'utf8')).name).toBe('sd3-int8');
    expect(await leftovers()).toEqual(['pack']);
  });

  it('a failed conversion (truncated transformer) leaves an existing pack as it was', async () => {
    const before = await existingPack();
    const transformer = join(input, 'transformer', 'diffusion_pytorch_model.safetensors');
    await truncate(transformer, 200_000);
    expect(await convertMain([input, join(dir, 'pack'), ...FAST], io())).toBe(1);
    expect(convertLine()).toMatch(/^convert: transformer\/diffusion_pytorch_model\.safetensors is truncated: .* download it again$/);
    expect(await snapshot(join(dir, 'pack'))).toEqual(before);
    expect(await leftovers()).toEqual(['pack']);
  });

  it('cancelled while reading: exit 130, no pack and no temporary folder; an existing pack is untouched', async () => {
    const cancelWhileReading = () => {
      const controller = new AbortController();
      const log = (l: string) => {
        lines.push(l);
        if (l.includes('reading the text encoders')) controller.abort();
      };
      return { log, print: log, signal: controller.signal };
    };
    expect(await convertMain([input, join(dir, 'fresh'), ...FAST], cancelWhileReading())).toBe(130);
    expect(convertLine()).toBe('convert: the conversion was cancelled; nothing was saved');
    expect(await leftovers()).toEqual([]);

    const before = await existingPack();
    expect(await convertMain([input, join(dir, 'pack'), ...FAST], cancelWhileReading())).toBe(130);
    expect(await snapshot(join(dir, 'pack'))).toEqual(before);
    expect(await leftovers()).toEqual(['pack']);
  });

  it('cancelled while writing: the half-written pack is removed', async () => {
    const before = await existingPack();
    const controller = new AbortController();
    writeHook.before = () => controller.abort();
    expect(await convertMain([input, join(dir, 'pack'), ...FAST], io(controller.signal))).toBe(130);
    expect(await snapshot(join(dir, 'pack'))).toEqual(before);
    expect(await leftovers()).toEqual(['pack']);
  });

  it('the disk fills up half-way through a file: a clear message, nothing half-written, the old pack kept', async () => {
    const before = await existingPack();
    let writes = 0;
    writeHook.before = async (path, data) => {
      if (++writes < 3) return;
      // Half the file reaches the disk, then the write fails as a full disk fails it.
      const bytes = data as Uint8Array;
      await (await import('node:fs/promises')).appendFile(path, bytes.subarray(0, bytes.byteLength >> 1));
      throw Object.assign(new Error(`ENOSPC: no space left on device, write`), { code: 'ENOSPC', syscall: 'write', path });
    };
    expect(await convertMain([input, join(dir, 'pack'), ...FAST], io())).toBe(1);
    expect(convertLine()).toMatch(
      new RegExp(`^convert: cannot write the pack: the disk is full \\(ENOSPC, write ${dir}/\\.\\d+-\\d+\\.partial-pack/\\S+\\); nothing was saved; the pack at ${dir}/pack is unchanged$`),
    );
    expect(await snapshot(join(dir, 'pack'))).toEqual(before);
    expect(await leftovers()).toEqual(['pack']);
  });

  it('moving the new pack into place fails: the old pack is put back', async () => {
    const before = await existingPack();
    writeHook.beforeRename = (from) => {
      if (from.endsWith('.partial-pack')) throw Object.assign(new Error('EPERM: operation not permitted, rename'), { code: 'EPERM', syscall: 'rename', path: from });
    };
    expect(await convertMain([input, join(dir, 'pack'), ...FAST], io())).toBe(1);
    expect(convertLine()).toMatch(/^convert: cannot write the pack: operation not permitted \(EPERM, rename \S+\.partial-pack\); nothing was saved; the pack at \S+ is unchanged$/);
    expect(await snapshot(join(dir, 'pack'))).toEqual(before);
    expect(await leftovers()).toEqual(['pack']);
  });

  it('an output whose parent is a file fails before converting, with the path', async () => {
    await fsPromises.writeFile(join(dir, 'afile'), 'x');
    expect(await convertMain([input, join(dir, 'afile', 'pack'), ...FAST], io())).toBe(1);
    expect(convertLine()).toMatch(new RegExp(`^convert: cannot write the pack: not a folder \\(or a part of the path is a file\\) \\(ENOTDIR, mkdir ${dir}/afile(/\\S*)?\\); nothing was saved$`));
    expect(lines.some((l) => l.includes('reading'))).toBe(false);
    expect(await leftovers()).toEqual(['afile']);
  });

  it('an output that is a folder of the user\'s, not a pack, is refused and left alone', async () => {
    expect(await convertMain([input, input, ...FAST], io())).toBe(1);
    expect(convertLine()).toBe(`convert: ${input} exists and is not a pack (it has no manifest.json): it is left alone; choose another output folder, or remove it first`);
    await fsPromises.writeFile(join(dir, 'notes.txt'), 'mine');
    lines = [];
    expect(await convertMain([input, join(dir, 'notes.txt'), ...FAST], io())).toBe(1);
    expect(convertLine()).toBe(`convert: ${join(dir, 'notes.txt')} is a file, not a pack folder: it is left alone; choose another output folder`);
    expect(await readFile(join(dir, 'notes.txt'), 'utf8')).toBe('mine');
    expect(await leftovers()).toEqual(['notes.txt']);
  });

  it('a model folder that does not exist', async () => {
    expect(await convertMain([join(dir, 'nope'), join(dir, 'pack'), ...FAST], io())).toBe(1);
    expect(convertLine()).toBe(`convert: cannot read the model folder: no such file or folder (ENOENT, scandir ${dir}/nope)`);
    expect(await leftovers()).toEqual([]);
  });

  it('bad sizes: the converter\'s own message', async () => {
    expect(await convertMain([input, join(dir, 'pack'), '--precision', 'fp32', '--sizes', '1024'], io())).toBe(1);
    expect(convertLine()).toBe('convert: size 1024 px is larger than the 512 px the positional table covers');
    expect(await leftovers()).toEqual([]);
  });
});

describe('convertMain --transformer <file>', () => {
  const KLEIN = new URL('../../fixtures/flux2/klein-4b', import.meta.url).pathname;
  const BFL = new URL('../../fixtures/flux2/bfl/flux-2-klein-4b-fixture.safetensors', import.meta.url).pathname;

  it("a klein folder without transformer weights plus BFL's single file elsewhere: the same pack as the diffusers folder", async () => {
    const klein = join(dir, 'klein');
    await cp(KLEIN, klein, { recursive: true, filter: (src) => !src.includes('/reference') && !src.endsWith('transformer/diffusion_pytorch_model.safetensors') });
    const args = ['--precision', 'fp32', '--sizes', '64'];
    expect(await convertMain([klein, join(dir, 'bfl-pack'), ...args, '--transformer', BFL], io())).toBe(0);
    expect(lines.join('\n')).toContain("note: transformer: transformer/flux-2-klein-4b-fixture.safetensors is Black Forest Labs' single-file checkpoint");
    expect(await convertMain([KLEIN, join(dir, 'diffusers-pack'), ...args], io())).toBe(0);
    expect(await snapshot(join(dir, 'bfl-pack'))).toEqual(await snapshot(join(dir, 'diffusers-pack')));
  });

  it('--prompt-rows sets a FLUX.2 pack\'s prompt length; a bad value is refused by name', async () => {
    expect(await convertMain([KLEIN, join(dir, 'rows-pack'), '--precision', 'fp32', '--sizes', '64', '--prompt-rows', '128'], io())).toBe(0);
    expect(JSON.parse(await readFile(join(dir, 'rows-pack', 'manifest.json'), 'utf8')).tokens.maxText).toBe(128);
    lines = [];
    expect(await convertMain([KLEIN, join(dir, 'rows-bad'), '--precision', 'fp32', '--sizes', '64', '--prompt-rows', 'lots'], io())).toBe(1);
    expect(convertLine()).toBe("convert: --prompt-rows lots: expected a positive whole number (512, the pipelines' default, or fewer)");
  });

  it('a --transformer file that does not exist, or is not .safetensors', async () => {
    expect(await convertMain([input, join(dir, 'pack'), ...FAST, '--transformer', join(dir, 'nope.safetensors')], io())).toBe(1);
    expect(convertLine()).toBe(`convert: --transformer ${join(dir, 'nope.safetensors')}: no such file or folder (ENOENT, stat ${join(dir, 'nope.safetensors')})`);
    lines = [];
    expect(await convertMain([input, join(dir, 'pack'), ...FAST, '--transformer', 'x.ckpt'], io())).toBe(1);
    expect(convertLine()).toBe('convert: --transformer x.ckpt: expected a .safetensors file');
  });
});
