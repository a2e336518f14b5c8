// openapi.yaml -> TypeScript types for openapi-fetch, with openapi-typescript's Node API.
//
// Usage: node generate.mjs SPEC OUT.ts
//
// A .ts file, not a .d.ts, so that `tsc` type-checks the generated types too while it skips
// the libraries' declarations (skipLibCheck).
//
// The one option beyond the defaults is openapi-typescript's documented transform for file
// uploads: a `format: binary` string (the upload's `file` part) is typed `Blob`, the value a
// FormData part takes, instead of `string`. The spec says binary the standard OpenAPI 3.0
// way; choosing the runtime type of bytes is the generator's job, not the spec's.
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { pathToFileURL } from "node:url";

import openapiTS, { astToString } from "openapi-typescript";
import ts from "typescript";

const [spec, out] = process.argv.slice(2);
if (!spec || !out) {
  console.error("usage: node generate.mjs SPEC OUT.ts");
  process.exit(2);
}
const BLOB = ts.factory.createTypeReferenceNode(ts.factory.createIdentifier("Blob"));
const NULL = ts.factory.createLiteralTypeNode(ts.factory.createNull());
const ast = await openapiTS(pathToFileURL(spec), {
  transform(schema) {
    if (schema.format === "binary") {
      return schema.nullable ? ts.factory.createUnionTypeNode([BLOB, NULL]) : BLOB;
    }
    return undefined;
  },
});
await mkdir(dirname(out), { recursive: true });
await writeFile(out, astToString(ast));
