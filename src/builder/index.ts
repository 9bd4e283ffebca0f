// Public surface of builder/ (STYLE.md §1).
export {};
