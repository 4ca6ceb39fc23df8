export { QueryLogSink, type QueryLogOptions } from './query-log-sink.js';
export { formatQueryLogLine, isoMicros, oneLine } from './format-line.js';
