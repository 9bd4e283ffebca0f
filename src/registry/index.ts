// Public surface of registry/ (STYLE.md §1).
export {};
