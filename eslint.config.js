// typescript-eslint, strict and type-checked: `npm run lint`, part of `npm test`.
// Rules turned off or tuned below each say why; everything else is strictTypeChecked as published.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'var/**', 'node_modules/**', 'coverage/**'] },
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // A promise nobody awaits loses its error: the one rule this codebase most needs (also in strictTypeChecked).
      '@typescript-eslint/no-floating-promises': 'error',
      // With noUncheckedIndexedAccess, `rows[0]!` after a length check or an INSERT ... RETURNING is the honest idiom.
      '@typescript-eslint/no-non-null-assertion': 'off',
      // Messages and logs interpolate amounts, ids and counts; nullish values and objects are still refused.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      // Express middleware exits early with `return next(err)` / `return res.redirect(...)`, the framework's own idiom.
      '@typescript-eslint/no-confusing-void-expression': 'off',
      // Components hand out closures in object literals (no `this` anywhere); interfaces that declare them as
      // methods made every `pay: sandbox.pay` a false alarm.
      '@typescript-eslint/unbound-method': 'off',
      // An underscore marks a parameter or a destructured field that is deliberately left out.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    // Migrations are frozen in time: Kysely<any>, never the app's schema types (CONVENTIONS.md).
    files: ['migrations/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Tests read parsed JSON responses (TestResponse.body is any) and check their shape with expect at run time.
    files: ['tests/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // Tests guard what the types say cannot happen (JSON.stringify(undefined), a beforeAll that failed).
      '@typescript-eslint/no-unnecessary-condition': 'off',
      // Tests build environments by deleting variables by name.
      '@typescript-eslint/no-dynamic-delete': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
