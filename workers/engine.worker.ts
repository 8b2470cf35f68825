/**
 * The engine worker: one engine API per worker, exposed with comlink. The
 * main thread's type for it, EngineApi, is derived from this object.
 */
import { expose } from 'comlink';
import { createEngineApi } from './engine-api';
import { configureOrt } from './runtime/ort-env';

const api = createEngineApi({ configureRuntime: configureOrt });

export type EngineApi = typeof api;
export type { EngineStatus } from './engine-api';

expose(api);
