// Public surface of volume/ (STYLE.md §1).
export {};
