import { projectTestConfig } from "../../configs/vitest.shared.mjs"

export default projectTestConfig()
