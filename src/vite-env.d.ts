interface ImportMetaEnv {
  /** True in builds that carry the test hooks on window (see vite.config.ts and src/test-hooks.ts). */
  readonly VITE_TEST_HOOKS: boolean;
  /** The built-in pack the studio opens with, a folder under public/packs (default toy; .env.test: test). */
  readonly VITE_DEFAULT_PACK?: string;
}
