export { QueryLogSink } from './query-log-sink.js';
export { formatQueryLogLine, oneLine } from './format-line.js';
