/**
 * Runs async jobs one at a time, in call order. onnxruntime-web sessions are
 * not safe to create or run concurrently on one backend, so the worker puts
 * every session operation through one queue.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(job: () => Promise<T>): Promise<T> {
    const result = this.tail.then(job);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
