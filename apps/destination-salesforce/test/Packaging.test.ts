/** The image's metadata and build context, as the Airbyte registry and `docker build` read them. */
import { describe, expect, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import { parse } from "yaml"

const app = path.resolve(import.meta.dirname, "..")
const metadata: unknown = parse(fs.readFileSync(path.join(app, "metadata.yaml"), "utf8"))
const data = typeof metadata === "object" && metadata !== null && "data" in metadata && typeof metadata.data === "object" && metadata.data !== null ? metadata.data : {}

describe("packaging", () => {
  it("metadata.yaml holds every field the registry requires, and the hosts the connector calls", () => {
    for (const field of ["name", "definitionId", "connectorType", "dockerRepository", "dockerImageTag", "license", "documentationUrl", "githubIssueLabel", "connectorSubtype", "releaseStage"]) {
      expect(data, field).toHaveProperty(field)
    }
    expect(data).toMatchObject({ connectorType: "destination", supportsDataActivation: true })
    expect(data).toHaveProperty("allowedHosts.hosts", expect.arrayContaining(["*.salesforce.com", "*.amazonaws.com"]))
  })

  it("the Dockerfile's image tag matches metadata.yaml, its malloc asks for huge pages, and the build context leaves host installs out", () => {
    const dockerfile = fs.readFileSync(path.join(app, "Dockerfile"), "utf8")
    expect(dockerfile).toContain("ENV GLIBC_TUNABLES=glibc.malloc.hugetlb=1")
    // main.js loads chunks beside it (the AWS SDK when rejects go to S3)
    expect(dockerfile).toContain("COPY --from=build /workspace/apps/destination-salesforce/dist/*.js ./")
    expect(dockerfile).toContain(`LABEL io.airbyte.version=${"dockerImageTag" in data ? String(data.dockerImageTag) : "?"}`)
    const ignored = fs.readFileSync(path.resolve(app, "../../.dockerignore"), "utf8").split("\n")
    expect(ignored).toEqual(expect.arrayContaining(["**/node_modules", "**/dist", ".git"]))
  })
})
