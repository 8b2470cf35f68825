/**
 * Execution-provider choice: WebGPU when the context has it, an adapter can be
 * had and a probe session runs on it; WASM otherwise (or when asked for).
 */
import * as ort from 'onnxruntime-web';
import type { AdapterSummary, Backend, BackendPreference } from './backend-types';
import { runProbe } from './probe';

export interface BackendChoice {
  backend: Backend;
  requested: BackendPreference;
  /** Set when WebGPU was wanted ('auto') but the engine fell back to WASM. */
  fallbackReason: string | null;
  adapter: AdapterSummary | null;
}

function summarizeAdapter(info: GPUAdapterInfo, adapter: GPUAdapter): AdapterSummary {
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    shaderF16: adapter.features.has('shader-f16'),
    maxBufferSize: adapter.limits.maxBufferSize,
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
  };
}

/** Returns the adapter summary when WebGPU works here, or the reason it does not. */
async function tryWebGpu(): Promise<{ ok: true; adapter: AdapterSummary } | { ok: false; reason: string }> {
  // Node (unit tests) may have no navigator at all.
  const nav = (globalThis as { navigator?: Partial<NavigatorGPU> }).navigator;
  if (!nav?.gpu) {
    return { ok: false, reason: 'navigator.gpu is missing (this browser or context has no WebGPU)' };
  }
  let adapter: GPUAdapter | null;
  try {
    adapter = await nav.gpu.requestAdapter();
  } catch (e) {
    return { ok: false, reason: `navigator.gpu.requestAdapter() failed: ${(e as Error).message}` };
  }
  if (!adapter) return { ok: false, reason: 'navigator.gpu.requestAdapter() returned no adapter' };
  try {
    await runProbe('webgpu');
  } catch (e) {
    return { ok: false, reason: `a WebGPU session could not run: ${(e as Error).message}` };
  }
  // The device onnxruntime-web made for itself is the one that matters.
  const device = await ort.env.webgpu.device;
  return { ok: true, adapter: summarizeAdapter(device.adapterInfo ?? adapter.info, adapter) };
}

export async function chooseBackend(requested: BackendPreference): Promise<BackendChoice> {
  if (requested !== 'wasm') {
    const webgpu = await tryWebGpu();
    if (webgpu.ok) return { backend: 'webgpu', requested, fallbackReason: null, adapter: webgpu.adapter };
    if (requested === 'webgpu') throw new Error(`WebGPU was asked for (backend=webgpu) but cannot be used: ${webgpu.reason}`);
    await runProbe('wasm');
    return { backend: 'wasm', requested, fallbackReason: webgpu.reason, adapter: null };
  }
  await runProbe('wasm');
  return { backend: 'wasm', requested, fallbackReason: null, adapter: null };
}
