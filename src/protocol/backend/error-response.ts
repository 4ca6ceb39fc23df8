import { fieldsMessage } from './error-fields.js';

/**
 * ErrorResponse (B, 'E'): "Identifies the message as an error." Fields as described in
 * "Error and Notice Message Fields" (error-fields.ts), ended by a zero byte.
 */
export const errorResponse = fieldsMessage('ErrorResponse');
