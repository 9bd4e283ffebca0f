export * from './errors.js';
export * from './atomic-write.js';
export * from './digest.js';
export * from './exec.js';
export * from './log.js';
export * from './lock.js';
export * from './events.js';
export * from './native-sys.js';
