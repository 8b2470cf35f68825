import { describe, expect, it } from 'vitest';
import { EngineError } from '../../engine-client/engine';
import { convertErrorText, convertProgressFraction, convertProgressText } from './convert-text';

const reading = { kind: 'convert' as const, phase: 'reading the transformer', bytesDone: 512 * 2 ** 20, bytesTotal: 2 * 2 ** 30, tensorsDone: 120, tensorsTotal: 480, rate: 64 * 2 ** 20, etaSeconds: 24, elapsedSeconds: 8 };

describe('conversion words', () => {
  it('say bytes and tensors read, the rate and time left, then the phase and time so far', () => {
    expect(convertProgressText(reading)).toBe('Reading the transformer: 512 MiB of 2.00 GiB · 120/480 tensors · 64.0 MiB/s · 24 s left');
    expect(convertProgressFraction(reading)).toBe(0.25);
    expect(convertProgressText({ ...reading, phase: 'building dit_step.onnx', bytesDone: reading.bytesTotal, tensorsDone: 480, etaSeconds: null, elapsedSeconds: 75 })).toBe(
      'Building dit_step.onnx… · 2.00 GiB read, 480/480 tensors · 1 min 15 s so far',
    );
    expect(convertProgressText({ kind: 'store', file: 'dit_step.onnx.data', doneBytes: 2 ** 20, totalBytes: 4 * 2 ** 20 })).toBe('Storing the pack in this browser: 1.00 MiB of 4.00 MiB (dit_step.onnx.data)');
    expect(convertProgressText({ kind: 'ready' })).toBe('Starting the pack…');
  });

  it('explain a failure by the converter\'s code and keep the message that names the file', () => {
    const truncated = new EngineError('convert-failed', 'vae/diffusion_pytorch_model.safetensors ends at 1,000 bytes', { details: { convertCode: 'truncated', file: 'vae/diffusion_pytorch_model.safetensors', key: 'encoder.conv_in.weight' } });
    expect(convertErrorText(truncated)).toEqual({
      title: 'A weights file is damaged or incomplete: download it again. The studio stays on the current pack.',
      detail: 'vae/diffusion_pytorch_model.safetensors ends at 1,000 bytes (key encoder.conv_in.weight)',
    });
    expect(convertErrorText(new EngineError('cancelled', 'loading the pack was cancelled')).title).toMatch(/^The conversion was cancelled: nothing was saved/);
    expect(convertErrorText(new EngineError('pack-quota', 'not enough storage')).title).toBe('Not enough storage for the converted pack.');
    expect(convertErrorText(new Error('boom'))).toEqual({ title: 'The conversion failed. The studio stays on the current pack.', detail: 'boom' });
  });
});
