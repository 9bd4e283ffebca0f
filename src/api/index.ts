// Public surface of api/ (STYLE.md §1).
export {};
