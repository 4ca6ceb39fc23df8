import { copyResponse, type CopyResponse } from './copy-response.js';

/** The fields of CopyInResponse: the overall COPY format and one format code per column. */
export type CopyInResponse = CopyResponse;

/**
 * CopyInResponse (B, 'G'): "Identifies the message as a Start Copy In response. The
 * frontend must now send copy-in data (if not prepared to do so, send a CopyFail message)."
 */
export const copyInResponse = copyResponse('CopyInResponse', 'G');
