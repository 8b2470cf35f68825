import { readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import {
  graphFor,
  ManifestError,
  packFiles,
  PackFileError,
  parseManifest,
  ROLE_CONTRACTS,
  sha256,
  verifyPackFiles,
  type GraphSpec,
  type PackManifest,
} from './manifest';
import { readerFor, validPack } from './testing/validManifest';

/** Runs `fn`, expects a ManifestError, and checks its message names every given substring. */
function expectManifestError(fn: () => unknown, ...names: string[]): ManifestError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(ManifestError);
  const err = caught as ManifestError;
  for (const n of names) expect(err.message).toContain(n);
  return err;
}

async function expectPackFileError(p: Promise<unknown>, ...names: string[]): Promise<PackFileError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PackFileError);
  const pe = err as PackFileError;
  for (const n of names) expect(pe.message).toContain(n);
  return pe;
}

/** The fixture manifest after `edit`, as JSON text (what the worker reads from manifest.json). */
async function editedManifest(edit: (m: PackManifest) => void): Promise<string> {
  const { manifest } = await validPack();
  edit(manifest);
  return JSON.stringify(manifest);
}

function graph(m: PackManifest, file: string): GraphSpec {
  const g = m.graphs.find((x) => x.file === file);
  if (!g) throw new Error(`fixture has no ${file}`);
  return g;
}

const indexOf = (m: PackManifest, file: string) => m.graphs.findIndex((x) => x.file === file);

/** Writes a value the schema rejects into a typed object (tests need invalid manifests). */
function setLoose(obj: object, key: string, value: unknown): void {
  (obj as Record<string, unknown>)[key] = value;
}

describe('the valid fixture pack', () => {
  it('parses, from JSON text and from a parsed value', async () => {
    const { manifest } = await validPack();
    const fromText = parseManifest(JSON.stringify(manifest));
    expect(fromText).toEqual(manifest);
    expect(parseManifest(structuredClone(manifest))).toEqual(manifest);
    expect(fromText.graphs).toHaveLength(10);
  });

  it('defaults a missing description to ""', async () => {
    const { manifest } = await validPack();
    setLoose(manifest, 'description', undefined);
    expect(parseManifest(JSON.parse(JSON.stringify(manifest))).description).toBe('');
  });

  it('follows ROLE_CONTRACTS exactly for every graph', async () => {
    const { manifest } = await validPack();
    for (const g of manifest.graphs) {
      const c = ROLE_CONTRACTS[g.role];
      expect(g.inputs.map((x) => [x.name, x.dtype, x.shape.length])).toEqual(c.inputs.map((x) => [x.name, x.dtype, x.rank]));
      expect(g.outputs.map((x) => [x.name, x.dtype, x.shape.length])).toEqual(c.outputs.map((x) => [x.name, x.dtype, x.rank]));
    }
  });

  it('verifyPackFiles returns the bytes of every listed file', async () => {
    const { manifest, files } = await validPack();
    const m = parseManifest(JSON.stringify(manifest));
    const read: string[] = [];
    const got = await verifyPackFiles(m, async (f) => {
      read.push(f);
      return files.get(f);
    });
    const listed = packFiles(m).map((f) => f.file);
    expect(listed).toEqual(['tokenizer.json', ...m.graphs.map((g) => g.file)]);
    expect(read).toEqual(listed);
    expect([...got.keys()]).toEqual(listed);
    for (const [file, bytes] of got) expect(bytes).toBe(files.get(file));
  });

  it('has digests computed by the module sha256', async () => {
    const { manifest, files } = await validPack();
    for (const f of packFiles(manifest)) {
      const data = files.get(f.file)!;
      expect(data.byteLength).toBe(f.bytes);
      expect(await sha256(data)).toBe(f.sha256);
    }
    // A known vector, so the digest function itself is pinned.
    expect(await sha256(new TextEncoder().encode('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('verifyPackFiles', () => {
  it('names a missing file', async () => {
    const { manifest, files } = await validPack();
    files.delete('dit_step.onnx');
    await expectPackFileError(verifyPackFiles(manifest, readerFor(files)), 'missing file "dit_step.onnx"');
  });

  it('names a file whose sha256 differs, with both digests', async () => {
    const { manifest, files } = await validPack();
    const bad = new Uint8Array(files.get('vae_encoder.onnx')!);
    bad[bad.length - 1]! ^= 0xff;
    files.set('vae_encoder.onnx', bad);
    const expected = graph(manifest, 'vae_encoder.onnx').sha256;
    const err = await expectPackFileError(
      verifyPackFiles(manifest, readerFor(files)),
      '"vae_encoder.onnx" has sha256 ',
      await sha256(bad),
      `the manifest says ${expected}`,
      'corrupt or wrong file',
    );
    expect(err.problems).toHaveLength(1);
  });

  it('names a file whose size differs, with both sizes', async () => {
    const { manifest, files } = await validPack();
    const orig = files.get('tokenizer.json')!;
    const longer = new Uint8Array(orig.length + 1);
    longer.set(orig);
    files.set('tokenizer.json', longer);
    await expectPackFileError(
      verifyPackFiles(manifest, readerFor(files)),
      `"tokenizer.json" has ${orig.length + 1} bytes, the manifest says ${orig.length}`,
    );
  });

  it('lists every bad file at once', async () => {
    const { manifest, files } = await validPack();
    files.delete('dit_step.mha.onnx');
    files.set('text_encoder.onnx', new Uint8Array(3));
    const err = await expectPackFileError(
      verifyPackFiles(manifest, readerFor(files)),
      'missing file "dit_step.mha.onnx"',
      '"text_encoder.onnx" has 3 bytes',
    );
    expect(err.problems).toHaveLength(2);
  });
});

describe('parseManifest: the envelope', () => {
  it('rejects text that is not JSON', () => {
    expectManifestError(() => parseManifest('{"format": "subject-studio-pack",'), 'manifest.json is not valid JSON');
  });

  it('rejects JSON that is not an object', () => {
    expectManifestError(() => parseManifest('[1, 2]'), 'must hold a JSON object');
    expectManifestError(() => parseManifest('null'), 'must hold a JSON object');
  });

  it('rejects a manifest that is not a Subject Studio pack', async () => {
    const text = await editedManifest((m) => setLoose(m, 'format', 'diffusers'));
    expectManifestError(() => parseManifest(text), '"format" must be "subject-studio-pack"', 'got "diffusers"', 'not a Subject Studio model pack');
    expectManifestError(() => parseManifest({ _class_name: 'StableDiffusion3Pipeline' }), 'not a Subject Studio model pack');
  });

  it('rejects an unsupported formatVersion, naming it and the supported one', async () => {
    const text = await editedManifest((m) => setLoose(m, 'formatVersion', 3));
    const err = expectManifestError(() => parseManifest(text), 'unsupported formatVersion 3', 'reads version 1, 2');
    expect(err.problems).toHaveLength(1);
  });

  it('rejects a missing formatVersion', async () => {
    const text = await editedManifest((m) => setLoose(m, 'formatVersion', undefined));
    expectManifestError(() => parseManifest(text), 'formatVersion', 'reads version 1, 2');
  });

  it('rejects a formatVersion given as a string', async () => {
    const text = await editedManifest((m) => setLoose(m, 'formatVersion', '1'));
    expectManifestError(() => parseManifest(text), 'unsupported formatVersion "1"');
  });
});

describe('parseManifest: fields', () => {
  it('names an unknown dtype and where it is', async () => {
    let gi = -1;
    const text = await editedManifest((m) => {
      gi = indexOf(m, 'dit_step.onnx');
      setLoose(m.graphs[gi]!.inputs[2]!, 'dtype', 'bfloat16');
    });
    expectManifestError(() => parseManifest(text), `graphs[${gi}].inputs[2].dtype`, 'unknown dtype "bfloat16"', 'float32, float16');
  });

  it('names an unknown graph role', async () => {
    const text = await editedManifest((m) => setLoose(m.graphs[0]!, 'role', 'controlnet'));
    expectManifestError(() => parseManifest(text), 'graphs[0].role', 'unknown graph role "controlnet"');
  });

  it('rejects path traversal in a file name', async () => {
    const text = await editedManifest((m) => {
      m.graphs[1]!.file = '../x';
    });
    expectManifestError(() => parseManifest(text), 'graphs[1].file', 'must not contain "." or ".." segments');
  });

  it('rejects ".." inside a path and absolute paths', async () => {
    const text = await editedManifest((m) => {
      m.tokenizer.file = 'a/../../secret.json';
      m.graphs[0]!.file = '/etc/passwd';
    });
    expectManifestError(() => parseManifest(text), 'tokenizer.file: must not contain "." or ".." segments', 'graphs[0].file: must be a relative path');
  });

  it('rejects a malformed sha256 and a zero size', async () => {
    const text = await editedManifest((m) => {
      m.tokenizer.sha256 = m.tokenizer.sha256.toUpperCase();
      m.graphs[2]!.bytes = 0;
    });
    expectManifestError(() => parseManifest(text), 'tokenizer.sha256: must be 64 lowercase hex characters', 'graphs[2].bytes');
  });

  it('rejects a non-identifier symbolic dimension', async () => {
    const text = await editedManifest((m) => {
      m.graphs[0]!.inputs[0]!.shape = ['batch', 'text tokens'];
    });
    expectManifestError(() => parseManifest(text), 'graphs[0].inputs[0].shape[1]', 'a symbolic dimension must be an identifier');
  });
});

describe('parseManifest: graph contracts', () => {
  it('names a graph that lacks an input the engine needs', async () => {
    const text = await editedManifest((m) => {
      const g = graph(m, 'dit_step.onnx');
      g.inputs = g.inputs.filter((x) => x.name !== 'ref_layer_bias');
    });
    expectManifestError(() => parseManifest(text), 'graph dit_step (dit_step.onnx) lacks input "ref_layer_bias" that the engine needs');
  });

  it('names a graph that lacks an output the engine reads', async () => {
    const text = await editedManifest((m) => {
      graph(m, 'dit_reference.mha.onnx').outputs[1]!.name = 'values';
    });
    expectManifestError(() => parseManifest(text), 'graph dit_reference (dit_reference.mha.onnx) lacks output "ref_v"');
  });

  it('names an input the engine cannot feed', async () => {
    const text = await editedManifest((m) => {
      graph(m, 'text_encoder.onnx').inputs.push({ name: 'attention_mask', dtype: 'int64', shape: ['batch', 'text_tokens'] });
    });
    expectManifestError(() => parseManifest(text), 'graph text_encoder (text_encoder.onnx) has input "attention_mask" that the engine cannot feed');
  });

  it('allows extra outputs (the engine ignores them)', async () => {
    const text = await editedManifest((m) => {
      graph(m, 'vae_encoder.onnx').outputs.push({ name: 'logvar', dtype: 'float32', shape: ['batch', 4, 'h', 'w'] });
    });
    expect(() => parseManifest(text)).not.toThrow();
  });

  it('names a contract input with the wrong dtype', async () => {
    const text = await editedManifest((m) => {
      graph(m, 'dit_step_full.onnx').inputs.find((x) => x.name === 'timestep')!.dtype = 'int64';
    });
    expectManifestError(() => parseManifest(text), 'graph dit_step_full (dit_step_full.onnx): input "timestep" must be float32, not int64');
  });

  it('names a contract output with the wrong dtype', async () => {
    const text = await editedManifest((m) => {
      graph(m, 'vae_decoder.onnx').outputs[0]!.dtype = 'float16';
    });
    expectManifestError(() => parseManifest(text), 'graph vae_decoder (vae_decoder.onnx): output "image" must be float32, not float16');
  });

  it('names a contract input with the wrong rank', async () => {
    const text = await editedManifest((m) => {
      graph(m, 'dit_step.mha.onnx').inputs.find((x) => x.name === 'attention_bias')!.shape = ['batch', 'query_tokens', 'key_tokens'];
    });
    expectManifestError(() => parseManifest(text), 'graph dit_step (dit_step.mha.onnx): input "attention_bias" must have rank 4, not 3');
  });

  it('names a contract output with the wrong rank', async () => {
    const text = await editedManifest((m) => {
      graph(m, 'text_encoder.onnx').outputs[1]!.shape = ['batch', 1, 32];
    });
    expectManifestError(() => parseManifest(text), 'graph text_encoder (text_encoder.onnx): output "pooled" must have rank 2, not 3');
  });

  it('asks a graph with attention to say which kind', async () => {
    const text = await editedManifest((m) => {
      graph(m, 'dit_reference.onnx').attention = 'none';
    });
    expectManifestError(() => parseManifest(text), 'graph dit_reference (dit_reference.onnx) has attention; say "decomposed" or "mha"');
  });

  it('format 2: accepts external-data shards, and names a shard listed twice', async () => {
    const ok = await editedManifest((m) => {
      m.formatVersion = 2;
      graph(m, 'dit_step.onnx').externalData = [{ file: 'dit_step.onnx.data', bytes: 10, sha256: 'a'.repeat(64) }];
    });
    const parsed = parseManifest(ok);
    expect(parsed.graphs.find((g) => g.file === 'dit_step.onnx')!.externalData).toHaveLength(1);
    expect(packFiles(parsed).map((f) => f.file)).toContain('dit_step.onnx.data');
    const twice = await editedManifest((m) => {
      m.formatVersion = 2;
      graph(m, 'dit_step.onnx').externalData = [{ file: 'tokenizer.json', bytes: 10, sha256: 'a'.repeat(64) }];
    });
    expectManifestError(() => parseManifest(twice), 'graph dit_step (dit_step.onnx): file tokenizer.json listed twice');
  });

  it('format 1 cannot have external data; shards must stay under 2 GiB', async () => {
    const v1 = await editedManifest((m) => {
      graph(m, 'dit_step.onnx').externalData = [{ file: 'dit_step.onnx.data', bytes: 10, sha256: 'a'.repeat(64) }];
    });
    expectManifestError(() => parseManifest(v1), 'graph dit_step (dit_step.onnx): external data needs formatVersion 2');
    const huge = await editedManifest((m) => {
      m.formatVersion = 2;
      graph(m, 'dit_step.onnx').externalData = [{ file: 'dit_step.onnx.data', bytes: 2 ** 31, sha256: 'a'.repeat(64) }];
    });
    expectManifestError(() => parseManifest(huge), 'an external-data shard must be under 2 GiB');
  });

  it('format 2: int4 scale dtype only on int4 graphs', async () => {
    const text = await editedManifest((m) => {
      m.formatVersion = 2;
      graph(m, 'dit_step.onnx').precision = { matmul: 'int8', conv: 'int8', scaleDtype: 'float16' };
    });
    expectManifestError(() => parseManifest(text), 'graph dit_step (dit_step.onnx): scaleDtype applies to int4 weights only');
  });

  it('names a file listed twice', async () => {
    const text = await editedManifest((m) => {
      graph(m, 'vae_decoder.onnx').file = 'tokenizer.json';
    });
    expectManifestError(() => parseManifest(text), 'graph vae_decoder (tokenizer.json): file tokenizer.json listed twice');
  });
});

describe('parseManifest: graph roles', () => {
  it('names a missing role', async () => {
    const text = await editedManifest((m) => {
      m.graphs = m.graphs.filter((g) => g.role !== 'vae_decoder');
    });
    expectManifestError(() => parseManifest(text), 'the pack has no vae_decoder graph');
  });

  it('rejects two portable variants of one role', async () => {
    const text = await editedManifest((m) => {
      m.graphs.push({ ...structuredClone(graph(m, 'dit_step.onnx')), file: 'dit_step.v2.onnx' });
    });
    expectManifestError(() => parseManifest(text), 'exactly one dit_step graph with portable (non-mha) attention, it has 2');
  });

  it('rejects a role that only has an mha graph', async () => {
    const text = await editedManifest((m) => {
      m.graphs = m.graphs.filter((g) => g.file !== 'dit_step_full.onnx');
    });
    expectManifestError(() => parseManifest(text), 'exactly one dit_step_full graph with portable (non-mha) attention, it has 0');
  });

  it('rejects two mha variants of one role', async () => {
    const text = await editedManifest((m) => {
      m.graphs.push({ ...structuredClone(graph(m, 'text_encoder.mha.onnx')), file: 'text_encoder.mha2.onnx' });
    });
    expectManifestError(() => parseManifest(text), 'the pack has more than one mha text_encoder graph');
  });
});

describe('parseManifest: sizes', () => {
  it('rejects a resolution that is not a multiple of downsample*patchSize', async () => {
    const text = await editedManifest((m) => {
      m.resolutions.push({ width: 120, height: 64 });
    });
    expectManifestError(() => parseManifest(text), 'resolution 120x64 is not a multiple of downsample*patchSize = 16');
  });

  it('rejects a resolution beyond the positional table', async () => {
    const text = await editedManifest((m) => {
      m.resolutions.push({ width: 128, height: 144 });
    });
    expectManifestError(() => parseManifest(text), 'resolution 128x144 exceeds the positional table (maxGrid 8x8 patches)');
  });

  it('rejects a defaultResolution that is not one of resolutions', async () => {
    const text = await editedManifest((m) => {
      m.defaultResolution = { width: 96, height: 96 };
    });
    expectManifestError(() => parseManifest(text), 'defaultResolution: defaultResolution must be one of resolutions');
  });

  it('rejects int4 weights without a blockSize', async () => {
    const text = await editedManifest((m) => {
      delete graph(m, 'text_encoder.mha.onnx').precision.blockSize;
    });
    expectManifestError(() => parseManifest(text), 'graph text_encoder (text_encoder.mha.onnx): int4 weights need a blockSize');
  });

  it('rejects a hiddenSize not divisible by heads', async () => {
    const text = await editedManifest((m) => {
      m.transformer.heads = 5;
    });
    expectManifestError(() => parseManifest(text), 'transformer.heads: hiddenSize 64 is not divisible by heads 5');
  });
});

describe('parseManifest: several problems', () => {
  it('lists every cross-field problem at once', async () => {
    const text = await editedManifest((m) => {
      m.transformer.heads = 3;
      m.resolutions.push({ width: 100, height: 64 });
      m.graphs = m.graphs.filter((g) => g.role !== 'vae_encoder');
      const step = graph(m, 'dit_step.onnx');
      step.inputs = step.inputs.filter((x) => x.name !== 'ref_k');
      step.inputs.push({ name: 'guidance', dtype: 'float32', shape: ['batch'] });
      delete graph(m, 'text_encoder.onnx').precision.blockSize;
    });
    const err = expectManifestError(
      () => parseManifest(text),
      'hiddenSize 64 is not divisible by heads 3',
      'resolution 100x64 is not a multiple',
      'the pack has no vae_encoder graph',
      'lacks input "ref_k"',
      'has input "guidance" that the engine cannot feed',
      'int4 weights need a blockSize',
    );
    expect(err.problems).toHaveLength(6);
  });

  it('lists every field problem at once', async () => {
    const text = await editedManifest((m) => {
      setLoose(m.graphs[0]!.outputs[0]!, 'dtype', 'float64');
      m.graphs[3]!.file = '../x';
      setLoose(m.scheduler, 'type', 'ddim');
      setLoose(m, 'trained', 'yes');
    });
    const err = expectManifestError(
      () => parseManifest(text),
      'graphs[0].outputs[0].dtype: unknown dtype "float64"',
      'graphs[3].file: must not contain "." or ".." segments',
      'scheduler.type',
      'trained',
    );
    expect(err.problems).toHaveLength(4);
  });
});

describe('packs built before the branches shared their inputs', () => {
  it('are refused with what to do, naming the missing index', async () => {
    const { manifest } = await validPack();
    const step = manifest.graphs.find((g) => g.file === 'dit_step.onnx')!;
    step.inputs = step.inputs.filter((t) => t.name !== 'text_set' && t.name !== 'ref_set');
    expect(() => parseManifest(manifest)).toThrow(
      'graph dit_step (dit_step.onnx) lacks input "text_set" that the engine needs (the pack was built before the guidance branches shared their inputs: rebuild it with its script, or convert its model folder again)',
    );
  });
});

describe('graphFor', () => {
  it('prefers mha when asked and present', async () => {
    const m = parseManifest((await validPack()).manifest);
    expect(graphFor(m, 'dit_step', 'mha').file).toBe('dit_step.mha.onnx');
    expect(graphFor(m, 'text_encoder', 'mha').file).toBe('text_encoder.mha.onnx');
  });

  it('returns the decomposed graph by default', async () => {
    const m = parseManifest((await validPack()).manifest);
    expect(graphFor(m, 'dit_step').file).toBe('dit_step.onnx');
    expect(graphFor(m, 'dit_step', 'decomposed').attention).toBe('decomposed');
  });

  it('falls back to the portable graph when mha is asked but absent', async () => {
    const { manifest } = await validPack();
    manifest.graphs = manifest.graphs.filter((g) => g.file !== 'dit_reference.mha.onnx');
    const m = parseManifest(manifest);
    expect(graphFor(m, 'dit_reference', 'mha').file).toBe('dit_reference.onnx');
    expect(graphFor(m, 'vae_decoder', 'mha').file).toBe('vae_decoder.onnx');
    expect(graphFor(m, 'vae_encoder').attention).toBe('none');
  });
});

describe('docs/pack-format.md', () => {
  it('has an example manifest that is exactly the valid fixture', async () => {
    const doc = readFileSync(new URL('../../docs/pack-format.md', import.meta.url), 'utf8');
    const blocks = [...doc.matchAll(/```json\n([\s\S]*?)```/g)].map((b) => b[1]!);
    const example = blocks.find((b) => b.includes('"format": "subject-studio-pack"'));
    expect(example).toBeDefined();
    const parsed = parseManifest(example!);
    expect(parsed).toEqual((await validPack()).manifest);
  });
});
