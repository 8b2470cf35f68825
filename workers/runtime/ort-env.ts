/**
 * onnxruntime-web's global settings, set once before the first session.
 *
 * The default import bundles the JSEP (WebGPU + WASM) glue code but fetches
 * its .wasm binary at run time. Importing the binary with `?url` makes Vite
 * serve it from node_modules in dev and emit it under dist/assets/ in a build,
 * so the runtime always loads from our own origin, never a CDN.
 */
import * as ort from 'onnxruntime-web';
import jsepWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm?url';

let configured = false;

export function configureOrt(): void {
  if (!configured) {
    ort.env.wasm.wasmPaths = { wasm: new URL(jsepWasmUrl, self.location.href).href };
    // Threads need SharedArrayBuffer, i.e. cross-origin isolation (COOP/COEP), which we do not serve yet.
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.proxy = false;
    ort.env.logLevel = 'warning';
    configured = true;
  }
}
