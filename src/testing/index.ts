/* Testing */
export {};
