/**
 * Which codec reads which type OID. OIDs are fixed in PostgreSQL's pg_type.dat (oid and
 * array_type_oid); user-defined types get OIDs at run time and are not known here.
 */
import type { ScalarCodec } from './codec.js';
import { bytea, uuid } from './bytes-types.js';
import { date, time, timestamp, timestamptz, timetz } from './datetime.js';
import { interval } from './interval.js';
import { bool, float4, float8, int2, int4, int8, oid } from './numbers.js';
import { numeric } from './numeric.js';
import { bpchar, char, json, jsonb, name, text, varchar, xml } from './text-types.js';

/** Element types by their own OID, with the OID of their one-dimensional array type. */
const SCALARS: [oid: number, codec: ScalarCodec, arrayOid: number][] = [
  [16, bool, 1000],
  [17, bytea, 1001],
  [18, char, 1002],
  [19, name, 1003],
  [20, int8, 1016],
  [21, int2, 1005],
  [23, int4, 1007],
  [25, text, 1009],
  [26, oid, 1028],
  [114, json, 199],
  [142, xml, 143],
  [700, float4, 1021],
  [701, float8, 1022],
  [1042, bpchar, 1014],
  [1043, varchar, 1015],
  [1082, date, 1182],
  [1083, time, 1183],
  [1114, timestamp, 1115],
  [1184, timestamptz, 1185],
  [1186, interval, 1187],
  [1266, timetz, 1270],
  [1700, numeric, 1231],
  [2950, uuid, 2951],
  [3802, jsonb, 3807],
];

export const scalarByOid = new Map<number, ScalarCodec>(SCALARS.map(([o, c]) => [o, c]));

/** Array type OID → its element's OID and codec. */
export const arrayByOid = new Map<number, { elementOid: number; element: ScalarCodec }>(
  SCALARS.map(([o, c, a]) => [a, { elementOid: o, element: c }]),
);
