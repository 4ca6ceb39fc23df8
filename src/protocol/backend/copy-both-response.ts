import { copyResponse, type CopyResponse } from './copy-response.js';

/** The fields of CopyBothResponse: the overall COPY format and one format code per column. */
export type CopyBothResponse = CopyResponse;

/**
 * CopyBothResponse (B, 'W'): "Identifies the message as a Start Copy Both response. This
 * message is used only for Streaming Replication." After it, CopyData in both directions
 * carries replication messages when START_REPLICATION preceded it.
 */
export const copyBothResponse = copyResponse('CopyBothResponse', 'W');
