// Node's Buffer for the browser (the codec modules the bundle includes use it).
export { Buffer } from 'buffer';
