/**
 * Names of built-in types by pg_type OID (stable across PostgreSQL versions: they are
 * assigned in pg_type.dat). Used to annotate RowDescription, ParameterDescription, Parse
 * and pgoutput Relation columns. Unknown OIDs (user types) have no name here.
 */
const NAMES: Record<number, string> = {
  16: 'bool', 17: 'bytea', 18: 'char', 19: 'name', 20: 'int8', 21: 'int2', 22: 'int2vector',
  23: 'int4', 24: 'regproc', 25: 'text', 26: 'oid', 27: 'tid', 28: 'xid', 29: 'cid',
  30: 'oidvector', 114: 'json', 142: 'xml', 194: 'pg_node_tree', 600: 'point', 601: 'lseg',
  602: 'path', 603: 'box', 604: 'polygon', 628: 'line', 650: 'cidr', 700: 'float4',
  701: 'float8', 705: 'unknown', 718: 'circle', 774: 'macaddr8', 790: 'money', 829: 'macaddr',
  869: 'inet', 1033: 'aclitem', 1042: 'bpchar', 1043: 'varchar', 1082: 'date', 1083: 'time',
  1114: 'timestamp', 1184: 'timestamptz', 1186: 'interval', 1266: 'timetz', 1560: 'bit',
  1562: 'varbit', 1700: 'numeric', 1790: 'refcursor', 2202: 'regprocedure', 2203: 'regoper',
  2204: 'regoperator', 2205: 'regclass', 2206: 'regtype', 2249: 'record', 2275: 'cstring',
  2276: 'any', 2278: 'void', 2950: 'uuid', 3220: 'pg_lsn', 3614: 'tsvector', 3615: 'tsquery',
  3734: 'regconfig', 3769: 'regdictionary', 3802: 'jsonb', 3904: 'int4range',
  3906: 'numrange', 3908: 'tsrange', 3910: 'tstzrange', 3912: 'daterange', 3926: 'int8range',
  4072: 'jsonpath', 4089: 'regnamespace', 4096: 'regrole', 5038: 'pg_snapshot', 5069: 'xid8',
  // One-dimensional arrays of the above (typarray).
  1000: '_bool', 1001: '_bytea', 1002: '_char', 1003: '_name', 1005: '_int2', 1007: '_int4',
  1009: '_text', 1028: '_oid', 1014: '_bpchar', 1015: '_varchar', 1016: '_int8',
  1021: '_float4', 1022: '_float8', 1115: '_timestamp', 1182: '_date', 1183: '_time',
  1185: '_timestamptz', 1187: '_interval', 1231: '_numeric', 199: '_json', 2951: '_uuid',
  3807: '_jsonb', 143: '_xml', 1041: '_inet', 651: '_cidr',
};

/** The built-in type's name for an OID, or undefined. 0 means "unspecified". */
export function typeName(oid: number): string | undefined {
  return NAMES[oid];
}

/** "type OID 23 (int4)", "type OID 0 (unspecified)", "type OID 16385". */
export function describeTypeOid(oid: number): string {
  if (oid === 0) return 'type OID 0 (unspecified)';
  const n = NAMES[oid];
  return n ? `type OID ${oid} (${n})` : `type OID ${oid}`;
}

/** Format codes: 0 text, 1 binary (the documentation's "format code"). */
export function describeFormat(code: number): string | undefined {
  return code === 0 ? 'format: text' : code === 1 ? 'format: binary' : undefined;
}
