/**
 * The converter's one error type. `code` is for programs (the UI picks its help text by it), `message`
 * is for people: it names the file (a path inside the model folder) and, where there is one, the key.
 */
export type ConvertErrorCode =
  /** The file ends before the data its header describes (usually a download that was cut off). */
  | 'truncated'
  /** The 8-byte header length is larger than the file, or larger than the 100 MB the format allows. */
  | 'header-size'
  /** The header (or a JSON file of the folder) is not valid JSON, or not the structure the format asks for. */
  | 'bad-json'
  /** A tensor's data_offsets disagree with its dtype and shape, overlap another's, or leave bytes unaccounted for. */
  | 'offsets'
  /** A dtype the reader does not accept (F8_E4M3, F64, ...), or a float read of an integer tensor. */
  | 'unsupported-dtype'
  /** A tensor the converter needs is not in the checkpoint (or the shard index names a key its shard lacks). */
  | 'missing-key'
  /** The same key is stored in two shards of one checkpoint. */
  | 'duplicate-key'
  /** A tensor has another shape than the converter expects. */
  | 'bad-shape'
  /** A file is missing: model_index.json, a component's config or weights, a shard named by an index. */
  | 'missing-file'
  /** A component folder the model needs is missing. */
  | 'missing-component'
  /** The folder holds a model the studio does not convert (SDXL, FLUX.1, FLUX.2 dev, ...). */
  | 'wrong-model'
  /** The folder holds a single-file checkpoint instead of the diffusers layout. */
  | 'single-file'
  /** A read returned fewer bytes than asked for (the file changed or shrank while being read). */
  | 'read-failed'
  /** The user cancelled the conversion (nothing of it is kept). */
  | 'cancelled'
  /** An option the model cannot take (a resolution whose references do not fit its positional table, a precision). */
  | 'bad-option';

export interface ConvertErrorDetails {
  /** The file the error is about, as a path inside the model folder. */
  file?: string;
  /** The tensor key the error is about. */
  key?: string;
  cause?: unknown;
}

export class ConvertError extends Error {
  readonly code: ConvertErrorCode;
  readonly file: string | undefined;
  readonly key: string | undefined;

  constructor(code: ConvertErrorCode, message: string, details: ConvertErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'ConvertError';
    this.code = code;
    this.file = details.file;
    this.key = details.key;
  }
}

/** 1234567 -> "1,234,567" (fixed format, independent of the locale). */
export function formatBytes(n: number): string {
  const s = String(Math.trunc(Math.abs(n)));
  return (n < 0 ? '-' : '') + s.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** [64, 32] -> "[64, 32]". */
export function formatShape(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => (d === null ? '*' : String(d))).join(', ')}]`;
}
