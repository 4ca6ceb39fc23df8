/** The SQL tokenizer lives in src/protocol/sql/lexer.ts (decoding reads SQL too: which statement of a Query completed, which SQL carries a password). */
export { tokenize } from '../../protocol/sql/lexer.js';
