/**
 * `npm run convert -- <diffusers folder> <pack folder> [...]`: an SD3 / SD3.5 diffusers folder to a
 * studio pack in Node. See --help and workers/node/convert.ts.
 */
import { convertMain } from '../workers/node/convert';

const controller = new AbortController();
process.once('SIGINT', () => controller.abort());
process.exitCode = await convertMain(process.argv.slice(2), { signal: controller.signal });
