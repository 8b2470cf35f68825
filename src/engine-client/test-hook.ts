/**
 * A typed hook on `window` for end-to-end tests and the console: runs engine
 * calls with JSON-friendly tensors (plain number arrays), since typed arrays
 * do not survive Playwright's page.evaluate serialisation.
 */
import type { AttentionKind, DType, GraphRole } from '../../workers/pack/manifest';
import { numbersOf, typedArrayFrom } from '../../workers/runtime/dtypes';
import { getEngine, type EngineStatus, type PlainTensor } from './engine';

export interface JsonTensor {
  dtype: DType;
  dims: number[];
  data: number[];
}

export interface StudioTestHook {
  status(): Promise<EngineStatus>;
  runGraph(role: GraphRole, attention: AttentionKind, feeds: Record<string, JsonTensor>): Promise<Record<string, JsonTensor>>;
}

declare global {
  interface Window {
    __subjectStudio?: StudioTestHook;
  }
}

export const testHook: StudioTestHook = {
  status: () => getEngine().status(),
  async runGraph(role, attention, feeds) {
    const plain = Object.fromEntries(
      Object.entries(feeds).map(([name, t]) => [name, { dtype: t.dtype, dims: t.dims, data: typedArrayFrom(t.dtype, t.data) } as PlainTensor]),
    );
    const outputs = await getEngine().runGraph(role, attention, plain);
    return Object.fromEntries(
      Object.entries(outputs).map(([name, t]) => [name, { dtype: t.dtype, dims: t.dims, data: numbersOf(t.data) }]),
    );
  },
};

export function installTestHook(target: Window): void {
  target.__subjectStudio = testHook;
}
