import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { blobIds, clearAllStorage, collectStrings, collectUnreferencedBlobs, getBlob, idbPersistStorage, onBlobsChanged, onStorageError, putBlob, StorageQuotaError } from './storage';

/** Writes a blob the way an earlier session left it: present, but not written by this page. */
async function leftOver(id: string, bytes = 3): Promise<void> {
  const { createStore, set } = await import('idb-keyval');
  await set(id, new Blob([new Uint8Array(bytes)]), createStore('subject-studio-blobs', 'blobs'));
}

describe('collectStrings', () => {
  it('finds strings at any depth, skipping binary data and cycles', () => {
    const cyclic: Record<string, unknown> = { a: 'x' };
    cyclic.self = cyclic;
    const out = collectStrings({ list: [{ id: 'p1', mask: { id: 'm1' } }], map: new Map([['k', 'v']]), set: new Set(['s']), bytes: new Uint8Array(3), n: 4, cyclic }, new Set());
    expect([...out].sort()).toEqual(['k', 'm1', 'p1', 's', 'v', 'x']);
  });
});

describe('blob garbage collection', () => {
  beforeEach(() => clearAllStorage());
  afterEach(() => clearAllStorage());

  it('deletes only blobs that no live state, saved document or write of this session refers to', async () => {
    await leftOver('photo-in-memory');
    await leftOver('mask-in-document');
    await leftOver('orphan', 10);
    await putBlob('written-now', new Blob([new Uint8Array(5)]));
    // A saved document refers to a blob the live state does not (a store that failed to load, say).
    await idbPersistStorage<{ subjects: unknown[] }>('test').setItem('subjects', { state: { subjects: [{ images: [{ mask: { id: 'mask-in-document' } }] }] }, version: 0 });

    const report = await collectUnreferencedBlobs(new Set(['photo-in-memory']));
    expect(report.deleted).toEqual(['orphan']);
    expect(report.bytes).toBe(10);
    expect(report.kept).toBe(3);
    expect((await blobIds()).sort()).toEqual(['mask-in-document', 'photo-in-memory', 'written-now']);
  });

  it('protects a blob that putBlob finds already stored (an undo re-adding a photo)', async () => {
    await leftOver('old-photo');
    await putBlob('old-photo', new Blob([new Uint8Array(3)]));
    expect((await collectUnreferencedBlobs(new Set())).deleted).toEqual([]);
    expect(await getBlob('old-photo')).toBeDefined();
  });

  it('reports blob writes and deletions to listeners', async () => {
    let changes = 0;
    const stop = onBlobsChanged(() => changes++);
    await putBlob('a', new Blob(['a']));
    await putBlob('a', new Blob(['a'])); // already stored: no change
    await leftOver('b');
    await collectUnreferencedBlobs(new Set(['a']));
    stop();
    expect(changes).toBe(2);
  });
});

describe('failed writes', () => {
  it('turn a full quota into StorageQuotaError, reported to listeners, and leave what was stored', async () => {
    await putBlob('kept', new Blob(['kept']));
    const errors: (Error | null)[] = [];
    const stop = onStorageError((e) => errors.push(e));
    const original = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = () => {
      throw new DOMException('full', 'QuotaExceededError');
    };
    try {
      await expect(putBlob('new', new Blob(['new']))).rejects.toBeInstanceOf(StorageQuotaError);
    } finally {
      IDBObjectStore.prototype.put = original;
      stop();
    }
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toMatch(/Nothing saved before was lost/);
    expect(await getBlob('kept')).toBeDefined();
    expect(await getBlob('new')).toBeUndefined();
  });
});
