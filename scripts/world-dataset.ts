/**
 * Writes the toy world's training examples (workers/world/training-example.ts)
 * as fixed-size binary shards that the PyTorch training (training/) memory-maps.
 * The same TypeScript generator renders the eval's and the app's scenes, so the
 * model is trained on exactly the pixels the studio measures.
 *
 *   npm run world:dataset -- <out folder> [--examples 24000] [--shard 500] [--first-seed 1] [--part k/n]
 *
 * --part k/n writes only shards s with s % n == k, so n processes can share the
 * work (one per core); the shards are the same whichever process writes them.
 *
 * Resumable: a shard whose .json exists is complete (the .bin is written first
 * and renamed into place), so a rerun skips it. Layout of one example record
 * (uint8, row-major, RGB interleaved), RECORD_BYTES long:
 *   target rgb [128*128*3] | target masks [2][128*128] |
 *   per subject slot s in 0..1: aligned rgb, aligned mask, free rgb, free mask
 * A one-subject example leaves slot 1 zero. The shard's .json lists per
 * example: seed, subject count, class words, the prompt with placeholders
 * ("<s1> toy, ...") and without ("a toy, ..."). words.json lists the world's words.
 */
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { identityFromId } from '../workers/world/identity';
import { scenePrompt } from '../workers/world/prompt';
import { renderScene } from '../workers/world/render';
import { trainingExample } from '../workers/world/training-example';
import { worldWords } from '../workers/world/vocabulary';

const SIZE = 128;
const RGB = SIZE * SIZE * 3;
const MASK = SIZE * SIZE;
const SLOT = 2 * (RGB + MASK);
export const RECORD_BYTES = RGB + 2 * MASK + 2 * SLOT;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 0) throw new Error(`--${name} needs a non-negative integer, got ${process.argv[i + 1]}`);
  return v;
}

function writeExample(buf: Uint8Array, at: number, seed: number) {
  const ex = trainingExample(seed);
  const target = renderScene(ex.target, SIZE);
  buf.set(target.rgb, at);
  target.subjectMasks.forEach((m, i) => buf.set(m, at + RGB + i * MASK));
  ex.references.forEach((r, s) => {
    const base = at + RGB + 2 * MASK + s * SLOT;
    const aligned = renderScene(r.aligned, SIZE);
    const free = renderScene(r.free, SIZE);
    buf.set(aligned.rgb, base);
    buf.set(aligned.subjectMasks[0]!, base + RGB);
    buf.set(free.rgb, base + RGB + MASK);
    buf.set(free.subjectMasks[0]!, base + 2 * RGB + MASK);
  });
  const classWords = ex.target.subjects.map((s) => identityFromId(s.identityId).classWord);
  return {
    seed,
    subjects: ex.target.subjects.length,
    classWords,
    prompt: scenePrompt(ex.target, ex.target.subjects.map((_, i) => `<s${i + 1}>`)),
    plainPrompt: scenePrompt(ex.target),
  };
}

function partArg(): { index: number; of: number } {
  const i = process.argv.indexOf('--part');
  if (i < 0) return { index: 0, of: 1 };
  const m = /^(\d+)\/(\d+)$/.exec(process.argv[i + 1] ?? '');
  if (!m || Number(m[2]) < 1 || Number(m[1]) >= Number(m[2])) throw new Error(`--part needs k/n with 0 <= k < n, got ${process.argv[i + 1]}`);
  return { index: Number(m[1]), of: Number(m[2]) };
}

function main() {
  const out = process.argv[2];
  if (!out || out.startsWith('--')) throw new Error('usage: world-dataset <out folder> [--examples N] [--shard N] [--first-seed N]');
  const examples = arg('examples', 24000);
  const shardSize = arg('shard', 500);
  const firstSeed = arg('first-seed', 1);
  const part = partArg();
  mkdirSync(out, { recursive: true });
  // The words the tokenizer makes single tokens (training/world_text.py).
  writeFileSync(join(out, 'words.json'), JSON.stringify(worldWords()));
  const shards = Math.ceil(examples / shardSize);
  const t0 = Date.now();
  let written = 0;
  for (let s = 0; s < shards; s++) {
    const name = `shard-${String(s).padStart(4, '0')}`;
    if (s % part.of !== part.index || existsSync(join(out, `${name}.json`))) continue;
    const count = Math.min(shardSize, examples - s * shardSize);
    const buf = new Uint8Array(count * RECORD_BYTES);
    const meta = [];
    for (let i = 0; i < count; i++) meta.push(writeExample(buf, i * RECORD_BYTES, firstSeed + s * shardSize + i));
    writeFileSync(join(out, `${name}.bin.part`), buf);
    renameSync(join(out, `${name}.bin.part`), join(out, `${name}.bin`));
    writeFileSync(join(out, `${name}.json`), JSON.stringify({ size: SIZE, recordBytes: RECORD_BYTES, examples: meta }));
    written += count;
    const msPerExample = (Date.now() - t0) / written;
    console.log(`${name}: ${count} examples (${msPerExample.toFixed(0)} ms per example in this run)`);
  }
}

main();
