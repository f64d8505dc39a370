// Types of scripts/addons.mjs (plain JavaScript: npm's postinstall runs it before anything is built).
export declare const ADDONS: readonly { name: string; binary: string; gyp: readonly string[] }[];
export declare const STATIC_LINK: string;
