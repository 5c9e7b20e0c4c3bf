/**
 * Keeps secrets out of every output. Each value taken from the environment (interpolated
 * `${VARS}`, credentials) is registered, and every log line, report and summary passes through
 * `scrub`, which masks them — also inside error messages from drivers and HTTP clients.
 */

/** Values shorter than this are too common to mask without mangling ordinary text. */
const minSecretChars = 4
export const mask = "***"

/** `scheme://user:password@` and `scheme://user@`: a URL's userinfo, up to its last `@` (a password may hold `/` or `@`). */
const userinfoPattern = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s"'<>]*@/gi

/** `text` with the userinfo of every URL in it replaced by `***` (`https://***@host`). */
export const maskUserinfo = (text: string): string => text.replace(userinfoPattern, `$1${mask}@`)

/** `text` percent-decoded, or undefined when it holds a `%` that is not a valid escape. */
const decoded = (text: string): string | undefined => {
  try {
    return decodeURIComponent(text)
  } catch {
    return undefined
  }
}

export class Redactor {
  private readonly secrets = new Set<string>()

  add(value: string): void {
    if (value.length >= minSecretChars) this.secrets.add(value)
    // A URL's password may appear decoded or alone in driver messages.
    const password = /^[a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:([^@\s]+)@/i.exec(value)?.[1]
    if (password !== undefined && password.length >= minSecretChars) {
      this.secrets.add(password)
      const plain = decoded(password)
      if (plain !== undefined) this.secrets.add(plain)
    }
  }

  addAll(values: Iterable<string>): void {
    for (const value of values) this.add(value)
  }

  /** `text` with every registered secret replaced by `***`, longest first. */
  scrub(text: string): string {
    let result = text
    for (const secret of [...this.secrets].sort((a, b) => b.length - a.length)) result = result.split(secret).join(mask)
    return result
  }
}
