import type { MessageCodec } from '../decoder.js';
import { copyData } from '../copy-data.js';
import { authentication } from './authentication.js';
import { backendKeyData } from './backend-key-data.js';
import { bindComplete } from './bind-complete.js';
import { closeComplete } from './close-complete.js';
import { commandComplete } from './command-complete.js';
import { copyBothResponse } from './copy-both-response.js';
import { copyDone } from './copy-done.js';
import { copyInResponse } from './copy-in-response.js';
import { copyOutResponse } from './copy-out-response.js';
import { dataRow } from './data-row.js';
import { emptyQueryResponse } from './empty-query-response.js';
import { errorResponse } from './error-response.js';
import { functionCallResponse } from './function-call-response.js';
import { negotiateProtocolVersion } from './negotiate-protocol-version.js';
import { noData } from './no-data.js';
import { noticeResponse } from './notice-response.js';
import { notificationResponse } from './notification-response.js';
import { parameterDescription } from './parameter-description.js';
import { parameterStatus } from './parameter-status.js';
import { parseComplete } from './parse-complete.js';
import { portalSuspended } from './portal-suspended.js';
import { readyForQuery } from './ready-for-query.js';
import { rowDescription } from './row-description.js';

/** Server messages by type byte ("Message Formats", every message marked B or F & B). */
export const backendDecoders: Record<string, MessageCodec> = {
  R: authentication,
  K: backendKeyData,
  '2': bindComplete,
  '3': closeComplete,
  C: commandComplete,
  d: copyData,
  c: copyDone,
  G: copyInResponse,
  H: copyOutResponse,
  W: copyBothResponse,
  D: dataRow,
  I: emptyQueryResponse,
  E: errorResponse,
  V: functionCallResponse,
  v: negotiateProtocolVersion,
  n: noData,
  N: noticeResponse,
  A: notificationResponse,
  t: parameterDescription,
  S: parameterStatus,
  '1': parseComplete,
  s: portalSuspended,
  Z: readyForQuery,
  T: rowDescription,
};
