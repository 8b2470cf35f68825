/**
 * The page's side of a comlink worker (the engine's, the photo decoder's). A
 * worker that dies never answers the calls still waiting on it, so every
 * call is raced against the worker's end: its `error` event (a failed load, a
 * throw at top level, out of memory) or end() rejects them all instead of
 * leaving the UI waiting forever. Thrown errors keep their code and details
 * (the handler of workers/errors.ts, registered here for every worker).
 */
import { wrap, type Remote } from 'comlink';
import { registerErrorTransfer } from '../../workers/errors';

registerErrorTransfer();

export interface WorkerClient<T> {
  worker: Worker;
  /** The worker's API; each call also rejects once the worker is gone. */
  remote: Remote<T>;
  /** Rejects (never resolves) once this worker is gone. */
  gone: Promise<never>;
  /** Rejects every waiting call with `error` (the worker is terminated by the caller, if need be). */
  end(error: Error): void;
}

/** Wraps the comlink remote so that each method call also rejects when the worker ends. */
function guarded<T>(remote: Remote<T>, gone: Promise<never>): Remote<T> {
  return new Proxy(remote as object, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      // `then` must stay undefined (the remote is not a promise); symbols are comlink's own handles.
      if (typeof prop !== 'string' || prop === 'then' || typeof value !== 'function') return value;
      return (...args: unknown[]) => Promise.race([(value as (...a: unknown[]) => Promise<unknown>)(...args), gone]);
    },
  }) as Remote<T>;
}

/**
 * Connects to `worker`. When it fails, `crashError` makes the error its
 * waiting calls reject with (from the event's message, '' when there is
 * none), and `onCrash` hears of it after they did.
 */
export function connectWorker<T>(worker: Worker, crashError: (eventMessage: string) => Error, onCrash?: (error: Error) => void): WorkerClient<T> {
  let reject: (error: Error) => void = () => {};
  const gone = new Promise<never>((_, r) => (reject = r));
  // Nobody may be waiting on it when the worker ends: that must not count as an unhandled rejection.
  gone.catch(() => undefined);
  const client: WorkerClient<T> = { worker, remote: guarded(wrap<T>(worker), gone), gone, end: (error) => reject(error) };
  worker.addEventListener('error', (event) => {
    // Handled here (reported, and a fresh worker is started): not an uncaught error of the page.
    event.preventDefault();
    const error = crashError(event.message || '');
    client.end(error);
    onCrash?.(error);
  });
  return client;
}
