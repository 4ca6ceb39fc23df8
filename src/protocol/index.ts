/**
 * The codec as the package exports it (`import { codec } from 'pgscope'`): every message's
 * codec (decode, typed `fields(m)`, `encode(fields)`) and its field type, for hooks that
 * read a message (`codec.tryFields(codec.query, view.message)?.query`) or make one up
 * (`codec.errorResponse.encode({ fields: [...] })`). Names follow the protocol
 * documentation's "Message Formats"; docs/codec.md describes the fields.
 */
export type { DecodedMessage, Direction, Frame, Span, TypedValue } from './types.js';
export type { FieldCodec, MessageCodec } from './decoder.js';
export { EncodeError, FieldsError, ProtocolError } from './errors.js';
export { codecOf, encodeDecoded, pgoutputCodecOf, replicationCodecOf, tryFields } from './registry.js';

// Server messages (B).
export { authentication, type Authentication } from './backend/authentication.js';
export { backendKeyData, type BackendKeyData } from './backend/backend-key-data.js';
export { bindComplete, type BindComplete } from './backend/bind-complete.js';
export { closeComplete, type CloseComplete } from './backend/close-complete.js';
export { commandComplete, type CommandComplete } from './backend/command-complete.js';
export { copyBothResponse, type CopyBothResponse } from './backend/copy-both-response.js';
export { copyInResponse, type CopyInResponse } from './backend/copy-in-response.js';
export { copyOutResponse, type CopyOutResponse } from './backend/copy-out-response.js';
export { dataRow, type DataRow } from './backend/data-row.js';
export { emptyQueryResponse, type EmptyQueryResponse } from './backend/empty-query-response.js';
export { gssencResponse, sslResponse, type GSSENCResponse, type SSLResponse } from './backend/encryption-response.js';
export type { ErrorNotice, ErrorNoticeField } from './backend/error-fields.js';
export { errorResponse, type ErrorResponse } from './backend/error-response.js';
export { functionCallResponse, type FunctionCallResponse } from './backend/function-call-response.js';
export { negotiateProtocolVersion, type NegotiateProtocolVersion } from './backend/negotiate-protocol-version.js';
export { noData, type NoData } from './backend/no-data.js';
export { noticeResponse, type NoticeResponse } from './backend/notice-response.js';
export { notificationResponse, type NotificationResponse } from './backend/notification-response.js';
export { parameterDescription, type ParameterDescription } from './backend/parameter-description.js';
export { parameterStatus, type ParameterStatus } from './backend/parameter-status.js';
export { parseComplete, type ParseComplete } from './backend/parse-complete.js';
export { portalSuspended, type PortalSuspended } from './backend/portal-suspended.js';
export { readyForQuery, type ReadyForQuery } from './backend/ready-for-query.js';
export { rowDescription, type RowDescription, type RowField } from './backend/row-description.js';

// Messages of both directions (F & B). CopyDone is the same message both ways.
export { copyData, type CopyData } from './copy-data.js';
export { copyDone, type CopyDone } from './backend/copy-done.js';

// Client messages (F) and startup packets.
export { bind, type Bind } from './frontend/bind.js';
export { cancelRequest, type CancelRequest } from './frontend/cancel-request.js';
export { close, type Close } from './frontend/close.js';
export { copyFail, type CopyFail } from './frontend/copy-fail.js';
export { describe, type Describe } from './frontend/describe.js';
export { execute, type Execute } from './frontend/execute.js';
export { flush, type Flush } from './frontend/flush.js';
export { functionCall, type FunctionCall } from './frontend/function-call.js';
export { gssResponse, type GSSResponse } from './frontend/gss-response.js';
export { gssencRequest, type GSSENCRequest } from './frontend/gssenc-request.js';
export { parse, type Parse } from './frontend/parse.js';
export { passwordMessage, type PasswordMessage } from './frontend/password-message.js';
export { query, type Query } from './frontend/query.js';
export { saslInitialResponse, type SASLInitialResponse } from './frontend/sasl-initial-response.js';
export { saslResponse, type SASLResponse } from './frontend/sasl-response.js';
export { sslRequest, type SSLRequest } from './frontend/ssl-request.js';
export { startupMessage, type StartupMessage } from './frontend/startup-message.js';
export { sync, type Sync } from './frontend/sync.js';
export { terminate, type Terminate } from './frontend/terminate.js';
