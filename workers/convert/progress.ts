/**
 * Progress and cancellation of a conversion: every tensor read goes through a
 * counting TensorIndex, so the bytes and tensors done are what was really
 * read, and a cancelled conversion stops at the next read.
 */
import { ConvertError } from './errors';
import { DTYPE_BYTES, type RawTensor, type ReadOptions, type TensorIndex } from './safetensors';

export interface ConvertProgress {
  /** What runs now, for people ("reading transformer", "writing dit_step.onnx"). */
  phase: string;
  bytesDone: number;
  bytesTotal: number;
  tensorsDone: number;
  tensorsTotal: number;
}

export class ConversionMeter {
  private bytesDone = 0;
  private tensorsDone = 0;
  private phase = 'reading';

  constructor(
    private readonly bytesTotal: number,
    private readonly tensorsTotal: number,
    private readonly onProgress: (p: ConvertProgress) => void,
    private readonly signal?: AbortSignal,
  ) {}

  /** Throws a 'cancelled' ConvertError once the signal is aborted. */
  checkCancelled(): void {
    if (this.signal?.aborted) throw new ConvertError('cancelled', 'the conversion was cancelled; nothing was saved');
  }

  setPhase(phase: string): void {
    this.checkCancelled();
    this.phase = phase;
    this.report();
  }

  private report(): void {
    this.onProgress({ phase: this.phase, bytesDone: this.bytesDone, bytesTotal: this.bytesTotal, tensorsDone: this.tensorsDone, tensorsTotal: this.tensorsTotal });
  }

  /** The index with every read counted (bytes as stored) and checked for cancellation. */
  count(index: TensorIndex): TensorIndex {
    const counted = (bytes: number) => {
      this.bytesDone += bytes;
      this.tensorsDone += 1;
      this.report();
    };
    const checkCancelled = () => this.checkCancelled();
    return {
      name: index.name,
      files: index.files,
      metadata: index.metadata,
      keys: () => index.keys(),
      has: (key) => index.has(key),
      info: (key) => index.info(key),
      async readTensorRaw(key: string, options?: ReadOptions): Promise<RawTensor> {
        checkCancelled();
        const t = await index.readTensorRaw(key, options);
        counted(t.bytes.byteLength);
        return t;
      },
      async readTensor(key: string, options?: ReadOptions): Promise<Float32Array> {
        checkCancelled();
        const t = await index.readTensor(key, options);
        counted(t.byteLength * (DTYPE_BYTES[index.info(key).dtype] / 4));
        return t;
      },
    };
  }
}

/** Bytes and tensor count of the checkpoints a conversion reads. */
export function checkpointTotals(indexes: TensorIndex[]): { bytes: number; tensors: number } {
  let bytes = 0;
  let tensors = 0;
  for (const index of indexes) {
    for (const key of index.keys()) {
      const info = index.info(key);
      bytes += info.end - info.begin;
      tensors += 1;
    }
  }
  return { bytes, tensors };
}
