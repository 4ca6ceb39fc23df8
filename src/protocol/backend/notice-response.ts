import { fieldsMessage } from './error-fields.js';

/**
 * NoticeResponse (B, 'N'): "Identifies the message as a notice." Same fields as
 * ErrorResponse (error-fields.ts); severity WARNING, NOTICE, DEBUG, INFO or LOG.
 */
export const noticeResponse = fieldsMessage('NoticeResponse');
