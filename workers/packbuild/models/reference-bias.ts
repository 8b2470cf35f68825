/**
 * The attention biases of the studio's step graphs, shared by every DiT family (SD3's MM-DiT,
 * FLUX.2): the attention plan's attention_bias [B, 1, rows, cols] over [text; image (; live
 * references)] x [text; image; references], plus each layer's ref_layer_bias [layers, B, R] on the
 * reference columns (METHOD.md: per-layer reference strength).
 */
import { attr, type GraphBuilder } from '../ir';
import { sliceAxis, type BiasRows } from '../nn';

/**
 * attention_bias + this layer's ref_layer_bias on the reference columns of the text and image
 * rows (rows of reference queries, in full mode, get none), built per query chunk (nn.ts
 * BiasRows): the chunk's rows of attention_bias plus the layer bias, padded to one row
 * [B, 1, 1, L] and broadcast over the chunk's rows (times the chunk's rows of the row mask in full
 * mode). The sum exists for one chunk of rows at a time, never for every row at once (unless the
 * graph has a single chunk). `textImageCols` is the [1] int64 count of text + image columns.
 */
export function layerBias(g: GraphBuilder, bias: string, refLayerBias: string, layer: number, textImageCols: string, refRows: string | null): BiasRows {
  const lb = g.op('Unsqueeze', [g.op('Gather', [refLayerBias, g.i64([layer], [])], { axis: attr.int(0) }), g.i64([1, 2])]);
  const pads = g.op('Concat', [g.i64([0, 0, 0]), textImageCols, g.i64([0, 0, 0, 0])], { axis: attr.int(0) });
  const cols = g.op('Pad', [lb, pads]);
  return (rows) => {
    const b = rows ? sliceAxis(g, bias, rows.start, rows.end, 2) : bias;
    const c = refRows ? g.op('Mul', [cols, rows ? sliceAxis(g, refRows, rows.start, rows.end, 2) : refRows]) : cols;
    return g.op('Add', [b, c]);
  };
}

/** Full mode: [1, 1, S, 1] with 1 on the text/image rows and 0 on the reference rows. */
export function textImageRowMask(g: GraphBuilder, textImageRows: string, refRows: string): string {
  const ones = g.op('Expand', [g.constF32([1], [1, 1, 1, 1]), g.op('Concat', [g.i64([1, 1]), textImageRows, g.i64([1])], { axis: attr.int(0) })]);
  const pads = g.op('Concat', [g.i64([0, 0, 0, 0, 0, 0]), refRows, g.i64([0])], { axis: attr.int(0) });
  return g.op('Pad', [ones, pads]);
}
