import { copyResponse } from './copy-response.js';

/**
 * CopyOutResponse (B, 'H'): "Identifies the message as a Start Copy Out response. This
 * message will be followed by copy-out data."
 */
export const copyOutResponse = copyResponse('CopyOutResponse');
