import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [react()],
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
});
