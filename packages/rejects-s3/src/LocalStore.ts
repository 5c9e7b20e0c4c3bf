/**
 * The local-directory adapter of `ObjectStore`. An object is written to `<key>.partial`, then
 * fsynced and linked to its key (and the directory fsynced): a completed object is durable, a
 * crash never leaves a half-written file under its final name, and a file already there (another
 * run's) is never replaced. Keys never leave the directory.
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as fs from "node:fs"
import * as fsp from "node:fs/promises"
import * as path from "node:path"
import type { ObjectStore, ObjectUpload } from "./ObjectStore.js"
import { RejectSinkError } from "./RejectSinkError.js"

/** The suffix of an object still being written. */
export const partialSuffix = ".partial"

/** A file-system failure, naming the path and the system's reason (`ENOTDIR: not a directory, mkdir …`). */
const ioError = (message: string, key: string, where: string) => (cause: unknown) =>
  new RejectSinkError({ reason: "Io", message: `${message} ${where}: ${cause instanceof Error ? cause.message : String(cause)}`, key, cause })

/** The file of a key, refusing any key that would resolve outside `directory`. */
export const resolveKey = (directory: string, key: string): Effect.Effect<string, RejectSinkError> => {
  const root = path.resolve(directory)
  const file = path.resolve(root, ...key.split("/"))
  return file.startsWith(root + path.sep)
    ? Effect.succeed(file)
    : Effect.fail(new RejectSinkError({ reason: "Config", message: "The key leaves the directory", key }))
}

const syncDirectory = (directory: string) =>
  Effect.acquireUseRelease(
    Effect.promise(() => fsp.open(directory, "r")),
    (handle) => Effect.promise(() => handle.sync()),
    (handle) => Effect.promise(() => handle.close())
  ).pipe(Effect.ignore)

const errorCode = (cause: unknown): unknown => (cause instanceof Error && "code" in cause ? cause.code : undefined)

/**
 * Gives a written file its final name, never replacing a file there: a hard link fails when the
 * name is taken. On a file system without hard links, a rename after checking the name is free.
 */
const publish = async (partial: string, file: string): Promise<void> => {
  const taken = () => new Error(`${file} already exists (another run's rejects?): not overwritten`)
  try {
    await fsp.link(partial, file)
  } catch (cause) {
    const code = errorCode(cause)
    if (code === "EEXIST") throw taken()
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP" && code !== "ENOSYS") throw cause
    if (fs.existsSync(file)) throw taken()
    await fsp.rename(partial, file)
    return
  }
  await fsp.unlink(partial)
}

/** An `ObjectStore` over a directory (created when missing). */
export const make = (directory: string): ObjectStore => {
  const root = path.resolve(directory)
  const failed = (message: string, key: string) => ioError(message, key, path.join(root, ...key.split("/")))

  const begin = (key: string, options?: { readonly replace?: boolean }): ObjectUpload => {
    let handle: fsp.FileHandle | undefined
    let partialFile: string | undefined

    const opened = Effect.suspend(() => {
      if (handle !== undefined) return Effect.succeed(handle)
      return resolveKey(root, key).pipe(
        Effect.flatMap((file) =>
          Effect.tryPromise({
            try: async () => {
              await fsp.mkdir(path.dirname(file), { recursive: true })
              const partial = file + partialSuffix
              // "wx": a run writing the same key at the same moment fails here, rather than share the file
              const opened = await fsp.open(partial, "wx")
              partialFile = partial
              handle = opened
              return opened
            },
            catch: failed("Could not create the file", key)
          })
        )
      )
    })

    const uploadPart = (bytes: Uint8Array) =>
      opened.pipe(
        Effect.flatMap((file) =>
          Effect.tryPromise({
            // a write may take fewer bytes than given (a full disk takes what fits, with no error)
            try: async () => {
              for (let offset = 0; offset < bytes.byteLength; ) {
                const { bytesWritten } = await file.write(bytes, offset, bytes.byteLength - offset)
                if (bytesWritten <= 0) throw new Error(`no space left: ${offset} of ${bytes.byteLength} bytes written`)
                offset += bytesWritten
              }
            },
            catch: failed("Could not write the file", key)
          })
        ),
        Effect.asVoid
      )

    const complete = (lastBytes: Uint8Array) =>
      Effect.gen(function* () {
        yield* uploadPart(lastBytes)
        const file = yield* resolveKey(root, key)
        yield* Effect.tryPromise({
          try: async () => {
            if (handle !== undefined) {
              await handle.sync()
              await handle.close()
              handle = undefined
            }
            if (options?.replace === true) await fsp.rename(file + partialSuffix, file)
            else await publish(file + partialSuffix, file)
            partialFile = undefined
          },
          catch: failed("Could not complete the file", key)
        })
        yield* syncDirectory(path.dirname(file))
      })

    const abort = Effect.promise(async () => {
      const open = handle
      const partial = partialFile
      handle = undefined
      partialFile = undefined
      await open?.close().catch(() => undefined)
      if (partial !== undefined) await fsp.rm(partial, { force: true }).catch(() => undefined)
    })

    return { key, uploadPart, complete, abort }
  }

  const list = (prefix: string) =>
    Stream.unwrap(
      Effect.tryPromise({
        try: () => fsp.readdir(root, { recursive: true, withFileTypes: true }),
        catch: (cause) => cause
      }).pipe(
        Effect.catchIf(
          (cause) => errorCode(cause) === "ENOENT",
          () => Effect.succeed([])
        ),
        Effect.mapError(failed("Could not list the directory", prefix)),
        Effect.map((entries) =>
          Stream.fromIterable(
            entries
              .filter((entry) => entry.isFile() && !entry.name.endsWith(partialSuffix))
              .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)).split(path.sep).join("/"))
              .filter((key) => key.startsWith(prefix))
              .sort()
          )
        )
      )
    )

  const read = (key: string) =>
    Stream.unwrap(
      resolveKey(root, key).pipe(
        Effect.map((file) =>
          Stream.fromAsyncIterable(
            fs.createReadStream(file),
            failed("Could not read the file", key)
          ).pipe(
            Stream.filterMap((chunk) =>
              chunk instanceof Uint8Array ? Option.some(chunk) : Option.none()
            )
          )
        )
      )
    )

  const remove = (key: string) =>
    resolveKey(root, key).pipe(
      Effect.flatMap((file) =>
        Effect.tryPromise({ try: () => fsp.rm(file, { force: true }), catch: failed("Could not delete the file", key) })
      )
    )

  const exists = (key: string) =>
    resolveKey(root, key).pipe(
      Effect.map((file) => fs.existsSync(file) || fs.existsSync(file + partialSuffix)),
      Effect.orElseSucceed(() => false)
    )

  return { minPartBytes: 0, exists, begin, list, read, remove }
}
