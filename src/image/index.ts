// Public surface of image/ (STYLE.md §1).
export {};
