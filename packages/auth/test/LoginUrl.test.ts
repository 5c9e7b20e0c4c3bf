import { describe, expect, it } from "@effect/vitest"
import * as Either from "effect/Either"
import { LoginUrl } from "../src/index.js"

describe("LoginUrl", () => {
  it("resolves production, sandbox and My Domain", () => {
    expect(LoginUrl.resolve({})).toEqual(Either.right("https://login.salesforce.com"))
    expect(LoginUrl.resolve({ isSandbox: false })).toEqual(Either.right("https://login.salesforce.com"))
    expect(LoginUrl.resolve({ isSandbox: true })).toEqual(Either.right("https://test.salesforce.com"))
    expect(LoginUrl.resolve({ isSandbox: true, loginUrl: "https://acme--uat.sandbox.my.salesforce.com/" })).toEqual(
      Either.right("https://acme--uat.sandbox.my.salesforce.com")
    )
  })

  it("recognises a sandbox's My Domain", () => {
    expect(LoginUrl.isSandboxMyDomain("https://acme--uat.sandbox.my.salesforce.com")).toBe(true)
    expect(LoginUrl.isSandboxMyDomain("https://ACME--UAT.SANDBOX.MY.SALESFORCE.COM")).toBe(true)
    for (const origin of ["https://acme.my.salesforce.com", "https://test.salesforce.com", "https://sandbox.my.salesforce.com.evil.test", "not a url"]) {
      expect(LoginUrl.isSandboxMyDomain(origin)).toBe(false)
    }
  })

  it("accepts plain http only for loopback hosts", () => {
    for (const url of ["http://127.0.0.1:4010", "http://localhost:8080/", "http://[::1]:9000", "http://127.8.9.10"]) {
      expect(Either.isRight(LoginUrl.resolve({ loginUrl: url }))).toBe(true)
    }
    for (const url of ["http://acme.my.salesforce.com", "http://10.0.0.5", "http://128.0.0.1", "ftp://127.0.0.1", "not a url"]) {
      const result = LoginUrl.resolve({ loginUrl: url })
      expect(Either.isLeft(result)).toBe(true)
      if (Either.isLeft(result)) expect(result.left.reason).toBe("InvalidLoginUrl")
    }
  })

  it("refuses URLs that carry credentials, without repeating them", () => {
    const result = LoginUrl.resolve({ loginUrl: "https://user:hunter2@acme.my.salesforce.com" })
    expect(Either.isLeft(result)).toBe(true)
    if (Either.isLeft(result)) expect(result.left.message).not.toContain("hunter2")
  })
})
