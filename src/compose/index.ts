// Public surface of compose/ (STYLE.md §1).
export {};
