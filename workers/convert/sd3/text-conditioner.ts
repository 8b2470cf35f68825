/**
 * SD3's text conditioning without T5 (diffusers StableDiffusion3Pipeline.encode_prompt with
 * text_encoder_3 None) as ONE graph over the tokenizer/ ids:
 *   text_embeddings [batch, 77 + t5Rows, jointDim]:
 *     rows 0..76 = [CLIP-L hidden_states[-2] | CLIP-G hidden_states[-2] | zeros up to jointDim]
 *     rows 77..  = zeros (the T5 slot diffusers fills with zeros when there is no T5)
 *   pooled [batch, projL + projG] = [CLIP-L text_embeds | CLIP-G text_embeds]
 *
 * tokenizer/ and tokenizer_2/ share vocab.json and merges.txt; they differ in the pad token, so the
 * CLIP-G ids are derived inside the graph:
 *   - every position after the first <|endoftext|> reads pad2Id (tokenizer_2 pads with "!" = 0,
 *     tokenizer/ with <|endoftext|>);
 *   - tokenizer_2's pad "!" is a special token to transformers, so a "!" typed in the prompt is id 0
 *     there, where tokenizer/ gives BPE's "!</w>" (pad2AsWordId, 256) for a "!" that is a word
 *     piece of its own ("a bike!", "wow! so"). CLIP-G's embedding row pad2AsWordId is replaced by
 *     row pad2Id: exact, since tokenizer_2 never emits pad2AsWordId. A "!" inside a punctuation run
 *     (",!", "?!", or "!!" where the vocabulary merges it) still tokenizes differently in
 *     tokenizer_2 (its neighbours end a word there), which one input cannot reproduce.
 */
import { attr, GraphBuilder, type IrGraph } from '../../packbuild/ir';
import type { AttentionImpl, AttentionPieces, PrecisionSpec } from '../../packbuild/nn';
import { emitClipText, type ClipTextParams } from './clip';

export interface Sd3TextConditionerOptions {
  /** The transformer's joint_attention_dim (4096; the fixtures' 128). */
  jointDim: number;
  /** Zero rows for the missing T5 (the pipeline's max_sequence_length, 256). */
  t5Rows: number;
  /** <|endoftext|>: where pooling looks, and where the CLIP-G padding starts. */
  eosId: number;
  /** tokenizer_2's pad id ("!" = 0). */
  pad2Id: number;
  /** tokenizer/'s id of tokenizer_2's pad token as a word ("!</w>" = 256); without it that id is left as it is. */
  pad2AsWordId?: number;
}

/** CLIP-G's parameters with token row `from` reading row `to`'s embedding. */
function withRowAlias(p: ClipTextParams, from: number, to: number): ClipTextParams {
  const D = p.cfg.hidden;
  const table = Float32Array.from(p.tokenEmbedding);
  table.copyWithin(from * D, to * D, (to + 1) * D);
  return { ...p, tokenEmbedding: table };
}

export function buildSd3TextConditioner(
  clipL: ClipTextParams,
  clipG: ClipTextParams,
  opts: Sd3TextConditionerOptions,
  prec: PrecisionSpec,
  impl: AttentionImpl,
  pieces: AttentionPieces,
): IrGraph {
  const S = clipL.cfg.positions;
  if (clipG.cfg.positions !== S) throw new Error(`the CLIP encoders take ${S} and ${clipG.cfg.positions} tokens`);
  if (clipG.cfg.tokenRows !== clipL.cfg.tokenRows) throw new Error(`the CLIP encoders have ${clipL.cfg.tokenRows} and ${clipG.cfg.tokenRows} token rows: they must share one tokenizer`);
  const width = clipL.cfg.hidden + clipG.cfg.hidden;
  if (width > opts.jointDim) throw new Error(`CLIP widths ${clipL.cfg.hidden} + ${clipG.cfg.hidden} exceed joint_attention_dim ${opts.jointDim}`);
  if (opts.pad2AsWordId !== undefined && (opts.pad2AsWordId < 0 || opts.pad2AsWordId >= clipG.cfg.tokenRows)) {
    throw new Error(`pad2AsWordId ${opts.pad2AsWordId} is outside the ${clipG.cfg.tokenRows}-row embedding table`);
  }
  const g = new GraphBuilder('sd3_text_conditioner');
  const ids = g.input('input_ids', 'int64', ['batch', S]);
  const clipGParams = opts.pad2AsWordId === undefined ? clipG : withRowAlias(clipG, opts.pad2AsWordId, opts.pad2Id);
  const clipLOut = g.scope('clip_l', () => emitClipText(g, ids, clipL, { eosId: opts.eosId }, prec, impl, pieces));
  const clipGOut = g.scope('clip_g', () => emitClipText(g, ids, clipGParams, { eosId: opts.eosId, padAfterEos: opts.pad2Id }, prec, impl, pieces));
  const clipRows = g.op('Concat', [clipLOut.penultimate, clipGOut.penultimate], { axis: attr.int(2) });
  // Zeros after the CLIP rows (the T5 slot) and after the CLIP widths (up to joint_attention_dim).
  const pads = g.i64([0, 0, 0, 0, opts.t5Rows, opts.jointDim - width]);
  const sequence = g.op('Pad', [clipRows, pads, g.constF32([0], [])], { mode: attr.string('constant') });
  g.output(sequence, 'text_embeddings', 'float32', ['batch', S + opts.t5Rows, opts.jointDim]);
  g.output(g.op('Concat', [clipLOut.pooled, clipGOut.pooled], { axis: attr.int(1) }), 'pooled', 'float32', ['batch', clipL.cfg.projection + clipG.cfg.projection]);
  return g.build();
}
