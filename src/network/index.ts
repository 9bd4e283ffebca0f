// Public surface of network/ (STYLE.md §1).
export {};
