/** `npm run eval`: the toy-world pack's measures per knob setting. See --help and workers/node/eval.ts. */
import { evalMain } from '../workers/node/eval';

process.exitCode = await evalMain(process.argv.slice(2));
