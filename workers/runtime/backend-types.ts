/** Backend names and the adapter summary: pure, so the UI can import them without onnxruntime-web. */
export const BACKENDS = ['webgpu', 'wasm'] as const;
export type Backend = (typeof BACKENDS)[number];

export const BACKEND_PREFERENCES = ['auto', ...BACKENDS] as const;
export type BackendPreference = (typeof BACKEND_PREFERENCES)[number];

export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  shaderF16: boolean;
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
}
