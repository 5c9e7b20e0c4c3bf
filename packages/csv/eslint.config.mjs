import { projectConfig } from "../../configs/eslint.config.mjs"

export default projectConfig(import.meta.dirname)
