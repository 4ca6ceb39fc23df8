import { copyResponse } from './copy-response.js';

/**
 * CopyInResponse (B, 'G'): "Identifies the message as a Start Copy In response. The
 * frontend must now send copy-in data (if not prepared to do so, send a CopyFail message)."
 */
export const copyInResponse = copyResponse('CopyInResponse');
