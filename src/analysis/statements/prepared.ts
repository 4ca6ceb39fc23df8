/**
 * What the server keeps between messages of the extended query protocol, as the tracker
 * mirrors it: prepared statements (Parse) and portals (Bind).
 */

/** One field of a RowDescription: its name, "the object ID of the field's data type" and format code. */
export interface Column {
  name: string;
  oid: number;
  format: number;
}

/**
 * A result description: the columns, null for "NoData" (the statement returns no rows), or
 * undefined when the server has not described it.
 */
export type ResultShape = Column[] | null | undefined;

export interface PreparedStatement {
  name: string;
  sql: string;
  /** Parse: "the object ID of the parameter data type. Placing a zero here is equivalent to leaving the type unspecified." */
  parseOids: number[];
  /** ParameterDescription answering Describe 'S': the types the server resolved. */
  describedOids?: number[];
  /** RowDescription or NoData answering Describe 'S'. Its format codes are all zero: "the format code is not yet known". */
  result: ResultShape;
  /** carriesPassword(sql), worked out at its first Bind and kept (the SQL never changes). */
  carriesPassword?: boolean;
}

/** One Bind parameter as kept for the record: at most PARAM_KEEP_BYTES of its bytes. */
export interface BoundParam {
  format: number;
  /** null: SQL NULL (length -1). */
  bytes: Buffer | null;
  /** False when only a prefix was kept (or the frame itself was cut). */
  complete: boolean;
  /** The value carries a password (a connection string): redacted records show none of it. */
  secret?: boolean;
}

export interface Portal {
  name: string;
  statement: PreparedStatement;
  params: BoundParam[];
  /** "The result-column format codes" of the Bind. */
  resultFormats: number[];
  /** RowDescription or NoData answering Describe 'P' (with the real format codes). */
  result: ResultShape;
}

/** The type of parameter i: Parse's OID when given (non-zero), else ParameterDescription's, else 0 (unknown). */
export function paramOid(s: PreparedStatement, i: number): number {
  const given = s.parseOids[i] ?? 0;
  return given !== 0 ? given : (s.describedOids?.[i] ?? 0);
}

/**
 * The columns a portal's DataRows carry: its own description (Describe 'P'), else its
 * statement's (Describe 'S', as pgbench -M prepared does once) with the formats the Bind
 * asked for; null when it returns no rows; undefined when nobody described it.
 */
export function portalColumns(p: Portal): ResultShape {
  if (p.result !== undefined) return p.result;
  const s = p.statement.result;
  if (!s) return s;
  return s.map((c, i) => ({ ...c, format: p.resultFormats.length === 0 ? 0 : p.resultFormats.length === 1 ? p.resultFormats[0]! : (p.resultFormats[i] ?? 0) }));
}
