/**
 * `npm run generate -- --pack <dir> --prompt "..." --out out.png [...]`: one
 * image from a pack folder in Node (onnxruntime-web, WASM). See --help and
 * workers/node/generate.ts.
 */
import { generateMain } from '../workers/node/generate';

process.exitCode = await generateMain(process.argv.slice(2));
