/**
 * What an identity looks like inside its own box: whether a point of the box
 * (u, v in [-1, 1], v down) is on the subject, and which of its two colours
 * it has there. Pure functions of the identity; the renderer places the box.
 */
import type { Identity } from './identity';
import type { Rgb } from './vocabulary';

/** 1 + the identity's radial wobble at angle theta, scaled so that it never exceeds 1. */
function wobbleAt(id: Identity, theta: number, strength = 1): number {
  let sum = 0;
  let total = 0;
  for (let k = 0; k < id.wobble.length; k++) {
    const w = id.wobble[k]!;
    sum += w.amp * Math.cos((k + 2) * theta + w.phase);
    total += w.amp;
  }
  return (1 + strength * sum) / (1 + strength * total);
}

function inEllipse(u: number, v: number, cu: number, cv: number, ru: number, rv: number): boolean {
  const a = (u - cu) / ru;
  const b = (v - cv) / rv;
  return a * a + b * b <= 1;
}

function inRadial(id: Identity, u: number, v: number, cu: number, cv: number, ru: number, rv: number, strength = 1): boolean {
  const a = (u - cu) / ru;
  const b = (v - cv) / rv;
  const r = Math.sqrt(a * a + b * b);
  return r <= wobbleAt(id, Math.atan2(b, a), strength);
}

function inTriangle(u: number, v: number, ax: number, ay: number, bx: number, by: number, cx: number, cy: number): boolean {
  const s1 = (bx - ax) * (v - ay) - (by - ay) * (u - ax);
  const s2 = (cx - bx) * (v - by) - (cy - by) * (u - bx);
  const s3 = (ax - cx) * (v - cy) - (ay - cy) * (u - cx);
  return (s1 >= 0 && s2 >= 0 && s3 >= 0) || (s1 <= 0 && s2 <= 0 && s3 <= 0);
}

export function insideSilhouette(id: Identity, u: number, v: number): boolean {
  const [k0, k1, k2] = id.knobs;
  switch (id.classWord) {
    case 'toy': {
      const ears = k0 > 0.45;
      const body = inRadial(id, u, v, 0, ears ? 0.18 : 0, ears ? 0.82 : 1, ears ? 0.82 : 1);
      if (body || !ears) return body;
      const er = 0.2 + 0.12 * k1;
      return inEllipse(u, v, -0.5, -0.66, er, er) || inEllipse(u, v, 0.5, -0.66, er, er);
    }
    case 'vase': {
      const neck = 0.22 + 0.2 * k0;
      const lip = v <= -0.86 && Math.abs(u) <= neck + 0.12 + 0.1 * k1;
      const neckPart = v <= -0.3 && Math.abs(u) <= neck;
      const bodyTop = -0.5 + 0.3 * k2;
      const bodyHalf = (1 - bodyTop) / 2;
      const t = (v - (bodyTop + bodyHalf)) / bodyHalf;
      const width = Math.abs(t) <= 1 ? Math.sqrt(1 - t * t) * wobbleAt(id, t * Math.PI, 0.8) : -1;
      return lip || neckPart || Math.abs(u) <= width;
    }
    case 'bird': {
      const mu = k1 > 0.5 ? -u : u;
      const body = inRadial(id, mu, v, -0.1, 0.15, 0.68, 0.62, 0.6);
      const head = inEllipse(mu, v, 0.55, -0.42, 0.3, 0.3);
      const tailUp = -0.2 - 0.6 * k0;
      const tail = inTriangle(mu, v, -0.55, 0.15, -1, tailUp, -1, tailUp + 0.5);
      const beak = inTriangle(mu, v, 0.8, -0.52, 1, -0.4, 0.8, -0.3);
      return body || head || tail || beak;
    }
    case 'box': {
      const n = 4 + 5 * k0;
      const r = Math.pow(Math.abs(u), n) + Math.pow(Math.abs(v), n);
      return r <= Math.pow(wobbleAt(id, Math.atan2(v, u), 0.4), n);
    }
    case 'mug': {
      const side = k0 > 0.5 ? 1 : -1;
      const bu = (u + 0.22 * side) / 0.76;
      const n = 4 + 4 * k1;
      const body = Math.pow(Math.abs(bu), n) + Math.pow(Math.abs(v / 0.92), n) <= 1;
      const ro = 0.24 + 0.12 * k2;
      const du = u - side * 0.66;
      const dr = Math.sqrt(du * du + v * v);
      return body || (dr <= ro && dr >= 0.55 * ro && side * du > -0.05);
    }
  }
}

/** The identity's colour at (u, v) of its box (body or accent, by its pattern). */
export function surfaceColour(id: Identity, u: number, v: number): Rgb {
  const p = id.pattern;
  const rot = (deg: number) => {
    const a = (deg * Math.PI) / 180;
    return u * Math.cos(a) + v * Math.sin(a);
  };
  let accent = false;
  switch (p.kind) {
    case 'solid':
      break;
    case 'stripes':
      accent = Math.floor((rot(p.angle) + 2) / (p.period / 2)) % 2 === 1;
      break;
    case 'dots': {
      const cu = (((u + 1) % p.period) + p.period) % p.period - p.period / 2;
      const cv = (((v + 1) % p.period) + p.period) % p.period - p.period / 2;
      accent = cu * cu + cv * cv <= p.radius * p.radius;
      break;
    }
    case 'checker':
      accent = (Math.floor((u + 1) / p.period) + Math.floor((v + 1) / p.period)) % 2 === 1;
      break;
    case 'halves':
      accent = rot(p.angle) > 0;
      break;
    case 'band':
      accent = Math.abs(v - p.centre) <= p.halfWidth;
      break;
  }
  return accent ? id.accent : id.body;
}
