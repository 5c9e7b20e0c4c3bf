import type { UserConfig } from "vitest/config"

export declare const projectTestConfig: (options?: {
  readonly testTimeout?: number
  readonly setupFiles?: ReadonlyArray<string>
}) => UserConfig
