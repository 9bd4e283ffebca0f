// Public surface of client/ (STYLE.md §1).
export {};
