// The apps the cell runtime has built in. Templates name one with `"run": {"app": …}`.
export const BUILTIN_APPS = ['basic', 'ecommerce'] as const;
export type BuiltinApp = (typeof BUILTIN_APPS)[number];
