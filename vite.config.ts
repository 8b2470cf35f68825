import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The test hooks on window (src/test-hooks.ts) are in every mode but production: the dev server and
// `vite build --mode test` (npm run build, what the end-to-end tests serve) have them; `vite build`
// (npm run build:release) leaves them out of the bundle entirely.
export default defineConfig(({ mode }) => ({
  plugins: [react()],
  define: { 'import.meta.env.VITE_TEST_HOOKS': JSON.stringify(mode !== 'production') },
  // The engine worker imports onnxruntime-web and code-splits: it must be an ES module worker.
  worker: { format: 'es' },
  optimizeDeps: {
    // The dev server scans index.html for dependencies; the worker's (zod, comlink) would otherwise be found late, forcing a reload.
    entries: ['index.html', 'workers/engine.worker.ts'],
    // onnxruntime-web ships prebuilt ES modules; pre-bundling them only moves files away from the .wasm they sit beside.
    exclude: ['onnxruntime-web'],
  },
  // navigator.gpu exists only in secure contexts; http://localhost is one.
  server: { host: 'localhost', port: 5173 },
  preview: { host: 'localhost', port: 4173 },
  build: { target: 'es2022', chunkSizeWarningLimit: 1024 },
}));
