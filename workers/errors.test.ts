import { expose, wrap } from 'comlink';
import { afterEach, describe, expect, it } from 'vitest';
import { createEngineApi } from './engine-api';
import { EngineError, engineErrorOf, errorCode, errorTransferHandler, registerErrorTransfer } from './errors';
import { PackLoadError } from './pack/download';
import { ManifestError, PackFileError } from './pack/manifest';
import { CancelledError } from './pipeline/engine';
import { ImageDecodeError } from './runtime/decode';

describe('engine error codes', () => {
  it('map every error class of the engine onto one code, keeping name and message', () => {
    const bad = engineErrorOf(new PackLoadError('bad-hash', '"x.onnx" has sha256 0, the manifest says 1'));
    expect(bad).toBeInstanceOf(EngineError);
    expect(bad).toMatchObject({ code: 'pack-bad-hash', name: 'PackLoadError', message: '"x.onnx" has sha256 0, the manifest says 1' });
    expect(errorCode(new PackLoadError('too-large-for-gpu', 'big'))).toBe('pack-too-large-for-gpu');
    expect(errorCode(new PackLoadError('cancelled', 'stopped'))).toBe('cancelled');
    expect(errorCode(new PackLoadError('manifest', 'bad'))).toBe('manifest-invalid');
    expect(engineErrorOf(new ManifestError(['graphs: none']))).toMatchObject({ code: 'manifest-invalid', details: { problems: ['graphs: none'] } });
    expect(engineErrorOf(new PackFileError(['missing file "a"']))).toMatchObject({ code: 'pack-files-invalid', details: { problems: ['missing file "a"'] } });
    expect(engineErrorOf(new CancelledError(3))).toMatchObject({ code: 'cancelled', message: 'cancelled at step 3', details: { atStep: 3 } });
    expect(errorCode(new ImageDecodeError('image 1 of @mochi could not be decoded'))).toBe('bad-input');
    expect(errorCode(new Error('GPU device lost (gone)'))).toBe('internal');
    expect(errorCode('a string')).toBe('internal');
    const own = new EngineError('no-pack', 'no model pack is loaded');
    expect(engineErrorOf(own)).toBe(own);
  });

  it('reads a worker that kept comlink\'s own handler (name and message only)', () => {
    let thrown: unknown;
    try {
      errorTransferHandler.deserialize({ isError: true, value: { name: 'PhotoRejected', message: 'not a photo' } as never });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toMatchObject({ name: 'PhotoRejected', message: 'not a photo', code: 'internal', details: null });
  });
});

describe('across a comlink boundary', () => {
  const ports: MessagePort[] = [];
  afterEach(() => {
    for (const p of ports.splice(0)) p.close();
  });

  function connect<T extends object>(api: T) {
    registerErrorTransfer();
    const { port1, port2 } = new MessageChannel();
    ports.push(port1, port2);
    expose(api, port1 as never);
    return wrap<T>(port2 as never);
  }

  it('keeps name, message, code and details', async () => {
    const remote = connect({
      fail: async (kind: string): Promise<void> => {
        if (kind === 'manifest') throw new ManifestError(['tokens.maxText: too small']);
        throw new PackLoadError('not-found', 'no model pack at /x');
      },
    });
    const manifest = await remote.fail('manifest').catch((e: unknown) => e);
    expect(manifest).toBeInstanceOf(EngineError);
    expect(manifest).toMatchObject({ name: 'ManifestError', code: 'manifest-invalid', details: { problems: ['tokens.maxText: too small'] } });
    expect((manifest as Error).message).toBe('Invalid model pack manifest:\n- tokens.maxText: too small');
    const missing = await remote.fail('url').catch((e: unknown) => e);
    expect(missing).toMatchObject({ name: 'PackLoadError', code: 'pack-not-found', message: 'no model pack at /x' });
  });

  it("carries the engine API's own codes", async () => {
    const remote = connect(createEngineApi({ configureRuntime: () => {} }));
    await expect(remote.runGraph('vae_decoder', 'none', {})).rejects.toMatchObject({ code: 'not-initialised', message: 'the engine is not initialised: call init() first' });
    await expect(remote.promptReport('@a', [])).rejects.toMatchObject({ code: 'no-pack', message: 'no model pack is loaded' });
  });
});
