/* Operators */
export {};
