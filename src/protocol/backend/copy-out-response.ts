import { copyResponse, type CopyResponse } from './copy-response.js';

/** The fields of CopyOutResponse: the overall COPY format and one format code per column. */
export type CopyOutResponse = CopyResponse;

/**
 * CopyOutResponse (B, 'H'): "Identifies the message as a Start Copy Out response. This
 * message will be followed by copy-out data."
 */
export const copyOutResponse = copyResponse('CopyOutResponse', 'H');
