/**
 * The engine's errors as the UI sees them: a closed set of codes to act on
 * (the message is for people). Errors thrown anywhere in the engine map onto
 * a code in one function, engineErrorOf(); a comlink transfer handler for
 * thrown values, registered on both sides of a worker boundary, carries
 * name, message, code and details across it (comlink's own keeps only name
 * and message).
 */
import { transferHandlers, type TransferHandler } from 'comlink';

export const ENGINE_ERROR_CODES = [
  'not-initialised',
  'no-pack',
  'device-lost',
  'cancelled',
  'pack-network',
  'pack-not-found',
  'pack-bad-hash',
  'pack-bad-size',
  'pack-quota',
  'pack-too-large-for-gpu',
  'pack-plan-refused',
  'manifest-invalid',
  'pack-files-invalid',
  'bad-input',
  /** A model folder could not be converted; details.convertCode says why (workers/convert/errors.ts), details.file and details.key where. */
  'convert-failed',
  'internal',
] as const;

export type EngineErrorCode = (typeof ENGINE_ERROR_CODES)[number];

/** Structured-cloneable facts about a failure (problem lists, limits, the step reached). */
export type EngineErrorDetails = Record<string, unknown>;

export const isEngineErrorCode = (v: unknown): v is EngineErrorCode => (ENGINE_ERROR_CODES as readonly unknown[]).includes(v);

export class EngineError extends Error {
  readonly code: EngineErrorCode;
  readonly details: EngineErrorDetails | null;

  constructor(code: EngineErrorCode, message: string, options?: { details?: EngineErrorDetails; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EngineError';
    this.code = code;
    this.details = options?.details ?? null;
  }
}

/** The engine's other error classes by name (matched by name, so this module imports none of them). */
const PACK_LOAD_CODES: Record<string, EngineErrorCode> = {
  network: 'pack-network',
  'not-found': 'pack-not-found',
  'bad-hash': 'pack-bad-hash',
  'bad-size': 'pack-bad-size',
  quota: 'pack-quota',
  cancelled: 'cancelled',
  'too-large-for-gpu': 'pack-too-large-for-gpu',
  'plan-refused': 'pack-plan-refused',
  manifest: 'manifest-invalid',
};

const BY_NAME: Record<string, (e: Error & Record<string, unknown>) => { code: EngineErrorCode; details?: EngineErrorDetails }> = {
  PackLoadError: (e) => ({ code: (typeof e.code === 'string' && PACK_LOAD_CODES[e.code]) || 'internal' }),
  ManifestError: (e) => ({ code: 'manifest-invalid', details: { problems: e.problems } }),
  PackFileError: (e) => ({ code: 'pack-files-invalid', details: { problems: e.problems } }),
  CancelledError: (e) => ({ code: 'cancelled', details: { atStep: e.atStep } }),
  ImageDecodeError: () => ({ code: 'bad-input' }),
  ConvertError: (e) => ({
    code: e.code === 'cancelled' ? 'cancelled' : 'convert-failed',
    details: { convertCode: e.code, ...(typeof e.file === 'string' ? { file: e.file } : {}), ...(typeof e.key === 'string' ? { key: e.key } : {}) },
  }),
};

/**
 * Any thrown value as an EngineError: itself, one of the engine's own error
 * classes mapped onto its code, or 'internal'. The name and message stay.
 */
export function engineErrorOf(e: unknown): EngineError {
  if (e instanceof EngineError) return e;
  if (!(e instanceof Error)) return new EngineError('internal', String(e));
  const known = BY_NAME[e.name]?.(e as Error & Record<string, unknown>);
  const out = new EngineError(known?.code ?? 'internal', e.message, { details: known?.details });
  out.name = e.name;
  out.stack = e.stack;
  return out;
}

/** The code of a failed engine call (one that crossed the worker boundary or not); 'internal' when it names none. */
export const errorCode = (e: unknown): EngineErrorCode => engineErrorOf(e).code;

interface WireError {
  name: string;
  message: string;
  stack?: string;
  code: EngineErrorCode;
  details: EngineErrorDetails | null;
}

type Thrown = { value: unknown };
/** comlink's own handler, kept for its test of what is a thrown value (its marker symbol is not exported). */
const defaultThrowHandler = transferHandlers.get('throw')!;
type Serialized = { isError: true; value: WireError } | { isError: false; value: unknown };

/** Details are meant to be cloneable; anything else is dropped rather than failing the reply. */
function cloneableDetails(d: EngineErrorDetails | null): EngineErrorDetails | null {
  if (!d) return null;
  try {
    return structuredClone(d);
  } catch {
    return null;
  }
}

/**
 * comlink's handler for thrown values, with code and details. The wire form
 * is comlink's own ({ isError, value: { name, message, stack, ... } }) plus
 * two fields, so either side still reads the other's default handler.
 */
export const errorTransferHandler: TransferHandler<Thrown, Serialized> = {
  canHandle: (value): value is Thrown => defaultThrowHandler.canHandle(value),
  serialize({ value }) {
    if (!(value instanceof Error)) return [{ isError: false, value }, []];
    const e = engineErrorOf(value);
    return [{ isError: true, value: { name: e.name, message: e.message, stack: e.stack, code: e.code, details: cloneableDetails(e.details) } }, []];
  },
  deserialize(serialized) {
    if (!serialized.isError) throw serialized.value;
    const w = serialized.value;
    const e = new EngineError(isEngineErrorCode(w.code) ? w.code : 'internal', w.message, { details: w.details ?? undefined });
    e.name = w.name;
    if (w.stack) e.stack = w.stack;
    throw e;
  },
};

/** Registers errorTransferHandler in this realm (the worker, or the page): once is enough, again is harmless. */
export function registerErrorTransfer(): void {
  transferHandlers.set('throw', errorTransferHandler as TransferHandler<unknown, unknown>);
}
