// Shared ESLint flat config: every project's eslint.config.mjs calls `projectConfig`.
import js from "@eslint/js"
import { existsSync } from "node:fs"
import { join } from "node:path"
import tseslint from "typescript-eslint"

/**
 * Type-aware lint rules for one project.
 * @param {string} projectDir the project's folder (its eslint.config.mjs's `import.meta.dirname`)
 */
export const projectConfig = (projectDir) =>
  tseslint.config(
    { ignores: ["dist/**", "out-tsc/**", ".reports/**", "**/*.mjs", "**/*.js", "**/*.d.mts"] },
    js.configs.recommended,
    ...tseslint.configs.recommendedTypeChecked,
    {
      languageOptions: {
        parserOptions: {
          project: ["./tsconfig.lib.json", "./tsconfig.app.json", "./tsconfig.spec.json"].filter((file) => existsSync(join(projectDir, file))),
          tsconfigRootDir: projectDir
        }
      },
      linterOptions: { reportUnusedDisableDirectives: "error" },
      rules: {
        "@typescript-eslint/no-explicit-any": "error",
        "@typescript-eslint/no-non-null-assertion": "error",
        "@typescript-eslint/consistent-type-imports": "error",
        "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
        "@typescript-eslint/switch-exhaustiveness-check": "error",
        "require-yield": "off"
      }
    }
  )
