import * as Old from "/tmp/oldid.ts"
import * as New from "../src/SalesforceId.js"
let bad = 0
for (const p of ["003", "a0U", "001", "750", "005"]) for (let n = 0; n < 300000; n += 7) if (Old.make(p, n) !== New.make(p, n)) bad++
for (const n of [62 ** 8, 62 ** 9 - 1, 13_537_086_546_263_551]) if (Old.make("003", n) !== New.make("003", n)) { bad++; console.log(n, Old.make("003", n), New.make("003", n)) }
console.log("bad", bad, Old.make("003", 1), Old.make("a0U", 238327), Old.make("Zz9", 999_999_999))
