import { describe, expect, it } from 'vitest';
import { ConvertError } from './errors';
import { bfloat16ToFloat, expectTensor, halfToFloat, openCheckpoint, openSafetensors, openShardedSafetensors } from './safetensors';
import { bytesSource } from './source';
import { floatToBfloat16Bits, floatToHalfBits, memoryFolder, recordingSource, writeSafetensors, writeSharded } from './testing/safetensors-writer';

const NAME = 'transformer/diffusion_pytorch_model.safetensors';

function open(bytes: Uint8Array, name = NAME) {
  return openSafetensors(bytesSource(name, bytes));
}

/** The ConvertError a promise rejects with. */
async function failure(promise: Promise<unknown>): Promise<ConvertError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ConvertError);
    return error as ConvertError;
  }
  throw new Error('expected a ConvertError');
}

function syncFailure(fn: () => unknown): ConvertError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConvertError);
    return error as ConvertError;
  }
  throw new Error('expected a ConvertError');
}

/** Reference binary16 decoding, written independently of the reader's table. */
function halfReference(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * Math.pow(2, -24);
  if (exp === 31) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1 + mant / 1024) * Math.pow(2, exp - 15);
}

describe('float widening', () => {
  it('decodes every half float exactly (subnormals, signed zeros, inf, NaN)', async () => {
    const wrong: number[] = [];
    for (let h = 0; h < 65536; h++) {
      const got = halfToFloat(h);
      const want = halfReference(h);
      const ok = Number.isNaN(want) ? Number.isNaN(got) : Object.is(got, want) && floatToHalfBits(got) === h;
      if (!ok) wrong.push(h);
    }
    expect(wrong).toEqual([]);
    // Through a whole file too: all 65536 patterns in one F16 tensor.
    const all = Array.from({ length: 65536 }, (_, h) => h);
    const file = await open(writeSafetensors({ all: { dtype: 'F16', shape: [256, 256], bits: all } }));
    const values = await file.readTensor('all');
    expect(all.filter((h) => !Object.is(values[h], halfReference(h)) && !(Number.isNaN(values[h]) && Number.isNaN(halfReference(h))))).toEqual([]);
  });

  it('decodes bfloat16 bit patterns', () => {
    expect(bfloat16ToFloat(0x3f80)).toBe(1);
    expect(bfloat16ToFloat(0xc040)).toBe(-3);
    expect(bfloat16ToFloat(0x0001)).toBe(Math.pow(2, -133)); // smallest subnormal
    expect(bfloat16ToFloat(0x007f)).toBe(127 * Math.pow(2, -133)); // largest subnormal
    expect(bfloat16ToFloat(0x7f80)).toBe(Infinity);
    expect(bfloat16ToFloat(0xff80)).toBe(-Infinity);
    expect(bfloat16ToFloat(0x7fc0)).toBeNaN();
    expect(Object.is(bfloat16ToFloat(0x8000), -0)).toBe(true);
    expect(floatToBfloat16Bits(1 + Math.pow(2, -8))).toBe(0x3f80); // tie to even
    expect(floatToBfloat16Bits(1 + 3 * Math.pow(2, -8))).toBe(0x3f82);
  });
});

describe('openSafetensors', () => {
  it('round-trips F32, F16 and BF16 with known bit patterns', async () => {
    const halfBits = [0x3c00, 0xc000, 0x7bff, 0x0001, 0x03ff, 0x0400, 0x7c00, 0xfc00, 0x7e00, 0x8000, 0x3555];
    const bfBits = [0x3f80, 0xc040, 0x0001, 0x007f, 0x7f80, 0xff80, 0x7fc0, 0x8000, 0x4049];
    const f32Values = [1, -2.5, 1e-45, 3.4028234663852886e38, Infinity, -Infinity, NaN, -0, Math.fround(Math.PI)];
    const file = await open(
      writeSafetensors(
        {
          half: { dtype: 'F16', shape: [halfBits.length], bits: halfBits },
          bf: { dtype: 'BF16', shape: [3, 3], bits: bfBits },
          single: { dtype: 'F32', shape: [f32Values.length], values: f32Values },
          ids: { dtype: 'I64', shape: [1, 3], values: [0, 1, 2] },
          flags: { dtype: 'BOOL', shape: [2], values: [1, 0] },
        },
        { metadata: { format: 'pt' } },
      ),
    );
    expect(file.keys()).toEqual(['half', 'bf', 'single', 'ids', 'flags']);
    expect(file.metadata).toEqual({ format: 'pt' });
    expect(file.info('bf')).toMatchObject({ dtype: 'BF16', shape: [3, 3], file: NAME });

    const half = await file.readTensor('half');
    expect([...half].slice(0, 6)).toEqual([1, -2, 65504, Math.pow(2, -24), 1023 * Math.pow(2, -24), Math.pow(2, -14)]);
    expect(half[6]).toBe(Infinity);
    expect(half[7]).toBe(-Infinity);
    expect(half[8]).toBeNaN();
    expect(Object.is(half[9], -0)).toBe(true);
    expect(half[10]).toBe(halfReference(0x3555));

    const bf = await file.readTensor('bf');
    expect(bf[0]).toBe(1);
    expect(bf[1]).toBe(-3);
    expect(bf[2]).toBe(Math.pow(2, -133));
    expect(bf[3]).toBe(127 * Math.pow(2, -133));
    expect(bf[4]).toBe(Infinity);
    expect(bf[5]).toBe(-Infinity);
    expect(bf[6]).toBeNaN();
    expect(Object.is(bf[7], -0)).toBe(true);
    expect(bf[8]).toBe(3.140625);

    const single = await file.readTensor('single');
    expect([...single.slice(0, 6)]).toEqual([1, -2.5, Math.fround(1e-45), 3.4028234663852886e38, Infinity, -Infinity]);
    expect(single[6]).toBeNaN();
    expect(Object.is(single[7], -0)).toBe(true);
    expect(single[8]).toBe(Math.fround(Math.PI));

    // Integer headers are read; their bytes are available raw, not as floats.
    const ids = await file.readTensorRaw('ids');
    expect(ids.shape).toEqual([1, 3]);
    expect([...new BigInt64Array(ids.bytes.slice().buffer)]).toEqual([0n, 1n, 2n]);
    const error = await failure(file.readTensor('ids'));
    expect(error.code).toBe('unsupported-dtype');
    expect(error.message).toContain('key ids');
    expect(error.message).toContain('I64');
  });

  it('reads only the header and the tensor asked for', async () => {
    const bytes = writeSafetensors({
      a: { dtype: 'F32', shape: [4, 8] },
      b: { dtype: 'F16', shape: [16, 4] },
      c: { dtype: 'BF16', shape: [3] },
    });
    const source = recordingSource(bytesSource(NAME, bytes));
    const file = await openSafetensors(source);
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(source.reads).toEqual([
      [0, 8],
      [8, 8 + headerLength],
    ]);
    source.reads.length = 0;
    const b = file.info('b');
    expect(b.begin).toBe(8 + headerLength + 128);
    expect(b.end - b.begin).toBe(128);
    const values = await file.readTensor('b');
    expect(source.reads).toEqual([[b.begin, b.end]]);
    expect(values[5]).toBe(5 / 16);

    source.reads.length = 0;
    const rows = await file.readTensor('b', { rows: [2, 4] });
    expect(source.reads).toEqual([[b.begin + 2 * 8, b.begin + 4 * 8]]);
    expect([...rows]).toEqual([8, 9, 10, 11, 12, 13, 14, 15].map((i) => i / 16));
    expect((await file.readTensorRaw('b', { rows: [2, 4] })).shape).toEqual([2, 4]);
  });

  it('accepts scalars and empty tensors', async () => {
    const file = await open(
      writeSafetensors({ scale: { dtype: 'F32', shape: [], values: [0.5] }, empty: { dtype: 'F16', shape: [0, 4] }, w: { dtype: 'F16', shape: [2] } }),
    );
    expect([...(await file.readTensor('scale'))]).toEqual([0.5]);
    expect((await file.readTensor('empty')).length).toBe(0);
  });

  it("'truncated': the file ends before the data", async () => {
    const bytes = writeSafetensors({ w: { dtype: 'F32', shape: [1000] } }, { truncate: 1000 });
    const error = await failure(open(bytes));
    expect(error.code).toBe('truncated');
    expect(error.file).toBe(NAME);
    expect(error.message).toContain(`${NAME} is truncated: the header says the data is 4,000 bytes, the file has 3,000`);
  });

  it("'truncated': fewer than 8 bytes", async () => {
    const error = await failure(open(new Uint8Array(5)));
    expect(error.code).toBe('truncated');
    expect(error.message).toContain(`${NAME} is truncated: it has 5 bytes`);
  });

  it("'header-size': the header length is larger than the file", async () => {
    const error = await failure(open(writeSafetensors({ w: { dtype: 'F32', shape: [4] } }, { headerLength: 1_234_567 })));
    expect(error.code).toBe('header-size');
    expect(error.message).toMatch(new RegExp(`^${NAME}: the header length says 1,234,567 bytes, but the file has only \\d+ bytes after it`));
    // A huge u64 (high word set) is refused the same way, without reading.
    const source = recordingSource(bytesSource(NAME, writeSafetensors({}, { headerLength: 2 ** 40 })));
    expect((await failure(openSafetensors(source))).code).toBe('header-size');
    expect(source.reads).toEqual([[0, 8]]);
  });

  it("'bad-json': the header is not JSON, not an object, or an entry is malformed", async () => {
    const notJson = await failure(open(writeSafetensors({}, { headerText: '{"w": {"dtype": "F32",' })));
    expect(notJson.code).toBe('bad-json');
    expect(notJson.message).toContain(`${NAME}: the header is not valid JSON`);
    expect((await failure(open(writeSafetensors({}, { headerText: '[1, 2]' })))).message).toContain('not a JSON object');
    const notUtf8 = writeSafetensors({}, { headerText: 'ab' });
    notUtf8.set([0xff, 0xfe], 8);
    expect((await failure(open(notUtf8))).message).toContain('not UTF-8');
    const badShape = await failure(
      open(writeSafetensors({ w: { dtype: 'F32', shape: [2] } }, { editHeader: (h) => ((h.w as { shape: unknown }).shape = [-2]) })),
    );
    expect(badShape.code).toBe('bad-json');
    expect(badShape.message).toContain('the header entry for key w has shape [-2]');
    expect(badShape.key).toBe('w');
  });

  it("'offsets': overlapping tensors", async () => {
    const bytes = writeSafetensors(
      { a: { dtype: 'F32', shape: [4] }, b: { dtype: 'F32', shape: [4] }, c: { dtype: 'F32', shape: [2] } },
      { editHeader: (h) => ((h.b as { data_offsets: number[] }).data_offsets = [8, 24]), trailing: 0 },
    );
    // b now covers [8, 24), overlapping a [0, 16); c stays at [32, 40), so bytes [24, 32) are a gap.
    const error = await failure(open(bytes));
    expect(error.code).toBe('offsets');
    expect(error.message).toBe(`${NAME}: keys a [0, 16) and b [8, 24) overlap`);
  });

  it("'offsets': offsets that disagree with dtype and shape", async () => {
    const bytes = writeSafetensors({ w: { dtype: 'F16', shape: [64, 64] } }, { editHeader: (h) => ((h.w as { shape: number[] }).shape = [64, 65]) });
    const error = await failure(open(bytes));
    expect(error.code).toBe('offsets');
    expect(error.key).toBe('w');
    expect(error.message).toBe(`${NAME}: key w has data_offsets [0, 8,192) holding 8,192 bytes, but F16 [64, 65] needs 8,320`);
  });

  it("'offsets': bytes after the last tensor", async () => {
    const error = await failure(open(writeSafetensors({ w: { dtype: 'F32', shape: [4] } }, { trailing: 3 })));
    expect(error.code).toBe('offsets');
    expect(error.message).toBe(`${NAME}: the header says the data is 16 bytes, the file has 19 (3 bytes that no tensor uses)`);
  });

  it("'unsupported-dtype': fp8 and other dtypes", async () => {
    const key = 'transformer_blocks.0.attn.to_q.weight';
    const error = await failure(open(writeSafetensors({ [key]: { dtype: 'F8_E4M3', shape: [4, 4] } })));
    expect(error.code).toBe('unsupported-dtype');
    expect(error.key).toBe(key);
    expect(error.message).toContain(`unsupported dtype F8_E4M3 for key ${key} in ${NAME}`);
    expect(error.message).toContain('fp8');
    expect((await failure(open(writeSafetensors({ x: { dtype: 'C64', shape: [1], raw: new Uint8Array(8) } })))).message).toContain(
      'unsupported dtype C64 for key x',
    );
  });

  it("'missing-key' and 'bad-shape' through expectTensor", async () => {
    const file = await open(writeSafetensors({ 'transformer_blocks.0.attn.to_q.weight': { dtype: 'F16', shape: [64, 32] }, ids: { dtype: 'I64', shape: [3] } }));
    const key = 'transformer_blocks.0.attn.to_q.weight';
    expect(expectTensor(file, key, [64, 32]).dtype).toBe('F16');
    expect(expectTensor(file, key, [64, null]).shape).toEqual([64, 32]);

    const shape = syncFailure(() => expectTensor(file, key, [64, 64]));
    expect(shape.code).toBe('bad-shape');
    expect(shape.message).toContain(`key ${key} has shape [64, 32], expected [64, 64]`);
    expect(shape.message).toContain(NAME);
    expect(syncFailure(() => expectTensor(file, key, [64, 32, 1])).code).toBe('bad-shape');

    const missing = syncFailure(() => expectTensor(file, 'proj_out.weight', [64, 1536]));
    expect(missing.code).toBe('missing-key');
    expect(missing.message).toBe(`key proj_out.weight is missing from ${NAME}`);
    expect((await failure(file.readTensor('nope'))).code).toBe('missing-key');

    expect(syncFailure(() => expectTensor(file, 'ids', [3])).code).toBe('unsupported-dtype');
    expect(expectTensor(file, 'ids', [3], { dtypes: ['I64'] }).dtype).toBe('I64');
  });
});

describe('sharded checkpoints', () => {
  const shards = writeSharded('model', [
    { 'shared.weight': { dtype: 'F16', shape: [4, 2], values: [1, 2, 3, 4, 5, 6, 7, 8] }, 'encoder.block.0.layer.0.SelfAttention.q.weight': { dtype: 'F16', shape: [2, 2] } },
    { 'encoder.final_layer_norm.weight': { dtype: 'BF16', shape: [2], values: [0.5, -1] } },
  ]);
  const prefixed = (files: Record<string, Uint8Array | string>) => Object.fromEntries(Object.entries(files).map(([k, v]) => [`text_encoder_3/${k}`, v]));

  it('looks up keys across shards', async () => {
    const folder = memoryFolder(prefixed(shards));
    const index = await openCheckpoint(folder, 'text_encoder_3/model.safetensors.index.json');
    expect(index.files).toEqual(['text_encoder_3/model-00001-of-00002.safetensors', 'text_encoder_3/model-00002-of-00002.safetensors']);
    expect(index.keys().sort()).toEqual(['encoder.block.0.layer.0.SelfAttention.q.weight', 'encoder.final_layer_norm.weight', 'shared.weight']);
    expect(index.info('encoder.final_layer_norm.weight').file).toBe('text_encoder_3/model-00002-of-00002.safetensors');
    expect([...(await index.readTensor('encoder.final_layer_norm.weight'))]).toEqual([0.5, -1]);
    expect([...(await index.readTensor('shared.weight', { rows: [1, 2] }))]).toEqual([3, 4]);
    expect(expectTensor(index, 'shared.weight', [4, 2]).file).toBe('text_encoder_3/model-00001-of-00002.safetensors');
    const missing = syncFailure(() => index.info('lm_head.weight'));
    expect(missing.code).toBe('missing-key');
    expect(missing.message).toBe('key lm_head.weight is missing from text_encoder_3/model.safetensors.index.json');
  });

  it("'missing-file': a shard named by the index is not there", async () => {
    const files = prefixed(shards);
    delete files['text_encoder_3/model-00002-of-00002.safetensors'];
    const error = await failure(openShardedSafetensors(memoryFolder(files), 'text_encoder_3/model.safetensors.index.json'));
    expect(error.code).toBe('missing-file');
    expect(error.message).toBe('text_encoder_3/model-00002-of-00002.safetensors is missing (text_encoder_3/model.safetensors.index.json lists 1 keys in it)');
  });

  it("'missing-key' and 'duplicate-key': the index and the shards disagree", async () => {
    const index = JSON.parse(shards['model.safetensors.index.json'] as string) as { weight_map: Record<string, string> };
    index.weight_map['lm_head.weight'] = 'model-00002-of-00002.safetensors';
    const error = await failure(
      openShardedSafetensors(memoryFolder({ ...shards, 'model.safetensors.index.json': JSON.stringify(index) }), 'model.safetensors.index.json'),
    );
    expect(error.code).toBe('missing-key');
    expect(error.message).toBe('key lm_head.weight is missing from model-00002-of-00002.safetensors (model.safetensors.index.json says it is there)');

    const dup = writeSharded('model', [{ a: { dtype: 'F32', shape: [1] } }, { b: { dtype: 'F32', shape: [1] } }]);
    dup['model-00002-of-00002.safetensors'] = writeSafetensors({ a: { dtype: 'F32', shape: [1] }, b: { dtype: 'F32', shape: [1] } });
    const duplicate = await failure(openShardedSafetensors(memoryFolder(dup), 'model.safetensors.index.json'));
    expect(duplicate.code).toBe('duplicate-key');
    expect(duplicate.message).toContain('key a is in two shards');
  });

  it("'bad-json': an index without weight_map", async () => {
    const error = await failure(openShardedSafetensors(memoryFolder({ 'x.safetensors.index.json': '{"metadata": {}}' }), 'x.safetensors.index.json'));
    expect(error.code).toBe('bad-json');
    expect(error.message).toContain('x.safetensors.index.json has no weight_map');
    const notJson = await failure(openShardedSafetensors(memoryFolder({ 'x.safetensors.index.json': '{' }), 'x.safetensors.index.json'));
    expect(notJson.message).toContain('x.safetensors.index.json is not valid JSON');
  });
});
