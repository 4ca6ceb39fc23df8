/**
 * What decoders ask of the statement context (statement-context.ts) while they decode: the
 * columns a DataRow's values have, whether SQL carries a password, how a Bind's parameters
 * are typed and marked. An interface of its own so that the message modules, which the
 * statement context reads, do not import it back.
 */
import type { Frame, Span } from './types.js';

/** What the statement context keeps of a RowDescription field: its name, "the object ID of the field's data type" and format code. */
export interface Column {
  name: string;
  oid: number;
  format: number;
}

/**
 * A result description: the columns, null for "NoData" (the statement returns no rows), or
 * undefined when the server has not described it.
 */
export type ResultShape = readonly Column[] | null | undefined;

/** Annotates a Bind's parameter value leaves as the decoder reads them (see StatementTyping.bindParameters). */
export type ParameterMarker = (leaf: Span, index: number) => void;

export interface StatementTyping {
  /** Whether decoders type values now. */
  readonly typing: boolean;
  /** The columns of the DataRow being decoded: those of the request the rows answer. */
  rowColumns(): ResultShape;
  /** The SQL carries a password and outputs redact (Query, Parse). */
  sqlIsSecret(sql: string): boolean;
  /** How a Bind's parameter values are typed and marked as they are read; null: nothing to do. */
  bindParameters(name: string, codes: readonly number[], frame: Frame): ParameterMarker | null;
  /** Read a value leaf (a DataRow column's) as its type and record it on the span while it is decoded. */
  typeLeaf(leaf: Span, oid: number, format: number, frame: Frame): void;
}
