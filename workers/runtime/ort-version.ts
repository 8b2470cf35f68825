import * as ort from 'onnxruntime-web';

export function ortVersion(): string {
  return ort.env.versions.web ?? ort.env.versions.common;
}
