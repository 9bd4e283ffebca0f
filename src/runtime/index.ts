// Public surface of runtime/ (STYLE.md §1).
export {};
