// Public surface of builder/ (STYLE.md §1).
export * from './dockerfile/index.js';
export * from './context/index.js';
