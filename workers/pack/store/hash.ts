/** Streaming SHA-256 (hash-wasm: fast, incremental, and its state can be saved to resume a download). */
import { createSHA256, type IHasher } from 'hash-wasm';

export type { IHasher };

export async function newSha256(): Promise<IHasher> {
  const h = await createSHA256();
  h.init();
  return h;
}

/** The sha256 of a blob, read as a stream (never the whole blob in memory at once). */
export async function sha256OfBlob(blob: Blob, signal?: AbortSignal, onBytes?: (n: number) => void): Promise<string> {
  const h = await newSha256();
  const reader = blob.stream().getReader();
  try {
    for (;;) {
      signal?.throwIfAborted();
      const { done, value } = await reader.read();
      if (done) break;
      h.update(value);
      onBytes?.(value.byteLength);
    }
  } finally {
    reader.releaseLock();
  }
  return h.digest('hex');
}
