/**
 * The engine worker: one engine API per worker, exposed with comlink. The
 * main thread's type for it, EngineApi, is derived from this object.
 */
import { expose } from 'comlink';
import { createEngineApi } from './engine-api';
import { registerErrorTransfer } from './errors';
import { configureOrt } from './runtime/ort-env';

// Thrown errors reach the page with their code and details (see errors.ts; the page registers the same handler).
registerErrorTransfer();
const api = createEngineApi({ configureRuntime: configureOrt });

export type EngineApi = typeof api;
export type { EngineStatus } from './engine-api';

expose(api);
