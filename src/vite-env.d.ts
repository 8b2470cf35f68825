interface ImportMetaEnv {
  /** True in builds that carry the test hooks on window (see vite.config.ts and src/test-hooks.ts). */
  readonly VITE_TEST_HOOKS: boolean;
}
