/** One copy of the DiT's weights for its three graphs (SharedWeights, assemblePack's sharedExternalData). */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { folderFromDisk } from '../convert/node-source';
import { convertSd3Folder } from '../convert/sd3/convert';
import { SD3_FIXTURES } from '../convert/sd3/testing/fixture-packs';
import { parseManifest } from '../pack/manifest';
import { SharedWeights } from './serialize';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

const EXT = { baseName: 'w', maxShardBytes: 4096, minTensorBytes: 16, align: 64 };

describe('shared external data', () => {
  it('stores a weight once, whether the graphs hand over the same buffer or an equal copy', () => {
    const store = new SharedWeights(EXT);
    const a = new Uint8Array(100).fill(7);
    const first = store.place(a, 'a');
    expect(store.place(a, 'a again')).toEqual(first);
    expect(store.place(Uint8Array.from(a), 'a copy')).toEqual(first);
    const b = new Uint8Array(100).fill(8);
    expect(store.place(b, 'b')).toEqual({ file: 'w.data', offset: 128 });
    expect(store.place(new Uint8Array(8), 'small')).toBeNull();
    expect(store.bytes).toBe(228);
    // A shard never passes its limit: the next weight opens w.1.data.
    expect(store.place(new Uint8Array(4000).fill(1), 'big')).toEqual({ file: 'w.1.data', offset: 0 });
    const shards = store.shards();
    expect(shards.map((s) => [s.file, s.bytes.byteLength])).toEqual([['w.data', 228], ['w.1.data', 4000]]);
    expect([...shards[0]!.bytes.subarray(128, 228)]).toEqual([...b]);
  });

  it('a converted SD3 pack lists one dit.weights.data for its three DiT graphs, holding each weight once', async () => {
    const { manifest, files } = await convertSd3Folder(await folderFromDisk(join(SD3_FIXTURES, 'sd3')), { precision: 'fp32', sizes: [128] });
    const dit = manifest.graphs.filter((g) => g.role.startsWith('dit_'));
    expect(dit.map((g) => g.externalData.map((s) => s.file))).toEqual([['dit.weights.data'], ['dit.weights.data'], ['dit.weights.data']]);
    expect([...files.keys()].filter((f) => f.startsWith('dit_') && f.endsWith('.data'))).toEqual([]);
    // Where each graph's external weights lie: [offset, length] by initializer name.
    const ranges = (file: string) => {
      const model = onnx.ModelProto.decode(files.get(file)!);
      return new Map(
        model.graph!.initializer!.filter((t) => t.externalData?.length).map((t) => {
          const kv = new Map(t.externalData!.map((e) => [e.key, e.value]));
          return [t.name!, [Number(kv.get('offset')), Number(kv.get('length'))] as const];
        }),
      );
    };
    const step = ranges('dit_step.onnx');
    const full = ranges('dit_step_full.onnx');
    const reference = ranges('dit_reference.onnx');
    // Every weight the reference and full graphs read is one the step graph reads too: the same bytes of the file.
    const stepRanges = new Set([...step.values()].map(([o, n]) => `${o}+${n}`));
    for (const other of [reference, full]) {
      expect(other.size).toBeGreaterThan(0);
      expect([...other.values()].filter(([o, n]) => !stepRanges.has(`${o}+${n}`))).toEqual([]);
    }
    // The file is each distinct weight once (plus alignment), not the three graphs' sum.
    const distinct = new Map([...step.values(), ...full.values(), ...reference.values()].map(([o, n]) => [o, n]));
    const once = [...distinct.values()].reduce((a, b) => a + b, 0);
    const shard = files.get('dit.weights.data')!;
    expect(shard.byteLength).toBeLessThan(once + 64 * distinct.size);
    const sum = [step, full, reference].reduce((a, m) => a + [...m.values()].reduce((x, [, n]) => x + n, 0), 0);
    expect(shard.byteLength).toBeLessThan(0.5 * sum);
  }, 60_000);

  it('the manifest refuses a shared shard listed with another size or digest', async () => {
    const { manifest } = await convertSd3Folder(await folderFromDisk(join(SD3_FIXTURES, 'sd3')), { precision: 'fp32', sizes: [128] });
    const broken = structuredClone(manifest);
    const step = broken.graphs.find((g) => g.role === 'dit_step')!;
    step.externalData[0]!.sha256 = '0'.repeat(64);
    expect(() => parseManifest(JSON.stringify(broken))).toThrow(/graph dit_step \(dit_step\.onnx\): file dit\.weights\.data listed twice with a different size or digest/);
  }, 60_000);
});
